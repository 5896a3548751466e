"""The proposal's budget in figures: income and expense totals, the
amount requested from the city (the income rows of the 市の負担 category),
and the rows a draft kept as typed that need correcting before submission."""
from __future__ import annotations

from ...models import BudgetKind, Proposal
from .proposal_fields import REQUEST_CATEGORY
from .proposal_input import amount_message

KIND_LABELS = {BudgetKind.INCOME: "収入", BudgetKind.EXPENSE: "支出"}


def budget_totals(proposal: Proposal) -> tuple[int, int]:
    income = sum(line.amount for line in proposal.budget_lines if line.kind == BudgetKind.INCOME)
    expense = sum(line.amount for line in proposal.budget_lines if line.kind == BudgetKind.EXPENSE)
    return income, expense


def requested_amount(proposal: Proposal) -> int:
    return sum(
        line.amount
        for line in proposal.budget_lines
        if line.kind == BudgetKind.INCOME and line.category == REQUEST_CATEGORY
    )


def row_problems(proposal: Proposal) -> dict[str, tuple[str, str]]:
    """Stored rows that cannot be submitted as they are, by the editor's
    field id (``income-0-amount``): (label, message). A draft keeps such a
    row exactly as typed; this says what to correct."""
    problems: dict[str, tuple[str, str]] = {}
    positions = {BudgetKind.INCOME: 0, BudgetKind.EXPENSE: 0}
    for line in sorted(proposal.budget_lines, key=lambda b: b.position):
        index = positions[line.kind]
        positions[line.kind] += 1
        base = f"{line.kind.value}-{index}"
        label = f"収支予算書（{KIND_LABELS[line.kind]}）{index + 1}行目"
        if not line.category:
            problems[f"{base}-category"] = (label, "区分を一覧から選んでください。")
        if line.amount_text:
            problems[f"{base}-amount"] = (label, amount_message(line.amount_text))
    return problems
