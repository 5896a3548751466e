"""成果目標・活動指標: the group proposes the project's goals, the city
(staff or the project's department) confirms them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption import goals
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..models import GoalKind, ProjectGoal
from ..policy import load_child, load_project, project_side
from . import bp

FIELDS = ("kind", "title", "target_number", "unit", "target_text")


def _load(proposal_id: int):
    proposal = load_project(proposal_id)
    if not agreements.is_adopted(db_session, proposal):
        abort(404)
    return proposal


def _page(proposal, data=None, problems=None, message=None, status=200):
    rows = goals.goals_of(db_session, proposal)
    row = agreements.agreement_of(db_session, proposal)
    is_open = not goals.is_confirmed(rows) and not (row is not None and row.status == row.status.CONCLUDED)
    problems = problems or {}
    return render_template(
        "adoption/goals.html", proposal=proposal, goals=rows, side=project_side(current_user, proposal),
        data=data or goals.GoalInput(kind=GoalKind.OUTCOME.value), problems=problems, message=message,
        kinds=list(GoalKind), is_open=is_open, form=EmptyForm(),
        summary=[(f"goal-{name}", LABELS[name], problems[name]) for name in FIELDS if name in problems],
    ), status


LABELS = {"kind": "種類", "title": "目標の内容", "target_number": "目標値（数値）", "unit": "単位",
          "target_text": "目標値（文章）"}


@bp.route("/<int:proposal_id>/goals")
def goals_page(proposal_id: int):
    return _page(_load(proposal_id))


def _checked(proposal) -> bool:
    if EmptyForm().validate_on_submit():
        return True
    flash("画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。", "error")
    return False


@bp.post("/<int:proposal_id>/goals")
def propose_goal(proposal_id: int):
    proposal = _load(proposal_id)
    data = goals.GoalInput(**{name: request.form.get(name, "")[:2000] for name in FIELDS})
    if not _checked(proposal):
        return _page(proposal, data, status=400)
    if project_side(current_user, proposal) != "group":
        return _page(proposal, data, message="目標は団体が提案し、市が確認します。", status=409)
    try:
        goals.propose(db_session, proposal, data, user=current_user, now=now_utc())
    except goals.GoalInvalid as refusal:
        return _page(proposal, data, refusal.problems, status=422)
    except WrongState as refusal:
        return _page(proposal, data, message=refusal.message, status=409)
    flash("目標を追加しました。市の確認を待っています。", "success")
    return redirect(url_for("adoption.goals_page", proposal_id=proposal.id))


@bp.post("/<int:proposal_id>/goals/<int:goal_id>/withdraw")
def withdraw_goal(proposal_id: int, goal_id: int):
    proposal = _load(proposal_id)
    goal = load_child(ProjectGoal, goal_id, proposal_id=proposal.id)
    if not _checked(proposal) or project_side(current_user, proposal) != "group":
        return redirect(url_for("adoption.goals_page", proposal_id=proposal.id))
    try:
        goals.withdraw(db_session, proposal, goal)
    except WrongState as refusal:
        flash(refusal.message, "error")
    return redirect(url_for("adoption.goals_page", proposal_id=proposal.id))


@bp.post("/<int:proposal_id>/goals/confirm")
def confirm_goals(proposal_id: int):
    proposal = _load(proposal_id)
    if not _checked(proposal):
        return redirect(url_for("adoption.goals_page", proposal_id=proposal.id))
    if project_side(current_user, proposal) != "city":
        return _page(proposal, message="目標は市（市民協働課または担当課）が確認します。", status=409)
    try:
        count = goals.confirm(db_session, proposal, user=current_user, now=now_utc())
    except WrongState as refusal:
        return _page(proposal, message=refusal.message, status=409)
    flash(f"目標（{count}件）を確認しました。協定書に記載されます。", "success")
    return redirect(url_for("adoption.goals_page", proposal_id=proposal.id))
