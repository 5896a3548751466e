"""通知書: the formal notice of the decision each group receives when the
results are published, and the per-fiscal-year counter behind its 文書番号."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class NoticeCounter(Base):
    """The last 文書番号 serial given in a fiscal year. Numbers are taken by
    an UPDATE of this row, which PostgreSQL serialises (the row lock), so two
    calls published at the same moment never get the same number."""

    __tablename__ = "notice_counters"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)


class Notice(Base):
    """One 通知書 per proposal and published version (a correction issues a
    new, numbered notice). The PDF is rendered once and kept; its SHA-256
    is stored so a copy can be checked."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("fiscal_year", "serial", name="uq_notices_fiscal_year_serial"),
        UniqueConstraint("proposal_id", "version", name="uq_notices_proposal_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the publication version it belongs to
    fiscal_year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(60))  # 文書番号 as printed, e.g. みなと市協第12号
    outcome: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pdf_name: Mapped[str | None] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")

    proposal: Mapped["Proposal"] = relationship()  # noqa: F821
