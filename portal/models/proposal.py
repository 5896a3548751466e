from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class ProposalStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    INTAKE = "intake"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    REJECTED = "rejected"
    REVIEW = "review"
    RESULTS = "results"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ProposalStatus.DRAFT: "下書き",
    ProposalStatus.SUBMITTED: "提出済",
    ProposalStatus.INTAKE: "受付確認中",
    ProposalStatus.ACCEPTED: "受理（審査準備中）",
    ProposalStatus.RETURNED: "差し戻し",
    ProposalStatus.REJECTED: "不受理",
    ProposalStatus.REVIEW: "審査中",
    ProposalStatus.RESULTS: "結果公表",
    ProposalStatus.WITHDRAWN: "取下げ",
}


class CollaborationForm(enum.StrEnum):
    ITAKU = "itaku"
    KYOSAI = "kyosai"
    HOJO = "hojo"
    KYORYOKU = "kyoryoku"
    JIKKO_IINKAI = "jikko_iinkai"
    KOEN = "koen"
    JOHO_KOKAN = "joho_kokan"
    KIKAKU = "kikaku"

    @property
    def label(self) -> str:
        return COLLABORATION_FORM_LABELS[self]


COLLABORATION_FORM_LABELS = {
    CollaborationForm.ITAKU: "委託",
    CollaborationForm.KYOSAI: "共催",
    CollaborationForm.HOJO: "補助・助成",
    CollaborationForm.KYORYOKU: "事業協力・協定",
    CollaborationForm.JIKKO_IINKAI: "実行委員会・協議会",
    CollaborationForm.KOEN: "後援",
    CollaborationForm.JOHO_KOKAN: "情報交換",
    CollaborationForm.KIKAKU: "企画立案への参画",
}


class Proposal(Base):
    """提案書. Editable while a draft (or returned for correction) and the
    call is open; a submission freezes a snapshot in :class:`Submission`."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("requested_amount >= 0", name="requested_not_negative"),
        UniqueConstraint("call_id", "anonymous_code", name="uq_proposals_call_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    status: Mapped[ProposalStatus] = mapped_column(
        Enum(ProposalStatus, native_enum=False, length=20), default=ProposalStatus.DRAFT, index=True
    )
    version: Mapped[int] = mapped_column(default=1)

    title: Mapped[str] = mapped_column(String(200), default="")
    background: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    place_and_target: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date | None] = mapped_column(Date())
    period_end: Mapped[date | None] = mapped_column(Date())
    expected_effects: Mapped[str] = mapped_column(Text, default="")
    necessity: Mapped[str] = mapped_column(Text, default="")
    capability: Mapped[str] = mapped_column(Text, default="")
    desired_forms: Mapped[list] = mapped_column(JSON, default=list)
    related_department: Mapped[str] = mapped_column(String(100), default="")
    requested_amount: Mapped[int] = mapped_column(default=0)

    receipt_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    # 提案07: given at intake acceptance, in an order unrelated to receipt.
    anonymous_code: Mapped[str | None] = mapped_column(String(20))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The group agrees that its name may be published even if not adopted.
    name_publication_consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correction_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    call: Mapped["Call"] = relationship()  # noqa: F821
    group: Mapped["Group"] = relationship()  # noqa: F821
    budget_lines: Mapped[list["BudgetLine"]] = relationship(
        order_by="BudgetLine.position", cascade="all, delete-orphan"
    )
    role_shares: Mapped[list["RoleShare"]] = relationship(
        order_by="RoleShare.position", cascade="all, delete-orphan"
    )
    declarations: Mapped[list["Declaration"]] = relationship(order_by="Declaration.id", cascade="all, delete-orphan")
    attachments: Mapped[list["StoredFile"]] = relationship(  # noqa: F821
        order_by="[StoredFile.uploaded_at, StoredFile.id]", viewonly=True
    )
    submissions: Mapped[list["Submission"]] = relationship(order_by="Submission.revision")
    events: Mapped[list["StatusEvent"]] = relationship(
        order_by="StatusEvent.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_title(self) -> str:
        return self.title or "（事業名未入力）"


class BudgetKind(enum.StrEnum):
    INCOME = "income"
    EXPENSE = "expense"


class BudgetLine(Base):
    """収支予算書の一行 (whole yen)."""

    __tablename__ = "budget_lines"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[BudgetKind] = mapped_column(Enum(BudgetKind, native_enum=False, length=10))
    category: Mapped[str] = mapped_column(String(50))
    amount: Mapped[int] = mapped_column()
    note: Mapped[str] = mapped_column(String(200), default="")
    # What was typed in the amount box when it is not a clean number of yen
    # ("" for nothing, "-30000", "1e5"): a draft keeps it, the row counts as
    # 0 and submission asks for a correction. None when ``amount`` was read.
    amount_text: Mapped[str | None] = mapped_column(String(20), default=None)


class RoleShare(Base):
    """役割分担の一行: what the group does and what the city does."""

    __tablename__ = "role_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    item: Mapped[str] = mapped_column(String(100), default="")
    group_role: Mapped[str] = mapped_column(Text, default="")
    city_role: Mapped[str] = mapped_column(Text, default="")


class Declaration(Base):
    """誓約: one accepted declaration and when it was accepted."""

    __tablename__ = "declarations"
    __table_args__ = (UniqueConstraint("proposal_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Submission(Base):
    """An immutable snapshot of what was submitted (one per (re)submission)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("proposal_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    revision: Mapped[int] = mapped_column()
    receipt_number: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    snapshot: Mapped[dict] = mapped_column(JSON)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    # The receipt PDF is rendered once from the snapshot and kept.
    receipt_pdf_name: Mapped[str | None] = mapped_column(String(64))


class StatusEvent(Base):
    """A proposal's history, shown to its group."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[ProposalStatus | None] = mapped_column(Enum(ProposalStatus, native_enum=False, length=20))
    to_status: Mapped[ProposalStatus] = mapped_column(Enum(ProposalStatus, native_enum=False, length=20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
