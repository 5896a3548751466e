"""The proposal's budget in figures: income and expense totals, and the
amount requested from the city (the income rows of the 市の負担 category)."""
from __future__ import annotations

from ...models import BudgetKind, Proposal
from .proposal_fields import REQUEST_CATEGORY


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
