"""審査委員のトップ: the reviewer's calls and, per call, the proposals they
may see (by anonymous code only) with the state of each stage."""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from .. import policy
from ..db import db_session
from ..domain.scoring import scoring
from ..domain.scoring.stages import scoring_open, stages_of, window_text
from ..domain.timeutil import now_utc
from ..models import Assignment, AssignmentStatus, Call, PanelMember, ReviewCopy, ReviewSheet, SheetStatus, Stage
from . import bp


@dataclass(frozen=True)
class StageState:
    stage: Stage
    label: str  # 提出済み, 下書き, 未着手, ...
    css: str


@dataclass(frozen=True)
class Row:
    assignment: Assignment
    code: str
    states: list[StageState]


def stage_state(call: Call, assignment: Assignment, stage: Stage, sheet: ReviewSheet | None, now) -> StageState:
    if assignment.status != AssignmentStatus.CLEARED:
        return StageState(stage, "利害関係の確認前", "draft")
    if sheet is not None and sheet.status == SheetStatus.SUBMITTED:
        return StageState(stage, "提出済み", "open")
    is_open = scoring_open(call, stage, now)
    if sheet is not None:
        return StageState(stage, "下書き" if is_open else "下書き（未提出）", "draft")
    if is_open:
        return StageState(stage, "未着手", "")
    opens, _closes = call.scoring_window(stage.value)
    if opens is None or now < opens:
        return StageState(stage, "期間前", "")
    return StageState(stage, "未提出", "closed")


@bp.route("/")
def index():
    now = now_utc()
    calls = db_session.scalars(
        select(Call).join(PanelMember, PanelMember.call_id == Call.id)
        .where(PanelMember.user_id == current_user.id).order_by(Call.fiscal_year.desc(), Call.id.desc())
    ).all()
    visible = {call.id: policy.visible_assignments(current_user, call) for call in calls}
    members = {
        m.call_id: m for m in db_session.scalars(select(PanelMember).where(PanelMember.user_id == current_user.id))
    }
    assignment_ids = [a.id for rows in visible.values() for a in rows]
    proposal_ids = [a.proposal_id for rows in visible.values() for a in rows]
    codes = dict(db_session.execute(
        select(ReviewCopy.proposal_id, ReviewCopy.code).where(ReviewCopy.proposal_id.in_(proposal_ids))
    ).all()) if proposal_ids else {}
    sheets = scoring.sheets_by_stage(db_session, assignment_ids)
    panels = []
    for call in calls:
        stages = stages_of(call)
        rows = [
            Row(a, codes[a.proposal_id],
                [stage_state(call, a, s, sheets.get((a.id, s)), now) for s in stages])
            for a in visible[call.id]
        ]
        panels.append({"call": call, "member": members.get(call.id), "stages": stages, "rows": rows,
                       "windows": [(s, window_text(call, s), scoring_open(call, s, now))
                                   for s in stages]})
    return render_template("review/index.html", panels=panels)
