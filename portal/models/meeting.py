"""The 審査会 and its papers: the chair's notes per proposal, the minutes
(議事録) of each meeting, and the 二次審査 running order.

Chair's notes are the committee's working notes: staff and the chair read
them, nothing public ever does. A meeting's minutes have a public part
(agenda, discussion, decisions) and a closed part (``closed_notes``); once
published, the public part's PDF is stored and its SHA-256 goes into the
process log (``minutes_published``), so the public part no longer changes.
The running order names proposals by anonymous code only.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class ChairNote(Base):
    """The chair's (or the secretariat's) note on one proposal for the meeting."""

    __tablename__ = "chair_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Meeting(Base):
    """One 審査会 of a call and its minutes."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("call_id", "number", name="uq_meetings_call_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("published_at IS NULL OR pdf_sha256 IS NOT NULL", name="published_has_pdf"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()  # 第1回, 第2回, ... within the call
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(200), default="")
    # Panel member ids present; shown by pseudonym and role (委員長・委員).
    attendee_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Others present, by role only (e.g. 事務局（市民協働課）).
    other_attendees: Mapped[str] = mapped_column(Text, default="")
    agenda: Mapped[str] = mapped_column(Text, default="")  # 公開
    discussion: Mapped[str] = mapped_column(Text, default="")  # 公開
    decisions: Mapped[str] = mapped_column(Text, default="")  # 公開
    closed_notes: Mapped[str] = mapped_column(Text, default="")  # 非公開: never rendered in public
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf_name: Mapped[str | None] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    call: Mapped["Call"] = relationship()  # noqa: F821


class PresentationSlot(Base):
    """One proposal's slot in the 二次審査 (public presentation) running order."""

    __tablename__ = "presentation_slots"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="slot_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    room: Mapped[str] = mapped_column(String(100), default="")


class PresentationSchedule(Base):
    """Whether (and when) a call's running order was published."""

    __tablename__ = "presentation_schedules"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")  # shown on the public page (会場の案内など)
