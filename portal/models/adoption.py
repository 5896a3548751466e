"""After adoption: the city's departments (担当課) and their accounts, which
department a proposal belongs to, and the agreement (協定書) with its
confirmations by both sides."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Department(Base):
    """A city department (担当課) as an organisation; its accounts see only
    the proposals assigned to it."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DepartmentMember(Base):
    """A department account's department: one per account."""

    __tablename__ = "department_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped["User"] = relationship()  # noqa: F821
    department: Mapped[Department] = relationship()


class DepartmentInvitation(Base):
    """A one-time link for a department's account to set its password; only
    the token's hash is stored (as for staff invitations)."""

    __tablename__ = "department_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    department: Mapped[Department] = relationship()


class ProposalDepartment(Base):
    """The department a proposal is assigned to (its 担当課): it writes the
    所見 at intake and later co-runs and evaluates the project."""

    __tablename__ = "proposal_departments"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    department: Mapped[Department] = relationship()


class AgreementStatus(enum.StrEnum):
    DRAFT = "draft"
    CONCLUDED = "concluded"

    @property
    def label(self) -> str:
        return {"draft": "協定書案", "concluded": "協定締結"}[self.value]


class AgreementSide(enum.StrEnum):
    CITY = "city"    # 甲
    GROUP = "group"  # 乙

    @property
    def label(self) -> str:
        return {"city": "市（甲）", "group": "団体（乙）"}[self.value]


class Agreement(Base):
    """協定書 of an adopted proposal. A draft is edited by staff; every edit
    raises ``revision``, and only confirmations of the current revision count,
    so an edit after a confirmation asks both sides again."""

    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("city_amount >= 0", name="city_amount_not_negative"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("status <> 'CONCLUDED' OR pdf_sha256 IS NOT NULL", name="concluded_has_pdf"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    status: Mapped[AgreementStatus] = mapped_column(
        Enum(AgreementStatus, native_enum=False, length=20), default=AgreementStatus.DRAFT
    )
    revision: Mapped[int] = mapped_column(default=1)

    title: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date | None] = mapped_column(Date())
    period_end: Mapped[date | None] = mapped_column(Date())
    city_roles: Mapped[str] = mapped_column(Text, default="")
    group_roles: Mapped[str] = mapped_column(Text, default="")
    city_amount: Mapped[int] = mapped_column(default=0)
    cost_sharing: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    information_sharing: Mapped[str] = mapped_column(Text, default="")
    publicity: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[str] = mapped_column(Text, default="")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pdf_name: Mapped[str | None] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    proposal: Mapped["Proposal"] = relationship()  # noqa: F821
    confirmations: Mapped[list["AgreementConfirmation"]] = relationship(
        order_by="AgreementConfirmation.id", cascade="all, delete-orphan", passive_deletes=True
    )


class AgreementConfirmation(Base):
    """One side's 合意 to one revision of an agreement: who and when. Kept
    when the draft changes (the record of what was agreed to), but only the
    current revision's count."""

    __tablename__ = "agreement_confirmations"
    __table_args__ = (UniqueConstraint("agreement_id", "revision", "side", name="uq_agreement_confirmations_side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column()
    side: Mapped[AgreementSide] = mapped_column(Enum(AgreementSide, native_enum=False, length=10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped["User | None"] = relationship()  # noqa: F821


class GoalKind(enum.StrEnum):
    OUTCOME = "outcome"    # 成果目標
    ACTIVITY = "activity"  # 活動指標

    @property
    def label(self) -> str:
        return {"outcome": "成果目標", "activity": "活動指標"}[self.value]


class ProjectGoal(Base):
    """One 成果目標 or 活動指標 of an adopted project with its target value
    (a number and its unit, or words). The group proposes; the city
    confirms the whole sheet (``confirmed_at``), after which it is fixed."""

    __tablename__ = "project_goals"
    __table_args__ = (
        CheckConstraint("target_number IS NULL OR target_number >= 0", name="target_not_negative"),
        CheckConstraint("target_number IS NOT NULL OR length(target_text) > 0", name="has_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[GoalKind] = mapped_column(Enum(GoalKind, native_enum=False, length=10))
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    target_number: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    unit: Mapped[str] = mapped_column(String(20), default="")
    target_text: Mapped[str] = mapped_column(String(200), default="")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
