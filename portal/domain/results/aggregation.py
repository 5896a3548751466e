"""Turning reviewers' score sheets into a ranking and a recommendation.

Plain Python: no Flask, no database. The results page, the PDF and the JSON
all call `aggregate(...)` on the same inputs, so they cannot disagree. The
formulas, every rule chosen here and a worked example are in
docs/aggregation.md; the short version:

- A reviewer's total is T_r = Σ_c w_c · s_rc, exact (Decimal weights, integer
  scores, a decimal context that raises rather than round).
- A proposal's score is the mean of its scorers' totals, or, for
  ``trimmed_mean`` with at least ``trim_min_scorers`` scorers, the mean after
  dropping one highest and one lowest total. Means are exact fractions until
  they are rounded, once, with the call's rule. No float is ever made.
- Every decision (threshold, ranking, tie-breaks) compares the rounded,
  published figures, so anyone can check the outcome from the published table.
- A proposal with no scorer, or fewer than its ``min_scorers`` valid sheets
  (採点不成立), keeps its figures but gets no rank and no recommendation.
- Bad input (a score off the scale, an unknown criterion, an incomplete sheet,
  a sheet from a conflicted reviewer) raises `AggregationError`; nothing is
  guessed or silently dropped.

This module is the ranking and its public face: the inputs and their checks
are in aggregation_inputs.py, the exact arithmetic in exact.py (both
importable from here), the advisory normalised view in normalised_view.py
and the JSON in result_json.py.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .aggregation_inputs import (
    AggregationRules,
    CriterionRule,
    ProposalInfo,
    ScoreSheet,
    VetoRule,
    check_conflicts,
    check_criteria,
    check_proposals,
    check_rules,
    collect_sheets,
)
from .exact import (
    AggregationError,
    Key,
    code_order,
    exact_sum,
    key_order,
    round_fraction,
    unrounded,
    weighted_total,
)

# Callers import the whole ranking from here, whichever module defines a name.
__all__ = [
    "BELOW_THRESHOLD", "NO_SCORERS", "OVER_BUDGET", "UNDER_MINIMUM", "VETOED",
    "AggregationError", "AggregationRules", "CriterionRule", "Key", "ProposalInfo", "ProposalResult",
    "Result", "ScoreSheet", "VetoRule",
    "aggregate", "code_order", "round_fraction", "weighted_total",
]

NO_SCORERS = "no_scorers"
UNDER_MINIMUM = "under_minimum"  # fewer valid sheets than the call requires: 採点不成立
BELOW_THRESHOLD = "below_threshold"
VETOED = "vetoed"
OVER_BUDGET = "over_budget"


# ---------------------------------------------------------------- outputs

@dataclass(frozen=True)
class ProposalResult:
    key: Key
    code: str
    requested_amount: int
    reviewer_totals: Mapping[Key, Decimal]  # every counted scorer, exact
    scorer_count: int
    conflicted_reviewers: tuple[Key, ...]
    trimmed: bool
    dropped_low: Key | None
    dropped_high: Key | None
    criterion_sums: Mapping[str, int]  # over all counted scorers
    criterion_means: Mapping[str, Decimal]  # criterion_sums / scorer_count, rounded
    score_sum: Decimal | None  # sum of the totals that count (after trimming)
    score_divisor: int | None  # how many totals count; exact score = sum / divisor
    score_unrounded: Decimal | None  # sum / divisor to UNROUNDED_DIGITS digits
    score: Decimal | None  # rounded once with the call's rule; decisions use this
    share_of_max: Decimal | None  # exact score / maximum, rounded to decimals + 2
    passes_threshold: bool
    vetoed: bool
    veto_count: int | None
    rank: int | None
    tie_break_used: str | None  # the deepest tie-break criterion that ordered it
    tied_with: tuple[Key, ...]  # proposals it still shares its rank with
    recommended: bool
    reasons: tuple[str, ...]  # why not recommended; empty when recommended
    min_scorers: int | None = None  # the valid sheets required (ProposalInfo.min_scorers)
    # No scorer, or fewer than ``min_scorers``: no rank, no recommendation,
    # and any decision on it needs a stated reason.
    under_minimum: bool = False

    @property
    def conflicted_count(self) -> int:
        return len(self.conflicted_reviewers)


@dataclass(frozen=True)
class Result:
    criteria: tuple[CriterionRule, ...]
    rules: AggregationRules
    max_possible: Decimal
    threshold_points: Decimal | None  # effective: points, or share × maximum
    proposals: tuple[ProposalResult, ...]  # rank order; proposals under the minimum last
    budget_used: int
    budget_remaining: int | None
    unresolved_ties: tuple[tuple[Key, ...], ...]
    ties_split_by_budget: tuple[tuple[Key, ...], ...]  # needs the committee's decision

    def proposal(self, key: Key) -> ProposalResult:
        for row in self.proposals:
            if row.key == key:
                return row
        raise KeyError(key)

    @property
    def recommended(self) -> tuple[ProposalResult, ...]:
        return tuple(row for row in self.proposals if row.recommended)


# ---------------------------------------------------------------- aggregation

def aggregate(criteria: Sequence[CriterionRule], rules: AggregationRules,
              proposals: Iterable[ProposalInfo], sheets: Iterable[ScoreSheet],
              conflicts: Iterable[tuple[Key, Key]] = (), *,
              panel: Iterable[Key] | None = None) -> Result:
    """Score, rank and recommend. ``panel`` (the reviewer keys), when given,
    makes a missing sheet an error: every member scores every proposal they
    are not conflicted on."""
    criteria, max_possible = check_criteria(tuple(criteria))
    threshold = check_rules(rules, {c.key for c in criteria}, max_possible)
    infos = check_proposals(proposals)
    panel_set = frozenset(panel) if panel is not None else None
    conflict_set = check_conflicts(conflicts, infos, panel_set)
    grouped = collect_sheets(criteria, infos, sheets, conflict_set, panel_set)

    scored = {key: _score(info, grouped[key], criteria, rules, max_possible, threshold, conflict_set)
              for key, info in infos.items()}
    order, ranks, tie_used, tied_with, unresolved = _rank(scored, infos, rules)
    recommended, over_budget, used = _allocate(order, scored, infos, rules)

    split = tuple(group for group in unresolved
                  if len({key in recommended for key in group}) > 1)
    unranked = sorted((k for k in infos if k not in ranks), key=lambda k: code_order(infos[k].code))
    rows = []
    for key in [*order, *unranked]:
        row = scored[key]
        reasons = _reasons(row, key in over_budget)
        rows.append(ProposalResult(
            **row, rank=ranks.get(key), tie_break_used=tie_used.get(key),
            tied_with=tied_with.get(key, ()), recommended=key in recommended, reasons=reasons))
    return Result(
        criteria=criteria, rules=rules, max_possible=max_possible, threshold_points=threshold,
        proposals=tuple(rows), budget_used=used,
        budget_remaining=None if rules.budget_total is None else rules.budget_total - used,
        unresolved_ties=unresolved, ties_split_by_budget=split)


def _score(info, by_reviewer, criteria, rules, max_possible, threshold, conflicts) -> dict[str, Any]:
    """One proposal's figures, everything but rank and recommendation."""
    decimals, rounding = rules.decimals, rules.rounding
    totals = {reviewer: weighted_total(criteria, scores) for reviewer, scores in by_reviewer.items()}
    n = len(totals)
    sums = {c.key: sum(scores[c.key] for scores in by_reviewer.values()) for c in criteria}
    row: dict[str, Any] = dict(
        key=info.key, code=info.code, requested_amount=info.requested_amount,
        reviewer_totals=dict(sorted(totals.items(), key=lambda item: key_order(item[0]))),
        scorer_count=n,
        conflicted_reviewers=tuple(sorted((r for r, p in conflicts if p == info.key), key=key_order)),
        trimmed=False, dropped_low=None, dropped_high=None, criterion_sums=sums,
        criterion_means={}, score_sum=None, score_divisor=None, score_unrounded=None, score=None,
        share_of_max=None, passes_threshold=False, vetoed=False, veto_count=None,
        min_scorers=info.min_scorers,
        under_minimum=n == 0 or (info.min_scorers is not None and n < info.min_scorers))
    if n == 0:
        return row
    kept = dict(totals)
    if rules.method == "trimmed_mean" and n >= rules.trim_min_scorers:
        # Sort by total, then reviewer key; drop both ends. Among equal
        # totals the choice only changes which key is shown as dropped.
        ascending = sorted(totals, key=lambda r: (totals[r], key_order(r)))
        row.update(trimmed=True, dropped_low=ascending[0], dropped_high=ascending[-1])
        del kept[ascending[0]], kept[ascending[-1]]
    score_sum = exact_sum(kept[r] for r in sorted(kept, key=key_order))
    exact = Fraction(score_sum) / len(kept)
    score = round_fraction(exact, decimals, rounding)
    row.update(
        criterion_means={key: round_fraction(Fraction(total, n), decimals, rounding)
                         for key, total in sums.items()},
        score_sum=score_sum, score_divisor=len(kept), score_unrounded=unrounded(exact), score=score,
        share_of_max=round_fraction(exact / Fraction(max_possible), decimals + 2, rounding),
        passes_threshold=threshold is None or score >= threshold)
    if rules.veto is not None:
        count = sum(1 for scores in by_reviewer.values()
                    if scores[rules.veto.criterion_key] <= rules.veto.at_or_below)
        row.update(veto_count=count, vetoed=2 * count > n)
    return row


