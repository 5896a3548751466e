"""The secretariat's to-do list across every call: proposals waiting for
intake, conflicts to decide, proposals waiting for anonymisation, score
sheets overdue, decisions missing and scheduled publications, each with a
count. Read in a fixed number of queries whatever the number of calls and
proposals (the status counts come from ``call_admin.proposal_counts``).
Plain Python over the models: no Flask; the links are the caller's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from ...models import (
    BLOCKING_CONFLICT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    ConflictStatus,
    Decision,
    PanelMember,
    Proposal,
    ProposalStatus,
    ReviewCopy,
    ReviewSheet,
    SheetStatus,
    Stage,
)

# In the order the work comes in a year; the page lists them so.
INTAKE = "intake"
CONFLICTS = "conflicts"
ANONYMISATION = "anonymisation"
OVERDUE = "overdue"
DECISIONS = "decisions"
PUBLICATION = "publication"
KINDS = (INTAKE, CONFLICTS, ANONYMISATION, OVERDUE, DECISIONS, PUBLICATION)
LABELS = {
    INTAKE: "受付・形式審査を待つ提案",
    CONFLICTS: "判断を待つ利害関係",
    ANONYMISATION: "匿名化・審査委員への提供を待つ提案",
    OVERDUE: "締切を過ぎた未提出の採点票",
    DECISIONS: "決定が入力されていない提案",
    PUBLICATION: "予約されている結果の公表",
}
INTAKE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.INTAKE)


@dataclass(frozen=True)
class Todo:
    kind: str
    call: Call
    count: int
    when: datetime | None = None  # the scheduled publication

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def _overdue(session: Session, now: datetime, stage: Stage) -> dict[int, int]:
    """Unfinished sheets of ``stage`` per call whose window for it has
    ended and whose scoring the secretariat has not closed yet."""
    closes = Call.scoring_closes_at if stage == Stage.DOCUMENT else Call.presentation_closes_at
    window_over = [Call.scoring_closed_at.is_(None), closes.is_not(None), closes <= now]
    if stage == Stage.PRESENTATION:
        window_over.append(Call.has_presentation.is_(True))
    submitted = exists().where(ReviewSheet.assignment_id == Assignment.id, ReviewSheet.stage == stage,
                               ReviewSheet.status == SheetStatus.SUBMITTED)
    blocked = exists().where(Conflict.panel_member_id == Assignment.panel_member_id,
                             Conflict.proposal_id == Assignment.proposal_id,
                             Conflict.status.in_(BLOCKING_CONFLICT_STATUSES))
    rows = session.execute(
        select(PanelMember.call_id, func.count(Assignment.id))
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id)
        .join(Call, Call.id == PanelMember.call_id)
        .join(ReviewCopy, ReviewCopy.proposal_id == Assignment.proposal_id)
        .where(*window_over, Assignment.status != AssignmentStatus.RECUSED, ~submitted, ~blocked)
        .group_by(PanelMember.call_id))
    return dict(rows.all())


def todos(session: Session, calls: list[Call], counts: dict[int, dict[str, int]], now: datetime) -> list[Todo]:
    """Every item with a count above zero, in ``KINDS`` order, then the
    calls' order. ``counts``: ``call_admin.proposal_counts`` for ``calls``."""
    ids = [c.id for c in calls]
    if not ids:
        return []
    conflicts = dict(session.execute(
        select(PanelMember.call_id, func.count(Conflict.id))
        .join(PanelMember, PanelMember.id == Conflict.panel_member_id)
        .where(PanelMember.call_id.in_(ids), Conflict.status == ConflictStatus.FLAGGED)
        .group_by(PanelMember.call_id)).all())
    overdue = _overdue(session, now, Stage.DOCUMENT)
    for call_id, n in _overdue(session, now, Stage.PRESENTATION).items():
        overdue[call_id] = overdue.get(call_id, 0) + n
    undecided = dict(session.execute(
        select(Proposal.call_id, func.count(Proposal.id))
        .outerjoin(Decision, Decision.proposal_id == Proposal.id)
        .where(and_(Proposal.call_id.in_(ids), Proposal.status == ProposalStatus.REVIEW, Decision.id.is_(None)))
        .group_by(Proposal.call_id)).all())

    found: list[Todo] = []
    for call in calls:
        by_status = counts.get(call.id, {})
        found += [
            Todo(INTAKE, call, sum(by_status.get(s.value, 0) for s in INTAKE_STATUSES)),
            Todo(CONFLICTS, call, conflicts.get(call.id, 0)),
            Todo(ANONYMISATION, call, by_status.get(ProposalStatus.ACCEPTED.value, 0)),
            Todo(OVERDUE, call, overdue.get(call.id, 0)),
            Todo(DECISIONS, call, undecided.get(call.id, 0) if call.scoring_over(now) else 0),
        ]
        if call.results_scheduled_at is not None and call.results_published_at is None:
            found.append(Todo(PUBLICATION, call, 1, call.results_scheduled_at))
    order = {kind: n for n, kind in enumerate(KINDS)}
    position = {call.id: n for n, call in enumerate(calls)}
    return sorted((t for t in found if t.count), key=lambda t: (order[t.kind], position[t.call.id]))
