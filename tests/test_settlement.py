"""精算: hand-computed cases of the settlement rules (portal/domain/adoption/settlement.py)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.domain.adoption.settlement import Row, settle


def test_under_spend_with_advance_payment_returns_the_difference():
    # eligible 80,000 + 50,000 + 70,000 = 200,000; share 200,000 × 200,000 / 250,000 = 160,000;
    # deficit 200,000 − 30,000 = 170,000; settled 160,000; paid 200,000 in advance -> return 40,000
    s = settle(rows=[Row("講師謝礼", 100_000, 80_000), Row("消耗品費", 50_000, 50_000), Row("印刷製本費", 100_000, 70_000)],
               other_income=30_000, city_amount=200_000, planned_expense=250_000, granted=200_000,
               paid_in_advance=200_000)
    assert (s.eligible_total, s.share, s.deficit, s.settled) == (200_000, 160_000, 170_000, 160_000)
    assert (s.to_return, s.to_pay) == (40_000, 0)
    assert s.share_percent == Decimal("80.00") and s.limited_by == "負担割合"


def test_a_share_of_two_thirds_is_rounded_down_to_the_yen_and_zero_income_does_not_reduce_it():
    # 100,001 × 200,000 / 300,000 = 66,667.33... -> 66,667 (円未満切捨て); no other income
    s = settle(rows=[Row("会場費", 150_000, 100_001)], other_income=0, city_amount=200_000,
               planned_expense=300_000, granted=200_000)
    assert (s.eligible_total, s.share, s.deficit, s.settled) == (100_001, 66_667, 100_001, 66_667)
    assert (s.paid_in_advance, s.to_return, s.to_pay) == (0, 0, 66_667)  # 精算払: all of it paid after
    assert s.share_percent == Decimal("66.66")


def test_over_spend_on_a_row_is_not_eligible_and_the_granted_amount_caps():
    # 講師謝礼 130,000 against 100,000: 30,000 is the group's own; eligible 250,000;
    # share 200,000; granted only 180,000 -> 180,000; 100,000 paid in advance -> 80,000 still to pay
    s = settle(rows=[Row("講師謝礼", 100_000, 130_000), Row("消耗品費", 150_000, 150_000)], other_income=0,
               city_amount=200_000, planned_expense=250_000, granted=180_000, paid_in_advance=100_000)
    assert (s.actual_total, s.over_budget, s.eligible_total) == (280_000, 30_000, 250_000)
    assert (s.share, s.settled, s.to_return, s.to_pay) == (200_000, 180_000, 0, 80_000)
    assert s.limited_by == "交付決定額"


def test_a_budget_change_moves_what_is_eligible():
    actual = {"講師謝礼": 60_000, "消耗品費": 190_000}
    # against the original budget (100,000 / 150,000): 60,000 + 150,000 = 210,000 -> 168,000
    before = settle(rows=[Row(c, b, actual[c]) for c, b in (("講師謝礼", 100_000), ("消耗品費", 150_000))],
                    other_income=0, city_amount=200_000, planned_expense=250_000, granted=200_000)
    # after an approved change (60,000 / 190,000): all 250,000 eligible -> 200,000
    after = settle(rows=[Row(c, b, actual[c]) for c, b in (("講師謝礼", 60_000), ("消耗品費", 190_000))],
                   other_income=0, city_amount=200_000, planned_expense=250_000, granted=200_000)
    assert (before.eligible_total, before.settled) == (210_000, 168_000)
    assert (after.eligible_total, after.settled) == (250_000, 200_000)


def test_the_city_pays_no_more_than_the_deficit():
    # 10/10 share of 200,000, but 120,000 of other income: the deficit 80,000 decides
    s = settle(rows=[Row("消耗品費", 200_000, 200_000)], other_income=120_000, city_amount=200_000,
               planned_expense=200_000, granted=200_000, paid_in_advance=200_000)
    assert (s.share, s.deficit, s.settled, s.to_return) == (200_000, 80_000, 80_000, 120_000)
    assert s.limited_by == "対象経費からその他の収入を引いた額"


def test_income_above_the_cost_settles_at_zero_and_everything_paid_is_returned():
    s = settle(rows=[Row("消耗品費", 100_000, 40_000)], other_income=60_000, city_amount=100_000,
               planned_expense=100_000, granted=100_000, paid_in_advance=50_000)
    assert (s.deficit, s.settled, s.to_return, s.to_pay) == (0, 0, 50_000, 0)


def test_no_planned_expense_means_the_city_carries_the_eligible_cost():
    s = settle(rows=[Row("消耗品費", 10_000, 9_999)], other_income=0, city_amount=0, planned_expense=0,
               granted=5_000)
    assert (s.share, s.settled) == (9_999, 5_000)


def test_amounts_are_whole_yen_from_zero():
    with pytest.raises(ValueError):
        settle(rows=[], other_income=-1, city_amount=0, planned_expense=0, granted=0)
    with pytest.raises(ValueError):
        settle(rows=[], other_income=0, city_amount=0, planned_expense=0, granted=1.5)
