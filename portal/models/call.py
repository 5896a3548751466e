from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Call(Base):
    """募集: one yearly call for proposals. Times are UTC; shown in Asia/Tokyo."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("opens_at < closes_at", name="open_before_close"),
        CheckConstraint("closes_at <= screening_starts_at", name="close_before_screening"),
        CheckConstraint("budget_cap_per_proposal >= 0", name="cap_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    fiscal_year: Mapped[int] = mapped_column()
    summary: Mapped[str] = mapped_column(Text, default="")
    guidelines: Mapped[str] = mapped_column(Text, default="")  # 募集要項
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    screening_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    results_at: Mapped[datetime] = mapped_column(UTCDateTime())
    budget_cap_per_proposal: Mapped[int] = mapped_column()
    budget_total: Mapped[int] = mapped_column(default=0)
    min_members: Mapped[int] = mapped_column(default=5)
    min_years_active: Mapped[int] = mapped_column(default=1)
    requires_base_in_city: Mapped[bool] = mapped_column(default=True)
    # Character limits per long proposal field, e.g. {"background": 800}.
    field_limits: Mapped[dict] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Receipt numbers are allocated by an atomic UPDATE of this counter.
    receipt_counter: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="call", order_by="Criterion.position", cascade="all, delete-orphan"
    )

    def is_open(self, now: datetime) -> bool:
        return self.published_at is not None and self.opens_at <= now < self.closes_at

    def is_closed(self, now: datetime) -> bool:
        return now >= self.closes_at

    def screening_started(self, now: datetime) -> bool:
        return now >= self.screening_starts_at

    @property
    def max_total_points(self):
        return sum((c.weight * c.scale_max for c in self.criteria), start=0)


class Criterion(Base):
    """審査基準: one published criterion with its weight and scale."""

    __tablename__ = "criteria"
    __table_args__ = (
        UniqueConstraint("call_id", "position"),
        CheckConstraint("scale_min < scale_max", name="scale_order"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    weight = mapped_column(Numeric(6, 2), default=1)
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=5)
    # {"5": "優れている", ..., "1": "劣る"}
    level_descriptors: Mapped[dict] = mapped_column(JSON, default=dict)

    call: Mapped[Call] = relationship(back_populates="criteria")

    def levels(self) -> list[tuple[int, str]]:
        return [
            (score, self.level_descriptors.get(str(score), ""))
            for score in range(self.scale_max, self.scale_min - 1, -1)
        ]
