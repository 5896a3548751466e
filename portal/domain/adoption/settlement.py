"""精算: what the city finally pays for a project, from its 収支決算.

Pure arithmetic on whole yen (Python integers, so exact; no floats). The
rules, as a 市民協働課 applies them to a 協働事業負担金:

1. Eligible cost (対象経費): each expense row of the current budget (the
   proposal's 収支予算書, or the rows of the last approved budget 変更申請)
   counts up to its budgeted amount. Spending over a row's budget is the
   group's own (that is what a 変更申請 is for); a row spent under its
   budget counts as spent.
2. The city's share (負担割合): the agreement's city amount over the planned
   total expense it was agreed on. The share of the eligible cost is
   rounded down to the yen (円未満切捨て, as for subsidies). With no planned
   expense the city carries the whole eligible cost.
3. The city does not pay more than the deficit: eligible cost minus the
   project's other income (participation fees, own funds, donations...).
4. Nor more than the granted amount (交付決定額).

Settled amount = min(share, deficit, granted), never below 0. Against what
was paid in advance (概算払): the excess is returned (返還額), a shortfall
paid (追加交付額). Under 精算払 nothing was paid before, so all of it is paid.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal


@dataclass(frozen=True)
class Row:
    """One expense row: budgeted and actual yen."""

    category: str
    budget: int
    actual: int

    @property
    def eligible(self) -> int:
        return min(max(self.actual, 0), self.budget)

    @property
    def over(self) -> int:
        return max(self.actual - self.budget, 0)


@dataclass(frozen=True)
class Settlement:
    rows: tuple[Row, ...]
    budget_total: int        # 予算額（経費）
    actual_total: int        # 決算額（経費）
    eligible_total: int      # 対象経費
    over_budget: int         # 予算超過分（対象外）
    other_income: int        # 市の負担金以外の収入
    city_amount: int         # 協定の市の負担額
    planned_expense: int     # 協定時の経費総額
    share: int               # 負担割合による額
    deficit: int             # 対象経費 − その他の収入
    granted: int             # 交付決定額
    settled: int             # 精算額（確定額）
    paid_in_advance: int     # 概算払済額
    to_return: int           # 返還額
    to_pay: int              # 追加交付額（精算払では全額）

    @property
    def share_percent(self) -> Decimal:
        """The share as a percentage for display (two decimals, cut)."""
        if self.planned_expense <= 0:
            return Decimal("100.00")
        return (Decimal(self.city_amount) * 100 / Decimal(self.planned_expense)).quantize(
            Decimal("0.01"), rounding=ROUND_DOWN)

    @property
    def limited_by(self) -> str:
        """Which limit decided the settled amount, in words."""
        if self.settled == self.granted and self.granted <= min(self.share, self.deficit):
            return "交付決定額"
        if self.settled == self.deficit and self.deficit <= self.share:
            return "対象経費からその他の収入を引いた額"
        return "負担割合"


def settle(*, rows: list[Row] | tuple[Row, ...], other_income: int, city_amount: int, planned_expense: int,
           granted: int, paid_in_advance: int = 0) -> Settlement:
    for value in (other_income, city_amount, planned_expense, granted, paid_in_advance):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("amounts are whole yen from 0")
    rows = tuple(rows)
    eligible = sum(r.eligible for r in rows)
    if planned_expense > 0:
        share = eligible * city_amount // planned_expense  # integers: exact, rounded down
    else:
        share = eligible
    deficit = max(eligible - other_income, 0)
    settled = max(min(share, deficit, granted), 0)
    return Settlement(
        rows=rows, budget_total=sum(r.budget for r in rows), actual_total=sum(max(r.actual, 0) for r in rows),
        eligible_total=eligible, over_budget=sum(r.over for r in rows), other_income=other_income,
        city_amount=city_amount, planned_expense=planned_expense, share=share, deficit=deficit,
        granted=granted, settled=settled, paid_in_advance=paid_in_advance,
        to_return=max(paid_in_advance - settled, 0), to_pay=max(settled - paid_in_advance, 0),
    )
