from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class FilePurpose(enum.StrEnum):
    RULES = "rules"  # 規約・会則
    OFFICERS = "officers"  # 役員名簿
    ANNUAL_REPORT = "annual_report"  # 直近の事業報告・決算書
    ATTACHMENT = "attachment"  # 提案書の添付資料

    @property
    def label(self) -> str:
        return FILE_PURPOSE_LABELS[self]


FILE_PURPOSE_LABELS = {
    FilePurpose.RULES: "規約・会則",
    FilePurpose.OFFICERS: "役員名簿",
    FilePurpose.ANNUAL_REPORT: "直近の事業報告・決算書",
    FilePurpose.ATTACHMENT: "添付資料",
}


class StoredFile(Base):
    """An uploaded file, already sanitised, kept under a generated name
    outside ``static/``."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[FilePurpose] = mapped_column(Enum(FilePurpose, native_enum=False, length=20))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[self.content_type]
