"""Staff's check of a reviewer comment before it reaches a group or the
public: confirmed as written, or edited (issue 14, reviewer comments)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class CommentCheck(Base):
    """One check per comment: ``source`` is ``sheet:<ReviewSheet.id>``. The
    check holds only for the text it was made on (``text_sha256``): a
    comment changed after (a reopened sheet) is flagged again."""

    __tablename__ = "comment_checks"
    __table_args__ = (UniqueConstraint("proposal_id", "source", name="uq_comment_checks_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    text_sha256: Mapped[str] = mapped_column(String(64))
    # "confirmed": shown as written; "edited": ``edited_text`` is shown instead.
    status: Mapped[str] = mapped_column(String(20))
    edited_text: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
