"""The results document (``kyodo-portal/results/v1``, the JSON twin) and
its CSV twin, built from the one computation in ``results.py`` plus the
decisions. Numbers are strings or ints, never floats; proposals in rank
order; group names, titles and summaries only for adopted proposals and
groups that consented. The fields are documented in docs/transparency.md.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ...models import Call, IntakeDecision, IntakeOutcome, LogEntry, Proposal, ProposalStatus
from ..log import chain, signing
from . import decisions, results
from .result_json import result_to_dict

FORMAT = "kyodo-portal/results/v1"
ACCEPTED_STATUSES = (ProposalStatus.ACCEPTED, ProposalStatus.REVIEW, ProposalStatus.RESULTS)


def _counts(session: Session, call: Call, released: int, adopted: int) -> dict:
    received = session.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.call_id == call.id, Proposal.receipt_number.is_not(None)))
    accepted_ids = select(IntakeDecision.proposal_id).where(IntakeDecision.outcome == IntakeOutcome.ACCEPT)
    accepted = session.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.call_id == call.id,
        or_(Proposal.status.in_(ACCEPTED_STATUSES), Proposal.id.in_(accepted_ids))))
    return {"received": received, "accepted": accepted, "released": released, "adopted": adopted}


def _roster(computed: results.CallResults) -> list[dict]:
    """Names without pseudonyms, in name order: the scores are published
    under pseudonyms, and neither a key nor the order may tie a name to them."""
    roster = [{"name": m.user.display_name or "", "title": m.public_title, "chair": m.is_chair}
              for m in computed.inputs.members.values()]
    return sorted(roster, key=lambda entry: (not entry["chair"], entry["name"]))


def build_document(session: Session, call: Call, computed: results.CallResults, *, version: int,
                   published_at: datetime, urls, basis: LogEntry, basis_signature: str,
                   public_key_pem: str, log_pdf_sha256: str) -> dict:
    """The results document (format ``kyodo-portal/results/v1``): numbers
    as strings or ints, never floats; proposals in rank order."""
    result, inputs = computed.result, computed.inputs
    as_dict = result_to_dict(result, include_reviewers=False)
    decided = decisions.decisions_of(session, call)
    pem = public_key_pem
    rows = []
    for row, item in zip(result.proposals, as_dict["proposals"], strict=True):
        proposal = inputs.proposal(row.key)
        decision = decided[row.key]
        named = decisions.adopts(decision.outcome) or proposal.name_publication_consent
        reviewers = []
        for member_id, total in row.reviewer_totals.items():
            sheet = inputs.sheet(member_id, row.key)
            reviewers.append({"reviewer": inputs.pseudonym(member_id), "scores": dict(sheet.scores),
                              "total": format(total, "f"),
                              "dropped": member_id in (row.dropped_low, row.dropped_high)})
        rows.append({
            "code": row.code, "rank": row.rank, "recommended": row.recommended,
            "reasons": list(row.reasons), "reason_labels": results.reason_labels(row.reasons),
            "decision": {"outcome": decision.outcome.value, "label": decision.outcome.label,
                         "reason": decision.reason, "conditions": decision.conditions},
            "departs": decision.departs,
            "group_name": proposal.group.name if named else None,
            "title": proposal.title if named else None,
            "summary": proposal.purpose if named else None,
            "requested_amount": row.requested_amount,
            "scorer_count": row.scorer_count, "conflicted_count": row.conflicted_count,
            # The valid sheets it needed (採点の成立): a verifier passes it back to the ranking.
            "min_scorers": row.min_scorers, "under_minimum": row.under_minimum,
            "trimmed": row.trimmed, "criterion_means": item["criterion_means"],
            "score": item["score"], "share_of_max": item["share_of_max"],
            "passes_threshold": row.passes_threshold, "vetoed": row.vetoed,
            "tie_break_used": row.tie_break_used,
            "tied_with": [inputs.proposal(k).anonymous_code for k in row.tied_with],
            "review_comment": decision.review_comment,
            "reviewers": reviewers,
        })
    rules = dict(as_dict["rules"])
    rules.update(formula=results.formula_text(result), max_possible=as_dict["max_possible"],
                 threshold_effective=as_dict["threshold_points"], deciding_stage=call.deciding_stage,
                 # Which seals' scores count, preferred first (docs/log-format.md, section 5).
                 counted_stages=[stage.value for stage in results.deciding_stages(call)])
    adopted = sum(1 for d in decided.values() if decisions.adopts(d.outcome))
    by_key = {c.position: c for c in call.criteria}
    return {
        "format": FORMAT,
        "version": version,
        "call": {"ref": call.slug, "title": call.title, "fiscal_year": call.fiscal_year, "url": urls.results},
        "published_at": chain.utc_timestamp(published_at),
        "rules": rules,
        "criteria": [{"key": c.key, "name": c.name, "description": by_key[int(c.key)].description,
                      "weight": results.plain_decimal(c.weight), "min": c.scale_min, "max": c.scale_max}
                     for c in result.criteria],
        "counts": _counts(session, call, len(inputs.proposals), adopted),
        "budget_used": as_dict["budget_used"],
        "general_comment": call.general_comment,
        "roster": _roster(computed) if call.publish_roster else None,
        "proposals": rows,
        "log_head": {"seq": basis.seq, "hash": basis.hash, "signature": basis_signature},
        "log_pdf_sha256": log_pdf_sha256,
        "public_key_pem": pem,
        "verification": {"log_url": urls.log, "log_json_url": urls.log_json,
                         "public_key_fingerprint": signing.key_fingerprint(pem)},
    }


# ---------------------------------------------------------------- CSV

CSV_HEADER = ["提案コード", "順位", "得点", "満点に対する割合", "採点した委員数", "決定", "委員", "最高・最低で除外",
              "基準番号", "基準名", "重み", "最小", "最大", "点数", "委員の合計点"]

# A cell beginning with one of these is run as a formula by a spreadsheet
# (a tab or carriage return can hide one that follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value) -> str:
    """A text cell as a spreadsheet shows it rather than runs it: a single
    quote before a leading ``= + - @``, tab or carriage return (OWASP, CSV
    injection). For text columns only: the figures (a negative minimum, a
    score) are written as they are and stay numbers."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(document: dict) -> bytes:
    """UTF-8 with a BOM (Excel opens it): one row per proposal, reviewer and
    criterion, enough to recompute every figure with the published rules.
    Text cells go through :func:`spreadsheet_text`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    criteria = document.get("criteria") or []
    for p in document.get("proposals") or []:
        head = [spreadsheet_text(p["code"]), "" if p.get("rank") is None else p["rank"], p.get("score") or "",
                p.get("share_of_max") or "", p.get("scorer_count", 0),
                spreadsheet_text((p.get("decision") or {}).get("label", ""))]
        if not p.get("reviewers"):
            writer.writerow(head + [""] * (len(CSV_HEADER) - len(head)))
        for reviewer in p.get("reviewers") or []:
            for c in criteria:
                writer.writerow(head + [spreadsheet_text(reviewer["reviewer"]), "はい" if reviewer.get("dropped") else "",
                                        c["key"], spreadsheet_text(c["name"]), c["weight"], c["min"], c["max"],
                                        reviewer["scores"].get(c["key"], ""), reviewer["total"]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
