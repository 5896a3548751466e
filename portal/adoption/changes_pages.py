"""変更申請: the group (or staff for it) files a change; the department may
comment; staff approve or refuse with a reason, which publishes the
decision's PDF as a project document."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import object_session

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import changes
from ..domain.adoption.departments import department_of
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..files.objectstore import current_store
from ..models import Proposal
from ..models.adoption_work import CHANGE_KIND_LABELS, ChangeRequest
from ..pdf import render_pdf
from ..policy import is_staff, load_child, project_side
from . import bp
from .money_pages import csrf_ok, form_text, load_running

ROW_COUNT = 12
LABELS = {"kind": "変更の種類", "summary": "変更の内容", "reason": "変更の理由", "rows": "変更後の支出の内訳",
          "department_comment": "担当課の所見", "decision_reason": "決定の理由"}


def render_change_decision(change: ChangeRequest) -> bytes:
    # The change's own session: the demo loader renders into a database of its own.
    session = object_session(change) or db_session
    proposal = session.get(Proposal, change.proposal_id)
    html = render_template("pdf/change_decision.html", change=change, proposal=proposal,
                           department=department_of(session, proposal),
                           before=changes.proposal_expense_rows(proposal))
    return render_pdf(html, title=f"変更申請の決定 {proposal.display_title}")


def _read() -> changes.ChangeInput:
    rows = [(form_text(f"row-{i}-category", 200), form_text(f"row-{i}-amount", 40)) for i in range(ROW_COUNT)]
    return changes.ChangeInput(kind=form_text("kind", 20), summary=form_text("summary", 5000),
                               reason=form_text("reason", 5000), rows=rows)


def _new_page(proposal, data, problems=None, message=None, status=200):
    problems = problems or {}
    rows = list(data.rows) + [("", "")] * (ROW_COUNT - len(data.rows))
    return render_template(
        "adoption/change_new.html", proposal=proposal, data=data, rows=rows[:ROW_COUNT], problems=problems,
        message=message, kinds=CHANGE_KIND_LABELS, form=EmptyForm(),
        budget=changes.current_budget(db_session, proposal),
        summary=[(f"change-{name}", LABELS[name], problems[name]) for name in LABELS if name in problems],
    ), status


@bp.route("/<int:proposal_id>/changes/new", methods=["GET", "POST"])
def new_change(proposal_id: int):
    proposal, _row = load_running(proposal_id)
    side = project_side(current_user, proposal)
    may_file = side == "group" or is_staff(current_user)
    if request.method == "GET":
        rows = [(c, str(a)) for c, a in changes.current_budget(db_session, proposal)]
        return _new_page(proposal, changes.ChangeInput(rows=rows),
                         message=None if may_file else "変更申請は団体（または市民協働課）が行います。")
    data = _read()
    if not csrf_ok():
        return _new_page(proposal, data, status=400)
    if not may_file:
        return _new_page(proposal, data, message="変更申請は団体（または市民協働課）が行います。", status=409)
    try:
        change = changes.file_change(db_session, proposal, data, user=current_user, now=now_utc())
    except changes.ChangeInvalid as refusal:
        return _new_page(proposal, data, refusal.problems, status=422)
    except WrongState as refusal:
        return _new_page(proposal, data, message=refusal.message, status=409)
    flash("変更申請を提出しました。市民協働課が内容を確認します。", "success")
    return redirect(url_for("adoption.change", proposal_id=proposal.id, change_id=change.id))


def _load_change(proposal_id: int, change_id: int):
    proposal, row = load_running(proposal_id)
    change = load_child(ChangeRequest, change_id, proposal_id=proposal.id)
    return proposal, change


def _page(proposal, change, problems=None, typed=None, message=None, status=200):
    problems = problems or {}
    return render_template(
        "adoption/change.html", proposal=proposal, change=change, side=project_side(current_user, proposal),
        staff=is_staff(current_user), problems=problems, typed=typed or {}, message=message, form=EmptyForm(),
        before=changes.proposal_expense_rows(proposal),
        summary=[(f"change-{name}", LABELS[name], problems[name]) for name in LABELS if name in problems],
    ), status


@bp.route("/<int:proposal_id>/changes/<int:change_id>")
def change(proposal_id: int, change_id: int):
    return _page(*_load_change(proposal_id, change_id))


@bp.post("/<int:proposal_id>/changes/<int:change_id>/comment")
def comment_change(proposal_id: int, change_id: int):
    proposal, change = _load_change(proposal_id, change_id)
    text = form_text("department_comment", 5000)
    if not csrf_ok():
        return _page(proposal, change, typed={"department_comment": text}, status=400)
    if project_side(current_user, proposal) != "city":
        return _page(proposal, change, message="所見は市（担当課・市民協働課）が記入します。", status=409)
    try:
        changes.comment(db_session, change, text)
    except changes.ChangeInvalid as refusal:
        return _page(proposal, change, refusal.problems, typed={"department_comment": text}, status=422)
    except WrongState as refusal:
        return _page(proposal, change, message=refusal.message, status=409)
    flash("所見を保存しました。", "success")
    return redirect(url_for("adoption.change", proposal_id=proposal.id, change_id=change.id))


@bp.post("/<int:proposal_id>/changes/<int:change_id>/decide")
def decide_change(proposal_id: int, change_id: int):
    proposal, change = _load_change(proposal_id, change_id)
    reason = form_text("decision_reason", 5000)
    verdict = form_text("verdict", 20)
    if not csrf_ok():
        return _page(proposal, change, typed={"decision_reason": reason}, status=400)
    if not is_staff(current_user):
        return _page(proposal, change, message="変更申請の承認・不承認は市民協働課が決定します。", status=409)
    if verdict not in ("approve", "refuse"):
        return _page(proposal, change, {"decision_reason": "承認するか不承認とするかを選んでください。"},
                     typed={"decision_reason": reason}, status=422)
    try:
        changes.decide(db_session, proposal, change, approve=verdict == "approve", reason=reason, user=current_user,
                       now=now_utc(), render=render_change_decision, store=current_store())
    except changes.ChangeInvalid as refusal:
        return _page(proposal, change, refusal.problems, typed={"decision_reason": reason}, status=422)
    except WrongState as refusal:
        return _page(proposal, change, message=refusal.message, status=409)
    flash("変更申請を" + ("承認" if verdict == "approve" else "不承認と") + "しました。決定の文書を公開しました。", "success")
    return redirect(url_for("adoption.change", proposal_id=proposal.id, change_id=change.id))
