"""The aggregation core (portal/domain/aggregation.py), without app or database.

Every expectation is computed by hand in the comments. The weighted criteria
used in most tests (max 50, like many cities' sheets):

    公益性 koueki  w = 4    scale 1-5   max 20
    協働性 kyodo   w = 2.5  scale 1-5   max 12.5
    実現可能性 jitsugen w = 3.5 scale 1-5 max 17.5      -> maximum 50

and for tie and budget tests three unweighted criteria X, Y, Z (w = 1,
scale 1-5, maximum 15).
"""
from __future__ import annotations

import dataclasses
import json
import random
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.results import normalised_view as agg
from portal.domain.results.aggregation import (
    AggregationError,
    AggregationRules,
    CriterionRule,
    ProposalInfo,
    ScoreSheet,
    VetoRule,
    aggregate,
    round_fraction,
)
from portal.domain.results.normalised_view import normalised_view, normalised_view_to_dict
from portal.domain.results.result_json import result_to_dict

D = Decimal

WEIGHTED = (
    CriterionRule("koueki", "公益性", D("4"), 1, 5),
    CriterionRule("kyodo", "協働性", D("2.5"), 1, 5),
    CriterionRule("jitsugen", "実現可能性", D("3.5"), 1, 5),
)
PLAIN = (
    CriterionRule("X", "公益性", D("1"), 1, 5),
    CriterionRule("Y", "協働性", D("1"), 1, 5),
    CriterionRule("Z", "実現可能性", D("1"), 1, 5),
)


def w_sheet(reviewer, proposal, koueki, kyodo, jitsugen):
    return ScoreSheet(reviewer, proposal, {"koueki": koueki, "kyodo": kyodo, "jitsugen": jitsugen})


def p_sheet(reviewer, proposal, x, y, z):
    return ScoreSheet(reviewer, proposal, {"X": x, "Y": y, "Z": z})


def info(key, code=None, amount=100_000):
    return ProposalInfo(key, code or f"提案{key[1:].zfill(2)}", amount)


# Five reviewers on p1, weighted criteria:
#   A (4,3,5): 4·4 + 2.5·3 + 3.5·5 = 16 + 7.5 + 17.5 = 41.0
#   B (5,4,4): 20 + 10 + 14 = 44.0
#   C (3,2,4): 12 + 5 + 14 = 31.0
#   D (5,5,5): 20 + 12.5 + 17.5 = 50.0
#   E (2,2,3): 8 + 5 + 10.5 = 23.5
FIVE = {"A": (4, 3, 5), "B": (5, 4, 4), "C": (3, 2, 4), "D": (5, 5, 5), "E": (2, 2, 3)}


def five_sheets(proposal="p1", reviewers="ABCDE"):
    return [w_sheet(r, proposal, *FIVE[r]) for r in reviewers]


# ---------------------------------------------------------------- means

def test_plain_mean_with_weights():
    result = aggregate(WEIGHTED, AggregationRules(), [info("p1")], five_sheets(reviewers="ABC"))
    row = result.proposal("p1")
    assert row.reviewer_totals == {"A": D("41.0"), "B": D("44.0"), "C": D("31.0")}
    # (41 + 44 + 31) / 3 = 116 / 3 = 38.666… -> 38.67
    assert row.score_sum == D("116.0") and row.score_divisor == 3
    assert row.score == D("38.67")
    assert row.score_unrounded == D("38.66666666666666666666666666666666666667")
    assert result.max_possible == D("50.0")
    # 38.666… / 50 = 0.77333… -> 0.7733 (decimals + 2 places)
    assert row.share_of_max == D("0.7733")
    # per-criterion means: koueki (4+5+3)/3 = 4, kyodo (3+4+2)/3 = 3, jitsugen (5+4+4)/3 = 4.33
    assert row.criterion_means == {"koueki": D("4.00"), "kyodo": D("3.00"), "jitsugen": D("4.33")}
    assert row.criterion_sums == {"koueki": 12, "kyodo": 9, "jitsugen": 13}
    assert row.scorer_count == 3 and not row.trimmed
    assert row.rank == 1 and row.recommended and row.reasons == ()


