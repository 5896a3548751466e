"""Scoring progress of a call's panel, reminders, and closing the scoring.

For each stage of the call, each member and each released proposal get one
state (see ``STATE_LABELS``). The whole picture is read in a fixed number of
queries, whatever the size of the panel.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..refusals import WrongState
from ...models import (
    BLOCKING_CONFLICT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    ConflictStatus,
    LogEntry,
    PanelMember,
    Proposal,
    ReviewCopy,
    ReviewSheet,
    SheetStatus,
    Stage,
)
from ..calls.call_lock import lock_call
from ..log import process_log
from ..results import results
from .stages import stages_of, window_refusal
from ..log.chain import SCORE_REOPENED, SCORE_SEALED, SCORING_CLOSED
from ..timeutil import format_jst

NONE = "none"  # not given to this member (not released yet)
NOT_OPENED = "not_opened"
CLEARED = "cleared"
DRAFT = "draft"
SUBMITTED = "submitted"
HELD = "held"  # kept from the member while a conflict flag awaits staff
RECUSED = "recused"

STATES = (NOT_OPENED, CLEARED, DRAFT, SUBMITTED, HELD, RECUSED)
STATE_LABELS = {
    NONE: "—",
    NOT_OPENED: "未閲覧",
    CLEARED: "利害関係なし確認済",
    DRAFT: "下書き",
    SUBMITTED: "提出済",
    HELD: "保留（利害関係の確認中）",
    RECUSED: "除斥",
}
UNFINISHED = (NOT_OPENED, CLEARED, DRAFT)
# In every reminder's subject, with the call's title: the outbox keeps the
# subject even when the body is dropped after delivery.
REMINDER_MARK = "採点のお願い"


class ProgressError(WrongState):
    """A refused action; the message is Japanese and shown as is."""


@dataclass
class Cell:
    state: str
    assignment: Assignment | None = None
    sheet: ReviewSheet | None = None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass
class StageProgress:
    stage: Stage
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    # member id -> codes of proposals the member still has to finish
    unfinished: dict[int, list[str]] = field(default_factory=dict)

    def cell(self, member: PanelMember, copy: ReviewCopy) -> Cell:
        return self.cells.get((member.id, copy.proposal_id), Cell(NONE))

    def member_counts(self, member: PanelMember) -> Counter:
        return Counter(c.state for (m, _), c in self.cells.items() if m == member.id)


@dataclass
class Progress:
    call: Call
    members: list[PanelMember]
    copies: list[ReviewCopy]
    titles: dict[int, str]  # proposal id -> title (for staff)
    stages: list[StageProgress]

    def stage(self, stage: Stage) -> StageProgress | None:
        return next((s for s in self.stages if s.stage == stage), None)


def build(session: Session, call: Call) -> Progress:
    members = list(session.scalars(
        select(PanelMember).where(PanelMember.call_id == call.id)
        .options(selectinload(PanelMember.user)).order_by(PanelMember.id)))
    rows = session.execute(
        select(ReviewCopy, Proposal.title).join(Proposal, Proposal.id == ReviewCopy.proposal_id)
        .where(ReviewCopy.call_id == call.id).order_by(ReviewCopy.code)).all()
    copies = [copy for copy, _ in rows]
    titles = {copy.proposal_id: title for copy, title in rows}
    member_ids = [m.id for m in members]
    assignments = list(session.scalars(
        select(Assignment).where(Assignment.panel_member_id.in_(member_ids))
        .options(selectinload(Assignment.sheets)))) if member_ids else []
    blocked = {
        (m, p): status for m, p, status in session.execute(
            select(Conflict.panel_member_id, Conflict.proposal_id, Conflict.status)
            .where(Conflict.panel_member_id.in_(member_ids),
                   Conflict.status.in_(BLOCKING_CONFLICT_STATUSES)))
    } if member_ids else {}
    codes = {copy.proposal_id: copy.code for copy in copies}

    stages = []
    for stage in stages_of(call):
        progress = StageProgress(stage)
        for assignment in assignments:
            if assignment.proposal_id not in codes:
                continue
            pair = (assignment.panel_member_id, assignment.proposal_id)
            sheet = next((s for s in assignment.sheets if s.stage == stage), None)
            progress.cells[pair] = Cell(_state(assignment, sheet, blocked.get(pair)), assignment, sheet)
        for (member_id, proposal_id), cell in sorted(progress.cells.items(),
                                                     key=lambda item: codes[item[0][1]]):
            progress.counts[cell.state] += 1
            if cell.state in UNFINISHED:
                progress.unfinished.setdefault(member_id, []).append(codes[proposal_id])
        stages.append(progress)
    return Progress(call, members, copies, titles, stages)


def _state(assignment: Assignment, sheet: ReviewSheet | None, conflict: ConflictStatus | None) -> str:
    # A pending flag comes first: an assignment made recused at release only
    # because of it is held, not yet withdrawn for good.
    if conflict == ConflictStatus.FLAGGED:
        return HELD
    if assignment.status == AssignmentStatus.RECUSED or conflict == ConflictStatus.CONFIRMED:
        return RECUSED
    if sheet is not None:
        return SUBMITTED if sheet.status == SheetStatus.SUBMITTED else DRAFT
    return CLEARED if assignment.status == AssignmentStatus.CLEARED else NOT_OPENED


# -- reminders ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    member: PanelMember
    codes: list[str]
    subject: str
    body: str


def reminder_refusal(call: Call, stage: Stage, now: datetime) -> str | None:
    if call.scoring_closed_at is not None:
        return "採点はすでに締め切られています。督促は送れません。"
    if stage not in stages_of(call):
        return "この募集にはない審査段階です。"
    return window_refusal(call, stage, now)


def reminders(progress: Progress, stage: Stage, *, city: str, link: str) -> list[Reminder]:
    """One mail per member with unfinished sheets in ``stage``, listing the
    anonymous codes only: never a group's name or a title."""
    stage_progress = progress.stage(stage)
    if stage_progress is None:
        return []
    call = progress.call
    _, closes = call.scoring_window(stage.value)
    result = []
    for member in progress.members:
        codes = stage_progress.unfinished.get(member.id)
        if not codes or member.user is None or not member.user.is_active_account:
            continue
        subject = f"【{city}】{REMINDER_MARK}：{call.title}（{stage.label}・未提出 {len(codes)}件）"[:200]
        body = (
            f"{member.user.display_name} 様（{member.pseudonym}）\n\n"
            f"「{call.title}」の{stage.label}で、次の提案の採点票がまだ提出されていません。\n\n"
            + "".join(f"・{code}\n" for code in codes)
            + (f"\n採点の締切：{format_jst(closes)}\n" if closes else "\n")
            + f"\n次のページから採点できます。\n{link}\n\n"
            "すでに対応済みの場合は、行き違いですのでご容赦ください。\n"
            f"{city} 市民協働課\n"
        )
        result.append(Reminder(member, codes, subject, body))
    return result


