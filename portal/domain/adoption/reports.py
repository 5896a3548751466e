"""中間報告 and 実績報告, and the money they settle.

A report (one of each kind per project) is written by the group: what was
done, and for each confirmed goal the actual value and a comment; the
実績報告 adds the 収支決算 (each row of the current budget with its actual
amount, and the other income) and its receipts. A draft keeps what was
typed, valid or not; submitting checks everything at once. Staff or the
project's department accept it or send it back with a reason; an accepted
report is rendered as a PDF and published as a project document.

The money: 交付決定額 (granted; defaults to the agreement's city amount
and may not exceed it), 概算払 (paid in advance, with the amount paid) or
精算払 (paid after). The settlement is ``settlement.settle`` on the 実績報告.
Due dates: the 中間報告 when staff set one; the 実績報告 30 days after the
agreement's period ends unless staff set another date.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...files.sanitize import RejectedFile, clean_filename, sanitize
from ...models import AgreementStatus, Proposal, User
from ...models.adoption_work import (
    DOC_FINAL_REPORT,
    DOC_INTERIM_REPORT,
    PAY_ADVANCE,
    PAY_AFTER,
    PAYMENT_MODE_LABELS,
    REPORT_ACCEPTED,
    REPORT_DRAFT,
    REPORT_FINAL,
    REPORT_INTERIM,
    REPORT_KIND_LABELS,
    REPORT_RETURNED,
    REPORT_SUBMITTED,
    ProjectFunding,
    ProjectReport,
    ReportLine,
    ReportProgress,
    ReportReceipt,
)
from ..normalize import parse_yen
from ..refusals import Invalid, WrongState
from . import agreement as agreements
from . import changes, goals
from .project_documents import publish_document
from .settlement import Row, Settlement, settle

FINAL_DUE_DAYS = 30
TEXT_MAX = 4000
COMMENT_MAX = 1000
ACTUAL_MAX = 40
MAX_RECEIPTS = 30
RECEIPT_MAX_BYTES = 10 * 1024 * 1024


class ReportInvalid(Invalid):
    def __init__(self, problems: dict[str, str], message: str = "報告の内容を確認してください。"):
        super().__init__(message)
        self.problems = problems

    def __str__(self) -> str:  # tracebacks (the demo, scripts) say which fields
        return f"{self.message} {self.problems}"


# -- money: 交付決定 and payment -------------------------------------------------------

@dataclass
class FundingInput:
    granted_amount: str = ""
    granted_on: date | None = None
    payment_mode: str = PAY_AFTER
    advance_paid: str = "0"
    interim_due: date | None = None
    final_due: date | None = None


def funding_of(session: Session, proposal: Proposal) -> ProjectFunding | None:
    return session.get(ProjectFunding, proposal.id)


def concluded_agreement(session: Session, proposal: Proposal):
    row = agreements.agreement_of(session, proposal)
    return row if row is not None and row.status == AgreementStatus.CONCLUDED else None


def decided_amount(session: Session, proposal: Proposal) -> int:
    row = agreements.agreement_of(session, proposal)
    return row.city_amount if row is not None else proposal.requested_amount


def granted_amount(session: Session, proposal: Proposal) -> int:
    funding = funding_of(session, proposal)
    return funding.granted_amount if funding is not None else decided_amount(session, proposal)


def funding_problems(session: Session, proposal: Proposal, data: FundingInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    ceiling = decided_amount(session, proposal)
    granted = parse_yen(data.granted_amount)
    if granted is None:
        problems["granted_amount"] = "交付決定額を0円以上の整数で入力してください（例：200000）。"
    elif granted > ceiling:
        problems["granted_amount"] = f"交付決定額は協定の市の負担額（{ceiling:,}円）以下にしてください。"
    if data.payment_mode not in PAYMENT_MODE_LABELS:
        problems["payment_mode"] = "支払の方法（概算払または精算払）を選んでください。"
    paid = parse_yen(data.advance_paid or "0")
    if paid is None:
        problems["advance_paid"] = "概算払の支払額を0円以上の整数で入力してください。"
    elif data.payment_mode == PAY_AFTER and paid:
        problems["advance_paid"] = "精算払では前払いはありません。支払額を0にするか、概算払を選んでください。"
    elif granted is not None and paid > granted:
        problems["advance_paid"] = "概算払の支払額は交付決定額以下にしてください。"
    return problems


def save_funding(session: Session, proposal: Proposal, data: FundingInput, *, user: User | None,
                 now: datetime) -> ProjectFunding:
    if concluded_agreement(session, proposal) is None:
        raise WrongState("交付決定は協定の締結後に登録できます。")
    problems = funding_problems(session, proposal, data)
    if problems:
        raise ReportInvalid(problems, "交付決定・支払の入力内容を確認してください。")
    funding = funding_of(session, proposal)
    if funding is None:
        funding = ProjectFunding(proposal_id=proposal.id)
        session.add(funding)
    funding.granted_amount = parse_yen(data.granted_amount)
    funding.granted_on = data.granted_on
    funding.payment_mode = data.payment_mode
    funding.advance_paid = parse_yen(data.advance_paid or "0") if data.payment_mode == PAY_ADVANCE else 0
    funding.interim_due = data.interim_due
    funding.final_due = data.final_due
    funding.updated_at = now
    funding.updated_by_id = user.id if user else None
    session.flush()
    return funding


def due_dates(session: Session, proposal: Proposal) -> dict[str, date | None]:
    """When each report is due: the 中間報告 as staff set it (or none); the
    実績報告 as set, else 30 days after the agreement's period end."""
    funding = funding_of(session, proposal)
    row = concluded_agreement(session, proposal)
    final = funding.final_due if funding is not None and funding.final_due else None
    if final is None and row is not None and row.period_end is not None:
        final = row.period_end + timedelta(days=FINAL_DUE_DAYS)
    return {REPORT_INTERIM: funding.interim_due if funding is not None else None, REPORT_FINAL: final}


