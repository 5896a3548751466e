"""議事録: the minutes of each 審査会 of a call.

The public part (date, place, attendance by pseudonym and role, agenda,
discussion, decisions) is published; ``closed_notes`` (非公開) never is.
Minutes are published only after the call's results are (a rule chosen so
that nothing in them, even a code and a score, runs ahead of the results;
members are named by pseudonym only, as in the results). Publishing renders
the public part as a PDF, stores it, and appends ``minutes_published``
{meeting, document_sha256} to the call's process log; from then on the
public part is fixed (a change would need a new, logged document).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...models import Call, Meeting, PanelMember
from ..log import chain, process_log
from ..results import publication

TEXT_MAX = 8000
PLACE_MAX = 200


class MinutesRefused(ValueError):
    """A publication the rules do not allow, with the reason in Japanese."""


@dataclass(frozen=True)
class Attendee:
    pseudonym: str
    role: str  # 委員長 / 委員


def meetings_of(session: Session, call: Call) -> list[Meeting]:
    return list(session.scalars(select(Meeting).where(Meeting.call_id == call.id)
                                .order_by(Meeting.number, Meeting.id)))


def published_of(session: Session, call: Call) -> list[Meeting]:
    return [m for m in meetings_of(session, call) if m.published_at is not None]


def next_number(session: Session, call: Call) -> int:
    return (session.scalar(select(func.max(Meeting.number)).where(Meeting.call_id == call.id)) or 0) + 1


def attendees(session: Session, meeting: Meeting) -> list[Attendee]:
    ids = [i for i in (meeting.attendee_ids or []) if isinstance(i, int)]
    if not ids:
        return []
    members = session.scalars(select(PanelMember).where(PanelMember.id.in_(ids), PanelMember.call_id ==
                                                        meeting.call_id).order_by(PanelMember.pseudonym))
    return [Attendee(m.pseudonym, "委員長" if m.is_chair else "委員") for m in members]


def can_publish(session: Session, call: Call) -> str | None:
    """None when the minutes may be published; otherwise why not."""
    if publication.latest(session, call) is None:
        return "議事録は審査結果の公表後に公開できます。"
    return None


def publish(session: Session, meeting: Meeting, *, render: Callable[[Meeting], bytes], store: ObjectStore,
            now: datetime) -> None:
    if meeting.published_at is not None:
        raise MinutesRefused("この議事録は公開済みです。")
    refusal = can_publish(session, meeting.call)
    if refusal:
        raise MinutesRefused(refusal)
    meeting.published_at = now  # the PDF shows it; the row is flushed once the hash is there
    with session.no_autoflush:
        pdf = render(meeting)
    meeting.pdf_name = storage.write_generated(session, store, pdf)
    meeting.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    process_log.append(session, meeting.call, chain.MINUTES_PUBLISHED,
                       {"meeting": meeting.number, "document_sha256": meeting.pdf_sha256}, now)
    session.flush()


def published_pdf(meeting: Meeting, store: ObjectStore) -> bytes | None:
    """The stored PDF, checked against the hash that was logged."""
    data = storage.read_bytes(store, meeting.pdf_name)
    if data is None or hashlib.sha256(data).hexdigest() != meeting.pdf_sha256:
        return None
    return data
