"""Writing, autosaving, submitting and withdrawing proposals."""
from __future__ import annotations

import re

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.normalize import normalize_text
from ..domain.proposals import budget, reuse, workflow
from ..domain.proposals.consent import consent_refusal
from ..domain.proposals.proposal_fields import (
    DECLARATIONS,
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    TEXT_FIELDS,
    limits_for,
)
from ..domain.proposals.proposal_input import parse_proposal_form
from ..domain.proposals.snapshot import build_snapshot
from ..domain.timeutil import format_jst, now_utc
from ..errors import refuse
from ..files import storage
from ..files.objectstore import current_store
from ..models import (
    COLLABORATION_FORM_LABELS,
    BudgetKind,
    Call,
    IntakeDecision,
    Proposal,
    ProposalStatus,
)
from ..policy import load_own_proposal, load_submission, require_applicant
from . import bp

BLANK_ROWS = 2


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


def _render_editor(proposal: Proposal, data=None, errors=None, status: int = 200, extra_rows: dict | None = None):
    limits = limits_for(proposal.call)
    errors = dict(errors or {})
    return render_template(
        "applicant/edit.html",
        proposal=proposal,
        call=proposal.call,
        data=data,
        errors=errors,
        limits=limits,
        text_fields=TEXT_FIELDS,
        income_categories=INCOME_CATEGORIES,
        expense_categories=EXPENSE_CATEGORIES,
        forms=COLLABORATION_FORM_LABELS,
        rows=_editor_rows(proposal, data, extra_rows or {}),
        totals=budget.budget_totals(proposal),
        refusal=workflow.edit_refusal(proposal, now_utc()),
    ), status


def _typed_amount(line) -> str:
    return line.amount_text if line.amount_text is not None else str(line.amount)


def stored_problems(proposal: Proposal) -> dict[str, str]:
    """What the stored draft still needs, shown beside its fields on opening."""
    rows = {field_id: message for field_id, (_label, message) in budget.row_problems(proposal).items()}
    return workflow.text_problems(proposal, proposal.call) | rows


def _editor_rows(proposal: Proposal, data, extra: dict) -> dict:
    """The rows to show: what was typed (when re-rendering) or what is stored, plus blanks."""
    if data is not None:
        income = [(r.category, r.amount_raw, r.note) for r in data.budget_rows if r.kind == BudgetKind.INCOME]
        expense = [(r.category, r.amount_raw, r.note) for r in data.budget_rows if r.kind == BudgetKind.EXPENSE]
        roles = [(r.item, r.group_role, r.city_role) for r in data.role_rows]
    else:
        income = [(b.category, _typed_amount(b), b.note) for b in proposal.budget_lines if b.kind == BudgetKind.INCOME]
        expense = [(b.category, _typed_amount(b), b.note) for b in proposal.budget_lines if b.kind == BudgetKind.EXPENSE]
        roles = [(r.item, r.group_role, r.city_role) for r in proposal.role_shares]
    blank3 = ("", "", "")
    return {
        "income": income + [blank3] * (BLANK_ROWS + extra.get("income", 0)),
        "expense": expense + [blank3] * (BLANK_ROWS + extra.get("expense", 0)),
        "roles": roles + [blank3] * (BLANK_ROWS + extra.get("roles", 0)),
    }