# -- reports -------------------------------------------------------------------------

def report_of(session: Session, proposal: Proposal, kind: str) -> ProjectReport | None:
    return session.scalars(select(ProjectReport).where(ProjectReport.proposal_id == proposal.id,
                                                       ProjectReport.kind == kind)).first()


def reports_of(session: Session, proposal: Proposal) -> list[ProjectReport]:
    return list(session.scalars(select(ProjectReport).where(ProjectReport.proposal_id == proposal.id)
                                .order_by(ProjectReport.kind.desc(), ProjectReport.id)))  # interim, final


def confirmed_goals(session: Session, proposal: Proposal):
    return [g for g in goals.goals_of(session, proposal) if g.confirmed_at is not None]


def _sync_lines(session: Session, proposal: Proposal, report: ProjectReport) -> None:
    """The 収支決算 rows follow the current budget (a budget change approved
    meanwhile adds or renames rows); what was typed stays with its row."""
    if report.kind != REPORT_FINAL:
        return
    typed = {(line.kind, line.category): line for line in report.lines}
    wanted = ([("expense", c, a) for c, a in changes.current_budget(session, proposal)]
              + [("income", c, a) for c, a in changes.other_income_rows(proposal)])
    kept = []
    for position, (kind, category, budget) in enumerate(wanted):
        line = typed.pop((kind, category), None)
        if line is None:
            line = ReportLine(kind=kind, category=category[:50], actual_text="", actual_amount=None)
        line.position, line.budget_amount = position, budget
        kept.append(line)
    report.lines = kept
    session.flush()


