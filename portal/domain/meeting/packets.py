"""What goes into the papers for the 審査会.

A member's packet holds only what that member may read on screen: the
released, anonymised ``ReviewCopy.content`` of each proposal assigned to
them that is not recused and has no flagged or confirmed conflict (the same
rule as ``policy.visible_assignments``), and of each redacted attachment
only its label. Never the live proposal, never a group's name. The meeting's
packet is the meeting view (``view.build``) on paper.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    BLOCKING_CONFLICT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    PanelMember,
    ReviewCopy,
)
from ..results.aggregation import code_order


@dataclass
class MemberPacket:
    call: Call
    member: PanelMember
    criteria: list  # Criterion rows in position order
    copies: list[dict]  # ReviewCopy.content, in code order


def member_copies(session: Session, member: PanelMember) -> list[ReviewCopy]:
    """The released copies this member may read, in anonymous-code order."""
    blocked = select(Conflict.proposal_id).where(
        Conflict.panel_member_id == member.id, Conflict.status.in_(BLOCKING_CONFLICT_STATUSES))
    copies = session.scalars(
        select(ReviewCopy)
        .join(Assignment, Assignment.proposal_id == ReviewCopy.proposal_id)
        .where(Assignment.panel_member_id == member.id,
               Assignment.status != AssignmentStatus.RECUSED,
               Assignment.proposal_id.not_in(blocked))
        .order_by(ReviewCopy.code, ReviewCopy.id)).all()
    return sorted(copies, key=lambda c: code_order(c.code))


def member_packet(session: Session, call: Call, member: PanelMember) -> MemberPacket:
    copies = [copy.content for copy in member_copies(session, member)]
    return MemberPacket(call, member, sorted(call.criteria, key=lambda c: c.position), copies)


def members_of(session: Session, call: Call) -> list[PanelMember]:
    return list(session.scalars(select(PanelMember).where(PanelMember.call_id == call.id)
                                .order_by(PanelMember.pseudonym, PanelMember.id)))
