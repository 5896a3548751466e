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
        CheckConstraint("min_valid_sheets IS NULL OR min_valid_sheets >= 1", name="min_valid_sheets_positive"),
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
    # 差し戻し: days a group has to correct and resubmit.
    correction_days: Mapped[int] = mapped_column(default=7)

    # -- review (審査) ------------------------------------------------------
    # First stage (書類審査) scoring window; scores outside it are refused by
    # the database.
    scoring_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scoring_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Second stage (公開プレゼンテーション), optional.
    has_presentation: Mapped[bool] = mapped_column(default=False)
    presentation_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    presentation_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    allow_revision_after_presentation: Mapped[bool] = mapped_column(default=False)
    # Which proposal fields reviewers see (keys of REVIEWABLE_FIELDS).
    reviewer_fields: Mapped[list] = mapped_column(JSON, default=list)
    show_department_opinion: Mapped[bool] = mapped_column(default=False)
    scoring_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The fewest valid (submitted, conflict-free) sheets a proposal needs for
    # its score to count; None: every assigned member not excluded for a
    # conflict. Under it a proposal is 採点不成立 (docs/aggregation.md).
    min_valid_sheets: Mapped[int | None] = mapped_column()
    # Who scores a proposal (docs/aggregation.md): "all", the whole panel, or
    # "k", ``reviewers_per_proposal`` members assigned automatically at
    # release (portal/domain/panel/assignment.py). Locked from the first release.
    assignment_mode: Mapped[str] = mapped_column(String(10), default="all", server_default="all")
    reviewers_per_proposal: Mapped[int | None] = mapped_column()

    # -- aggregation and publication (see docs/aggregation.md) ---------------
    aggregation_method: Mapped[str] = mapped_column(String(20), default="mean")
    trim_min_scorers: Mapped[int] = mapped_column(default=5)
    threshold_points = mapped_column(Numeric(8, 2), nullable=True)
    threshold_share = mapped_column(Numeric(5, 4), nullable=True)
    veto_criterion_position: Mapped[int | None] = mapped_column()
    veto_at_or_below: Mapped[int | None] = mapped_column()
    # Criterion positions, in order, that break ties.
    tie_break_positions: Mapped[list] = mapped_column(JSON, default=list)
    budget_policy: Mapped[str] = mapped_column(String(10), default="skip")
    score_decimals: Mapped[int] = mapped_column(default=2)
    # Which scores decide: "document" or "presentation" (when there is a second stage).
    deciding_stage: Mapped[str] = mapped_column(String(20), default="document")
    publish_roster: Mapped[bool] = mapped_column(default=False)
    general_comment: Mapped[str] = mapped_column(Text, default="")  # 総評
    results_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Receipt numbers are allocated by an atomic UPDATE of this counter.
    receipt_counter: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="call", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    # Changes made after publication, oldest first (the public call page lists them).
    recorded_changes: Mapped[list["CallChange"]] = relationship(order_by="CallChange.id", viewonly=True)

    def is_open(self, now: datetime) -> bool:
        return self.published_at is not None and self.opens_at <= now < self.closes_at

    def is_closed(self, now: datetime) -> bool:
        return now >= self.closes_at

    def screening_started(self, now: datetime) -> bool:
        return now >= self.screening_starts_at

    def scoring_window(self, stage: str) -> tuple[datetime | None, datetime | None]:
        if stage == "document":
            return self.scoring_opens_at, self.scoring_closes_at
        return self.presentation_opens_at, self.presentation_closes_at

    def is_scoring_open(self, stage: str, now: datetime) -> bool:
        opens, closes = self.scoring_window(stage)
        return opens is not None and closes is not None and opens <= now < closes

    def scoring_over(self, now: datetime) -> bool:
        """Scoring has ended: every stage's window has closed, or the
        secretariat closed the scoring early (採点の締切 ends every stage, so
        decisions, publication and the panel's view go ahead from then)."""
        if self.scoring_closed_at is not None and now >= self.scoring_closed_at:
            return True
        ends = [self.scoring_closes_at]
        if self.has_presentation:
            ends.append(self.presentation_closes_at)
        return all(end is not None and now >= end for end in ends)

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


class CallChange(Base):
    """A change to a published call's criteria or rules, with its reason;
    also appended to the public process log."""

    __tablename__ = "call_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    # [{"field": ..., "before": ..., "after": ...}]
    changes: Mapped[list] = mapped_column(JSON, default=list)