def start(session: Session, proposal: Proposal, kind: str, *, user: User | None, now: datetime) -> ProjectReport:
    """The project's report of this kind, started as an empty draft if new."""
    if kind not in REPORT_KIND_LABELS:
        raise WrongState("報告の種類が正しくありません。")
    if concluded_agreement(session, proposal) is None:
        raise WrongState("報告は協定の締結後に作成できます。")
    report = report_of(session, proposal, kind)
    if report is None:
        report = ProjectReport(proposal_id=proposal.id, kind=kind, status=REPORT_DRAFT, activities="",
                               return_reason="", created_at=now, updated_at=now,
                               updated_by_id=user.id if user else None)
        session.add(report)
        session.flush()
    if report.status in (REPORT_DRAFT, REPORT_RETURNED):
        _sync_lines(session, proposal, report)
    return report


@dataclass
class ReportInput:
    activities: str = ""
    # goal id -> (actual as typed, comment)
    progress: dict[int, tuple[str, str]] = field(default_factory=dict)
    # ReportLine position -> actual amount as typed
    actuals: dict[int, str] = field(default_factory=dict)


def _editable(report: ProjectReport) -> None:
    if report.status not in (REPORT_DRAFT, REPORT_RETURNED):
        raise WrongState("提出済みの報告は変更できません（差し戻されると再び編集できます）。")


def save_draft(session: Session, proposal: Proposal, report: ProjectReport, data: ReportInput, *,
               user: User | None, now: datetime) -> None:
    """Keep what was typed, valid or not (cut to the column sizes only)."""
    _editable(report)
    report.activities = data.activities[:TEXT_MAX * 2]
    by_goal = {p.goal_id: p for p in report.progress}
    for goal in confirmed_goals(session, proposal):
        actual, comment = data.progress.get(goal.id, ("", ""))
        row = by_goal.get(goal.id)
        if row is None:
            row = ReportProgress(goal_id=goal.id)
            report.progress.append(row)
        row.actual_text = actual.strip()[:ACTUAL_MAX]
        row.actual_number = goals.read_number(row.actual_text) if row.actual_text else None
        row.comment = comment[:COMMENT_MAX * 2]
    for line in report.lines:
        typed = data.actuals.get(line.position, line.actual_text).strip()[:20]
        line.actual_text = typed
        line.actual_amount = parse_yen(typed) if typed else None
    report.updated_at = now
    report.updated_by_id = user.id if user else None
    session.flush()


def problems_of(session: Session, proposal: Proposal, report: ProjectReport) -> dict[str, str]:
    """Everything that stops submission, by the form's field id."""
    problems: dict[str, str] = {}
    if not report.activities.strip():
        problems["activities"] = "実施した活動の内容を入力してください。"
    elif len(report.activities) > TEXT_MAX:
        problems["activities"] = f"{TEXT_MAX}字以内で入力してください（現在{len(report.activities)}字）。"
    by_goal = {p.goal_id: p for p in report.progress}
    for goal in confirmed_goals(session, proposal):
        row = by_goal.get(goal.id)
        actual = row.actual_text if row else ""
        if not actual:
            problems[f"goal-{goal.id}-actual"] = f"「{goal.title}」の実績を入力してください。"
        elif goal.target_number is not None and row.actual_number is None:
            problems[f"goal-{goal.id}-actual"] = f"「{goal.title}」の実績は0以上の数で入力してください（単位：{goal.unit}）。"
        if row is not None and len(row.comment) > COMMENT_MAX:
            problems[f"goal-{goal.id}-comment"] = f"{COMMENT_MAX}字以内で入力してください（現在{len(row.comment)}字）。"
    for line in report.lines:
        if line.actual_amount is None:
            problems[f"line-{line.position}"] = (f"「{line.category}」の決算額を0円以上の整数で入力してください"
                                                 "（使わなかった費目は0）。")
    if report.kind == REPORT_FINAL and any((line.actual_amount or 0) > 0 for line in report.lines
                                           if line.kind == "expense") and not report.receipts:
        problems["receipts"] = "支出の領収書を添付してください（PDF・JPEG・PNG）。"
    return problems


