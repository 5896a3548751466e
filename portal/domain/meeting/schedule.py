"""二次審査 (public presentation): time slots and the running order by
anonymous code. Staff edit the slots; publishing shows the running order on
a public page. Codes only: no group name or title appears before the results.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Call, PresentationSchedule, PresentationSlot, Proposal
from ..results.results import RELEASED_STATUSES


@dataclass(frozen=True)
class SlotRow:
    slot: PresentationSlot
    code: str


def candidates(session: Session, call: Call) -> list[Proposal]:
    """Proposals that may present: released to the panel (審査中 or later)."""
    from ..results.aggregation import code_order
    proposals = session.scalars(select(Proposal).where(Proposal.call_id == call.id,
                                                       Proposal.status.in_(RELEASED_STATUSES))
                                .order_by(Proposal.id)).all()
    return sorted(proposals, key=lambda p: code_order(p.anonymous_code or ""))


def slots_of(session: Session, call: Call) -> list[SlotRow]:
    rows = session.execute(
        select(PresentationSlot, Proposal.anonymous_code).join(Proposal, Proposal.id == PresentationSlot.proposal_id)
        .where(PresentationSlot.call_id == call.id)
        .order_by(PresentationSlot.starts_at, PresentationSlot.id)).all()
    return [SlotRow(slot, code or "") for slot, code in rows]


def schedule_of(session: Session, call: Call) -> PresentationSchedule | None:
    return session.get(PresentationSchedule, call.id)


def is_published(session: Session, call: Call) -> bool:
    row = schedule_of(session, call)
    return row is not None and row.published_at is not None


def overlap(session: Session, call: Call, room: str, starts_at: datetime, ends_at: datetime,
            ignore_id: int | None = None) -> SlotRow | None:
    """A slot in the same room that overlaps the given time, if any."""
    for row in slots_of(session, call):
        if row.slot.id == ignore_id or row.slot.room != room:
            continue
        if row.slot.starts_at < ends_at and starts_at < row.slot.ends_at:
            return row
    return None


def publish(session: Session, call: Call, *, user_id: int | None, now: datetime, note: str = "") -> None:
    row = schedule_of(session, call)
    if row is None:
        row = PresentationSchedule(call_id=call.id, note="")
        session.add(row)
    row.published_at = now
    row.published_by_id = user_id
    row.note = note
    session.flush()


def unpublish(session: Session, call: Call) -> None:
    row = schedule_of(session, call)
    if row is not None:
        row.published_at = None
        session.flush()