def test_mean_of_totals_equals_sum_of_weighted_criterion_means():
    """Kurashiki sums per-item means; with complete sheets and the plain
    mean it is the same number: Σ_c w_c·(Σ_r s_rc / n) = (Σ_r Σ_c w_c s_rc) / n.
    4·12/3 + 2.5·9/3 + 3.5·13/3 = 16 + 7.5 + 15.1666… = 38.666…"""
    result = aggregate(WEIGHTED, AggregationRules(), [info("p1")], five_sheets(reviewers="ABC"))
    row = result.proposal("p1")
    kurashiki = sum(Fraction(c.weight) * Fraction(row.criterion_sums[c.key], row.scorer_count) for c in WEIGHTED)
    assert kurashiki == Fraction(row.score_sum) / row.score_divisor == Fraction(116, 3)


def test_trimmed_mean_with_five_scorers():
    rules = AggregationRules(method="trimmed_mean", trim_min_scorers=5)
    row = aggregate(WEIGHTED, rules, [info("p1")], five_sheets()).proposal("p1")
    # sorted: E 23.5, C 31, A 41, B 44, D 50 -> drop E and D
    # (31 + 41 + 44) / 3 = 116 / 3 = 38.67   (the plain mean would be 189.5 / 5 = 37.90)
    assert row.trimmed and row.dropped_low == "E" and row.dropped_high == "D"
    assert row.scorer_count == 5 and row.score_divisor == 3
    assert row.score == D("38.67")
    # per-criterion means stay over all five scorers: koueki (4+5+3+5+2)/5 = 3.80
    assert row.criterion_means["koueki"] == D("3.80")
    plain = aggregate(WEIGHTED, AggregationRules(), [info("p1")], five_sheets()).proposal("p1")
    assert plain.score == D("37.90")


def test_trimmed_mean_below_the_minimum_is_a_plain_mean():
    rules = AggregationRules(method="trimmed_mean", trim_min_scorers=5)
    row = aggregate(WEIGHTED, rules, [info("p1")], five_sheets(reviewers="ABCD")).proposal("p1")
    # four scorers < 5: (41 + 44 + 31 + 50) / 4 = 166 / 4 = 41.50
    assert not row.trimmed and row.dropped_low is None and row.dropped_high is None
    assert row.score_divisor == 4 and row.score == D("41.50")


def test_trimming_drops_only_one_of_equal_extremes():
    # R1 6, R2 6, R3 9, R4 12, R5 12 (X+Y+Z). Sorted by (total, key):
    # drop R1 (first lowest) and R5 (last highest); keep 6 + 9 + 12 = 27 / 3 = 9.00
    sheets = [p_sheet("R5", "p1", 4, 4, 4), p_sheet("R4", "p1", 4, 4, 4), p_sheet("R3", "p1", 3, 3, 3),
              p_sheet("R2", "p1", 2, 2, 2), p_sheet("R1", "p1", 2, 2, 2)]
    row = aggregate(PLAIN, AggregationRules(method="trimmed_mean"), [info("p1")], sheets).proposal("p1")
    assert (row.dropped_low, row.dropped_high) == ("R1", "R5")
    assert row.score_divisor == 3 and row.score_sum == D("27") and row.score == D("9.00")


def test_conflicts_leave_fewer_scorers_and_say_so():
    rules = AggregationRules(method="trimmed_mean", trim_min_scorers=5)
    # p2, C conflicted: A (3,3,3) = 12 + 7.5 + 10.5 = 30, B (4,4,4) = 40,
    # D (5,5,5) = 50, E (2,2,2) = 20 -> four scorers, no trimming: 140 / 4 = 35.00
    sheets = five_sheets() + [w_sheet("A", "p2", 3, 3, 3), w_sheet("B", "p2", 4, 4, 4),
                              w_sheet("D", "p2", 5, 5, 5), w_sheet("E", "p2", 2, 2, 2)]
    result = aggregate(WEIGHTED, rules, [info("p1"), info("p2")], sheets, {("C", "p2")},
                       panel="ABCDE")
    p1, p2 = result.proposal("p1"), result.proposal("p2")
    assert p1.scorer_count == 5 and p1.trimmed and p1.score == D("38.67")
    assert p2.scorer_count == 4 and p2.conflicted_reviewers == ("C",) and p2.conflicted_count == 1
    assert not p2.trimmed and p2.score == D("35.00")
    assert "C" not in p2.reviewer_totals
    as_dict = result_to_dict(result)["proposals"]
    assert [(p["code"], p["scorer_count"], p["conflicted_count"]) for p in as_dict] == [
        ("提案01", 5, 0), ("提案02", 4, 1)]


