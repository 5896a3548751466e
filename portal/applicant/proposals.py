"""マイページ, starting, confirming, submitting and withdrawing proposals
(the editor itself is in editor.py)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.normalize import normalize_text
from ..domain.proposals import budget, reuse, steps, workflow
from ..domain.proposals.consent import consent_refusal
from ..domain.proposals.proposal_fields import DECLARATIONS, TEXT_FIELDS
from ..domain.proposals.snapshot import build_snapshot
from ..domain.timeutil import format_jst, now_utc
from ..errors import refuse
from ..files import storage
from ..files.objectstore import current_store
from ..models import (
    COLLABORATION_FORM_LABELS,
    Call,
    IntakeDecision,
    Proposal,
    ProposalStatus,
)
from ..policy import load_own_proposal, load_submission, require_applicant
from . import bp


@bp.get("/mypage")
def dashboard():
    user = require_applicant()
    now = now_utc()
    proposals = workflow.proposals_of_group(db_session, user.group)
    # A returned proposal asks for action: whether it can still be corrected.
    correction_refusals = {p.id: workflow.edit_refusal(p, now) for p in proposals
                           if p.status == ProposalStatus.RETURNED}
    return render_template(
        "applicant/dashboard.html", group=user.group, proposals=proposals,
        open_calls=reuse.open_calls(db_session, now), now=now, resend_form=EmptyForm(),
        correction_refusals=correction_refusals,
    )


@bp.route("/calls/<slug>/propose", methods=["GET", "POST"])
def new_proposal(slug: str):
    user = require_applicant()
    call = db_session.scalar(select(Call).where(Call.slug == slug, Call.published_at.is_not(None)))
    if call is None:
        abort(404)
    now = now_utc()
    existing = db_session.scalar(
        select(Proposal).where(
            Proposal.call_id == call.id,
            Proposal.group_id == user.group.id,
            Proposal.status != ProposalStatus.WITHDRAWN,
        )
    )
    if existing is not None:
        return redirect(url_for("applicant.edit_proposal", proposal_id=existing.id))
    if not call.is_open(now):
        refuse(403, f"この募集は受付期間外です（受付：{format_jst(call.opens_at)} ～ {format_jst(call.closes_at)}）。")
    if request.method == "GET":
        withdrawn = db_session.scalars(select(Proposal).where(
            Proposal.call_id == call.id, Proposal.group_id == user.group.id,
            Proposal.status == ProposalStatus.WITHDRAWN).order_by(Proposal.id.desc())).first()
        return render_template("applicant/new.html", call=call, form=EmptyForm(), withdrawn=withdrawn)
    if not EmptyForm().validate_on_submit():
        abort(400)
    proposal = workflow.start_proposal(db_session, call, user, now)
    return redirect(url_for("applicant.edit_proposal", proposal_id=proposal.id))


@bp.get("/proposals/<int:proposal_id>/confirm")
def confirm_proposal(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    if proposal.status not in workflow.EDITABLE_STATUSES:
        return redirect(url_for("applicant.proposal_detail", proposal_id=proposal.id))
    return _confirm_page(proposal, require_applicant(), now_utc())


def _confirm_page(proposal: Proposal, user, now, status: int = 200, missing_declarations=(), accepted=None):
    """提出前の確認, with the group's details and the files as the receipt
    will show them: ``preview`` is the snapshot a submission now would freeze."""
    problems = workflow.submission_problems(proposal, user)
    return render_template(
        "applicant/confirm.html", proposal=proposal, call=proposal.call,
        steps=steps.STEPS, step_counts=steps.problems_per_step(p.field_id for p in problems), field_step=steps.step_of,
        problems=problems, refusal=workflow.edit_refusal(proposal, now),
        declarations=DECLARATIONS, text_fields=TEXT_FIELDS, totals=budget.budget_totals(proposal),
        forms=COLLABORATION_FORM_LABELS, form=EmptyForm(), missing_declarations=list(missing_declarations),
        accepted=accepted, preview=build_snapshot(proposal, now),
    ), status


@bp.post("/proposals/<int:proposal_id>/submit")
def submit(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    user = require_applicant()
    if not EmptyForm().validate_on_submit():
        abort(400)
    now = now_utc()
    if proposal.status not in workflow.EDITABLE_STATUSES:
        # A second click of the same button lands here: show what was received.
        flash("この提案はすでに提出されています。", "info")
        return redirect(url_for("applicant.proposal_detail", proposal_id=proposal.id))
    try:
        expected = int(request.form.get("version", ""))
    except ValueError:
        abort(400)
    accepted = set(request.form.getlist("declarations"))
    try:
        missing = workflow.accept_declarations(db_session, proposal, accepted, user, now)
        db_session.flush()
    except IntegrityError:
        return _lost_race(proposal_id)
    if missing:
        return _confirm_page(proposal, user, now, 422, missing_declarations=missing, accepted=accepted)
    try:
        submission = workflow.submit_proposal(db_session, proposal, user, expected, now)
    except (StaleDataError, IntegrityError):
        return _lost_race(proposal_id)
    except workflow.WorkflowError as error:
        db_session.rollback()
        flash(error.message, "error")
        return redirect(url_for("applicant.confirm_proposal", proposal_id=proposal_id))
    from ..notifications import send_submission_receipt

    send_submission_receipt(user, proposal, submission)
    return redirect(url_for("applicant.receipt", proposal_id=proposal.id, revision=submission.revision))


def _lost_race(proposal_id: int):
    """A second submit of the same proposal (a double click, two tabs) that
    reached the database while the first was being written: the first one
    stands. Whatever this request wrote is rolled back, and the group sees
    the proposal as it now is."""
    db_session.rollback()
    proposal = load_own_proposal(proposal_id)
    if proposal.status in workflow.EDITABLE_STATUSES:
        flash("同時に別の操作があったため提出できませんでした。内容を確認して、もう一度提出してください。", "error")
        return redirect(url_for("applicant.confirm_proposal", proposal_id=proposal_id))
    flash("この提案はすでに提出されています。", "info")
    return redirect(url_for("applicant.proposal_detail", proposal_id=proposal_id))


@bp.get("/proposals/<int:proposal_id>/receipt/<int:revision>")
def receipt(proposal_id: int, revision: int):
    proposal = load_own_proposal(proposal_id)
    submission = load_submission(proposal, revision)
    return render_template("applicant/receipt.html", proposal=proposal, submission=submission)


@bp.get("/proposals/<int:proposal_id>")
def proposal_detail(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    now = now_utc()
    return render_template(
        "applicant/detail.html", proposal=proposal, call=proposal.call,
        edit_refusal=workflow.edit_refusal(proposal, now),
        withdraw_refusal=workflow.withdraw_refusal(proposal, now), form=EmptyForm(),
        consent_refusal=consent_refusal(proposal), intake_decision=_last_intake_decision(proposal),
    )


def _last_intake_decision(proposal: Proposal) -> IntakeDecision | None:
    return db_session.scalar(select(IntakeDecision).where(IntakeDecision.proposal_id == proposal.id)
                             .order_by(IntakeDecision.id.desc()).limit(1))


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["GET", "POST"])
def withdraw(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    user = require_applicant()
    now = now_utc()
    refusal = workflow.withdraw_refusal(proposal, now)
    if refusal:
        refuse(403, refusal)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        reason = normalize_text(request.form.get("reason"))[:500]
        workflow.withdraw_proposal(db_session, proposal, user, reason, now)
        from ..notifications import send_withdrawal_confirmation

        send_withdrawal_confirmation(proposal, reason, now)
        flash("提案を取り下げました。確認のメールをお送りしました。", "success")
        return redirect(url_for("applicant.proposal_detail", proposal_id=proposal.id))
    return render_template("applicant/withdraw.html", proposal=proposal, form=form)


@bp.post("/proposals/<int:proposal_id>/delete")
def delete_draft(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if proposal.status != ProposalStatus.DRAFT or proposal.submissions:
        refuse(403, "提出済みの提案は削除できません。取下げをご利用ください。")
    storage.delete_files_of_proposal(db_session, current_store(), proposal)
    db_session.delete(proposal)
    flash("下書きを削除しました。", "success")
    return redirect(url_for("applicant.dashboard"))
