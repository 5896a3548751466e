"""変更申請: a change of plan, schedule or budget of a running project.

The group (or staff on its behalf) files it with what changes and why; for
a budget change, the new expense rows. The department may comment; staff
approve or refuse with a reason. Each decision is rendered as a short PDF
and published as a project document (``change_decision``). An approved
budget change becomes the current budget: the 実績報告 and the settlement
compare the actual costs with it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...files.objectstore import ObjectStore
from ...models import AgreementStatus, BudgetKind, Proposal, User
from ...models.adoption_work import (
    CHANGE_APPROVED,
    CHANGE_BUDGET,
    CHANGE_KIND_LABELS,
    CHANGE_PENDING,
    CHANGE_REFUSED,
    DOC_CHANGE_DECISION,
    ChangeRequest,
)
from ..normalize import parse_yen
from ..proposals.proposal_fields import REQUEST_CATEGORY
from ..refusals import Invalid, WrongState
from . import agreement as agreements
from .project_documents import publish_document

TEXT_MAX = 2000
CATEGORY_MAX = 50
MAX_ROWS = 30


class ChangeInvalid(Invalid):
    def __init__(self, problems: dict[str, str]):
        super().__init__("変更申請の入力内容を確認してください。")
        self.problems = problems


@dataclass
class ChangeInput:
    kind: str = ""
    summary: str = ""
    reason: str = ""
    # budget changes: (category, amount as typed)
    rows: list[tuple[str, str]] = field(default_factory=list)


def problems_of(data: ChangeInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    if data.kind not in CHANGE_KIND_LABELS:
        problems["kind"] = "変更の種類（計画・日程・予算）を選んでください。"
    for name, label in (("summary", "変更の内容"), ("reason", "変更の理由")):
        value = getattr(data, name)
        if not value.strip():
            problems[name] = f"{label}を入力してください。"
        elif len(value) > TEXT_MAX:
            problems[name] = f"{TEXT_MAX}字以内で入力してください（現在{len(value)}字）。"
    if data.kind == CHANGE_BUDGET:
        filled = [(c, a) for c, a in data.rows if c.strip() or a.strip()]
        if not filled:
            problems["rows"] = "予算の変更では、変更後の支出の内訳を1行以上入力してください。"
        elif len(filled) > MAX_ROWS:
            problems["rows"] = f"支出の内訳は{MAX_ROWS}行までです。"
        else:
            for index, (category, amount) in enumerate(data.rows):
                if not (category.strip() or amount.strip()):
                    continue
                if not category.strip() or len(category.strip()) > CATEGORY_MAX:
                    problems["rows"] = f"{index + 1}行目：費目を{CATEGORY_MAX}字以内で入力してください。"
                    break
                if parse_yen(amount) is None:
                    problems["rows"] = f"{index + 1}行目：金額を0円以上の整数で入力してください（例：30000）。"
                    break
    return problems


def _rows(data: ChangeInput) -> list[dict]:
    return [{"category": c.strip(), "amount": parse_yen(a)} for c, a in data.rows if c.strip() or a.strip()]


def changes_of(session: Session, proposal: Proposal) -> list[ChangeRequest]:
    return list(session.scalars(select(ChangeRequest).where(ChangeRequest.proposal_id == proposal.id)
                                .order_by(ChangeRequest.filed_at, ChangeRequest.id)))


def _check_running(session: Session, proposal: Proposal) -> None:
    row = agreements.agreement_of(session, proposal)
    if row is None or row.status != AgreementStatus.CONCLUDED:
        raise WrongState("変更申請は協定の締結後にできます。")


def file_change(session: Session, proposal: Proposal, data: ChangeInput, *, user: User | None,
                now: datetime) -> ChangeRequest:
    _check_running(session, proposal)
    problems = problems_of(data)
    if problems:
        raise ChangeInvalid(problems)
    if any(c.status == CHANGE_PENDING for c in changes_of(session, proposal)):
        raise WrongState("審査中の変更申請があります。その決定の後に、次の申請をしてください。")
    change = ChangeRequest(proposal_id=proposal.id, kind=data.kind, summary=data.summary.strip(),
                           reason=data.reason.strip(), budget_rows=_rows(data) if data.kind == CHANGE_BUDGET else None,
                           status=CHANGE_PENDING, filed_at=now, filed_by_id=user.id if user else None)
    session.add(change)
    session.flush()
    return change


def comment(session: Session, change: ChangeRequest, text: str) -> None:
    """The department's comment (所見) on a pending change."""
    if change.status != CHANGE_PENDING:
        raise WrongState("決定済みの変更申請には所見を追加できません。")
    if len(text) > TEXT_MAX:
        raise ChangeInvalid({"department_comment": f"{TEXT_MAX}字以内で入力してください（現在{len(text)}字）。"})
    change.department_comment = text.strip()
    session.flush()


def decide(session: Session, proposal: Proposal, change: ChangeRequest, *, approve: bool, reason: str,
           user: User | None, now: datetime, render: Callable[[ChangeRequest], bytes], store: ObjectStore) -> None:
    """Staff approve or refuse; the decision's PDF is published and logged."""
    if change.status != CHANGE_PENDING:
        raise WrongState("この変更申請はすでに決定されています。")
    if not reason.strip():
        raise ChangeInvalid({"decision_reason": "決定の理由を入力してください。"})
    if len(reason) > TEXT_MAX:
        raise ChangeInvalid({"decision_reason": f"{TEXT_MAX}字以内で入力してください（現在{len(reason)}字）。"})
    change.status = CHANGE_APPROVED if approve else CHANGE_REFUSED
    change.decision_reason = reason.strip()
    change.decided_at = now
    change.decided_by_id = user.id if user else None
    session.flush()
    verdict = "承認" if approve else "不承認"
    document = publish_document(session, proposal, kind=DOC_CHANGE_DECISION,
                                label=f"変更申請（{change.kind_label}）の{verdict}", pdf=render(change),
                                store=store, now=now, user=user)
    change.document_id = document.id
    session.flush()


# -- the budget the work is measured against ----------------------------------------------

def proposal_expense_rows(proposal: Proposal) -> list[tuple[str, int]]:
    return [(line.category, line.amount) for line in sorted(proposal.budget_lines, key=lambda b: b.position)
            if line.kind == BudgetKind.EXPENSE]


def other_income_rows(proposal: Proposal) -> list[tuple[str, int]]:
    """Budgeted income other than the city's share (参加費・自己資金・…)."""
    return [(line.category, line.amount) for line in sorted(proposal.budget_lines, key=lambda b: b.position)
            if line.kind == BudgetKind.INCOME and line.category != REQUEST_CATEGORY]


def planned_expense(proposal: Proposal) -> int:
    """The total expense the agreement's cost sharing was agreed on."""
    return sum(amount for _category, amount in proposal_expense_rows(proposal))


def current_budget(session: Session, proposal: Proposal) -> list[tuple[str, int]]:
    """The expense rows in force: those of the last approved budget change,
    else the proposal's 収支予算書."""
    approved = [c for c in changes_of(session, proposal) if c.status == CHANGE_APPROVED and c.kind == CHANGE_BUDGET]
    if approved:
        last = max(approved, key=lambda c: (c.decided_at, c.id))
        return [(row["category"], int(row["amount"])) for row in last.budget_rows or []]
    return proposal_expense_rows(proposal)
