"""The advisory normalised view beside the raw ranking: each reviewer's
totals standardised (z-scores), the proposals ranked by their mean z, and
reviewers flagged harsh or lenient, with its JSON. It decides nothing;
``aggregate`` never reads it. Plain Python: no Flask, no database.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from .aggregation import ProposalResult, Result
from .exact import (
    EXACT,
    Z_CONTEXT,
    Z_PRECISION,
    Key,
    as_decimal,
    code_order,
    exact,
    exact_sum,
    key_order,
    round_fraction,
)
from .result_json import decimal_text


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
    flag_points = exact(EXACT.multiply, as_decimal(flag_share, "flag_share"), result.max_possible)
    rows_by_key = {row.key: row for row in result.proposals}
    by_reviewer: dict[Key, dict[Key, Decimal]] = {}
    for row in result.proposals:
        for reviewer, total in row.reviewer_totals.items():
            by_reviewer.setdefault(reviewer, {})[row.key] = total
    proposal_sums = {row.key: exact_sum(row.reviewer_totals.values()) for row in result.proposals}

    z_scores: dict[Key, dict[Key, Decimal]] = {}
    profiles = []
    for reviewer in sorted(by_reviewer, key=key_order):
        totals = by_reviewer[reviewer]
        n, s1 = len(totals), exact_sum(totals.values())
        # n·σ = √(n·Σt² − (Σt)²) and z = (n·t − Σt) / (n·σ): exact up to the
        # one square root and the one division, each correctly rounded.
        s2 = exact_sum(exact(EXACT.multiply, t, t) for t in totals.values())
        spread = exact(EXACT.subtract, exact(EXACT.multiply, Decimal(n), s2), exact(EXACT.multiply, s1, s1))
        root = Z_CONTEXT.sqrt(spread) if n >= 2 and spread else None
        z_scores[reviewer] = {
            p: Decimal(0) if root is None
            else Z_CONTEXT.divide(exact(EXACT.subtract, exact(EXACT.multiply, Decimal(n), t), s1), root)
            for p, t in sorted(totals.items(), key=lambda item: key_order(item[0]))}
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
            gap = exact(EXACT.subtract, exact(EXACT.multiply, Decimal(m), own), sums[proposal])
            gaps.append(Fraction(gap) / (m - 1))
    return (sum(gaps) / len(gaps) if gaps else None), len(gaps)


# ---------------------------------------------------------------- JSON

def normalised_view_to_dict(view: NormalisedView) -> dict[str, Any]:
    return {
        "advisory": view.advisory, "z_precision": view.z_precision, "flag_points": decimal_text(view.flag_points),
        "rows": [{"key": r.key, "code": r.code, "scorer_count": r.scorer_count, "mean_z": decimal_text(r.mean_z),
                  "rank": r.rank, "raw_rank": r.raw_rank, "raw_score": decimal_text(r.raw_score)} for r in view.rows],
        "reviewers": [{"reviewer_key": p.reviewer_key, "scored": p.scored, "mean_total": decimal_text(p.mean_total),
                       "std_dev": decimal_text(p.std_dev), "leniency": decimal_text(p.leniency), "flag": p.flag,
                       "z_scores": {str(k): decimal_text(v) for k, v in p.z_scores.items()}}
                      for p in view.reviewers],
    }
