"""The reviewer's own word on a conflict of interest, before reading a
proposal: 利害関係なし (which lets them read and score it) or a declared
conflict (which takes the proposal away from them at once).

Verbs only flush; the request boundary commits. Refusals are the scoring
pages' (:class:`ScoringRefused`), since these answer on those pages.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Assignment, AssignmentStatus, Conflict, ConflictSource, ConflictStatus
from ..log import chain, process_log
from ..scoring.scoring import ScoringInvalid, ScoringNotAllowed, ScoringWrongState, call_of, code_of

CONFLICT_NOTE_MAX = 1000


def confirm_no_conflict(session: Session, assignment: Assignment, now: datetime) -> Assignment:
    """The reviewer confirms 利害関係なし; only then may they read and score."""
    if assignment.status == AssignmentStatus.RECUSED:
        raise ScoringNotAllowed("利害関係により、この提案の審査から外れています。")
    if assignment.status == AssignmentStatus.ASSIGNED:
        assignment.status = AssignmentStatus.CLEARED
        assignment.cleared_at = now
        session.flush()
    return assignment


def declare_conflict(session: Session, assignment: Assignment, note: str, now: datetime) -> Conflict:
    """The reviewer declares a conflict of interest: a confirmed, declared
    conflict, the assignment recused, and ``reviewer_recused`` in the log
    (pseudonym and code only; the note stays with the secretariat)."""
    if assignment.status == AssignmentStatus.RECUSED:
        raise ScoringWrongState("この提案の審査からはすでに外れています。")
    note = (note or "").strip()
    if len(note) > CONFLICT_NOTE_MAX:
        raise ScoringInvalid(f"申告の内容は{CONFLICT_NOTE_MAX}字以内にしてください。")
    member = assignment.panel_member
    conflict = session.scalars(
        select(Conflict).where(Conflict.panel_member_id == member.id, Conflict.proposal_id == assignment.proposal_id)
    ).first()
    if conflict is None:
        conflict = Conflict(panel_member_id=member.id, proposal_id=assignment.proposal_id, created_at=now)
        session.add(conflict)
    conflict.source = ConflictSource.DECLARED
    conflict.status = ConflictStatus.CONFIRMED
    conflict.confidence = "high"
    conflict.reason = note
    conflict.decided_at = now
    conflict.decided_by_id = member.user_id
    assignment.status = AssignmentStatus.RECUSED
    assignment.recused_at = now
    session.flush()
    process_log.append(session, call_of(session, assignment), chain.REVIEWER_RECUSED, {
        "reviewer": member.pseudonym, "proposal_code": code_of(session, assignment),
        "ground": "conflict_of_interest",
    }, now)
    return conflict
