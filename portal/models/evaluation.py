"""The evaluation of an adopted project (事業評価): the call's evaluation
settings (items, scale, how the three evaluations combine, grade bands),
the group's and the department's self-evaluations, their 相互評価 record,
the committee's external evaluation, its publication, and which proposals
continue an earlier project (継続).

Scores per item are kept as JSON objects keyed by the item's position
("0", "1", ...): the items are fixed (locked) once the first evaluation of
the call is written, so a position always names the same item.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

# ProjectEvaluation.side
EVAL_GROUP, EVAL_DEPARTMENT, EVAL_COMMITTEE = "group", "department", "committee"
EVAL_SIDE_LABELS = {EVAL_GROUP: "団体の自己評価", EVAL_DEPARTMENT: "担当課の自己評価",
                    EVAL_COMMITTEE: "評価委員会の外部評価"}


class EvaluationSettings(Base):
    """How a call's projects are evaluated. Absent: the defaults
    (高岡市's eleven items, 1–5, 20/20/60, 優良80・良好60)."""

    __tablename__ = "evaluation_settings"
    __table_args__ = (
        CheckConstraint("weight_group + weight_department + weight_committee = 100", name="weights_total_100"),
        CheckConstraint("scale_max >= 2 AND scale_max <= 10", name="scale_range"),
    )

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    items: Mapped[list] = mapped_column(JSON)
    scale_max: Mapped[int] = mapped_column()
    level_descriptors: Mapped[list] = mapped_column(JSON)
    weight_group: Mapped[int] = mapped_column()
    weight_department: Mapped[int] = mapped_column()
    weight_committee: Mapped[int] = mapped_column()
    bands: Mapped[list] = mapped_column(JSON)  # [[label, "80"], [label, "60"], [label, "0"]], highest first
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProjectEvaluation(Base):
    """One side's evaluation of one project: a score and a comment per item,
    kept as a draft until submitted; a submitted evaluation no longer
    changes."""

    __tablename__ = "project_evaluations"
    __table_args__ = (UniqueConstraint("proposal_id", "side", name="uq_project_evaluations_side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(20))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    comments: Mapped[dict] = mapped_column(JSON, default=dict)
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MutualEvaluation(Base):
    """相互評価: where the group's and the department's scores differ, the
    record of their joint discussion, confirmed by both sides; an edit
    clears both confirmations."""

    __tablename__ = "mutual_evaluations"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    discussion: Mapped[str] = mapped_column(Text, default="")
    agreed_notes: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    group_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    city_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EvaluationPublication(Base):
    """A published evaluation: the combined score and grade as published,
    and the PDF (a ProjectDocument of kind ``evaluation``, logged by its
    hash)."""

    __tablename__ = "evaluation_publications"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("project_documents.id", ondelete="CASCADE"))
    combined_score: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProposalContinuation(Base):
    """継続: this proposal continues an earlier adopted project of the same
    group. Staff see the earlier project; reviewers never see which one
    (docs/anonymisation.md)."""

    __tablename__ = "proposal_continuations"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    earlier_proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
