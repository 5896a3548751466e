"""The panel (審査委員会) of a call: members under pseudonyms, and the
assignment of released proposals to them.

A member with a flagged or confirmed conflict on a proposal gets no usable
assignment for it (status RECUSED), so the proposal never reaches them.
The conflict cross-check (``conflict_check``) runs whenever a member joins,
their organisations change, or proposals are released, so a flag exists
before a proposal could reach a conflicted member.

A pseudonym is never given twice in a call, even after its member left:
the public log would otherwise mix two people under one name.
"""
from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..refusals import Invalid
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
    ReviewScore,
    ReviewSheet,
    ScoreReopen,
    SheetStatus,
    User,
)
from ..log import process_log
from . import assignment as assignment_rules, conflict_check
from ..log.chain import REVIEWER_ASSIGNED, REVIEWER_RECUSED, SCORE_REOPENED, SCORE_SEALED
from ..timeutil import now_utc

AFFILIATION_LIMIT = 200
AFFILIATIONS_MAX = 30
PUBLIC_TITLE_LIMIT = 100
_KINDS_NAMING_REVIEWERS = (REVIEWER_ASSIGNED, REVIEWER_RECUSED, SCORE_SEALED, SCORE_REOPENED)


class PanelError(Invalid):
    """A refused change to the panel; the message is Japanese."""


def pseudonym_for(index: int) -> str:
    """委員A, 委員B, ..., 委員Z, 委員AA, ..."""
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = letters[rest] + name
    return f"委員{name}"


def members(session: Session, call: Call) -> list[PanelMember]:
    return list(session.scalars(select(PanelMember).where(PanelMember.call_id == call.id).order_by(PanelMember.id)))


def clean_affiliations(lines: Iterable[str]) -> list[str]:
    """Stated organisations, one per entry, without blanks or repeats."""
    seen: list[str] = []
    for line in lines:
        text = " ".join((line or "").split())
        if text and text not in seen:
            seen.append(text)
    return seen


def affiliation_problem(affiliations: list[str]) -> str | None:
    if len(affiliations) > AFFILIATIONS_MAX:
        return f"所属団体は{AFFILIATIONS_MAX}件までにしてください。"
    for item in affiliations:
        if len(item) > AFFILIATION_LIMIT:
            return f"所属団体は1行{AFFILIATION_LIMIT}字以内で入力してください（「{item[:20]}…」）。"
    return None


def _pseudonyms_in_log(session: Session, call: Call) -> set[str]:
    payloads = session.scalars(
        select(LogEntry.payload).where(LogEntry.call_id == call.id, LogEntry.kind.in_(_KINDS_NAMING_REVIEWERS)))
    return {p.get("reviewer") for p in payloads if isinstance(p, dict)}


def add_member(session: Session, call: Call, user: User, affiliations: Iterable[str] = (), *,
               public_title: str = "", now: datetime | None = None) -> PanelMember:
    existing = session.scalars(
        select(PanelMember).where(PanelMember.call_id == call.id, PanelMember.user_id == user.id)
    ).first()
    if existing is not None:
        return existing
    used = set(session.scalars(select(PanelMember.pseudonym).where(PanelMember.call_id == call.id)))
    used |= _pseudonyms_in_log(session, call)
    index = 0
    while pseudonym_for(index) in used:
        index += 1
    member = PanelMember(call_id=call.id, user_id=user.id, pseudonym=pseudonym_for(index),
                         affiliations=clean_affiliations(affiliations), public_title=public_title.strip())
    if now is not None:
        member.joined_at = now
    session.add(member)
    session.flush()
    conflict_check.run_check(session, call, now or now_utc(), members=[member])
    return member


def update_member(session: Session, member: PanelMember, affiliations: Iterable[str], public_title: str,
                  now: datetime) -> conflict_check.CheckSummary:
    """New stated organisations (and public title); the member is checked again."""
    cleaned = clean_affiliations(affiliations)
    problem = affiliation_problem(cleaned)
    if problem:
        raise PanelError(problem)
    if len(public_title.strip()) > PUBLIC_TITLE_LIMIT:
        raise PanelError(f"公表用の肩書は{PUBLIC_TITLE_LIMIT}字以内で入力してください。")
    member.affiliations = cleaned
    member.public_title = public_title.strip()
    session.flush()
    return conflict_check.run_check(session, session.get(Call, member.call_id), now, members=[member])


def _sheets_of(session: Session, member: PanelMember) -> list[ReviewSheet]:
    return list(session.scalars(
        select(ReviewSheet).join(Assignment, Assignment.id == ReviewSheet.assignment_id)
        .where(Assignment.panel_member_id == member.id)
    ))


def removal_refusal(session: Session, member: PanelMember) -> str | None:
    sheets = _sheets_of(session, member)
    ever_submitted = any(s.status == SheetStatus.SUBMITTED or s.submitted_at is not None for s in sheets)
    if not ever_submitted and sheets:
        ever_submitted = session.scalar(
            select(ScoreReopen.id).where(ScoreReopen.sheet_id.in_([s.id for s in sheets])).limit(1)) is not None
    if ever_submitted:
        return (f"{member.pseudonym}は採点票を提出済みのため、委員から外せません。"
                "採点を除く場合は、利害関係の確定など記録の残る方法で行ってください。")
    return None