def test_a_proposal_with_no_scorers():
    sheets = [p_sheet("A", "p1", 3, 3, 3), p_sheet("B", "p1", 4, 4, 4)]
    result = aggregate(PLAIN, AggregationRules(), [info("p2"), info("p1")], sheets,
                       {("A", "p2"), ("B", "p2")}, panel=["A", "B"])
    row = result.proposal("p2")
    assert row.scorer_count == 0 and row.conflicted_count == 2
    assert row.score is None and row.share_of_max is None and row.rank is None
    assert not row.recommended and row.reasons == ("no_scorers",)
    assert [r.key for r in result.proposals] == ["p1", "p2"]  # unranked last


def test_panel_makes_a_missing_sheet_an_error():
    with pytest.raises(AggregationError) as error:
        aggregate(PLAIN, AggregationRules(), [info("p1")], [p_sheet("A", "p1", 3, 3, 3)], panel=["A", "B"])
    assert error.value.code == "missing_sheet" and error.value.reviewer_key == "B"


# ---------------------------------------------------------------- threshold, veto

def test_threshold_by_points_compares_the_published_score():
    # p1 = 38.666… published as 38.67: meets 38.67 (the published figure), not 38.68
    sheets = five_sheets(reviewers="ABC")
    meets = aggregate(WEIGHTED, AggregationRules(threshold_points=D("38.67")), [info("p1")], sheets)
    assert meets.proposal("p1").passes_threshold and meets.threshold_points == D("38.67")
    misses = aggregate(WEIGHTED, AggregationRules(threshold_points=D("38.68")), [info("p1")], sheets)
    row = misses.proposal("p1")
    assert not row.passes_threshold and not row.recommended and row.reasons == ("below_threshold",)


def test_threshold_by_share_of_maximum():
    sheets = five_sheets(reviewers="ABC")
    # 0.7733 × 50 = 38.665 <= 38.67 passes;  0.774 × 50 = 38.70 > 38.67 fails
    passes = aggregate(WEIGHTED, AggregationRules(threshold_share=D("0.7733")), [info("p1")], sheets)
    assert passes.threshold_points == D("38.665") and passes.proposal("p1").passes_threshold
    fails = aggregate(WEIGHTED, AggregationRules(threshold_share=D("0.774")), [info("p1")], sheets)
    assert not fails.proposal("p1").passes_threshold
    # Sanda: 60 % of 50 = 30
    sanda = aggregate(WEIGHTED, AggregationRules(threshold_share=D("0.6")), [info("p1")], sheets)
    assert sanda.threshold_points == 30


def test_both_thresholds_at_once_is_refused():
    rules = AggregationRules(threshold_points=D("30"), threshold_share=D("0.6"))
    with pytest.raises(AggregationError, match="一方だけ"):
        aggregate(WEIGHTED, rules, [info("p1")], five_sheets())


VETO = AggregationRules(veto=VetoRule("koueki", at_or_below=2))
# A (2,5,5) = 8 + 12.5 + 17.5 = 38, B (1,5,5) = 34, C (5,5,5) = 50, D (5,5,5) = 50, E (2,5,5) = 38
VETO_SHEETS = [w_sheet("A", "p1", 2, 5, 5), w_sheet("B", "p1", 1, 5, 5), w_sheet("C", "p1", 5, 5, 5),
               w_sheet("D", "p1", 5, 5, 5), w_sheet("E", "p1", 2, 5, 5)]


def test_veto_needs_more_than_half():
    # A, B of four scored 公益性 <= 2: 2 of 4 is exactly half, not a majority
    row = aggregate(WEIGHTED, VETO, [info("p1")], VETO_SHEETS[:4]).proposal("p1")
    assert row.veto_count == 2 and row.scorer_count == 4 and not row.vetoed and row.recommended


def test_veto_by_majority():
    # A, B, E of five: 3 > 5/2 -> vetoed although the mean (38+34+50+50+38)/5 = 42.00 is high
    row = aggregate(WEIGHTED, VETO, [info("p1")], VETO_SHEETS).proposal("p1")
    assert row.veto_count == 3 and row.vetoed and row.score == D("42.00")
    assert row.passes_threshold and not row.recommended and row.reasons == ("vetoed",)
    assert row.rank == 1  # still ranked by its score; the veto decides recommendation only


# ---------------------------------------------------------------- ties

def test_tie_broken_by_first_criterion():
    # p1 (5,3,1) = 9, p2 (4,4,1) = 9; X: 5 > 4 -> p1 first although its code sorts later
    sheets = [p_sheet("A", "p1", 5, 3, 1), p_sheet("A", "p2", 4, 4, 1)]
    rules = AggregationRules(tie_breaks=("X", "Z"))
    result = aggregate(PLAIN, rules, [info("p1", "提案02"), info("p2", "提案01")], sheets)
    assert [(r.key, r.rank, r.tie_break_used) for r in result.proposals] == [("p1", 1, "X"), ("p2", 2, "X")]
    assert result.unresolved_ties == ()


