"""The secretariat's and the panel's records: intake decisions, 担当課所見,
anonymisation, the panel, conflicts, assignments and scores.

Reviewers only ever read :class:`ReviewCopy` (the released, redacted text)
and :class:`ReviewAttachment` copies, never a proposal or its group.
The scoring tables are guarded by database triggers (see migration 0002):
one score per reviewer, proposal, criterion and stage; scores only inside
the stage's window; nothing changes after a sheet is submitted except
through a recorded :class:`ScoreReopen`.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


def _enum(enum_class, length: int = 20):
    return Enum(enum_class, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class IntakeOutcome(enum.StrEnum):
    ACCEPT = "accept"  # 受理
    RETURN = "return"  # 差し戻し
    REJECT = "reject"  # 不受理

    @property
    def label(self) -> str:
        return {"accept": "受理", "return": "差し戻し", "reject": "不受理"}[self.value]


class IntakeDecision(Base):
    """受付・形式審査の結果, with the eligibility checklist as it stood."""

    __tablename__ = "intake_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    outcome: Mapped[IntakeOutcome] = mapped_column(_enum(IntakeOutcome))
    reasons: Mapped[str] = mapped_column(Text, default="")
    # [{"key": ..., "label": ..., "ok": bool, "detail": ...}]
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    correction_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DepartmentOpinion(Base):
    """担当課所見: the city department concerned and its view on feasibility."""

    __tablename__ = "department_opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    department: Mapped[str] = mapped_column(String(100))
    feasibility: Mapped[str] = mapped_column(String(20))  # see FEASIBILITY_LABELS
    opinion: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


FEASIBILITY_LABELS = {
    "feasible": "実施可能",
    "conditional": "条件付きで実施可能",
    "difficult": "実施は難しい",
}


class FindingStatus(enum.StrEnum):
    PENDING = "pending"
    REDACT = "redact"
    DISMISS = "dismiss"


class RedactionFinding(Base):
    """Identifying text found in a reviewer-visible field or attachment."""

    __tablename__ = "redaction_findings"
    __table_args__ = (UniqueConstraint("proposal_id", "location", "start", "end", name="uq_findings_span"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    # "field:<key>" or "file:<review attachment id>"
    location: Mapped[str] = mapped_column(String(60))
    start: Mapped[int] = mapped_column()
    end: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    replacement: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[str] = mapped_column(String(10))
    # Why the scan flagged it, shown to staff (most needed on a low-confidence flag).
    reason: Mapped[str] = mapped_column(String(200), default="")
    # SHA-256 of the text scanned; a finding is stale when the text changes.
    source_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[FindingStatus] = mapped_column(_enum(FindingStatus), default=FindingStatus.PENDING)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Added by hand by staff (a span the scanner missed).
    manual: Mapped[bool] = mapped_column(default=False)


class ExtraTerm(Base):
    """A term staff want found and redacted (per proposal, or per call when
    proposal_id is empty)."""

    __tablename__ = "extra_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReviewAttachment(Base):
    """An attachment as reviewers may get it: a sanitised copy under a
    generated name, or excluded by staff."""

    __tablename__ = "review_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    excluded: Mapped[bool] = mapped_column(default=False)
    # Text extracted from the source (PDF text layer); empty for images.
    extracted_text: Mapped[str] = mapped_column(Text, default="")
    # Images cannot be scanned; staff confirm they looked at them.
    checked_by_eye: Mapped[bool] = mapped_column(default=False)
    # The copy reviewers download, written at release.
    storage_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(50), default="application/pdf")
    # Issue 14: the pages that carry images or QR codes, found at the scan
    # (an image attachment is its page 0): {"page_count": n, "pages": [{"page":
    # 0, "images": 2, "qr": [[x, y, w, h], ...]}]} (boxes in percent), or
    # {"error": "..."} when the file could not be analysed; None before.
    visual_pages: Mapped[dict | None] = mapped_column(JSON)
    # The official's decision on each of those pages: {"0": {"decision":
    # "confirm"|"mask"|"exclude", "masks": [[x, y, w, h], ...],
    # "decided_by_id": 1, "decided_at": "2026-..."}}. Nothing is released
    # while a page is undecided (redaction.release_problems).
    page_decisions: Mapped[dict] = mapped_column(JSON, default=dict)


class ReviewCopy(Base):
    """What reviewers read, frozen at release: anonymous code, redacted
    fields, budget and role table, and the department's view if shown.

    ``content`` is plain JSON of this shape (every text already redacted)::

        {"code": "提案07",
         "title": "...",
         "fields": [{"key": "background", "label": "事業の背景", "text": "..."}, ...],
         "period": {"start": "2026-07-01", "end": "2027-02-28"} | null,
         "desired_forms": ["共催", ...],
         "role_shares": [{"item": ..., "group_role": ..., "city_role": ...}],
         "budget": {"lines": [{"kind": "income"|"expense", "category": ..., "amount": 0, "note": ...}],
                    "income_total": 0, "expense_total": 0, "requested_amount": 0} | null,
         "department": {"department": ..., "feasibility": "実施可能", "opinion": ...} | null,
         "attachments": [{"id": <ReviewAttachment.id>, "label": "添付資料1", "content_type": ...}]}

    Only the call's ``reviewer_fields`` appear; nothing else about the group.
    """

    __tablename__ = "review_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    content: Mapped[dict] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PanelMember(Base):
    """審査委員: a reviewer on one call's panel, with a pseudonym (委員A)."""

    __tablename__ = "panel_members"
    __table_args__ = (
        UniqueConstraint("call_id", "user_id", name="uq_panel_call_user"),
        UniqueConstraint("call_id", "pseudonym", name="uq_panel_call_pseudonym"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(20))
    # Organisations the reviewer belongs to or advises, as they wrote them.
    affiliations: Mapped[list] = mapped_column(JSON, default=list)
    # Published on the roster when the call says so (e.g. 大学教授).
    public_title: Mapped[str] = mapped_column(String(100), default="")
    is_chair: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # 辞退: the member left mid-period (portal/domain/panel/assignment.py).
    # The row stays so the pseudonym and submitted sheets stay; the reason
    # is the secretariat's note, never public.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    user: Mapped["User"] = relationship()  # noqa: F821


class ConflictSource(enum.StrEnum):
    DETECTED = "detected"  # found by the cross-check
    DECLARED = "declared"  # declared by the reviewer
    STAFF = "staff"  # added by the secretariat


class ConflictStatus(enum.StrEnum):
    FLAGGED = "flagged"  # awaiting staff
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


# A flagged conflict (awaiting staff) keeps the proposal from the reviewer
# just as a confirmed one does.
BLOCKING_CONFLICT_STATUSES = (ConflictStatus.FLAGGED, ConflictStatus.CONFIRMED)


class Conflict(Base):
    """A possible conflict of interest between a panel member and a proposal.
    Flagged and confirmed conflicts both keep the proposal from the reviewer."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("panel_member_id", "proposal_id", name="uq_conflict_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("panel_members.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    source: Mapped[ConflictSource] = mapped_column(_enum(ConflictSource))
    status: Mapped[ConflictStatus] = mapped_column(_enum(ConflictStatus), default=ConflictStatus.FLAGGED)
    confidence: Mapped[str] = mapped_column(String(10), default="high")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    panel_member: Mapped[PanelMember] = relationship()


class AssignmentStatus(enum.StrEnum):
    ASSIGNED = "assigned"  # not yet opened
    CLEARED = "cleared"  # reviewer confirmed 利害関係なし
    RECUSED = "recused"  # withdrawn from the reviewer (conflict)


class Assignment(Base):
    """A released proposal given to a panel member."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("proposal_id", "panel_member_id", name="uq_assignment_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("panel_members.id", ondelete="CASCADE"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(_enum(AssignmentStatus), default=AssignmentStatus.ASSIGNED)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    panel_member: Mapped[PanelMember] = relationship()
    proposal: Mapped["Proposal"] = relationship()  # noqa: F821
    sheets: Mapped[list["ReviewSheet"]] = relationship(back_populates="assignment", order_by="ReviewSheet.id")


class Stage(enum.StrEnum):
    DOCUMENT = "document"  # 一次審査（書類）
    PRESENTATION = "presentation"  # 二次審査（公開プレゼンテーション）
    DOCUMENT_REVISED = "document_revised"  # 一次審査の点数をプレゼン後に見直したもの

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.DOCUMENT: "一次審査（書類）",
    Stage.PRESENTATION: "二次審査（公開プレゼンテーション）",
    Stage.DOCUMENT_REVISED: "一次審査（プレゼン後の見直し）",
}


class SheetStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ReviewSheet(Base):
    """One reviewer's scores for one proposal in one stage."""

    __tablename__ = "review_sheets"
    __table_args__ = (UniqueConstraint("assignment_id", "stage", name="uq_sheet_assignment_stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="RESTRICT"), index=True)
    stage: Mapped[Stage] = mapped_column(_enum(Stage))
    status: Mapped[SheetStatus] = mapped_column(_enum(SheetStatus), default=SheetStatus.DRAFT)
    comment_for_group: Mapped[str] = mapped_column(Text, default="")  # 講評の候補
    panel_note: Mapped[str] = mapped_column(Text, default="")  # 委員会内のメモ
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Sealing: a salted commitment goes into the public log; the salt stays
    # private until publication.
    salt: Mapped[str | None] = mapped_column(String(64))
    commitment: Mapped[str | None] = mapped_column(String(64))
    sealed_seq: Mapped[int | None] = mapped_column()

    assignment: Mapped[Assignment] = relationship(back_populates="sheets")
    scores: Mapped[list["ReviewScore"]] = relationship(
        back_populates="sheet", order_by="ReviewScore.criterion_id", cascade="save-update, merge"
    )


class ReviewScore(Base):
    __tablename__ = "review_scores"
    __table_args__ = (UniqueConstraint("sheet_id", "criterion_id", name="uq_score_sheet_criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("review_sheets.id", ondelete="RESTRICT"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="RESTRICT"))
    score: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    # Written by the app from its clock; the database refuses a time outside
    # the stage's scoring window.
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sheet: Mapped[ReviewSheet] = relationship(back_populates="scores")


class ScoreReopen(Base):
    """A submitted sheet reopened by staff, with the reason (also logged)."""

    __tablename__ = "score_reopens"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("review_sheets.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    previous_commitment: Mapped[str | None] = mapped_column(String(64))
    reopened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DecisionOutcome(enum.StrEnum):
    ADOPTED = "adopted"  # 採択
    CONDITIONAL = "conditional"  # 条件付き採択
    NOT_ADOPTED = "not_adopted"  # 不採択

    @property
    def label(self) -> str:
        return {"adopted": "採択", "conditional": "条件付き採択", "not_adopted": "不採択"}[self.value]


class Decision(Base):
    """The city's decision on one proposal, with its reason. Where it departs
    from the computed recommendation the reason is mandatory and published."""

    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint("length(reason) > 0 OR NOT departs", name="departure_needs_reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(_enum(DecisionOutcome))
    reason: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    review_comment: Mapped[str] = mapped_column(Text, default="")  # 講評
    departs: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