def submit(session: Session, proposal: Proposal, report: ProjectReport, *, now: datetime) -> None:
    _editable(report)
    problems = problems_of(session, proposal, report)
    if problems:
        raise ReportInvalid(problems, "提出できません。次の項目を確認してください。")
    report.status = REPORT_SUBMITTED
    report.submitted_at = now
    session.flush()


def send_back(session: Session, report: ProjectReport, reason: str, *, user: User | None, now: datetime) -> None:
    if report.status != REPORT_SUBMITTED:
        raise WrongState("提出された報告だけを差し戻せます。")
    if not reason.strip() or len(reason) > TEXT_MAX:
        raise ReportInvalid({"return_reason": "差し戻しの理由を入力してください（4000字以内）。"})
    report.status = REPORT_RETURNED
    report.return_reason = reason.strip()
    report.decided_at = now
    report.decided_by_id = user.id if user else None
    session.flush()


def accept(session: Session, proposal: Proposal, report: ProjectReport, *, user: User | None, now: datetime,
           render: Callable[[ProjectReport], bytes], store: ObjectStore) -> None:
    if report.status != REPORT_SUBMITTED:
        raise WrongState("提出された報告だけを受理できます。")
    report.status = REPORT_ACCEPTED
    report.decided_at = now
    report.decided_by_id = user.id if user else None
    session.flush()
    kind = DOC_FINAL_REPORT if report.kind == REPORT_FINAL else DOC_INTERIM_REPORT
    document = publish_document(session, proposal, kind=kind, label=report.kind_label, pdf=render(report),
                                store=store, now=now, user=user)
    report.document_id = document.id
    session.flush()


# -- receipts ------------------------------------------------------------------------

def add_receipt(session: Session, store: ObjectStore, report: ProjectReport, data: bytes, filename: str, *,
                user: User | None, now: datetime) -> ReportReceipt:
    """Sanitise and store a receipt (RejectedFile says why not)."""
    _editable(report)
    if report.kind != REPORT_FINAL:
        raise WrongState("領収書は実績報告に添付します。")
    if len(report.receipts) >= MAX_RECEIPTS:
        raise RejectedFile(f"領収書は{MAX_RECEIPTS}件までです。複数の領収書は1つのPDFにまとめてください。")
    if len(data) > RECEIPT_MAX_BYTES:
        raise RejectedFile("ファイルが大きすぎます（10MBまで）。")
    clean = sanitize(data, filename)
    receipt = ReportReceipt(storage_name=storage.write_generated(session, store, clean.data),
                            original_name=clean_filename(filename or "receipt", clean.content_type),
                            content_type=clean.content_type, size=len(clean.data),
                            sha256=hashlib.sha256(clean.data).hexdigest(), uploaded_at=now,
                            uploaded_by_id=user.id if user else None)
    report.receipts.append(receipt)
    session.flush()
    return receipt


def remove_receipt(session: Session, store: ObjectStore, report: ProjectReport, receipt: ReportReceipt) -> None:
    _editable(report)
    storage._delete_after_commit(session, store, [receipt.storage_name])
    report.receipts.remove(receipt)
    session.flush()


# -- the settlement ------------------------------------------------------------------

def settlement_for(session: Session, proposal: Proposal, report: ProjectReport | None = None) -> Settlement | None:
    """The settlement on the 実績報告's figures as they stand (None before
    the agreement, or while no 実績報告 exists)."""
    row = concluded_agreement(session, proposal)
    report = report or report_of(session, proposal, REPORT_FINAL)
    if row is None or report is None:
        return None
    funding = funding_of(session, proposal)
    return settle(
        rows=[Row(line.category, line.budget_amount, line.actual_amount or 0) for line in report.lines
              if line.kind == "expense"],
        other_income=sum(line.actual_amount or 0 for line in report.lines if line.kind == "income"),
        city_amount=row.city_amount, planned_expense=changes.planned_expense(proposal),
        granted=granted_amount(session, proposal),
        paid_in_advance=funding.advance_paid if funding is not None and funding.payment_mode == PAY_ADVANCE else 0,
    )
