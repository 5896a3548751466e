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
- Bad input (a score off the scale, an unknown criterion, an incomplete sheet,
  a sheet from a conflicted reviewer) raises `AggregationError`; nothing is
  guessed or silently dropped.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import Any, Literal, Union

Key = Union[str, int]  # reviewer and proposal keys: the DB ids, or their str()

NO_SCORERS = "no_scorers"
BELOW_THRESHOLD = "below_threshold"
VETOED = "vetoed"
OVER_BUDGET = "over_budget"

ROUNDING_MODES = frozenset({ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_UP,
                            ROUND_DOWN, ROUND_CEILING, ROUND_FLOOR, ROUND_05UP})
UNROUNDED_DIGITS = 40  # significant digits of the "unrounded" figures kept for audit
Z_PRECISION = 28  # significant digits for standard deviations and z-scores

# Sums and products of Decimal weights and integer scores must be exact: this
# context raises on any rounding instead of rounding quietly.
_EXACT = Context(prec=80, traps=[InvalidOperation, Inexact, Overflow, DivisionByZero])
_Z = Context(prec=Z_PRECISION, traps=[InvalidOperation, Overflow, DivisionByZero])


class AggregationError(ValueError):
    """Input the aggregation refuses to guess about. ``code`` is stable for
    programs; the message (Japanese) is for the secretariat."""

    def __init__(self, message: str, *, code: str, reviewer_key: Key | None = None,
                 proposal_key: Key | None = None, criterion_key: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.reviewer_key = reviewer_key
        self.proposal_key = proposal_key
        self.criterion_key = criterion_key


# ---------------------------------------------------------------- inputs

@dataclass(frozen=True)
class CriterionRule:
    key: str
    name: str
    weight: Decimal
    scale_min: int
    scale_max: int


@dataclass(frozen=True)
class VetoRule:
    """Not recommended when more than half of the scorers (all counted
    scorers, before any trimming) gave ``criterion_key`` a score of
    ``at_or_below`` or less. Exactly half is not a majority."""

    criterion_key: str
    at_or_below: int
    quorum: Literal["majority"] = "majority"


@dataclass(frozen=True)
class AggregationRules:
    method: Literal["mean", "trimmed_mean"] = "mean"
    trim_min_scorers: int = 5
    threshold_points: Decimal | None = None
    threshold_share: Decimal | None = None  # of the maximum, e.g. Decimal("0.6")
    veto: VetoRule | None = None
    tie_breaks: tuple[str, ...] = ()
    budget_total: int | None = None  # yen
    budget_policy: Literal["skip", "stop"] = "skip"
    decimals: int = 2
    rounding: str = ROUND_HALF_UP


@dataclass(frozen=True)
class ScoreSheet:
    reviewer_key: Key
    proposal_key: Key
    scores: Mapping[str, int]


@dataclass(frozen=True)
class ProposalInfo:
    key: Key
    code: str  # the anonymous code, e.g. 提案07
    requested_amount: int  # yen


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

    @property
    def conflicted_count(self) -> int:
        return len(self.conflicted_reviewers)


@dataclass(frozen=True)
class Result:
    criteria: tuple[CriterionRule, ...]
    rules: AggregationRules
    max_possible: Decimal
    threshold_points: Decimal | None  # effective: points, or share × maximum
    proposals: tuple[ProposalResult, ...]  # rank order; proposals without scorers last
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


# ---------------------------------------------------------------- arithmetic

def round_fraction(value: Fraction, decimals: int, rounding: str) -> Decimal:
    """Round an exact rational once, correctly, with any decimal rounding mode.

    The quotient is cut to decimals + 1 digits and a final sticky digit 1 is
    appended when anything non-zero was cut, so ``quantize`` sees the first
    discarded digit exactly and knows whether anything follows it. No double
    rounding, whatever the denominator."""
    numerator, denominator = abs(value.numerator), value.denominator
    quotient, remainder = divmod(numerator * 10 ** (decimals + 1), denominator)
    digits = str(quotient * 10 + (1 if remainder else 0))
    cut = Decimal((1 if value < 0 else 0, tuple(int(d) for d in digits), -(decimals + 2)))
    rounded = cut.quantize(Decimal((0, (1,), -decimals)), rounding=rounding,
                           context=Context(prec=len(digits) + 2))
    return rounded if rounded else rounded.copy_abs()  # never "-0.00"


def _unrounded(value: Fraction) -> Decimal:
    return Context(prec=UNROUNDED_DIGITS).divide(Decimal(value.numerator), Decimal(value.denominator))


def _exact(operation, *args) -> Decimal:
    try:
        return operation(*args)
    except Inexact:
        raise AggregationError("重みの桁数が多すぎて正確に計算できません。", code="inexact") from None


def _weighted_total(criteria: Sequence[CriterionRule], scores: Mapping[str, int]) -> Decimal:
    total = Decimal(0)
    for criterion in criteria:
        product = _exact(_EXACT.multiply, criterion.weight, Decimal(scores[criterion.key]))
        total = _exact(_EXACT.add, total, product)
    return total


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = _exact(_EXACT.add, total, value)
    return total


_DIGIT_RUN = re.compile(r"([0-9]+)")


def code_order(code: str) -> tuple:
    """Natural order of anonymous codes: 提案7 before 提案10."""
    parts = _DIGIT_RUN.split(code)
    return (tuple(int(part) if i % 2 else part for i, part in enumerate(parts)), code)


def _key_order(key: Key) -> tuple:
    return (isinstance(key, str), key)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_decimal(value: Any, what: str) -> Decimal:
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise AggregationError(f"{what}は Decimal または整数で指定してください（{type(value).__name__} は使えません）。",
                           code="not_decimal")


# ---------------------------------------------------------------- validation

def _check_criteria(criteria: Sequence[CriterionRule]) -> tuple[tuple[CriterionRule, ...], Decimal]:
    if not criteria:
        raise AggregationError("審査基準がありません。", code="no_criteria")
    checked, seen = [], set()
    for criterion in criteria:
        if criterion.key in seen:
            raise AggregationError(f"審査基準「{criterion.key}」が重複しています。", code="duplicate_criterion",
                                   criterion_key=criterion.key)
        seen.add(criterion.key)
        weight = _as_decimal(criterion.weight, f"「{criterion.name}」の重み")
        if weight < 0:
            raise AggregationError(f"「{criterion.name}」の重みが負です。", code="bad_weight",
                                   criterion_key=criterion.key)
        if not (_is_int(criterion.scale_min) and _is_int(criterion.scale_max)
                and 0 <= criterion.scale_min < criterion.scale_max):
            raise AggregationError(f"「{criterion.name}」の尺度は 0 以上の整数で、最小 < 最大にしてください。",
                                   code="bad_scale", criterion_key=criterion.key)
        checked.append(CriterionRule(criterion.key, criterion.name, weight,
                                     criterion.scale_min, criterion.scale_max))
    max_possible = _sum(_exact(_EXACT.multiply, c.weight, Decimal(c.scale_max)) for c in checked)
    if max_possible <= 0:
        raise AggregationError("満点が 0 です（重みがすべて 0）。", code="bad_weight")
    return tuple(checked), max_possible


def _check_rules(rules: AggregationRules, keys: set[str], max_possible: Decimal) -> Decimal | None:
    """Validate the call's rules; return the effective threshold in points."""
    if rules.method not in ("mean", "trimmed_mean"):
        raise AggregationError(f"集計方法 {rules.method!r} は使えません。", code="bad_rules")
    if rules.method == "trimmed_mean" and not (_is_int(rules.trim_min_scorers) and rules.trim_min_scorers >= 3):
        raise AggregationError("最高点・最低点を除くには、最低人数を 3 以上にしてください。", code="bad_rules")
    if not (_is_int(rules.decimals) and 0 <= rules.decimals <= 10):
        raise AggregationError("小数点以下の桁数は 0〜10 にしてください。", code="bad_rules")
    if rules.rounding not in ROUNDING_MODES:
        raise AggregationError(f"端数処理 {rules.rounding!r} は使えません。", code="bad_rules")
    if rules.budget_policy not in ("skip", "stop"):
        raise AggregationError(f"予算の扱い {rules.budget_policy!r} は使えません。", code="bad_rules")
    if rules.budget_total is not None and not (_is_int(rules.budget_total) and rules.budget_total >= 0):
        raise AggregationError("予算総額は 0 以上の整数（円）にしてください。", code="bad_rules")
    if len(set(rules.tie_breaks)) != len(rules.tie_breaks):
        raise AggregationError("同点時の基準が重複しています。", code="bad_rules")
    for key in rules.tie_breaks:
        if key not in keys:
            raise AggregationError(f"同点時の基準「{key}」は審査基準にありません。", code="unknown_criterion",
                                   criterion_key=key)
    if rules.veto is not None:
        if rules.veto.criterion_key not in keys:
            raise AggregationError(f"否決の基準「{rules.veto.criterion_key}」は審査基準にありません。",
                                   code="unknown_criterion", criterion_key=rules.veto.criterion_key)
        if rules.veto.quorum != "majority" or not _is_int(rules.veto.at_or_below):
            raise AggregationError("否決の条件が正しくありません。", code="bad_rules")
    if rules.threshold_points is not None and rules.threshold_share is not None:
        raise AggregationError("合格基準は点数か満点に対する割合の一方だけを指定してください。", code="bad_rules")
    if rules.threshold_points is not None:
        threshold = _as_decimal(rules.threshold_points, "合格基準点")
    elif rules.threshold_share is not None:
        share = _as_decimal(rules.threshold_share, "合格基準の割合")
        if not 0 <= share <= 1:
            raise AggregationError("合格基準の割合は 0〜1 にしてください。", code="bad_rules")
        threshold = _exact(_EXACT.multiply, share, max_possible)
    else:
        return None
    if not 0 <= threshold <= max_possible:
        raise AggregationError(f"合格基準点 {threshold} が 0〜満点 {max_possible} の範囲外です。", code="bad_rules")
    return threshold


def _check_proposals(proposals: Iterable[ProposalInfo]) -> dict[Key, ProposalInfo]:
    infos: dict[Key, ProposalInfo] = {}
    codes = set()
    for info in proposals:
        if info.key in infos or info.code in codes:
            raise AggregationError(f"提案 {info.code} が重複しています。", code="duplicate_proposal",
                                   proposal_key=info.key)
        if not (_is_int(info.requested_amount) and info.requested_amount >= 0):
            raise AggregationError(f"{info.code} の要望額は 0 以上の整数（円）にしてください。",
                                   code="bad_amount", proposal_key=info.key)
        infos[info.key] = info
        codes.add(info.code)
    return infos


def _collect(criteria, infos, sheets, conflicts, panel) -> dict[Key, dict[Key, Mapping[str, int]]]:
    """Sheets by proposal, then by reviewer, each checked in full."""
    by_key = {c.key: c for c in criteria}
    grouped: dict[Key, dict[Key, Mapping[str, int]]] = {key: {} for key in infos}
    for sheet in sheets:
        reviewer, proposal = sheet.reviewer_key, sheet.proposal_key
        where = dict(reviewer_key=reviewer, proposal_key=proposal)
        if proposal not in infos:
            raise AggregationError(f"採点票の提案 {proposal!r} は対象の提案にありません。",
                                   code="unknown_proposal", **where)
        label = f"採点票（委員 {reviewer}・{infos[proposal].code}）"
        if panel is not None and reviewer not in panel:
            raise AggregationError(f"{label}: 審査委員の名簿にない委員です。", code="unknown_reviewer", **where)
        if (reviewer, proposal) in conflicts:
            raise AggregationError(f"{label}: 利害関係のある委員の採点票は受け付けません。",
                                   code="conflicted_sheet", **where)
        if reviewer in grouped[proposal]:
            raise AggregationError(f"{label}が重複しています。", code="duplicate_sheet", **where)
        scores = dict(sheet.scores)
        for key in scores:
            if key not in by_key:
                raise AggregationError(f"{label}: 審査基準「{key}」は存在しません。", code="unknown_criterion",
                                       criterion_key=key, **where)
        for criterion in criteria:
            if criterion.key not in scores:
                raise AggregationError(f"{label}: 「{criterion.name}」が未採点です（不完全な採点票）。",
                                       code="incomplete_sheet", criterion_key=criterion.key, **where)
            value = scores[criterion.key]
            if not _is_int(value):
                raise AggregationError(f"{label}: 「{criterion.name}」の点数は整数にしてください。",
                                       code="not_integer", criterion_key=criterion.key, **where)
            if not criterion.scale_min <= value <= criterion.scale_max:
                raise AggregationError(
                    f"{label}: 「{criterion.name}」の点数 {value} は尺度 {criterion.scale_min}〜"
                    f"{criterion.scale_max} の範囲外です。", code="out_of_scale",
                    criterion_key=criterion.key, **where)
        grouped[proposal][reviewer] = scores
    if panel is not None:
        for proposal, by_reviewer in grouped.items():
            for reviewer in sorted(panel, key=_key_order):
                if reviewer not in by_reviewer and (reviewer, proposal) not in conflicts:
                    raise AggregationError(f"委員 {reviewer} の {infos[proposal].code} の採点票がありません。",
                                           code="missing_sheet", reviewer_key=reviewer, proposal_key=proposal)
    return grouped


def _check_conflicts(conflicts, infos, panel) -> frozenset[tuple[Key, Key]]:
    checked = set()
    for pair in conflicts:
        reviewer, proposal = pair
        if proposal not in infos:
            raise AggregationError(f"利害関係の提案 {proposal!r} は対象の提案にありません。",
                                   code="unknown_proposal", reviewer_key=reviewer, proposal_key=proposal)
        if panel is not None and reviewer not in panel:
            raise AggregationError(f"利害関係の委員 {reviewer!r} は審査委員の名簿にありません。",
                                   code="unknown_reviewer", reviewer_key=reviewer, proposal_key=proposal)
        checked.add((reviewer, proposal))
    return frozenset(checked)


# ---------------------------------------------------------------- aggregation

def aggregate(criteria: Sequence[CriterionRule], rules: AggregationRules,
              proposals: Iterable[ProposalInfo], sheets: Iterable[ScoreSheet],
              conflicts: Iterable[tuple[Key, Key]] = (), *,
              panel: Iterable[Key] | None = None) -> Result:
    """Score, rank and recommend. ``panel`` (the reviewer keys), when given,
    makes a missing sheet an error: every member scores every proposal they
    are not conflicted on."""
    criteria, max_possible = _check_criteria(tuple(criteria))
    threshold = _check_rules(rules, {c.key for c in criteria}, max_possible)
    infos = _check_proposals(proposals)
    panel_set = frozenset(panel) if panel is not None else None
    conflict_set = _check_conflicts(conflicts, infos, panel_set)
    grouped = _collect(criteria, infos, sheets, conflict_set, panel_set)

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
    totals = {reviewer: _weighted_total(criteria, scores) for reviewer, scores in by_reviewer.items()}
    n = len(totals)
    sums = {c.key: sum(scores[c.key] for scores in by_reviewer.values()) for c in criteria}
    row: dict[str, Any] = dict(
        key=info.key, code=info.code, requested_amount=info.requested_amount,
        reviewer_totals=dict(sorted(totals.items(), key=lambda item: _key_order(item[0]))),
        scorer_count=n,
        conflicted_reviewers=tuple(sorted((r for r, p in conflicts if p == info.key), key=_key_order)),
        trimmed=False, dropped_low=None, dropped_high=None, criterion_sums=sums,
        criterion_means={}, score_sum=None, score_divisor=None, score_unrounded=None, score=None,
        share_of_max=None, passes_threshold=False, vetoed=False, veto_count=None)
    if n == 0:
        return row
    kept = dict(totals)
    if rules.method == "trimmed_mean" and n >= rules.trim_min_scorers:
        # Sort by total, then reviewer key; drop both ends. Among equal
        # totals the choice only changes which key is shown as dropped.
        ascending = sorted(totals, key=lambda r: (totals[r], _key_order(r)))
        row.update(trimmed=True, dropped_low=ascending[0], dropped_high=ascending[-1])
        del kept[ascending[0]], kept[ascending[-1]]
    score_sum = _sum(kept[r] for r in sorted(kept, key=_key_order))
    exact = Fraction(score_sum) / len(kept)
    score = round_fraction(exact, decimals, rounding)
    row.update(
        criterion_means={key: round_fraction(Fraction(total, n), decimals, rounding)
                         for key, total in sums.items()},
        score_sum=score_sum, score_divisor=len(kept), score_unrounded=_unrounded(exact), score=score,
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
    ranked = [key for key, row in scored.items() if row["scorer_count"] > 0]

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
    reasons = []
    if not row["passes_threshold"]:
        reasons.append(BELOW_THRESHOLD)
    if row["vetoed"]:
        reasons.append(VETOED)
    if over_budget:
        reasons.append(OVER_BUDGET)
    return tuple(reasons)


# ---------------------------------------------------------------- normalised view

@dataclass(frozen=True)
class ReviewerProfile:
    reviewer_key: Key
    scored: int
    mean_total: Decimal
    std_dev: Decimal | None  # population σ; None when fewer than 2 proposals
    leniency: Decimal | None  # mean of (own total − others' mean total); None if never compared
    flag: Literal["harsh", "lenient"] | None
    z_scores: Mapping[Key, Decimal]  # rounded; all 0 when σ is 0 or scored < 2


@dataclass(frozen=True)
class NormalisedRow:
    key: Key
    code: str
    scorer_count: int
    mean_z: Decimal | None
    rank: int | None
    raw_rank: int | None
    raw_score: Decimal | None


@dataclass(frozen=True)
class NormalisedView:
    """Advisory only: shown to the secretariat beside the raw ranking. It
    decides nothing; `aggregate` never reads it."""

    rows: tuple[NormalisedRow, ...]
    reviewers: tuple[ReviewerProfile, ...]
    flag_points: Decimal
    advisory: bool = True
    z_precision: int = Z_PRECISION


def normalised_view(result: Result, *, flag_share: Decimal = Decimal("0.1"),
                    min_compared: int = 2) -> NormalisedView:
    """Standardise each reviewer's totals, z = (T − μ_r) / σ_r, and rank the
    proposals by the mean z of their scorers (no trimming). A reviewer is
    flagged harsh (lenient) when their totals are, on average, at least
    flag_share × maximum below (above) the mean of the other scorers of the
    same proposals, compared on at least ``min_compared`` proposals (one
    disagreement is not a habit)."""
    decimals, rounding = result.rules.decimals, result.rules.rounding
    flag_points = _exact(_EXACT.multiply, _as_decimal(flag_share, "flag_share"), result.max_possible)
    rows_by_key = {row.key: row for row in result.proposals}
    by_reviewer: dict[Key, dict[Key, Decimal]] = {}
    for row in result.proposals:
        for reviewer, total in row.reviewer_totals.items():
            by_reviewer.setdefault(reviewer, {})[row.key] = total
    proposal_sums = {row.key: _sum(row.reviewer_totals.values()) for row in result.proposals}

    z_scores: dict[Key, dict[Key, Decimal]] = {}
    profiles = []
    for reviewer in sorted(by_reviewer, key=_key_order):
        totals = by_reviewer[reviewer]
        n, s1 = len(totals), _sum(totals.values())
        # n·σ = √(n·Σt² − (Σt)²) and z = (n·t − Σt) / (n·σ): exact up to the
        # one square root and the one division, each correctly rounded.
        s2 = _sum(_exact(_EXACT.multiply, t, t) for t in totals.values())
        spread = _exact(_EXACT.subtract, _exact(_EXACT.multiply, Decimal(n), s2), _exact(_EXACT.multiply, s1, s1))
        root = _Z.sqrt(spread) if n >= 2 and spread else None
        z_scores[reviewer] = {
            p: Decimal(0) if root is None
            else _Z.divide(_exact(_EXACT.subtract, _exact(_EXACT.multiply, Decimal(n), t), s1), root)
            for p, t in sorted(totals.items(), key=lambda item: _key_order(item[0]))}
        leniency, compared = _leniency(reviewer, totals, rows_by_key, proposal_sums)
        rounded_leniency = None if leniency is None else round_fraction(leniency, decimals, rounding)
        flag = None
        if rounded_leniency is not None and compared >= min_compared and flag_points > 0:
            if rounded_leniency <= -flag_points:
                flag = "harsh"
            elif rounded_leniency >= flag_points:
                flag = "lenient"
        profiles.append(ReviewerProfile(
            reviewer_key=reviewer, scored=n, mean_total=round_fraction(Fraction(s1) / n, decimals, rounding),
            std_dev=None if n < 2 else round_fraction(Fraction(root or 0) / n, decimals, rounding),
            leniency=rounded_leniency, flag=flag,
            z_scores={p: round_fraction(Fraction(z), decimals, rounding) for p, z in z_scores[reviewer].items()}))

    means = {}
    for row in result.proposals:
        if row.scorer_count:
            zs = [Fraction(z_scores[r][row.key]) for r in row.reviewer_totals]
            means[row.key] = round_fraction(sum(zs) / len(zs), decimals, rounding)
    codes = {row.key: row.code for row in result.proposals}
    order = sorted(means, key=lambda k: (-means[k], code_order(codes[k])))
    ranks: dict[Key, int] = {}
    for position, key in enumerate(order):
        previous = order[position - 1] if position else None
        ranks[key] = ranks[previous] if previous is not None and means[previous] == means[key] else position + 1
    unranked = [row.key for row in result.proposals if row.key not in means]
    rows = tuple(NormalisedRow(key=k, code=codes[k], scorer_count=rows_by_key[k].scorer_count,
                               mean_z=means.get(k), rank=ranks.get(k), raw_rank=rows_by_key[k].rank,
                               raw_score=rows_by_key[k].score) for k in [*order, *unranked])
    return NormalisedView(rows=rows, reviewers=tuple(profiles), flag_points=flag_points)


def _leniency(reviewer: Key, totals: Mapping[Key, Decimal], rows: Mapping[Key, ProposalResult],
              sums: Mapping[Key, Decimal]) -> tuple[Fraction | None, int]:
    """Mean over the reviewer's proposals of own total − the others' mean,
    t − (S − t)/(m − 1) = (m·t − S)/(m − 1), where m scored and S is their sum."""
    gaps = []
    for proposal, own in totals.items():
        m = rows[proposal].scorer_count
        if m > 1:
            gap = _exact(_EXACT.subtract, _exact(_EXACT.multiply, Decimal(m), own), sums[proposal])
            gaps.append(Fraction(gap) / (m - 1))
    return (sum(gaps) / len(gaps) if gaps else None), len(gaps)


# ---------------------------------------------------------------- JSON

def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def result_to_dict(result: Result, *, include_reviewers: bool = True) -> dict[str, Any]:
    """A JSON-ready dict: every Decimal as a string, counts, ranks and yen as
    ints; never a float. ``include_reviewers=False`` leaves out reviewer keys
    and their individual totals (counts stay) for public output."""
    rules = result.rules
    proposals = []
    for row in result.proposals:
        item: dict[str, Any] = {
            "key": row.key, "code": row.code, "requested_amount": row.requested_amount,
            "scorer_count": row.scorer_count, "conflicted_count": row.conflicted_count,
            "trimmed": row.trimmed,
            "criterion_sums": dict(row.criterion_sums),
            "criterion_means": {k: _text(v) for k, v in row.criterion_means.items()},
            "score": _text(row.score), "score_unrounded": _text(row.score_unrounded),
            "score_sum": _text(row.score_sum), "score_divisor": row.score_divisor,
            "share_of_max": _text(row.share_of_max), "passes_threshold": row.passes_threshold,
            "vetoed": row.vetoed, "veto_count": row.veto_count, "rank": row.rank,
            "tie_break_used": row.tie_break_used, "tied_with": list(row.tied_with),
            "recommended": row.recommended, "reasons": list(row.reasons),
        }
        if include_reviewers:
            item["reviewer_totals"] = {str(k): _text(v) for k, v in row.reviewer_totals.items()}
            item["conflicted_reviewers"] = list(row.conflicted_reviewers)
            item["dropped_low"], item["dropped_high"] = row.dropped_low, row.dropped_high
        proposals.append(item)
    return {
        "rules": {
            "method": rules.method, "trim_min_scorers": rules.trim_min_scorers,
            "threshold_points": _text(rules.threshold_points),
            "threshold_share": _text(rules.threshold_share),
            "veto": None if rules.veto is None else {
                "criterion_key": rules.veto.criterion_key, "at_or_below": rules.veto.at_or_below,
                "quorum": rules.veto.quorum},
            "tie_breaks": list(rules.tie_breaks), "budget_total": rules.budget_total,
            "budget_policy": rules.budget_policy, "decimals": rules.decimals, "rounding": rules.rounding,
        },
        "criteria": [{"key": c.key, "name": c.name, "weight": _text(c.weight),
                      "scale_min": c.scale_min, "scale_max": c.scale_max} for c in result.criteria],
        "max_possible": _text(result.max_possible),
        "threshold_points": _text(result.threshold_points),
        "budget_used": result.budget_used, "budget_remaining": result.budget_remaining,
        "unresolved_ties": [list(group) for group in result.unresolved_ties],
        "ties_split_by_budget": [list(group) for group in result.ties_split_by_budget],
        "proposals": proposals,
    }


def normalised_view_to_dict(view: NormalisedView) -> dict[str, Any]:
    return {
        "advisory": view.advisory, "z_precision": view.z_precision, "flag_points": _text(view.flag_points),
        "rows": [{"key": r.key, "code": r.code, "scorer_count": r.scorer_count, "mean_z": _text(r.mean_z),
                  "rank": r.rank, "raw_rank": r.raw_rank, "raw_score": _text(r.raw_score)} for r in view.rows],
        "reviewers": [{"reviewer_key": p.reviewer_key, "scored": p.scored, "mean_total": _text(p.mean_total),
                       "std_dev": _text(p.std_dev), "leniency": _text(p.leniency), "flag": p.flag,
                       "z_scores": {str(k): _text(v) for k, v in p.z_scores.items()}}
                      for p in view.reviewers],
    }
