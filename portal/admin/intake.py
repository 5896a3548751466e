"""受付・形式審査 and 担当課所見: the submitted proposals of a call, each with
its automatic checklist, the submitted snapshot and files, and the
secretariat's decision."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from ..db import db_session
from ..domain.intake import intake
from ..domain.timeutil import now_utc
from ..links import external_url
from ..mail import send_mail
from ..models import (
    FEASIBILITY_LABELS,
    STATUS_LABELS,
    FilePurpose,
    Group,
    IntakeDecision,
    Proposal,
    ProposalStatus,
    StoredFile,
    Submission,
)
from ..policy import load_staff_call, load_staff_proposal, require_staff
from . import bp
from .intake_forms import DepartmentOpinionForm, IntakeDecisionForm
from .list_params import PAGE_SIZES, like_pattern, paginate, read

INTAKE_FILTERS = {
    "waiting": "判断待ち（提出済・受付確認中）",
    **{status.value: STATUS_LABELS[status] for status in (
        ProposalStatus.RETURNED, ProposalStatus.ACCEPTED, ProposalStatus.REJECTED, ProposalStatus.REVIEW,
        ProposalStatus.RESULTS, ProposalStatus.WITHDRAWN)},
}
INTAKE_SORTS = {"receipt": "受付番号順", "receipt_desc": "受付番号の新しい順", "group": "団体名順",
                "title": "事業名順", "status": "状況順"}


def _intake_query(call, params):
    query = (select(Proposal).join(Group, Group.id == Proposal.group_id)
             .where(Proposal.call_id == call.id, Proposal.status.in_(intake.INTAKE_STATUSES),
                    Proposal.receipt_number.is_not(None)))
    if params.q:
        pattern = like_pattern(params.q)
        query = query.where(or_(Proposal.receipt_number.ilike(pattern, escape="\\"),
                                Group.name.ilike(pattern, escape="\\"), Proposal.title.ilike(pattern, escape="\\")))
    if params.status == "waiting":
        query = query.where(Proposal.status.in_(intake.DECIDABLE_STATUSES))
    elif params.status:
        query = query.where(Proposal.status == ProposalStatus(params.status))
    return query


def _intake_order(sort: str):
    # The receipt number last: a stable order between equal names.
    return {"receipt": (Proposal.receipt_number,), "receipt_desc": (Proposal.receipt_number.desc(),),
            "group": (Group.name, Proposal.receipt_number), "title": (Proposal.title, Proposal.receipt_number),
            "status": (Proposal.status, Proposal.receipt_number)}[sort]


@bp.route("/calls/<int:call_id>/intake")
def intake_list(call_id: int):
    call = load_staff_call(call_id)
    params = read(request.args, statuses=INTAKE_FILTERS, sorts=INTAKE_SORTS)
    # A fixed number of queries however many proposals (tests/test_query_counts.py):
    # the statuses counted in one query, the page's proposals with their groups in
    # one, and their submissions in one.
    by_status = dict(db_session.execute(
        select(Proposal.status, func.count(Proposal.id))
        .where(Proposal.call_id == call.id, Proposal.status.in_(intake.INTAKE_STATUSES),
               Proposal.receipt_number.is_not(None))
        .group_by(Proposal.status)).all())
    query = _intake_query(call, params)
    page = paginate(params, db_session.scalar(select(func.count()).select_from(query.subquery())))
    proposals = db_session.scalars(
        query.options(contains_eager(Proposal.group)).order_by(*_intake_order(params.sort))
        .limit(page.size).offset(page.offset)).all()
    submitted: dict[int, list] = {}
    if proposals:
        for submission in db_session.scalars(
                select(Submission).where(Submission.proposal_id.in_([p.id for p in proposals]))
                .order_by(Submission.proposal_id, Submission.revision)):
            submitted.setdefault(submission.proposal_id, []).append(submission)
    rows = []
    for proposal in proposals:
        history = submitted.get(proposal.id, [])
        submission = history[-1] if history else None
        items = intake.checklist(proposal, submission) if submission else []
        rows.append({"proposal": proposal, "submission": submission, "first": history[0] if history else None,
                     "checks": items, "failed": [item for item in items if not item.ok]})
    waiting = sum(n for status, n in by_status.items() if status in intake.DECIDABLE_STATUSES)
    return render_template("admin/intake/list.html", call=call, rows=rows, waiting=waiting, params=params,
                           page=page, all_count=sum(by_status.values()), filters=INTAKE_FILTERS,
                           sorts=INTAKE_SORTS, page_sizes=PAGE_SIZES,
                           decidable_statuses=intake.DECIDABLE_STATUSES)  # the bulk accept's checkboxes


def _proposal_page(call, proposal, *, form=None, opinion_form=None, status=200):
    submission = intake.latest_submission(proposal, db_session)
    decisions = db_session.scalars(
        select(IntakeDecision).where(IntakeDecision.proposal_id == proposal.id).order_by(IntakeDecision.id)
    ).all()
    opinion = intake.department_opinion_of(db_session, proposal)
    if form is None:
        form = IntakeDecisionForm(formdata=None)
    if opinion_form is None:
        opinion_form = DepartmentOpinionForm(formdata=None, obj=opinion)
    files = db_session.scalars(
        select(StoredFile).where(
            (StoredFile.proposal_id == proposal.id)
            | ((StoredFile.group_id == proposal.group_id) & StoredFile.proposal_id.is_(None))
        ).order_by(StoredFile.uploaded_at, StoredFile.id)
    ).all()
    return render_template(
        "admin/intake/proposal.html", call=call, proposal=proposal, submission=submission,
        snapshot=submission.snapshot if submission else None, items=intake.checklist(proposal, submission),
        decisions=decisions, opinion=opinion, form=form, opinion_form=opinion_form,
        documents=[f for f in files if f.purpose != FilePurpose.ATTACHMENT],
        attachments=[f for f in files if f.purpose == FilePurpose.ATTACHMENT],
        decidable=proposal.status in intake.DECIDABLE_STATUSES, feasibility_labels=FEASIBILITY_LABELS,
    ), status


@bp.route("/calls/<int:call_id>/intake/<int:proposal_id>")
def intake_proposal(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    proposal = load_staff_proposal(proposal_id, call)
    return _proposal_page(call, proposal)


@bp.post("/calls/<int:call_id>/intake/<int:proposal_id>/decide")
def intake_decide(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    proposal = load_staff_proposal(proposal_id, call)
    staff = require_staff()
    form = IntakeDecisionForm()
    if not form.validate_on_submit():
        return _proposal_page(call, proposal, form=form, status=422)
    try:
        decision = intake.decide_intake(db_session, proposal, form.outcome.data, form.reasons.data, staff, now_utc(),
                                        reason_category=form.reason_category.data)
    except intake.IntakeError as error:
        form.form_errors.append(error.message)
        return _proposal_page(call, proposal, form=form, status=409)
    link = external_url("applicant.proposal_detail", proposal_id=proposal.id)
    subject, body = intake.intake_mail(proposal, decision, city_name=current_app.config["CITY_NAME"], link=link)
    for recipient in intake.mail_recipients(proposal):
        send_mail(recipient, subject, body)
    flash(f"受付番号 {proposal.receipt_number} を「{decision.outcome.label}」としました。団体にメールで通知しました。",
          "success")
    return redirect(url_for("admin.intake_proposal", call_id=call.id, proposal_id=proposal.id))


@bp.post("/calls/<int:call_id>/intake/<int:proposal_id>/department")
def department_opinion(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    proposal = load_staff_proposal(proposal_id, call)
    staff = require_staff()
    form = DepartmentOpinionForm()
    if not form.validate_on_submit():
        return _proposal_page(call, proposal, opinion_form=form, status=422)
    try:
        intake.save_department_opinion(db_session, proposal, department=form.department.data,
                                       feasibility=form.feasibility.data, opinion=form.opinion.data,
                                       staff=staff, now=now_utc())
    except intake.IntakeError as error:
        form.form_errors.append(error.message)
        return _proposal_page(call, proposal, opinion_form=form, status=409)
    flash("担当課所見を保存しました。", "success")
    return redirect(url_for("admin.intake_proposal", call_id=call.id, proposal_id=proposal.id, _anchor="department"))
