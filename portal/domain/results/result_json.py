"""The JSON of a ranking ``Result``: every Decimal as a string, counts,
ranks and yen as ints; never a float. The published results document and
the tests read it. Plain Python: no Flask, no database.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .aggregation import Result


def decimal_text(value: Decimal | None) -> str | None:
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
            "criterion_means": {k: decimal_text(v) for k, v in row.criterion_means.items()},
            "score": decimal_text(row.score), "score_unrounded": decimal_text(row.score_unrounded),
            "score_sum": decimal_text(row.score_sum), "score_divisor": row.score_divisor,
            "share_of_max": decimal_text(row.share_of_max), "passes_threshold": row.passes_threshold,
            "vetoed": row.vetoed, "veto_count": row.veto_count, "rank": row.rank,
            "tie_break_used": row.tie_break_used, "tied_with": list(row.tied_with),
            "recommended": row.recommended, "reasons": list(row.reasons),
        }
        if include_reviewers:
            item["reviewer_totals"] = {str(k): decimal_text(v) for k, v in row.reviewer_totals.items()}
            item["conflicted_reviewers"] = list(row.conflicted_reviewers)
            item["dropped_low"], item["dropped_high"] = row.dropped_low, row.dropped_high
        proposals.append(item)
    return {
        "rules": {
            "method": rules.method, "trim_min_scorers": rules.trim_min_scorers,
            "threshold_points": decimal_text(rules.threshold_points),
            "threshold_share": decimal_text(rules.threshold_share),
            "veto": None if rules.veto is None else {
                "criterion_key": rules.veto.criterion_key, "at_or_below": rules.veto.at_or_below,
                "quorum": rules.veto.quorum},
            "tie_breaks": list(rules.tie_breaks), "budget_total": rules.budget_total,
            "budget_policy": rules.budget_policy, "decimals": rules.decimals, "rounding": rules.rounding,
        },
        "criteria": [{"key": c.key, "name": c.name, "weight": decimal_text(c.weight),
                      "scale_min": c.scale_min, "scale_max": c.scale_max} for c in result.criteria],
        "max_possible": decimal_text(result.max_possible),
        "threshold_points": decimal_text(result.threshold_points),
        "budget_used": result.budget_used, "budget_remaining": result.budget_remaining,
        "unresolved_ties": [list(group) for group in result.unresolved_ties],
        "ties_split_by_budget": [list(group) for group in result.ties_split_by_budget],
        "proposals": proposals,
    }
