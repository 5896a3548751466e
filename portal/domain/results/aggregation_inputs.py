"""What ``aggregate`` takes (criteria, rules, proposals, score sheets) and
the checks that refuse bad input before any figure is computed: a score off
the scale, an unknown criterion, an incomplete sheet or a sheet from a
conflicted reviewer raises ``AggregationError``; nothing is guessed or
silently dropped. Plain Python: no Flask, no database.
"""
from __future__ import annotations

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
    Decimal,
)
from typing import Literal

from .exact import (
    EXACT,
    AggregationError,
    Key,
    as_decimal,
    exact,
    exact_sum,
    is_int,
    key_order,
)

ROUNDING_MODES = frozenset({ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_HALF_DOWN, ROUND_UP,
                            ROUND_DOWN, ROUND_CEILING, ROUND_FLOOR, ROUND_05UP})


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
    # The call's minimum of valid sheets, for the words only: the number each
    # proposal needs is its ``ProposalInfo.min_scorers`` (None here: every
    # assigned member without a conflict).
    min_valid_sheets: int | None = None


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
    # The fewest valid sheets that make the proposal's score count (採点の成立);
    # None: no minimum beyond one scorer.
    min_scorers: int | None = None



# ---------------------------------------------------------------- checks

def check_criteria(criteria: Sequence[CriterionRule]) -> tuple[tuple[CriterionRule, ...], Decimal]:
    if not criteria:
        raise AggregationError("審査基準がありません。", code="no_criteria")
    checked, seen = [], set()
    for criterion in criteria:
        if criterion.key in seen:
            raise AggregationError(f"審査基準「{criterion.key}」が重複しています。", code="duplicate_criterion",
                                   criterion_key=criterion.key)
        seen.add(criterion.key)
        weight = as_decimal(criterion.weight, f"「{criterion.name}」の重み")
        if weight < 0:
            raise AggregationError(f"「{criterion.name}」の重みが負です。", code="bad_weight",
                                   criterion_key=criterion.key)
        if not (is_int(criterion.scale_min) and is_int(criterion.scale_max)
                and 0 <= criterion.scale_min < criterion.scale_max):
            raise AggregationError(f"「{criterion.name}」の尺度は 0 以上の整数で、最小 < 最大にしてください。",
                                   code="bad_scale", criterion_key=criterion.key)
        checked.append(CriterionRule(criterion.key, criterion.name, weight,
                                     criterion.scale_min, criterion.scale_max))
    max_possible = exact_sum(exact(EXACT.multiply, c.weight, Decimal(c.scale_max)) for c in checked)
    if max_possible <= 0:
        raise AggregationError("満点が 0 です（重みがすべて 0）。", code="bad_weight")
    return tuple(checked), max_possible


def check_rules(rules: AggregationRules, keys: set[str], max_possible: Decimal) -> Decimal | None:
    """Validate the call's rules; return the effective threshold in points."""
    if rules.method not in ("mean", "trimmed_mean"):
        raise AggregationError(f"集計方法 {rules.method!r} は使えません。", code="bad_rules")
    if rules.method == "trimmed_mean" and not (is_int(rules.trim_min_scorers) and rules.trim_min_scorers >= 3):
        raise AggregationError("最高点・最低点を除くには、最低人数を 3 以上にしてください。", code="bad_rules")
    if not (is_int(rules.decimals) and 0 <= rules.decimals <= 10):
        raise AggregationError("小数点以下の桁数は 0〜10 にしてください。", code="bad_rules")
    if rules.rounding not in ROUNDING_MODES:
        raise AggregationError(f"端数処理 {rules.rounding!r} は使えません。", code="bad_rules")
    if rules.budget_policy not in ("skip", "stop"):
        raise AggregationError(f"予算の扱い {rules.budget_policy!r} は使えません。", code="bad_rules")
    if rules.budget_total is not None and not (is_int(rules.budget_total) and rules.budget_total >= 0):
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
        if rules.veto.quorum != "majority" or not is_int(rules.veto.at_or_below):
            raise AggregationError("否決の条件が正しくありません。", code="bad_rules")
    if rules.threshold_points is not None and rules.threshold_share is not None:
        raise AggregationError("合格基準は点数か満点に対する割合の一方だけを指定してください。", code="bad_rules")
    if rules.threshold_points is not None:
        threshold = as_decimal(rules.threshold_points, "合格基準点")
    elif rules.threshold_share is not None:
        share = as_decimal(rules.threshold_share, "合格基準の割合")
        if not 0 <= share <= 1:
            raise AggregationError("合格基準の割合は 0〜1 にしてください。", code="bad_rules")
        threshold = exact(EXACT.multiply, share, max_possible)
    else:
        return None
    if not 0 <= threshold <= max_possible:
        raise AggregationError(f"合格基準点 {threshold} が 0〜満点 {max_possible} の範囲外です。", code="bad_rules")
    return threshold


def check_proposals(proposals: Iterable[ProposalInfo]) -> dict[Key, ProposalInfo]:
    infos: dict[Key, ProposalInfo] = {}
    codes = set()
    for info in proposals:
        if info.key in infos or info.code in codes:
            raise AggregationError(f"提案 {info.code} が重複しています。", code="duplicate_proposal",
                                   proposal_key=info.key)
        if not (is_int(info.requested_amount) and info.requested_amount >= 0):
            raise AggregationError(f"{info.code} の要望額は 0 以上の整数（円）にしてください。",
                                   code="bad_amount", proposal_key=info.key)
        if info.min_scorers is not None and not (is_int(info.min_scorers) and info.min_scorers >= 0):
            raise AggregationError(f"{info.code} の必要な採点票の数は 0 以上の整数にしてください。",
                                   code="bad_rules", proposal_key=info.key)
        infos[info.key] = info
        codes.add(info.code)
    return infos


def collect_sheets(criteria, infos, sheets, conflicts, panel) -> dict[Key, dict[Key, Mapping[str, int]]]:
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
            if not is_int(value):
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
            for reviewer in sorted(panel, key=key_order):
                if reviewer not in by_reviewer and (reviewer, proposal) not in conflicts:
                    raise AggregationError(f"委員 {reviewer} の {infos[proposal].code} の採点票がありません。",
                                           code="missing_sheet", reviewer_key=reviewer, proposal_key=proposal)
    return grouped


def check_conflicts(conflicts, infos, panel) -> frozenset[tuple[Key, Key]]:
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