@bp.get("/proposals/<int:proposal_id>/edit")
def edit_proposal(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    if proposal.status not in workflow.EDITABLE_STATUSES:
        return redirect(url_for("applicant.proposal_detail", proposal_id=proposal.id))
    return _render_editor(proposal, errors=stored_problems(proposal))


_DELETE_ROW = re.compile(r"delete-(income|expense)-([0-9]{1,3})")


def _without_deleted_row(formdata, action: str):
    """A budget row's 「削除」 button without JavaScript: the form as if the
    row had not been there, and what to tell the person (None when the
    action deletes nothing)."""
    match = _DELETE_ROW.fullmatch(action)
    if match is None:
        return formdata, None
    kind, index = match.group(1), int(match.group(2))
    prefix = f"{kind}-{index}-"
    kept = MultiDict([(key, value) for key, value in formdata.items(multi=True) if not key.startswith(prefix)])
    title = budget.KIND_LABELS[BudgetKind(kind)]
    return kept, f"{title}の{index + 1}行目を削除しました。"


def _save(proposal: Proposal, formdata):
    """Shared by the form post and autosave: returns (data, errors) or raises."""
    now = now_utc()
    refusal = workflow.edit_refusal(proposal, now)
    if refusal:
        refuse(403, refusal)
    try:
        expected = int(request.form.get("version", ""))
    except ValueError:
        abort(400)
    if expected != proposal.version:
        raise workflow.EditConflict(
            "別のタブや端末でこの提案が更新されています。ページを再読み込みして最新の内容を確認してください。"
        )
    data = parse_proposal_form(formdata)
    workflow.apply_input(proposal, data, now)
    try:
        db_session.flush()
    except StaleDataError:
        db_session.rollback()
        raise workflow.EditConflict(
            "別のタブや端末でこの提案が同時に更新されました。ページを再読み込みして最新の内容を確認してください。"
        ) from None
    errors = {**workflow.text_problems(proposal, proposal.call), **data.errors}
    return data, errors


@bp.post("/proposals/<int:proposal_id>/edit")
def save_proposal(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    action = request.form.get("action", "save")
    if not EmptyForm().validate_on_submit():
        abort(400)
    formdata, deleted = _without_deleted_row(request.form, action)
    try:
        data, errors = _save(proposal, formdata)
    except workflow.EditConflict as conflict:
        flash(conflict.message, "error")
        return _render_editor(proposal, data=parse_proposal_form(formdata), status=409)
    extra = {"add_income_row": "income", "add_expense_row": "expense", "add_role_row": "roles"}
    if deleted:
        # Shown again as typed (like adding a row), so nothing else is lost.
        flash(deleted, "success")
        return _render_editor(proposal, data=data, errors=errors)
    if action in extra:
        return _render_editor(proposal, data=data, errors=errors, extra_rows={extra[action]: 3})
    if errors:
        flash("保存しました。ただし、確認が必要な項目があります。", "error")
        return _render_editor(proposal, data=data, errors=errors)
    if action == "review":
        return redirect(url_for("applicant.confirm_proposal", proposal_id=proposal.id))
    flash(f"下書きを保存しました（{format_jst(proposal.updated_at)}）。", "success")
    return redirect(url_for("applicant.edit_proposal", proposal_id=proposal.id))


@bp.post("/proposals/<int:proposal_id>/autosave")
def autosave_proposal(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    try:
        _data, errors = _save(proposal, request.form)
    except workflow.EditConflict as conflict:
        return jsonify(ok=False, conflict=True, message=conflict.message), 409
    income, expense = budget.budget_totals(proposal)
    return jsonify(
        ok=True,
        version=proposal.version,
        saved_at=format_jst(proposal.updated_at),
        errors=errors,
        totals={"income": income, "expense": expense, "requested": proposal.requested_amount},
    )


@bp.get("/proposals/<int:proposal_id>/confirm")
def confirm_proposal(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    if proposal.status not in workflow.EDITABLE_STATUSES:
        return redirect(url_for("applicant.proposal_detail", proposal_id=proposal.id))
    return _confirm_page(proposal, require_applicant(), now_utc())


def _confirm_page(proposal: Proposal, user, now, status: int = 200, missing_declarations=(), accepted=None):
    """提出前の確認, with the group's details and the files as the receipt
    will show them: ``preview`` is the snapshot a submission now would freeze."""
    return render_template(
        "applicant/confirm.html", proposal=proposal, call=proposal.call,
        problems=workflow.submission_problems(proposal, user), refusal=workflow.edit_refusal(proposal, now),
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