def remove_member(session: Session, member: PanelMember, now: datetime) -> None:
    """Take a member who has submitted nothing off the panel. Proposals the
    public log says they were given are logged as recused (unavailable);
    their draft sheets go with them."""
    refusal = removal_refusal(session, member)
    if refusal:
        raise PanelError(refusal)
    call = session.get(Call, member.call_id)
    assignments = list(session.scalars(select(Assignment).where(Assignment.panel_member_id == member.id)))
    logged = conflict_check.logged_recusals(session, call)
    codes = dict(session.execute(select(Proposal.id, Proposal.anonymous_code).where(
        Proposal.id.in_([a.proposal_id for a in assignments]))).all()) if assignments else {}
    for assignment in sorted(assignments, key=lambda a: codes.get(a.proposal_id) or ""):
        code = codes.get(assignment.proposal_id)
        if assignment.status != AssignmentStatus.RECUSED and code:
            conflict_check.log_recusal(session, call, member, code, now, "unavailable", logged=logged)
    for sheet in _sheets_of(session, member):
        for score in session.scalars(select(ReviewScore).where(ReviewScore.sheet_id == sheet.id)):
            session.delete(score)
        session.flush()
        session.delete(sheet)
    session.flush()
    for conflict in session.scalars(select(Conflict).where(Conflict.panel_member_id == member.id)):
        session.delete(conflict)
    for assignment in assignments:
        session.delete(assignment)
    session.flush()
    session.delete(member)
    session.flush()


def blocked_pairs(session: Session, call: Call) -> set[tuple[int, int]]:
    """(panel member id, proposal id) pairs kept apart by a conflict.

    In k-of-n mode only the pairs that were assigned: the results count a
    conflicted member as "not scoring" a proposal, and a member never given
    the proposal was not going to score it anyway (``assignment.py``)."""
    query = (select(Conflict.panel_member_id, Conflict.proposal_id)
             .join(PanelMember, PanelMember.id == Conflict.panel_member_id)
             .where(PanelMember.call_id == call.id, Conflict.status.in_(BLOCKING_CONFLICT_STATUSES)))
    if call.assignment_mode == assignment_rules.MODE_K:
        query = query.join(Assignment, (Assignment.panel_member_id == Conflict.panel_member_id)
                           & (Assignment.proposal_id == Conflict.proposal_id))
    return {(m, p) for m, p in session.execute(query)}


def assign_released(session: Session, call: Call, proposals: Iterable[Proposal], now: datetime) -> list[Assignment]:
    """Give newly released proposals to every panel member; a conflicted
    member's assignment is created already recused. The panel is checked
    against the released groups first. Logs one ``reviewer_assigned`` entry
    per member with the codes they received, and a ``reviewer_recused``
    entry for each pair kept apart by a confirmed conflict. A call in k-of-n
    mode gives each proposal to k members instead (``assignment.assign_k``)."""
    proposals = list(proposals)
    conflict_check.run_check(session, call, now, proposals=proposals)
    if call.assignment_mode == assignment_rules.MODE_K and call.reviewers_per_proposal:
        return assignment_rules.assign_k(session, call, proposals, now)
    blocked = blocked_pairs(session, call)
    confirmed = {
        (m, p) for m, p in session.execute(
            select(Conflict.panel_member_id, Conflict.proposal_id)
            .join(PanelMember, PanelMember.id == Conflict.panel_member_id)
            .where(PanelMember.call_id == call.id, Conflict.status == ConflictStatus.CONFIRMED)
        )
    }
    existing = {
        (a.panel_member_id, a.proposal_id)
        for a in session.scalars(
            select(Assignment).where(Assignment.proposal_id.in_([p.id for p in proposals]))
        )
    }
    made: list[Assignment] = []
    recusals: list[tuple[PanelMember, str]] = []
    for member in members(session, call):
        if member.withdrawn_at is not None:
            continue  # 辞退: takes no new proposals
        codes = []
        for proposal in proposals:
            if (member.id, proposal.id) in existing:
                continue
            recused = (member.id, proposal.id) in blocked
            assignment = Assignment(
                proposal_id=proposal.id, panel_member_id=member.id, assigned_at=now,
                status=AssignmentStatus.RECUSED if recused else AssignmentStatus.ASSIGNED,
                recused_at=now if recused else None,
            )
            session.add(assignment)
            made.append(assignment)
            if not recused:
                codes.append(proposal.anonymous_code)
            elif (member.id, proposal.id) in confirmed:
                recusals.append((member, proposal.anonymous_code))
        if codes:
            process_log.append(session, call, REVIEWER_ASSIGNED,
                               {"reviewer": member.pseudonym, "proposal_codes": sorted(codes)}, now)
    logged = conflict_check.logged_recusals(session, call) if recusals else set()
    for member, code in recusals:
        conflict_check.log_recusal(session, call, member, code, now, logged=logged)
    session.flush()
    return made
