"""The panel (審査委員会) of a call: members under pseudonyms, and the
assignment of released proposals to them.

A member with a flagged or confirmed conflict on a proposal gets no usable
assignment for it (status RECUSED), so the proposal never reaches them.
"""
from __future__ import annotations

import string
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    ConflictStatus,
    PanelMember,
    Proposal,
    User,
)
from . import process_log
from .chain import REVIEWER_ASSIGNED

BLOCKING = (ConflictStatus.FLAGGED, ConflictStatus.CONFIRMED)


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


def add_member(session: Session, call: Call, user: User, affiliations: Iterable[str] = (), *,
               public_title: str = "", now: datetime | None = None) -> PanelMember:
    existing = session.scalars(
        select(PanelMember).where(PanelMember.call_id == call.id, PanelMember.user_id == user.id)
    ).first()
    if existing is not None:
        return existing
    used = set(session.scalars(select(PanelMember.pseudonym).where(PanelMember.call_id == call.id)))
    index = 0
    while pseudonym_for(index) in used:
        index += 1
    member = PanelMember(call_id=call.id, user_id=user.id, pseudonym=pseudonym_for(index),
                         affiliations=[a.strip() for a in affiliations if a.strip()], public_title=public_title)
    if now is not None:
        member.joined_at = now
    session.add(member)
    session.flush()
    return member


def blocked_pairs(session: Session, call: Call) -> set[tuple[int, int]]:
    """(panel member id, proposal id) pairs kept apart by a conflict."""
    rows = session.execute(
        select(Conflict.panel_member_id, Conflict.proposal_id)
        .join(PanelMember, PanelMember.id == Conflict.panel_member_id)
        .where(PanelMember.call_id == call.id, Conflict.status.in_(BLOCKING))
    )
    return {(m, p) for m, p in rows}


def assign_released(session: Session, call: Call, proposals: Iterable[Proposal], now: datetime) -> list[Assignment]:
    """Give newly released proposals to every panel member; a conflicted
    member's assignment is created already recused. Logs one
    ``reviewer_assigned`` entry per member with the codes they received."""
    proposals = list(proposals)
    blocked = blocked_pairs(session, call)
    existing = {
        (a.panel_member_id, a.proposal_id)
        for a in session.scalars(
            select(Assignment).where(Assignment.proposal_id.in_([p.id for p in proposals]))
        )
    }
    made: list[Assignment] = []
    for member in members(session, call):
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
        if codes:
            process_log.append(session, call, REVIEWER_ASSIGNED,
                               {"reviewer": member.pseudonym, "proposal_codes": sorted(codes)}, now)
    session.flush()
    return made
