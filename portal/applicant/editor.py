"""The proposal editor, in steps (概要・内容・役割分担・予算・添付・確認).

Each step is a page of its own with the one form of the proposal; a step
posts only its fields and the others are kept as stored
(``steps.merged_formdata``), so every step saves, valid or not, and moving
between steps (buttons that post) saves first, with or without JavaScript.
A post without ``step`` is the whole form at once, as scripts and older
pages send it.
"""
from __future__ import annotations

import re

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.proposals import budget, steps, workflow
from ..domain.proposals.proposal_fields import (
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    TEXT_FIELDS,
    limits_for,
)
from ..domain.proposals.proposal_input import parse_proposal_form
from ..domain.timeutil import format_jst, now_utc
from ..errors import refuse
from ..models import COLLABORATION_FORM_LABELS, BudgetKind, Proposal
from ..policy import load_own_proposal, require_applicant
from . import bp

BLANK_ROWS = 2


def _render_editor(proposal: Proposal, data=None, errors=None, status: int = 200, extra_rows: dict | None = None,
                   step: str = steps.FIRST_STEP):
    limits = limits_for(proposal.call)
    errors = dict(errors or {})
    problems = workflow.submission_problems(proposal, require_applicant())
    step_errors = {key: message for key, message in errors.items() if steps.step_of(key) == step}
    # What this step still needs before submission, beside what it got wrong.
    missing = [p for p in problems if steps.step_of(p.field_id) == step and p.field_id not in step_errors]
    counts = steps.problems_per_step({p.field_id for p in problems} | set(errors))
    previous, following = steps.neighbours(step)
    return render_template(
        "applicant/edit.html",
        proposal=proposal,
        call=proposal.call,
        data=data,
        errors=step_errors,
        missing=missing,
        step=steps.STEP_BY_KEY[step],
        step_number=[s.key for s in steps.STEPS].index(step) + 1,
        steps=steps.STEPS,
        step_counts=counts,
        previous_step=previous,
        next_step=following,
        limits=limits,
        text_fields=[f for f in TEXT_FIELDS if steps.step_of(f.key) == step],
        all_text_fields=TEXT_FIELDS,
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


def step_url(proposal: Proposal, step: str, anchor: str | None = None) -> str:
    if step == "confirm":
        return url_for("applicant.confirm_proposal", proposal_id=proposal.id, _anchor=anchor)
    if step == steps.FIRST_STEP:
        return url_for("applicant.edit_proposal", proposal_id=proposal.id, _anchor=anchor)
    return url_for("applicant.edit_proposal", proposal_id=proposal.id, step=step, _anchor=anchor)


@bp.get("/proposals/<int:proposal_id>/edit", defaults={"step": steps.FIRST_STEP})
@bp.get("/proposals/<int:proposal_id>/edit/<step>")
def edit_proposal(proposal_id: int, step: str):
    proposal = load_own_proposal(proposal_id)
    if step not in steps.STEP_BY_KEY:
        abort(404)
    if proposal.status not in workflow.EDITABLE_STATUSES:
        return redirect(url_for("applicant.proposal_detail", proposal_id=proposal.id))
    if step == "confirm":
        return redirect(step_url(proposal, step))
    return _render_editor(proposal, errors=stored_problems(proposal), step=step)


_DELETE_ROW = re.compile(r"delete-(income|expense)-([0-9]{1,3})")
_GOTO = re.compile(r"goto-([a-z]+)")


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


def _posted_step() -> str | None:
    """The step the form came from; None for a post of the whole form."""
    step = request.form.get("step")
    if step is None:
        return None
    if step not in steps.FORM_STEPS:
        abort(400)
    return step


def _save(proposal: Proposal, formdata, step: str | None):
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
    if step is not None:
        formdata = steps.merged_formdata(proposal, formdata, step)
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


def _step_of_action(action: str) -> str | None:
    """Where a row button of a whole-form post is shown again."""
    if action == "add_role_row":
        return "roles"
    if action in ("add_income_row", "add_expense_row") or _DELETE_ROW.fullmatch(action):
        return "budget"
    return None


def _first_step_with(errors: dict) -> str:
    for step in steps.FORM_STEPS:
        if any(steps.step_of(key) == step for key in errors):
            return step
    return steps.FIRST_STEP


@bp.post("/proposals/<int:proposal_id>/edit")
def save_proposal(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    action = request.form.get("action", "save")
    if not EmptyForm().validate_on_submit():
        abort(400)
    posted_step = _posted_step()
    formdata, deleted = _without_deleted_row(request.form, action)
    try:
        data, errors = _save(proposal, formdata, posted_step)
    except workflow.EditConflict as conflict:
        flash(conflict.message, "error")
        shown = posted_step or steps.FIRST_STEP
        typed = steps.merged_formdata(proposal, formdata, shown) if posted_step else formdata
        return _render_editor(proposal, data=parse_proposal_form(typed), status=409, step=shown)
    step = posted_step or _step_of_action(action) or _first_step_with(errors)
    here = {key: message for key, message in errors.items() if steps.step_of(key) == step}
    extra = {"add_income_row": "income", "add_expense_row": "expense", "add_role_row": "roles"}
    if deleted:
        # Shown again as typed (like adding a row), so nothing else is lost.
        flash(deleted, "success")
        return _render_editor(proposal, data=data, errors=errors, step=step)
    if action in extra:
        return _render_editor(proposal, data=data, errors=errors, extra_rows={extra[action]: 3}, step=step)
    goto = _GOTO.fullmatch(action)
    if goto and goto.group(1) in steps.STEP_BY_KEY:
        # Moving on never waits for the step to be right: it is saved as
        # typed, and the progress list shows what it still needs.
        if here:
            label = steps.STEP_BY_KEY[step].label
            flash(f"「{label}」を保存しました。確認が必要な項目が{len(here)}件あります。", "error")
        return redirect(step_url(proposal, goto.group(1)))
    if here or (posted_step is None and errors):
        flash("保存しました。ただし、確認が必要な項目があります。", "error")
        return _render_editor(proposal, data=data, errors=errors, step=step)
    if action == "review":
        return redirect(url_for("applicant.confirm_proposal", proposal_id=proposal.id))
    flash(f"下書きを保存しました（{format_jst(proposal.updated_at)}）。", "success")
    return redirect(step_url(proposal, step))


@bp.post("/proposals/<int:proposal_id>/autosave")
def autosave_proposal(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    step = _posted_step()
    try:
        _data, errors = _save(proposal, request.form, step)
    except workflow.EditConflict as conflict:
        return jsonify(ok=False, conflict=True, message=conflict.message), 409
    problems = workflow.submission_problems(proposal, require_applicant())
    counts = steps.problems_per_step({p.field_id for p in problems} | set(errors))
    if step is not None:
        # The page shows one step: problems elsewhere are counted in its progress list.
        errors = {key: message for key, message in errors.items() if steps.step_of(key) == step}
    income, expense = budget.budget_totals(proposal)
    return jsonify(
        ok=True,
        version=proposal.version,
        saved_at=format_jst(proposal.updated_at),
        errors=errors,
        steps=counts,
        totals={"income": income, "expense": expense, "requested": proposal.requested_amount},
    )
