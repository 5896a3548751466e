"""The public process log (one hash chain per call) and publications.

Log rows are append-only: the database refuses UPDATE and DELETE (a trigger
on PostgreSQL and on SQLite, see migration 0002) and the app refuses them
before they reach it (``guards.py``). The format is ``portal/domain/chain.py``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class LogEntry(Base):
    __tablename__ = "log_entries"
    __table_args__ = (UniqueConstraint("call_id", "seq", name="uq_log_call_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="RESTRICT"), index=True)
    seq: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(40))
    # Canonical UTC text (2026-04-01T00:00:00.000000Z), exactly as hashed.
    at: Mapped[str] = mapped_column(String(27))
    payload: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Publication(Base):
    """One published version of a call's results; a logged correction makes
    a new version. The documents are rendered once and kept."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("call_id", "version", name="uq_publication_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column()
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")  # for corrections
    results: Mapped[dict] = mapped_column(JSON)  # the results document (JSON twin)
    results_sha256: Mapped[str] = mapped_column(String(64))
    results_pdf_name: Mapped[str | None] = mapped_column(String(64))
    log_pdf_name: Mapped[str | None] = mapped_column(String(64))
    head_seq: Mapped[int] = mapped_column()
    head_hash: Mapped[str] = mapped_column(String(64))
    head_signature: Mapped[str] = mapped_column(String(128))
