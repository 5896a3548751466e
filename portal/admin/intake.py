"""受付・形式審査 and 担当課所見: the submitted proposals of a call, each with
its automatic checklist, the submitted snapshot and files, and the
secretariat's decision."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..db import db_session
from ..domain.intake import intake
from ..domain.timeutil import now_utc
from ..mail import send_mail
from ..models import FEASIBILITY_LABELS, FilePurpose, IntakeDecision, Proposal, StoredFile
from ..policy import load_staff_call, load_staff_proposal, require_staff
from . import bp
from .intake_forms import DepartmentOpinionForm, IntakeDecisionForm


@bp.route("/calls/<int:call_id>/intake")
def intake_list(call_id: int):
    call = load_staff_call(call_id)
    # A fixed number of queries however many proposals (tests/test_query_counts.py):
    # groups joined in, submissions in one query of their own.
    proposals = db_session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.status.in_(intake.INTAKE_STATUSES),
               Proposal.receipt_number.is_not(None))
        .options(joinedload(Proposal.group, innerjoin=True))
        .order_by(Proposal.receipt_number)
    ).all()
    submitted = intake.submissions_by_proposal(db_session, call)
    rows = []
    for proposal in proposals:
        history = submitted.get(proposal.id, [])
        submission = history[-1] if history else None
        items = intake.checklist(proposal, submission) if submission else []
        rows.append({"proposal": proposal, "submission": submission, "first": history[0] if history else None,
                     "checks": items, "failed": [item for item in items if not item.ok]})
    waiting = sum(1 for p in proposals if p.status in intake.DECIDABLE_STATUSES)
    return render_template("admin/intake/list.html", call=call, rows=rows, waiting=waiting)


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
    link = url_for("applicant.proposal_detail", proposal_id=proposal.id, _external=True)
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
