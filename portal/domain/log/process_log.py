"""Appending to a call's public process log (審査プロセスの記録).

Every verb that changes what the public may check calls :func:`append` in
the same transaction as its change, so the log and the data cannot
disagree. The first entry of a call's chain is always ``call_published``;
if a verb logs before the call's publication was recorded (calls created
before the log existed, demo data), that entry is written first from the
call as it stands.

The format, hashing and verification are in ``chain.py``; this module only
stores entries. Only what the public may see goes in: anonymous codes,
reviewer pseudonyms, outcomes and reasons.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Call, LogEntry
from . import chain, report
from ..timeutil import now_utc

# The kinds of entries, as the public pages and PDFs name them.
KIND_LABELS = {
    chain.CALL_PUBLISHED: "募集の開始",
    chain.CRITERIA_CHANGED: "審査基準・ルールの変更",
    chain.PROPOSAL_RECEIVED: "提案の受付",
    chain.INTAKE_DECIDED: "受付・形式審査の結果",
    chain.RELEASED_TO_REVIEWERS: "審査委員への提供",
    chain.REVIEWER_ASSIGNED: "審査委員の割当",
    chain.REVIEWER_RECUSED: "審査委員の除斥・回避",
    chain.SCORE_SEALED: "採点の封印",
    chain.SCORING_CLOSED: "採点の締切",
    chain.SCORES_REVEALED: "採点の公開",
    chain.SCORE_REOPENED: "採点の再開",
    chain.DECISION_RECORDED: "決定の記録",
    chain.RESULTS_PUBLISHED: "結果の公表",
    chain.CORRECTION: "訂正",
    chain.AGREEMENT_CONCLUDED: "協定の締結",
    chain.ASSIGNMENT_CHANGED: "審査委員の割当の変更",
    chain.REVIEWER_WITHDREW: "審査委員の辞退",
    chain.PROJECT_DOCUMENT_PUBLISHED: "事業の文書の公開",
    chain.MINUTES_PUBLISHED: "議事録の公開",
}


def _entry(row: LogEntry) -> chain.Entry:
    return chain.Entry(row.seq, row.kind, row.at, row.payload, row.prev_hash, row.hash)


def rows(session: Session, call: Call) -> list[LogEntry]:
    return list(session.scalars(select(LogEntry).where(LogEntry.call_id == call.id).order_by(LogEntry.seq)))


def entries(session: Session, call: Call) -> list[chain.Entry]:
    return [_entry(row) for row in rows(session, call)]


def head(session: Session, call: Call) -> LogEntry | None:
    return session.scalars(
        select(LogEntry).where(LogEntry.call_id == call.id).order_by(LogEntry.seq.desc()).limit(1)
    ).first()


def criteria_payload(call: Call) -> list[dict]:
    # Weights are decimals in the database; the log allows integers only, so
    # a weight is written in hundredths (1.5 -> 150), as docs/log-format.md says.
    return [
        {"key": str(c.position), "label": c.name, "weight": int(round(c.weight * 100)),
         "min": c.scale_min, "max": c.scale_max}
        for c in call.criteria
    ]


def rules_payload(call: Call) -> list[dict]:
    """The eligibility and aggregation rules as field/value pairs (text)."""
    rules = {
        "budget_cap_per_proposal": call.budget_cap_per_proposal,
        "budget_total": call.budget_total,
        "min_members": call.min_members,
        "min_years_active": call.min_years_active,
        "requires_base_in_city": call.requires_base_in_city,
        "aggregation_method": call.aggregation_method,
        "trim_min_scorers": call.trim_min_scorers,
        "threshold_points": call.threshold_points,
        "threshold_share": call.threshold_share,
        "veto_criterion_position": call.veto_criterion_position,
        "veto_at_or_below": call.veto_at_or_below,
        "tie_break_positions": call.tie_break_positions,
        "budget_policy": call.budget_policy,
        "score_decimals": call.score_decimals,
        "deciding_stage": call.deciding_stage,
        "has_presentation": call.has_presentation,
        "allow_revision_after_presentation": call.allow_revision_after_presentation,
        # Added with docs/log-format.md v1.1: what recomputing a figure also
        # needs. Older logs lack them; a verifier then uses the defaults the
        # portal has always applied (ROUND_HALF_UP, a strict majority).
        "rounding": _rounding(),
        "veto_quorum": "majority",
        # Who scores (docs/log-format.md v1.2): "all" or "k" with k members
        # per proposal, and the valid sheets a proposal needs ("" = every
        # assigned member not excluded for a conflict). Older logs lack them.
        "assignment_mode": call.assignment_mode or "all",
        "reviewers_per_proposal": call.reviewers_per_proposal,
        "min_valid_sheets": call.min_valid_sheets,
    }
    return [{"field": key, "value": _text(value)} for key, value in rules.items()]


def _rounding() -> str:
    from ..results.aggregation import AggregationRules  # the results import this module

    return AggregationRules.__dataclass_fields__["rounding"].default


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def guidelines_digest(call: Call) -> str:
    return chain.sha256_hex(chain.canonical_json({"title": call.title, "guidelines": call.guidelines}))


def call_published_payload(call: Call) -> dict:
    return {
        "call_ref": call.slug,
        "title": call.title,
        "fiscal_year": call.fiscal_year,
        "opens_at": chain.utc_timestamp(call.opens_at),
        "closes_at": chain.utc_timestamp(call.closes_at),
        "budget_cap_yen": call.budget_cap_per_proposal,
        "criteria": criteria_payload(call),
        "rules": rules_payload(call),
        "document_sha256": guidelines_digest(call),
    }


def _lock_call(session: Session, call: Call) -> None:
    """Serialise appends to one call's chain (PostgreSQL row lock; SQLite
    serialises writers anyway)."""
    session.execute(select(Call.id).where(Call.id == call.id).with_for_update())


def append(session: Session, call: Call, kind: str, payload: dict, at: datetime | None = None) -> LogEntry:
    """Append one entry to ``call``'s chain and flush it."""
    _lock_call(session, call)
    at = at or now_utc()
    previous = head(session, call)
    if previous is None and kind != chain.CALL_PUBLISHED:
        previous = _append_row(session, call, None, chain.CALL_PUBLISHED, call_published_payload(call),
                               call.published_at or at)
    return _append_row(session, call, previous, kind, payload, at)


def _append_row(session: Session, call: Call, previous: LogEntry | None, kind: str, payload: dict,
                at: datetime) -> LogEntry:
    at_text = chain.utc_timestamp(at)
    if previous is not None and at_text < previous.at:
        # A clock step backwards (or back-dated demo data) must not break the
        # chain's rule that time never goes backwards.
        at_text = previous.at
    entry = chain.next_entry(_entry(previous) if previous else None, kind, at_text, payload)
    row = LogEntry(call_id=call.id, seq=entry.seq, kind=entry.kind, at=entry.at, payload=entry.payload,
                   prev_hash=entry.prev_hash, hash=entry.hash)
    session.add(row)
    session.flush()
    return row


def verify(session: Session, call: Call) -> report.VerificationReport:
    return chain.verify_chain(entries(session, call))