def test_tie_broken_by_second_criterion():
    # p1 (4,3,2) = 9, p2 (4,2,3) = 9; X equal (4 = 4); Z: 3 > 2 -> p2 first
    sheets = [p_sheet("A", "p1", 4, 3, 2), p_sheet("A", "p2", 4, 2, 3)]
    result = aggregate(PLAIN, AggregationRules(tie_breaks=("X", "Z")), [info("p1"), info("p2")], sheets)
    assert [(r.key, r.rank, r.tie_break_used) for r in result.proposals] == [("p2", 1, "Z"), ("p1", 2, "Z")]


def test_unbreakable_tie_shares_a_rank_and_is_marked():
    # p3 (5,5,5) = 15; p10 and p9 (3,3,3) = 9, equal on X and Z; p4 (1,1,1) = 3
    sheets = [p_sheet("A", "p3", 5, 5, 5), p_sheet("A", "p10", 3, 3, 3), p_sheet("A", "p9", 3, 3, 3),
              p_sheet("A", "p4", 1, 1, 1)]
    proposals = [info("p10", "提案10"), info("p9", "提案9"), info("p3", "提案3"), info("p4", "提案4")]
    result = aggregate(PLAIN, AggregationRules(tie_breaks=("X", "Z")), proposals, sheets)
    # ranks 1, 2, 2, 4; the tied pair listed in natural code order (提案9 before 提案10)
    assert [(r.code, r.rank) for r in result.proposals] == [("提案3", 1), ("提案9", 2), ("提案10", 2), ("提案4", 4)]
    assert result.proposal("p9").tied_with == ("p10",) and result.proposal("p10").tied_with == ("p9",)
    assert result.proposal("p9").tie_break_used is None
    assert result.unresolved_ties == (("p9", "p10"),)


# ---------------------------------------------------------------- budget

# p1 15, p2 12, p3 9, p4 6 (one reviewer); requests 500k, 400k, 200k, 100k; budget 800k
BUDGET_PROPOSALS = [info("p1", amount=500_000), info("p2", amount=400_000), info("p3", amount=200_000),
                    info("p4", amount=100_000)]
BUDGET_SHEETS = [p_sheet("A", "p1", 5, 5, 5), p_sheet("A", "p2", 4, 4, 4), p_sheet("A", "p3", 3, 3, 3),
                 p_sheet("A", "p4", 2, 2, 2)]


def test_budget_skip_passes_over_what_does_not_fit():
    # p1 500k (left 300k); p2 400k > 300k skipped; p3 200k (left 100k); p4 100k (left 0)
    rules = AggregationRules(budget_total=800_000, budget_policy="skip")
    result = aggregate(PLAIN, rules, BUDGET_PROPOSALS, BUDGET_SHEETS)
    assert [r.key for r in result.recommended] == ["p1", "p3", "p4"]
    assert result.proposal("p2").reasons == ("over_budget",)
    assert result.budget_used == 800_000 and result.budget_remaining == 0


def test_budget_stop_ends_at_the_first_that_does_not_fit():
    # p1 500k (left 300k); p2 400k does not fit -> stop: p3 and p4 are not recommended either
    rules = AggregationRules(budget_total=800_000, budget_policy="stop")
    result = aggregate(PLAIN, rules, BUDGET_PROPOSALS, BUDGET_SHEETS)
    assert [r.key for r in result.recommended] == ["p1"]
    assert [r.reasons for r in result.proposals] == [(), ("over_budget",), ("over_budget",), ("over_budget",)]
    assert result.budget_used == 500_000 and result.budget_remaining == 300_000


def test_budget_only_spends_on_eligible_proposals():
    # threshold 10 (of 15): p3 (9) and p4 (6) fail the threshold, not the budget
    rules = AggregationRules(threshold_points=D("10"), budget_total=10_000_000)
    result = aggregate(PLAIN, rules, BUDGET_PROPOSALS, BUDGET_SHEETS)
    assert [r.key for r in result.recommended] == ["p1", "p2"] and result.budget_used == 900_000
    assert result.proposal("p4").reasons == ("below_threshold",)