# -- closing ------------------------------------------------------------------------


def seals_in_force(session: Session, call: Call) -> int:
    """``score_sealed`` entries of the log that no reopen superseded."""
    rows = session.execute(
        select(LogEntry.seq, LogEntry.kind, LogEntry.payload)
        .where(LogEntry.call_id == call.id, LogEntry.kind.in_((SCORE_SEALED, SCORE_REOPENED)))).all()
    sealed = {seq for seq, kind, _ in rows if kind == SCORE_SEALED}
    superseded = {payload.get("supersedes_seq") for _, kind, payload in rows if kind == SCORE_REOPENED}
    return len(sealed - superseded)


@dataclass(frozen=True)
class ShortOfMinimum:
    code: str
    valid: int  # submitted sheets that count
    required: int


def short_of_minimum(session: Session, call: Call) -> list[ShortOfMinimum]:
    """Released proposals with fewer valid sheets (of the stage that
    decides) than the call requires: closing now makes them 採点不成立."""
    inputs = results.gather(session, call)
    valid = Counter(sheet.proposal_key for sheet in inputs.sheets)
    return [ShortOfMinimum(p.anonymous_code, valid[p.id], inputs.required.get(p.id, 0))
            for p in inputs.proposals
            if valid[p.id] == 0 or valid[p.id] < inputs.required.get(p.id, 0)]


def close_refusal(call: Call, now: datetime, early_confirmed: bool) -> str | None:
    if call.scoring_closed_at is not None:
        return f"採点はすでに締め切られています（{format_jst(call.scoring_closed_at)}）。"
    if not call.scoring_over(now) and not early_confirmed:
        return ("採点期間がまだ終わっていません。期間中に締め切る場合は、"
                "「採点期間の終了前に締め切ることを確認しました」にチェックしてください。")
    return None


def close_scoring(session: Session, call: Call, now: datetime, *, early_confirmed: bool = False) -> int:
    """採点を締め切る: no sheet may be scored or submitted afterwards; the
    number of seals in force goes into the public log."""
    lock_call(session, call)  # two clicks, one closing
    refusal = close_refusal(call, now, early_confirmed)
    if refusal:
        raise ProgressError(refusal)
    count = seals_in_force(session, call)
    call.scoring_closed_at = now
    process_log.append(session, call, SCORING_CLOSED, {"sealed_count": count}, now)
    session.flush()
    return count