def _rank(scored, infos, rules):
    """Order by score, then each tie-break criterion's mean (higher first),
    then by anonymous code. Proposals equal on all of these share a rank
    (1, 2, 2, 4); the code order between them is only a stable listing."""
    ranked = [key for key, row in scored.items() if not row["under_minimum"]]

    def figures(key):
        row = scored[key]
        return (row["score"], *(row["criterion_means"][c] for c in rules.tie_breaks))

    ranked.sort(key=lambda k: (tuple(-x for x in figures(k)), code_order(infos[k].code)))
    ranks: dict[Key, int] = {}
    for position, key in enumerate(ranked):
        previous = ranked[position - 1] if position else None
        same = previous is not None and figures(previous) == figures(key)
        ranks[key] = ranks[previous] if same else position + 1

    groups: dict[int, list[Key]] = {}
    for key in ranked:
        groups.setdefault(ranks[key], []).append(key)
    unresolved = tuple(tuple(group) for group in groups.values() if len(group) > 1)
    tied_with = {key: tuple(k for k in group if k != key) for group in unresolved for key in group}

    def separating_level(a, b):
        fa, fb = figures(a), figures(b)
        if fa[0] != fb[0]:
            return None  # different scores: no tie-break involved
        for level in range(1, len(fa)):
            if fa[level] != fb[level]:
                return level - 1
        return None  # still tied

    tie_used: dict[Key, str] = {}
    for position, key in enumerate(ranked):
        neighbours = ranked[max(position - 1, 0):position] + ranked[position + 1:position + 2]
        levels = [lv for lv in (separating_level(key, other) for other in neighbours) if lv is not None]
        if levels:
            tie_used[key] = rules.tie_breaks[max(levels)]
    return ranked, ranks, tie_used, tied_with, unresolved


def _allocate(order, scored, infos, rules) -> tuple[set[Key], set[Key], int]:
    """Walk the ranking; recommend each eligible proposal (passes, not vetoed)
    whose request fits the remaining budget. 'skip': one that does not fit is
    passed over and the walk goes on; 'stop': the walk ends there."""
    recommended, over_budget, used = set(), set(), 0
    stopped = False
    for key in order:
        row = scored[key]
        if not row["passes_threshold"] or row["vetoed"]:
            continue
        amount = infos[key].requested_amount
        if rules.budget_total is None:
            recommended.add(key)
        elif stopped or used + amount > rules.budget_total:
            over_budget.add(key)
            stopped = rules.budget_policy == "stop"
        else:
            recommended.add(key)
            used += amount
    return recommended, over_budget, used


def _reasons(row, over_budget: bool) -> tuple[str, ...]:
    if row["scorer_count"] == 0:
        return (NO_SCORERS,)
    if row["under_minimum"]:
        return (UNDER_MINIMUM,)
    reasons = []
    if not row["passes_threshold"]:
        reasons.append(BELOW_THRESHOLD)
    if row["vetoed"]:
        reasons.append(VETOED)
    if over_budget:
        reasons.append(OVER_BUDGET)
    return tuple(reasons)

