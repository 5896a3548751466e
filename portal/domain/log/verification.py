"""The ``verify-log`` command: is everything the city published still what it was?

For one call, every problem found (never just the first):

1. the stored log: chain, head signature with the city's key, and, once
   scores are revealed, every live seal against the stored scores and salt
   (``published_log.verify_document`` on the document ``/calls/<slug>/log.json`` serves);
2. every sealed sheet: its seal is in the log, with its commitment, and the
   stored scores and salt still give that commitment (this catches a score
   changed in the database even before publication); a submitted sheet
   without a seal, or a live seal without its sheet;
3. every publication: the stored results document still has its recorded
   SHA-256; the log entry it points at is ``results_published`` with that
   hash and a valid signature; the stored results PDF still has the SHA-256
   the log recorded and the log PDF the one the document recorded; the
   figures recompute from the document's own scores with its own rules; its
   decisions are the ones last logged before it;
4. the latest publication's figures and scores equal a fresh computation
   from the scores in the database.

No Flask; the CLI in ``portal/cli.py`` prints the problems.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...models import Assignment, Call, PanelMember, Proposal, ReviewSheet, SheetStatus
from . import chain, process_log, published_log, seals, signing
from ..results import publication, results
from ..results.aggregation import (
    AggregationError,
    AggregationRules,
    CriterionRule,
    ProposalInfo,
    Result,
    ScoreSheet,
    VetoRule,
    aggregate,
)


@dataclass
class CallReport:
    slug: str
    entries: int = 0
    publications: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_call(session: Session, call: Call, key: Ed25519PrivateKey, store: ObjectStore) -> CallReport:
    report = CallReport(call.slug)
    entries = process_log.entries(session, call)
    rows = publication.publications(session, call)
    report.entries, report.publications = len(entries), len(rows)
    if entries:
        document = publication.log_document(session, call, key)
        checked = published_log.verify_document(document, trusted_public_key_pem=signing.public_key_pem(key))
        report.problems += [f"記録: {problem}" for problem in checked.problems]
    report.problems += sheet_problems(session, call, entries)
    by_seq = {e.seq: e for e in entries}
    for row in rows:
        report.problems += [f"第{row.version}版: {p}" for p in publication_problems(row, by_seq, key, store)]
    if rows:
        report.problems += [f"第{rows[-1].version}版: {p}" for p in database_problems(session, call, rows[-1].results)]
    return report


# ---------------------------------------------------------------- sheets

def sheet_problems(session: Session, call: Call, entries: list[chain.Entry]) -> list[str]:
    problems = []
    by_seq = {e.seq: e for e in entries}
    rows = session.execute(
        select(ReviewSheet, PanelMember.pseudonym, Proposal.anonymous_code)
        .join(Assignment, Assignment.id == ReviewSheet.assignment_id)
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(Proposal.call_id == call.id)
        .order_by(PanelMember.id, Proposal.anonymous_code, ReviewSheet.stage, ReviewSheet.id)  # same report every run
    ).all()
    sealed_seqs = set()
    for sheet, pseudonym, code in rows:
        where = f"{pseudonym}・{code}・{sheet.stage.value}"
        if sheet.sealed_seq is None:
            if sheet.status == SheetStatus.SUBMITTED:
                problems.append(f"採点票 {where}: 提出済みなのに封印の記録がありません")
            continue
        sealed_seqs.add(sheet.sealed_seq)
        entry = by_seq.get(sheet.sealed_seq)
        if entry is None or entry.kind != chain.SCORE_SEALED:
            problems.append(f"採点票 {where}: 封印の記録（seq {sheet.sealed_seq}）がありません")
            continue
        payload = entry.payload
        if seals.seal_key(payload) != (pseudonym, code, sheet.stage.value):
            problems.append(f"採点票 {where}: 封印の記録（seq {entry.seq}）は別の委員・提案・段階のものです")
        if payload.get("commitment") != sheet.commitment:
            problems.append(f"採点票 {where}: 保存された封印値が記録（seq {entry.seq}）と一致しません")
        elif not seals.verify_commitment(sheet.commitment or "", publication.sheet_scores(call, sheet),
                                         sheet.salt or ""):
            problems.append(f"採点票 {where}: 保存された点数またはソルトが封印（seq {entry.seq}）と一致しません"
                            "（封印の後に書き換えられています）")
    for seal in publication.live_seals(entries):
        if seal.seq not in sealed_seqs:
            problems.append(f"記録 seq {seal.seq}: 封印に対応する採点票がデータベースにありません")
    return problems


# ---------------------------------------------------------------- publications

def publication_problems(row, by_seq: dict[int, chain.Entry], key: Ed25519PrivateKey,
                         store: ObjectStore) -> list[str]:
    problems = []
    document = row.results if isinstance(row.results, dict) else {}
    try:
        if _sha256(chain.canonical_json(row.results)) != row.results_sha256:
            problems.append("保存された結果文書（JSON）のSHA-256が公表時の値と一致しません")
    except chain.CanonicalError as error:
        problems.append(f"保存された結果文書（JSON）を符号化できません: {error}")
    head = by_seq.get(row.head_seq)
    if head is None or head.hash != row.head_hash or head.kind != chain.RESULTS_PUBLISHED:
        problems.append(f"公表の記録（seq {row.head_seq}）が見つからないか、一致しません")
    if not signing.verify_head_signature(signing.public_key_pem(key), row.head_hash, row.head_seq, row.head_signature):
        problems.append("公表時の署名を市の鍵で確認できません")
    if head is not None:
        problems += recorded_digest_problems(row, head.payload)
    pdf = storage.read_bytes(store, row.results_pdf_name)
    if pdf is None:
        problems.append("保存された結果のPDFがありません")
    elif head is not None and _sha256(pdf) != head.payload.get("document_sha256"):
        problems.append("保存された結果のPDFのSHA-256が記録と一致しません")
    log_pdf = storage.read_bytes(store, row.log_pdf_name)
    if log_pdf is None:
        problems.append("保存された記録のPDFがありません")
    elif _sha256(log_pdf) != document.get("log_pdf_sha256"):
        problems.append("保存された記録のPDFのSHA-256が結果文書と一致しません")
    basis = document.get("log_head") or {}
    basis_entry = by_seq.get(basis.get("seq"))
    if basis_entry is None or basis_entry.hash != basis.get("hash"):
        problems.append("結果文書の記録の先頭が記録と一致しません")
    elif not signing.verify_head_signature(signing.public_key_pem(key), basis_entry.hash, basis_entry.seq,
                                         basis.get("signature", "")):
        problems.append("結果文書の記録の先頭の署名を確認できません")
    problems += document_problems(document)
    problems += decision_problems(document, by_seq, row.head_seq)
    return problems


def recorded_digest_problems(row, payload: dict) -> list[str]:
    """The digests ``results_published`` recorded (docs/log-format.md v1.1;
    older entries lack them) against the stored documents."""
    problems = []
    if "version" in payload and payload["version"] != row.version:
        problems.append(f"公表の記録の版（{payload['version']}）が一致しません")
    if "results_sha256" in payload and payload["results_sha256"] != row.results_sha256:
        problems.append("保存された結果文書（JSON）のSHA-256が公表の記録と一致しません")
    if "csv_sha256" in payload and isinstance(row.results, dict) \
            and payload["csv_sha256"] != _sha256(publication.csv_bytes(row.results)):
        problems.append("結果のCSVのSHA-256が公表の記録と一致しません")
    return problems


def decision_problems(document: dict, by_seq: dict[int, chain.Entry], before: int) -> list[str]:
    logged = [e for seq, e in sorted(by_seq.items()) if seq < before and e.kind == chain.DECISION_RECORDED]
    if not logged:
        return ["公表より前に決定の記録がありません"]
    recorded = {o.get("proposal_code"): (o.get("result"), o.get("reason"))
                for o in logged[-1].payload.get("outcomes", [])}
    try:
        published = {p["code"]: (p["decision"]["outcome"], p["decision"]["reason"]) for p in document["proposals"]}
    except (KeyError, TypeError):
        return ["結果文書の決定の形式が不正です"]
    if published != recorded:
        changed = sorted(code for code in set(published) | set(recorded) if published.get(code) != recorded.get(code))
        return [f"公表した決定が記録（seq {logged[-1].seq}）と一致しません: {'、'.join(map(str, changed))}"]
    return []


# ---------------------------------------------------------------- the figures

def recompute_document(document: dict) -> Result:
    """The ranking, recomputed from a published document alone: its
    criteria, its rules and every reviewer's scores. What anyone can do
    with the JSON (docs/aggregation.md)."""
    rules = document["rules"]

    def decimal(value):
        return None if value is None else Decimal(value)

    veto = rules.get("veto")
    return aggregate(
        [CriterionRule(c["key"], c["name"], Decimal(c["weight"]), c["min"], c["max"]) for c in document["criteria"]],
        AggregationRules(
            method=rules["method"], trim_min_scorers=rules["trim_min_scorers"],
            threshold_points=decimal(rules["threshold_points"]), threshold_share=decimal(rules["threshold_share"]),
            veto=None if veto is None else VetoRule(veto["criterion_key"], veto["at_or_below"]),
            tie_breaks=tuple(rules["tie_breaks"]), budget_total=rules["budget_total"],
            budget_policy=rules["budget_policy"], decimals=rules["decimals"], rounding=rules["rounding"]),
        [ProposalInfo(p["code"], p["code"], p["requested_amount"], min_scorers=p.get("min_scorers"))
         for p in document["proposals"]],
        [ScoreSheet(r["reviewer"], p["code"], r["scores"]) for p in document["proposals"] for r in p["reviewers"]],
    )


def _figures(row) -> dict:
    return {"score": None if row.score is None else format(row.score, "f"),
            "share_of_max": None if row.share_of_max is None else format(row.share_of_max, "f"),
            "criterion_means": {k: format(v, "f") for k, v in row.criterion_means.items()},
            "scorer_count": row.scorer_count, "rank": row.rank, "recommended": row.recommended}


def _published(p: dict) -> dict:
    return {"score": p.get("score"), "share_of_max": p.get("share_of_max"),
            "criterion_means": p.get("criterion_means"), "scorer_count": p.get("scorer_count"),
            "rank": p.get("rank"), "recommended": p.get("recommended")}


def _compare(document: dict, computed: dict[str, dict], against: str) -> list[str]:
    problems = []
    for p in document.get("proposals") or []:
        mine = computed.get(p.get("code"))
        if mine is None:
            problems.append(f"{p.get('code')}: {against}にない提案です")
            continue
        published = _published(p)
        for name, value in published.items():
            if mine[name] != value:
                problems.append(f"{p.get('code')} の {name}: 公表 {value} / {against} {mine[name]}")
    missing = set(computed) - {p.get("code") for p in document.get("proposals") or []}
    problems += [f"{code}: 公表した結果にない提案です" for code in sorted(missing)]
    return problems


def document_problems(document: dict) -> list[str]:
    """The published figures against a recomputation from the published scores."""
    try:
        result = recompute_document(document)
        problems = _compare(document, {row.code: _figures(row) for row in result.proposals}, "再計算")
        for p in document["proposals"]:
            totals = result.proposal(p["code"]).reviewer_totals
            for r in p["reviewers"]:
                if format(totals[r["reviewer"]], "f") != r["total"]:
                    problems.append(f"{p['code']} の {r['reviewer']} の合計点: 公表 {r['total']} / 再計算 "
                                    f"{format(totals[r['reviewer']], 'f')}")
    except AggregationError as error:
        return [f"公表した点数から再計算できません: {error.message}"]
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        return [f"結果文書の形式が不正です: {error!r}"]
    return [f"公表した数値が公表した点数と合いません（{p}）" for p in problems]


def database_problems(session: Session, call: Call, document: dict) -> list[str]:
    """The latest published figures and scores against the database now."""
    try:
        computed = results.compute_all(session, call)
    except AggregationError as error:
        return [f"データベースの採点を集計できません: {error.message}"]
    inputs = computed.inputs
    figures = {row.code: _figures(row) for row in computed.result.proposals}
    problems = [f"公表した数値がデータベースの採点と合いません（{p}）"
                for p in _compare(document, figures, "データベース")]
    scores = {(inputs.pseudonym(s.reviewer_key), inputs.proposal(s.proposal_key).anonymous_code): dict(s.scores)
              for s in inputs.sheets}
    published = {(r.get("reviewer"), p.get("code")): r.get("scores")
                 for p in document.get("proposals") or [] for r in p.get("reviewers") or []}
    for pair in sorted(set(scores) | set(published)):
        if scores.get(pair) != published.get(pair):
            problems.append(f"{pair[1]} の {pair[0]} の点数: 公表 {published.get(pair)} / データベース {scores.get(pair)}")
    return problems