def test_a_budget_that_splits_an_unresolved_tie_is_flagged():
    # p2 and p5 both (4,4,4) = 12 with no tie-break; 600k left after p1 fits only one of the two
    proposals = [info("p1", amount=500_000), info("p2", amount=400_000), info("p5", amount=400_000)]
    sheets = [p_sheet("A", "p1", 5, 5, 5), p_sheet("A", "p2", 4, 4, 4), p_sheet("A", "p5", 4, 4, 4)]
    result = aggregate(PLAIN, AggregationRules(budget_total=1_000_000), proposals, sheets)
    assert [r.key for r in result.recommended] == ["p1", "p2"]  # code order, not a decision
    assert result.ties_split_by_budget == (("p2", "p5"),)


def test_nothing_passes_nothing_is_recommended():
    # 90 % of 15 = 13.5; p2, p3, p4 score 12, 9, 6: none reaches it
    rules = AggregationRules(threshold_share=D("0.9"), budget_total=800_000)
    result = aggregate(PLAIN, rules, BUDGET_PROPOSALS[1:], BUDGET_SHEETS[1:])
    assert result.threshold_points == D("13.5")
    assert result.recommended == () and result.budget_used == 0 and result.budget_remaining == 800_000
    assert all(r.reasons == ("below_threshold",) for r in result.proposals)
    assert [r.rank for r in result.proposals] == [1, 2, 3]  # still ranked, for the record


# ---------------------------------------------------------------- rounding, types

ONE = (CriterionRule("X", "公益性", D("1"), 1, 5),)


def test_rounding_half_up_at_the_third_decimal():
    # seven 3s and one 4: 25 / 8 = 3.125 exactly -> ROUND_HALF_UP 3.13, ROUND_HALF_EVEN 3.12
    sheets = [ScoreSheet(f"R{i}", "p1", {"X": 3}) for i in range(7)] + [ScoreSheet("R7", "p1", {"X": 4})]
    up = aggregate(ONE, AggregationRules(), [info("p1")], sheets).proposal("p1")
    assert up.score_unrounded == D("3.125") and up.score == D("3.13")
    even = aggregate(ONE, AggregationRules(rounding=ROUND_HALF_EVEN), [info("p1")], sheets).proposal("p1")
    assert even.score == D("3.12")


def test_decimal_weights_round_where_floats_would_not():
    # 0.201 × 5 = 1.005 exactly -> 1.01; as a float, round(1.005, 2) gives 1.0 (1.00499…)
    criteria = (CriterionRule("X", "公益性", D("0.201"), 0, 5),)
    row = aggregate(criteria, AggregationRules(), [info("p1")], [ScoreSheet("A", "p1", {"X": 5})]).proposal("p1")
    assert row.reviewer_totals["A"] == D("1.005") and row.score == D("1.01")
    assert round(1.005, 2) == 1.0


def test_round_fraction_rounds_once():
    assert round_fraction(Fraction(25, 8), 2, ROUND_HALF_UP) == D("3.13")
    # just below the half: a 28-digit division would show 3.125000… and round up
    assert round_fraction(Fraction(3125, 1000) - Fraction(1, 10**40), 2, ROUND_HALF_UP) == D("3.12")
    assert round_fraction(Fraction(-1, 8), 2, ROUND_HALF_UP) == D("-0.13")
    assert str(round_fraction(Fraction(-1, 1000), 2, ROUND_HALF_UP)) == "0.00"  # never -0.00
    assert str(round_fraction(Fraction(7), 0, ROUND_HALF_UP)) == "7"


