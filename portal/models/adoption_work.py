"""During the work and the money of an adopted project: the documents the
project publishes (each one logged by its hash), changes of plan (変更申請),
the interim and final reports (中間報告・実績報告) with their 収支決算 rows
and receipts, the grant and payment (交付決定・概算払/精算払), and which
deadline reminders were already sent.

Kinds and states are short plain strings (constants below) rather than
database enums: the public log names document kinds by the same strings.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

# ProjectDocument.kind (also ``document_kind`` in the process log)
DOC_CHANGE_DECISION = "change_decision"
DOC_INTERIM_REPORT = "interim_report"
DOC_FINAL_REPORT = "final_report"
DOC_SETTLEMENT = "settlement"
DOC_EVALUATION = "evaluation"
DOCUMENT_KIND_LABELS = {
    DOC_CHANGE_DECISION: "変更申請の決定",
    DOC_INTERIM_REPORT: "中間報告",
    DOC_FINAL_REPORT: "実績報告",
    DOC_SETTLEMENT: "精算",
    DOC_EVALUATION: "事業評価",
}

# ChangeRequest.kind / .status
CHANGE_PLAN, CHANGE_SCHEDULE, CHANGE_BUDGET = "plan", "schedule", "budget"
CHANGE_KIND_LABELS = {CHANGE_PLAN: "計画", CHANGE_SCHEDULE: "日程", CHANGE_BUDGET: "予算"}
CHANGE_PENDING, CHANGE_APPROVED, CHANGE_REFUSED = "pending", "approved", "refused"
CHANGE_STATUS_LABELS = {CHANGE_PENDING: "審査中", CHANGE_APPROVED: "承認", CHANGE_REFUSED: "不承認"}

# ProjectReport.kind / .status
REPORT_INTERIM, REPORT_FINAL = "interim", "final"
REPORT_KIND_LABELS = {REPORT_INTERIM: "中間報告", REPORT_FINAL: "実績報告"}
REPORT_DRAFT, REPORT_SUBMITTED, REPORT_RETURNED, REPORT_ACCEPTED = "draft", "submitted", "returned", "accepted"
REPORT_STATUS_LABELS = {REPORT_DRAFT: "作成中", REPORT_SUBMITTED: "提出済み（確認待ち）",
                        REPORT_RETURNED: "差し戻し", REPORT_ACCEPTED: "受理"}

# ProjectFunding.payment_mode
PAY_ADVANCE, PAY_AFTER = "advance", "after"
PAYMENT_MODE_LABELS = {PAY_ADVANCE: "概算払（前払い）", PAY_AFTER: "精算払（事業終了後）"}


class ProjectDocument(Base):
    """A PDF a project published (a change decision, an accepted report, the
    settlement, the evaluation): stored under a generated name, its SHA-256
    logged (``project_document_published``) and served publicly by hash."""

    __tablename__ = "project_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def kind_label(self) -> str:
        return DOCUMENT_KIND_LABELS.get(self.kind, self.kind)


class ProjectFunding(Base):
    """交付決定 and payment of one project: the granted amount (at most the
    agreement's city amount), 概算払 with what was paid in advance, or 精算払;
    the report due dates staff set (None: the defaults)."""

    __tablename__ = "project_fundings"
    __table_args__ = (
        CheckConstraint("granted_amount >= 0", name="granted_not_negative"),
        CheckConstraint("advance_paid >= 0", name="advance_not_negative"),
    )

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    granted_amount: Mapped[int] = mapped_column(default=0)
    granted_on: Mapped[date | None] = mapped_column(Date())
    payment_mode: Mapped[str] = mapped_column(String(20), default=PAY_AFTER)
    advance_paid: Mapped[int] = mapped_column(default=0)
    interim_due: Mapped[date | None] = mapped_column(Date())
    final_due: Mapped[date | None] = mapped_column(Date())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ChangeRequest(Base):
    """変更申請: what the group asks to change (plan, schedule or budget) and
    why; for a budget change the new expense rows (``budget_rows``: a list
    of {"category", "amount"}). Staff approve or refuse with a reason; the
    department may comment."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    budget_rows: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=CHANGE_PENDING)
    department_comment: Mapped[str] = mapped_column(Text, default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("project_documents.id", ondelete="SET NULL"))

    @property
    def kind_label(self) -> str:
        return CHANGE_KIND_LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return CHANGE_STATUS_LABELS.get(self.status, self.status)


class ProjectReport(Base):
    """中間報告 or 実績報告 (one of each per project): what was done, progress
    against each confirmed goal, and for the 実績報告 the 収支決算 rows and
    receipts. A draft keeps what was typed; submitted, it is accepted or
    sent back with a reason."""

    __tablename__ = "project_reports"
    __table_args__ = (UniqueConstraint("proposal_id", "kind", name="uq_project_reports_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=REPORT_DRAFT)
    activities: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("project_documents.id", ondelete="SET NULL"))

    progress: Mapped[list["ReportProgress"]] = relationship(
        order_by="ReportProgress.id", cascade="all, delete-orphan", passive_deletes=True)
    lines: Mapped[list["ReportLine"]] = relationship(
        order_by="ReportLine.position", cascade="all, delete-orphan", passive_deletes=True)
    receipts: Mapped[list["ReportReceipt"]] = relationship(
        order_by="ReportReceipt.id", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def kind_label(self) -> str:
        return REPORT_KIND_LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return REPORT_STATUS_LABELS.get(self.status, self.status)


class ReportProgress(Base):
    """A report's line for one goal: the actual value as typed (kept even
    when it is not a number yet) and a comment."""

    __tablename__ = "report_progress"
    __table_args__ = (UniqueConstraint("report_id", "goal_id", name="uq_report_progress_goal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("project_reports.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("project_goals.id", ondelete="CASCADE"))
    actual_text: Mapped[str] = mapped_column(String(40), default="")
    actual_number: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    comment: Mapped[str] = mapped_column(Text, default="")


class ReportLine(Base):
    """収支決算の一行: a budget row (income other than the city's, or an
    expense) with its budgeted and actual amounts; ``actual_text`` is what
    was typed, ``actual_amount`` the yen read from it (None until valid)."""

    __tablename__ = "report_lines"
    __table_args__ = (CheckConstraint("budget_amount >= 0", name="budget_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("project_reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(10))  # "income" or "expense"
    category: Mapped[str] = mapped_column(String(50))
    budget_amount: Mapped[int] = mapped_column(default=0)
    actual_text: Mapped[str] = mapped_column(String(20), default="")
    actual_amount: Mapped[int | None] = mapped_column()


class ReportReceipt(Base):
    """A receipt (領収書) uploaded with a 実績報告, sanitised like every upload."""

    __tablename__ = "report_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("project_reports.id", ondelete="CASCADE"), index=True)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProjectReminder(Base):
    """A deadline reminder that was sent (``key`` such as ``final:before``),
    so a periodic run sends each one once."""

    __tablename__ = "project_reminders"
    __table_args__ = (UniqueConstraint("proposal_id", "key", name="uq_project_reminders_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
