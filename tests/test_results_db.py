"""The aggregation fed from the database: which sheets count, under the
call's rules. Every expected figure is worked out by hand in a comment.

The factory's criteria are 公益性, 必要性, 協働の効果, 実現可能性 (weight 2)
and 予算の妥当性 (weight 1), each 1-5, keyed "0".."4": a reviewer's total is
2*(s0+s1+s2+s3) + s4 and the maximum is 45.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from portal.domain.results import results
from portal.domain.results.result_json import result_to_dict
from portal.domain.scoring import scoring
from portal.domain.timeutil import now_utc
from portal.models import Conflict, ConflictSource, ConflictStatus, Stage

from .results_support import build, close_scoring, score


def figures(call_results, proposal):
    return call_results.result.proposal(proposal.id)


def test_mean_per_criterion_means_and_missing_sheets_are_shown(factory, db):
    s = build(factory, reviewers=3, proposals=2)
    s.call.min_valid_sheets = 2  # two sheets of three count (tests/test_scoring_minimum.py: the default)
    # 提案0: A = 2*(5+4+3+4)+2 = 34, B = 2*15+3 = 33, C = 2*16+5 = 37.
    score(db, s, 0, 0, [5, 4, 3, 4, 2], comment="地域の担い手が明確です。")
    score(db, s, 1, 0, [4, 4, 4, 3, 3])
    score(db, s, 2, 0, [3, 5, 4, 4, 5], comment="予算の積算が丁寧です。")
    # 提案1: A = 9, B = 18, and C never submits.
    score(db, s, 0, 1, [1, 1, 1, 1, 1])
    score(db, s, 1, 1, [2, 2, 2, 2, 2])
    close_scoring(db, s)

    computed = results.compute_all(db, s.call)
    first, second = figures(computed, s.proposals[0]), figures(computed, s.proposals[1])
    # (34 + 33 + 37) / 3 = 104/3 = 34.666... -> 34.67; 104/3 / 45 = 0.77037 -> 0.7704
    assert first.score == Decimal("34.67") and first.share_of_max == Decimal("0.7704")
    # 公益性 (5+4+3)/3 = 4.00, 必要性 (4+4+5)/3 = 4.33, 協働 (3+4+4)/3 = 3.67,
    # 実現可能性 (4+3+4)/3 = 3.67, 予算 (2+3+5)/3 = 3.33
    assert {k: str(v) for k, v in first.criterion_means.items()} == {
        "0": "4.00", "1": "4.33", "2": "3.67", "3": "3.67", "4": "3.33"}
    assert first.scorer_count == 3 and first.rank == 1
    # (9 + 18) / 2 = 13.50, two scorers; C's missing sheet is listed, not guessed.
    assert second.score == Decimal("13.50") and second.scorer_count == 2 and second.rank == 2
    assert computed.inputs.missing == [(s.members[2].pseudonym, s.code(1))]
    # No threshold and no budget: every proposal with scorers is recommended.
    assert first.recommended and second.recommended
    # The reviewers' comments are kept for the 講評, by pseudonym.
    assert computed.inputs.comments_for(s.proposals[0].id) == [
        (s.members[0].pseudonym, "地域の担い手が明確です。"), (s.members[2].pseudonym, "予算の積算が丁寧です。")]
    # The one function gives the same figures as the dict the JSON is made of.
    as_dict = result_to_dict(results.compute(db, s.call), include_reviewers=False)
    assert [p["score"] for p in as_dict["proposals"]] == ["34.67", "13.50"]


def test_trimmed_mean_only_with_enough_scorers_and_conflicts_leave_the_count(factory, db):
    s = build(factory, reviewers=3, proposals=2, conflicts=[(2, 1)],
              aggregation_method="trimmed_mean", trim_min_scorers=3)
    score(db, s, 0, 0, [5, 4, 3, 4, 2])  # 34
    score(db, s, 1, 0, [4, 4, 4, 3, 3])  # 33
    score(db, s, 2, 0, [3, 5, 4, 4, 5])  # 37
    score(db, s, 0, 1, [3, 3, 3, 3, 3])  # 27
    score(db, s, 1, 1, [4, 4, 4, 4, 4])  # 36
    close_scoring(db, s)

    computed = results.compute_all(db, s.call)
    first, second = figures(computed, s.proposals[0]), figures(computed, s.proposals[1])
    # Three scorers (>= 3): drop 33 (B) and 37 (C), keep 34 -> 34.00.
    assert first.trimmed and first.score == Decimal("34.00") and first.scorer_count == 3
    assert (first.dropped_low, first.dropped_high) == (s.members[1].id, s.members[2].id)
    # C is conflicted on 提案1: two scorers (< 3), plain mean (27 + 36) / 2 = 31.50.
    assert not second.trimmed and second.score == Decimal("31.50")
    assert second.scorer_count == 2 and second.conflicted_count == 1
    assert computed.inputs.missing == []  # a conflicted member is not "missing"


def test_a_sheet_submitted_before_the_conflict_came_to_light_is_left_out(factory, db):
    s = build(factory, reviewers=3, proposals=1)
    score(db, s, 0, 0, [5, 5, 5, 5, 5])  # 45
    score(db, s, 1, 0, [3, 3, 3, 3, 3])  # 27
    score(db, s, 2, 0, [1, 1, 1, 1, 1])  # 9
    db.add(Conflict(panel_member_id=s.members[2].id, proposal_id=s.proposals[0].id, source=ConflictSource.STAFF,
                    status=ConflictStatus.CONFIRMED, reason="後から判明"))
    db.commit()
    close_scoring(db, s)
    computed = results.compute_all(db, s.call)
    row = figures(computed, s.proposals[0])
    # C's 9 no longer counts: (45 + 27) / 2 = 36.00 with two scorers, one conflicted.
    assert row.score == Decimal("36.00") and row.scorer_count == 2 and row.conflicted_count == 1
    assert computed.inputs.excluded == [(s.members[2].pseudonym, s.code(0))]


def _three_for_ties(factory, db, **rules):
    s = build(factory, reviewers=2, proposals=3, **rules)
    score(db, s, 0, 0, [5, 3, 3, 3, 3])  # 2*14+3 = 31
    score(db, s, 1, 0, [3, 3, 3, 3, 3])  # 27        -> 29.00, 公益性 4.00, 実現可能性 3.00
    score(db, s, 0, 1, [3, 3, 3, 5, 3])  # 31
    score(db, s, 1, 1, [3, 3, 3, 3, 3])  # 27        -> 29.00, 公益性 3.00, 実現可能性 4.00
    score(db, s, 0, 2, [4, 4, 4, 4, 4])  # 36
    score(db, s, 1, 2, [4, 4, 4, 4, 4])  # 36        -> 36.00
    close_scoring(db, s)
    return s, results.compute_all(db, s.call)


def test_equal_scores_share_a_rank_without_tie_breaks(factory, db):
    s, computed = _three_for_ties(factory, db)
    ranks = {p.anonymous_code: figures(computed, p).rank for p in s.proposals}
    assert ranks == {s.code(2): 1, s.code(0): 2, s.code(1): 2}
    assert {frozenset(group) for group in computed.result.unresolved_ties} == {
        frozenset({s.proposals[0].id, s.proposals[1].id})}


def test_tie_break_criteria_in_the_call_order_separate_equal_scores(factory, db):
    # 実現可能性 (position 3) first: 提案1 (4.00) before 提案0 (3.00).
    s, computed = _three_for_ties(factory, db, tie_break_positions=[3, 0])
    assert figures(computed, s.proposals[1]).rank == 2 and figures(computed, s.proposals[0]).rank == 3
    assert figures(computed, s.proposals[1]).tie_break_used == "3"
    assert computed.result.unresolved_ties == ()


def test_tie_break_on_another_criterion_gives_the_other_order(factory, db):
    # 公益性 (position 0): 提案0 (4.00) before 提案1 (3.00).
    s, computed = _three_for_ties(factory, db, tie_break_positions=[0])
    assert figures(computed, s.proposals[0]).rank == 2 and figures(computed, s.proposals[1]).rank == 3


def test_veto_and_threshold(factory, db):
    # θ = 0.6 × 45 = 27; veto: a majority scores 公益性 at 2 or below.
    s = build(factory, reviewers=3, proposals=3, threshold_share=Decimal("0.6"),
              veto_criterion_position=0, veto_at_or_below=2)
    score(db, s, 0, 0, [2, 5, 5, 5, 5])  # 2*17+5 = 39
    score(db, s, 1, 0, [2, 5, 5, 5, 5])  # 39
    score(db, s, 2, 0, [5, 5, 5, 5, 5])  # 45  -> 123/3 = 41.00, but 2 of 3 scored 公益性 <= 2
    score(db, s, 0, 1, [2, 3, 3, 3, 3])  # 2*11+3 = 25
    score(db, s, 1, 1, [5, 3, 3, 3, 3])  # 31
    score(db, s, 2, 1, [5, 3, 3, 3, 3])  # 31  -> 87/3 = 29.00 >= 27, one veto vote of 3
    score(db, s, 0, 2, [1, 1, 1, 1, 1])  # 9
    score(db, s, 1, 2, [2, 2, 2, 2, 2])  # 18
    score(db, s, 2, 2, [3, 3, 3, 3, 3])  # 27  -> 54/3 = 18.00 < 27
    close_scoring(db, s)
    computed = results.compute_all(db, s.call)
    vetoed, passing, low = (figures(computed, p) for p in s.proposals)
    assert vetoed.score == Decimal("41.00") and vetoed.rank == 1
    assert vetoed.vetoed and vetoed.veto_count == 2 and not vetoed.recommended
    assert vetoed.reasons == ("vetoed",)
    assert passing.score == Decimal("29.00") and passing.veto_count == 1 and passing.recommended
    assert low.score == Decimal("18.00") and not low.recommended
    # 3 of 3 scored 公益性 <= 2 on 提案2 too: both reasons, in the documented order.
    assert low.reasons == ("below_threshold", "vetoed")
    assert computed.result.threshold_points == Decimal("27.0")


def _budget(factory, db, policy):
    s = build(factory, reviewers=2, proposals=3, amounts=[300_000, 300_000, 150_000],
              budget_total=500_000, budget_policy=policy)
    for member in (0, 1):
        score(db, s, member, 0, [5, 5, 5, 5, 5])  # 45.00
        score(db, s, member, 1, [4, 4, 4, 4, 4])  # 36.00
        score(db, s, member, 2, [3, 3, 3, 3, 3])  # 27.00
    close_scoring(db, s)
    return s, results.compute_all(db, s.call)


def test_budget_skip_passes_over_a_request_that_does_not_fit(factory, db):
    s, computed = _budget(factory, db, "skip")
    first, second, third = (figures(computed, p) for p in s.proposals)
    # 300,000 fits (200,000 left); 300,000 does not; 150,000 does (50,000 left).
    assert first.recommended and not second.recommended and third.recommended
    assert second.reasons == ("over_budget",)
    assert computed.result.budget_used == 450_000 and computed.result.budget_remaining == 50_000


def test_budget_stop_ends_the_walk_at_the_first_request_that_does_not_fit(factory, db):
    s, computed = _budget(factory, db, "stop")
    first, second, third = (figures(computed, p) for p in s.proposals)
    assert first.recommended and not second.recommended and not third.recommended
    assert third.reasons == ("over_budget",) and computed.result.budget_used == 300_000


def test_a_budget_total_of_zero_means_no_overall_budget(factory, db):
    s = build(factory, reviewers=1, proposals=2, budget_total=0)
    score(db, s, 0, 0, [5, 5, 5, 5, 5])
    score(db, s, 0, 1, [4, 4, 4, 4, 4])
    close_scoring(db, s)
    computed = results.compute_all(db, s.call)
    assert computed.result.rules.budget_total is None
    assert all(figures(computed, p).recommended for p in s.proposals)


def _with_presentation(factory, db, deciding_stage):
    now = now_utc()
    s = build(factory, reviewers=2, proposals=1, has_presentation=True, allow_revision_after_presentation=True,
              deciding_stage=deciding_stage)
    s.call.presentation_opens_at = now - timedelta(days=1)
    s.call.presentation_closes_at = now + timedelta(days=1)
    db.commit()
    score(db, s, 0, 0, [3, 3, 3, 3, 3])  # document: 27
    score(db, s, 1, 0, [3, 3, 3, 3, 3])  # 27
    score(db, s, 0, 0, [5, 5, 5, 5, 5], stage=Stage.PRESENTATION)  # 45
    score(db, s, 1, 0, [4, 4, 4, 4, 4], stage=Stage.PRESENTATION)  # 36
    # A revises the first-stage scores after the presentation: 2*16+4 = 36.
    assignment = s.proposals[0]
    from portal.models import Assignment
    a = db.query(Assignment).filter_by(panel_member_id=s.members[0].id, proposal_id=assignment.id).one()
    revised = scoring.start_revision(db, a, s.scored_at)
    data = scoring.values_of(revised)
    for criterion in s.call.criteria:
        data.scores[criterion.id] = scoring.ScoreInput(4, "見直し")
    scoring.save_draft(db, a, Stage.DOCUMENT_REVISED, data, s.scored_at)
    scoring.submit_sheet(db, revised, s.scored_at)
    db.commit()
    s.call.presentation_closes_at = now - timedelta(minutes=20)
    close_scoring(db, s)
    return s, results.compute_all(db, s.call)


def test_the_revised_first_stage_sheet_replaces_the_original(factory, db):
    s, computed = _with_presentation(factory, db, "document")
    # A's revision 36 replaces A's 27; B keeps 27: (36 + 27) / 2 = 31.50.
    assert figures(computed, s.proposals[0]).score == Decimal("31.50")


def test_the_presentation_stage_decides_when_the_call_says_so(factory, db):
    s, computed = _with_presentation(factory, db, "presentation")
    # (45 + 36) / 2 = 40.50
    assert figures(computed, s.proposals[0]).score == Decimal("40.50")