def _walk(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _walk(getattr(value, item.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(key)
            yield from _walk(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _walk(item)
    else:
        yield value


def test_no_float_anywhere():
    rules = AggregationRules(method="trimmed_mean", threshold_share=D("0.6"), veto=VetoRule("koueki", 2),
                             tie_breaks=("koueki",), budget_total=1_000_000)
    result = aggregate(WEIGHTED, rules, [info("p1"), info("p2")],
                       five_sheets() + five_sheets("p2", "ABCD"), {("E", "p2")})
    view = normalised_view(result)
    leaves = list(_walk(result)) + list(_walk(view))
    assert not any(isinstance(leaf, float) for leaf in leaves)
    row = result.proposal("p1")
    for figure in (row.score, row.score_unrounded, row.score_sum, row.share_of_max, result.max_possible,
                   result.threshold_points, *row.reviewer_totals.values(), *row.criterion_means.values()):
        assert type(figure) is Decimal
    for as_dict in (result_to_dict(result), normalised_view_to_dict(view)):
        assert not any(isinstance(leaf, float) for leaf in _walk(as_dict))
        assert json.loads(json.dumps(as_dict, ensure_ascii=False)) == as_dict
    # p2 (A–D, E conflicted, 4 < 5 so untrimmed) 166/4 = 41.50 ranks above p1 (38.67)
    assert [(p["key"], p["score"]) for p in result_to_dict(result)["proposals"]] == [
        ("p2", "41.50"), ("p1", "38.67")]


def test_public_dict_leaves_reviewers_out():
    result = aggregate(WEIGHTED, AggregationRules(method="trimmed_mean"), [info("p1")], five_sheets())
    public = result_to_dict(result, include_reviewers=False)["proposals"][0]
    assert "reviewer_totals" not in public and "dropped_high" not in public
    assert public["scorer_count"] == 5 and public["trimmed"] is True


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize(("scores", "code"), [
    ({"X": 6, "Y": 3, "Z": 3}, "out_of_scale"),
    ({"X": 0, "Y": 3, "Z": 3}, "out_of_scale"),
    ({"X": 3, "Y": 3, "Z": 3, "W": 3}, "unknown_criterion"),
    ({"X": 3, "Y": 3}, "incomplete_sheet"),
    ({"X": 3.0, "Y": 3, "Z": 3}, "not_integer"),
    ({"X": True, "Y": 3, "Z": 3}, "not_integer"),
])
def test_bad_sheets_are_refused(scores, code):
    with pytest.raises(AggregationError) as error:
        aggregate(PLAIN, AggregationRules(), [info("p1")], [ScoreSheet("A", "p1", scores)])
    assert error.value.code == code and error.value.reviewer_key == "A" and error.value.proposal_key == "p1"


def test_out_of_scale_message_names_the_item():
    with pytest.raises(AggregationError, match="「公益性」の点数 6 は尺度 1〜5 の範囲外"):
        aggregate(PLAIN, AggregationRules(), [info("p1")], [p_sheet("A", "p1", 6, 3, 3)])


@pytest.mark.parametrize(("kwargs", "code"), [
    (dict(sheets=[p_sheet("A", "p1", 3, 3, 3)], conflicts={("A", "p1")}), "conflicted_sheet"),
    (dict(sheets=[p_sheet("A", "p1", 3, 3, 3)] * 2), "duplicate_sheet"),
    (dict(sheets=[p_sheet("A", "p9", 3, 3, 3)]), "unknown_proposal"),
    (dict(rules=AggregationRules(tie_breaks=("W",))), "unknown_criterion"),
    (dict(rules=AggregationRules(veto=VetoRule("W", 2))), "unknown_criterion"),
    (dict(rules=AggregationRules(threshold_points=D("16"))), "bad_rules"),  # above the maximum 15
    (dict(rules=AggregationRules(method="median")), "bad_rules"),
    (dict(rules=AggregationRules(method="trimmed_mean", trim_min_scorers=2)), "bad_rules"),
    (dict(rules=AggregationRules(threshold_share=0.6)), "not_decimal"),
    (dict(criteria=(CriterionRule("X", "公益性", 1.5, 1, 5),)), "not_decimal"),
])
def test_bad_input_is_refused(kwargs, code):
    args = dict(criteria=PLAIN, rules=AggregationRules(), proposals=[info("p1")], sheets=[], conflicts=())
    args.update(kwargs)
    with pytest.raises(AggregationError) as error:
        aggregate(**args)
    assert error.value.code == code


# ---------------------------------------------------------------- normalised view

ZERO_TO_FIVE = tuple(CriterionRule(k, k, D("1"), 0, 5) for k in "XYZ")  # maximum 15


def test_normalised_view_flags_a_harsh_reviewer():
    # A, B, C: p1 (4,4,3) = 11, p2 (4,4,4) = 12, p3 (3,3,2) = 8, p4 (2,2,2) = 6
    # H (conflicted on p1): p2 (3,2,2) = 7, p3 (1,1,1) = 3, p4 (1,0,0) = 1 — five below the others
    marks = {"p1": (4, 4, 3), "p2": (4, 4, 4), "p3": (3, 3, 2), "p4": (2, 2, 2)}
    sheets = [p_sheet(r, p, *s) for r in "ABC" for p, s in marks.items()]
    sheets += [p_sheet("H", "p2", 3, 2, 2), p_sheet("H", "p3", 1, 1, 1), p_sheet("H", "p4", 1, 0, 0)]
    proposals = [info(p) for p in marks]
    result = aggregate(ZERO_TO_FIVE, AggregationRules(), proposals, sheets, {("H", "p1")})
    # raw: p1 33/3 = 11.00; p2 (36 + 7)/4 = 10.75; p3 (24 + 3)/4 = 6.75; p4 (18 + 1)/4 = 4.75
    assert [(r.key, r.score) for r in result.proposals] == [
        ("p1", D("11.00")), ("p2", D("10.75")), ("p3", D("6.75")), ("p4", D("4.75"))]

    view = normalised_view(result)
    assert view.advisory and view.flag_points == D("1.5")  # 0.1 × 15
    by_reviewer = {p.reviewer_key: p for p in view.reviewers}
    # H: gaps 7−12, 3−8, 1−6 = −5 each -> leniency −5.00 <= −1.5 -> harsh
    assert by_reviewer["H"].leniency == D("-5.00") and by_reviewer["H"].flag == "harsh"
    # A: gaps 11−11 = 0, 12−31/3, 8−19/3, 6−13/3 = 5/3 each -> (0 + 5)/4 = 1.25 < 1.5 -> no flag
    assert by_reviewer["A"].leniency == D("1.25") and by_reviewer["A"].flag is None
    # A: μ = 37/4 = 9.25, deviations 1.75, 2.75, −1.25, −3.25, σ² = 22.75/4 = 5.6875, σ = 2.3848…
    #    z(p1) = 1.75/2.3848 = 0.7338, z(p2) = 1.1531, z(p3) = −0.5241, z(p4) = −1.3628
    # H: μ = 11/3, deviations 10/3, −2/3, −8/3, σ² = (100 + 4 + 64)/27 = 56/9, σ = 2.4944…
    #    z(p2) = 1.3363, z(p3) = −0.2673, z(p4) = −1.0690
    assert by_reviewer["A"].std_dev == D("2.38") and by_reviewer["H"].std_dev == D("2.49")
    assert by_reviewer["A"].z_scores == {"p1": D("0.73"), "p2": D("1.15"), "p3": D("-0.52"), "p4": D("-1.36")}
    # mean z: p1 0.7338 (A, B, C); p2 (3 × 1.1531 + 1.3363)/4 = 1.1989; p3 −0.4599; p4 −1.2893
    assert [(r.key, r.mean_z, r.rank, r.raw_rank) for r in view.rows] == [
        ("p2", D("1.20"), 1, 2), ("p1", D("0.73"), 2, 1), ("p3", D("-0.46"), 3, 3), ("p4", D("-1.29"), 4, 4)]
    # advisory: the raw result is untouched
    assert result.proposals[0].key == "p1"


def test_normalised_view_gives_zero_for_a_flat_or_single_reviewer():
    sheets = [p_sheet("A", "p1", 3, 3, 3), p_sheet("A", "p2", 3, 3, 3),  # A: zero variance
              p_sheet("B", "p1", 5, 5, 5)]  # B: a single proposal
    result = aggregate(PLAIN, AggregationRules(), [info("p1"), info("p2")], sheets)
    by_reviewer = {p.reviewer_key: p for p in normalised_view(result).reviewers}
    assert by_reviewer["A"].z_scores == {"p1": D("0.00"), "p2": D("0.00")} and by_reviewer["A"].std_dev == D("0.00")
    assert by_reviewer["B"].z_scores == {"p1": D("0.00")} and by_reviewer["B"].std_dev is None
    assert by_reviewer["B"].flag is None  # compared on one proposal only


# ---------------------------------------------------------------- properties

@st.composite
def scenarios(draw):
    weights = st.sampled_from([D("0.5"), D("1"), D("1.5"), D("2"), D("2.5"), D("3"), D("4")])
    criteria = tuple(CriterionRule(f"c{i}", f"基準{i}", draw(weights), *draw(st.sampled_from([(1, 5), (0, 5)])))
                     for i in range(draw(st.integers(1, 3))))
    keys = [c.key for c in criteria]
    proposals = [ProposalInfo(f"p{i}", f"提案{i:02d}", draw(st.sampled_from([0, 100_000, 250_000, 500_000])))
                 for i in range(draw(st.integers(1, 6)))]
    reviewers = [f"r{i}" for i in range(draw(st.integers(1, 7)))]
    sheets, conflicts = [], set()
    for reviewer in reviewers:
        for proposal in proposals:
            if draw(st.integers(0, 6)) == 0:
                conflicts.add((reviewer, proposal.key))
            else:
                scores = {c.key: draw(st.integers(c.scale_min, c.scale_max)) for c in criteria}
                sheets.append(ScoreSheet(reviewer, proposal.key, scores))
    maximum = sum(c.weight * c.scale_max for c in criteria)
    threshold = draw(st.sampled_from(["none", "points", "share"]))
    rules = AggregationRules(
        method=draw(st.sampled_from(["mean", "trimmed_mean"])),
        trim_min_scorers=draw(st.integers(3, 6)),
        threshold_points=(maximum * draw(st.sampled_from([D("0.3"), D("0.5"), D("0.7")])))
        if threshold == "points" else None,
        threshold_share=draw(st.sampled_from([D("0.4"), D("0.6")])) if threshold == "share" else None,
        veto=draw(st.one_of(st.none(), st.builds(VetoRule, st.sampled_from(keys), st.integers(1, 3)))),
        tie_breaks=tuple(draw(st.permutations(keys))[:draw(st.integers(0, len(keys)))]),
        budget_total=draw(st.one_of(st.none(), st.sampled_from([0, 300_000, 800_000]))),
        budget_policy=draw(st.sampled_from(["skip", "stop"])),
        decimals=draw(st.integers(0, 3)),
        rounding=draw(st.sampled_from([ROUND_HALF_UP, ROUND_HALF_EVEN])),
    )
    return criteria, rules, proposals, sheets, conflicts, draw(st.randoms(use_true_random=False))


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@PROPERTY_SETTINGS
@given(scenarios())
def test_order_of_sheets_and_proposals_does_not_matter(scenario):
    criteria, rules, proposals, sheets, conflicts, rnd = scenario
    result = aggregate(criteria, rules, proposals, sheets, conflicts)
    shuffled_sheets, shuffled_proposals = list(sheets), list(proposals)
    rnd.shuffle(shuffled_sheets)
    rnd.shuffle(shuffled_proposals)
    assert aggregate(criteria, rules, proposals, shuffled_sheets, conflicts) == result
    permuted = aggregate(criteria, rules, shuffled_proposals, sheets, conflicts)
    assert {r.key: (r.rank, r.recommended) for r in permuted.proposals} == \
        {r.key: (r.rank, r.recommended) for r in result.proposals}
    assert permuted == result
    assert normalised_view(permuted) == normalised_view(result)


@PROPERTY_SETTINGS
@given(scenarios())
def test_invariants(scenario):
    criteria, rules, proposals, sheets, conflicts, _ = scenario
    result = aggregate(criteria, rules, proposals, sheets, conflicts)
    for row in result.proposals:
        assert row.scorer_count == sum(1 for s in sheets if s.proposal_key == row.key)
        assert row.conflicted_count == sum(1 for _, p in conflicts if p == row.key)
        if row.scorer_count == 0:
            assert row.score is None and row.reasons == ("no_scorers",)
            continue
        totals = [Fraction(t) for t in row.reviewer_totals.values()]
        exact = Fraction(row.score_sum) / row.score_divisor
        assert min(totals) <= exact <= max(totals)
        low = round_fraction(min(totals), rules.decimals, rules.rounding)
        high = round_fraction(max(totals), rules.decimals, rules.rounding)
        assert low <= row.score <= high
        if row.recommended:
            assert row.passes_threshold and not row.vetoed and row.reasons == ()
        else:
            assert row.reasons
    recommended = result.recommended
    if rules.budget_total is not None:
        assert sum(r.requested_amount for r in recommended) == result.budget_used <= rules.budget_total
    if not any(r.passes_threshold for r in result.proposals):
        assert recommended == ()
    ranks = [r.rank for r in result.proposals if r.rank is not None]
    assert ranks == sorted(ranks) and (not ranks or ranks[0] == 1)


def test_three_hundred_proposals_stay_fast():
    """Not a timing assertion: the size the report quotes runs in the suite."""
    rnd = random.Random(7)
    criteria = tuple(CriterionRule(f"c{i}", f"基準{i}", D(w), 1, 5)
                     for i, w in enumerate(["3", "2", "2", "1.5", "1", "1", "0.5"]))
    proposals = [ProposalInfo(f"p{i}", f"提案{i:03d}", rnd.randrange(0, 1_000_000, 10_000)) for i in range(300)]
    sheets = [ScoreSheet(f"r{r}", p.key, {c.key: rnd.randint(1, 5) for c in criteria})
              for r in range(15) for p in proposals]
    rules = AggregationRules(method="trimmed_mean", threshold_share=D("0.6"), veto=VetoRule("c0", 2),
                             tie_breaks=("c0", "c1"), budget_total=30_000_000)
    result = aggregate(criteria, rules, proposals, sheets)
    assert len(result.proposals) == 300 and all(r.scorer_count == 15 for r in result.proposals)
    assert agg.normalised_view(result).advisory
