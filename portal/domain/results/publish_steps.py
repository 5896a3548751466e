"""Publication in two steps, so the slow part holds no lock.

``prepare`` only reads: it computes the results, plans the log entry that
publication adds before its documents (``scores_revealed`` the first time,
``correction`` afterwards) with the hash it will have, and renders both
PDFs against that planned head. A worker runs it in a read transaction;
applicants' autosaves and every other write go on meanwhile.

``complete`` is the short write at the end, under the call's lock: it
checks that the log head is still the one the documents were rendered
against (otherwise ``StaleBasis``: prepare again), appends the planned
entry, which gets exactly the planned hash, stores the documents, appends
``results_published``, saves the ``Publication`` row, moves the proposals
to 結果公表 and hands the groups' mails to ``mailer`` (the outbox, in the
same transaction). Everything of one publication commits together or not
at all, so running it again after a failure never duplicates an entry.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...files import storage
from ...models import Call, Proposal, ProposalStatus, Publication, User
from ..calls.call_lock import lock_call
from ..log import chain, process_log, signing
from ..proposals import workflow
from . import notices, publication, result_pdfs, results
from .aggregation import AggregationError
from .publication import AlreadyPublished, PublicationRefused, Settings, sha256_hex
from .results_document import build_document, csv_bytes

# progress(stage label, step, of steps); called between the slow parts.
Progress = Callable[[str, int, int], None]
STEPS = 4


class StaleBasis(Exception):
    """The log moved on while the documents were rendered: prepare again."""


@dataclass
class Prepared:
    call_id: int
    version: int
    previous_version: int
    now: datetime
    reason: str
    head_seq: int            # the head the documents were rendered against
    head_hash: str
    planned: chain.Entry | None  # scores_revealed or correction, not yet stored
    document: dict
    log_pdf: bytes
    results_pdf: bytes
    proposal_ids: list[int]


def _quiet(_stage: str, _step: int, _steps: int) -> None:
    pass


def prepare(session: Session, call: Call, now: datetime, reason: str = "", *, settings: Settings,
            expected_version: int | None = None, progress: Progress | None = None) -> Prepared:
    """Everything slow, reading only. Raises ``PublicationRefused`` (or
    ``AlreadyPublished``) with a Japanese message."""
    progress = progress or _quiet
    previous = publication.latest(session, call)
    previous_version = previous.version if previous else 0
    if expected_version is not None and previous_version != expected_version:
        raise AlreadyPublished(previous_version)
    problem = publication.refusal(session, call, now, reason)
    if problem:
        raise PublicationRefused(problem)
    if not settings.base_url.startswith(("https://", "http://")):
        # Every published document, the log and the mails carry this address.
        raise PublicationRefused("公開サイトのURL（PORTAL_BASE_URL）が設定されていないため公表できません。"
                                 "システム管理者に設定を依頼してください。")
    version = previous_version + 1
    progress("集計", 1, STEPS)
    try:
        computed = results.compute_all(session, call)
    except AggregationError as error:
        raise PublicationRefused(f"集計できないため公表できません：{error.message}") from None

    entries = process_log.entries(session, call)
    if not entries:
        raise PublicationRefused("審査プロセスの記録がないため公表できません。")
    head = entries[-1]
    planned = None
    if previous is None:
        if not any(e.kind == chain.SCORES_REVEALED for e in entries):
            planned = _plan(head, chain.SCORES_REVEALED,
                            {"revealed_count": len(publication.live_seals(entries))}, now)
    else:
        planned = _plan(head, chain.CORRECTION, {
            "corrects_seq": previous.head_seq, "reason": reason.strip(),
            "correction": f"審査結果を訂正し、第{version}版として公表します。"}, now)
    log_entries = entries + ([planned] if planned else [])
    basis = log_entries[-1]
    basis_signature = signing.sign_head(settings.key, basis.hash, basis.seq)
    public_key = signing.public_key_pem(settings.key)
    urls = publication.urls_for(settings.base_url, call, version)

    progress("審査プロセスの記録（PDF）の作成", 2, STEPS)
    log_pdf = result_pdfs.render_log_pdf(
        call, log_entries, publication.reveals(session, call, log_entries), city_name=settings.city_name,
        head_signature=basis_signature, public_key_pem=public_key, urls=urls, published_at=now, version=version)
    document = build_document(session, call, computed, version=version, published_at=now, urls=urls,
                              basis=basis, basis_signature=basis_signature, public_key_pem=public_key,
                              log_pdf_sha256=sha256_hex(log_pdf))
    progress("審査結果（PDF）の作成", 3, STEPS)
    results_pdf = result_pdfs.render_results_pdf(document, city_name=settings.city_name)
    return Prepared(call_id=call.id, version=version, previous_version=previous_version, now=now,
                    reason=(reason or "").strip(), head_seq=head.seq, head_hash=head.hash, planned=planned,
                    document=document, log_pdf=log_pdf, results_pdf=results_pdf,
                    proposal_ids=[p.id for p in computed.inputs.proposals])


def _plan(head: chain.Entry, kind: str, payload: dict, now: datetime) -> chain.Entry:
    # As process_log.append does: time never goes backwards in the chain.
    at = max(chain.utc_timestamp(now), head.at)
    return chain.next_entry(head, kind, at, payload)


def published_payload(prepared: Prepared, urls) -> dict:
    """The ``results_published`` entry: the SHA-256 of every document of the
    version (docs/log-format.md), so each download can be checked against
    the signed log. The results JSON is hashed in its canonical encoding
    (the served file is indented), the CSV and PDFs byte for byte."""
    return {"url": urls.version_pdf, "version": prepared.version,
            "document_sha256": sha256_hex(prepared.results_pdf),
            "results_sha256": sha256_hex(chain.canonical_json(prepared.document)),
            "csv_sha256": sha256_hex(csv_bytes(prepared.document)),
            "log_pdf_sha256": sha256_hex(prepared.log_pdf)}


def complete(session: Session, call: Call, prepared: Prepared, staff: User | None, *, settings: Settings,
             mailer: Callable[[str, str, str], object] | None = None,
             progress: Progress | None = None) -> Publication:
    """The short write: everything of the publication, flushed, in the
    caller's transaction. Raises ``StaleBasis`` when the log moved on,
    ``AlreadyPublished`` when another publication came first."""
    progress = progress or _quiet
    lock_call(session, call)
    previous = publication.latest(session, call)
    if (previous.version if previous else 0) != prepared.previous_version:
        raise AlreadyPublished(previous.version if previous else 0)
    head = process_log.head(session, call)
    if head is None or (head.seq, head.hash) != (prepared.head_seq, prepared.head_hash):
        raise StaleBasis()
    problem = publication.refusal(session, call, prepared.now, prepared.reason)
    if problem:
        raise PublicationRefused(problem)
    progress("保存と記録", 4, STEPS)
    if prepared.planned is not None:
        stored = process_log.append(session, call, prepared.planned.kind, prepared.planned.payload, prepared.now)
        if stored.hash != prepared.planned.hash:  # cannot happen unless the chain's rules changed
            raise StaleBasis()
    log_pdf_name = storage.write_generated(session, settings.store, prepared.log_pdf)
    results_pdf_name = storage.write_generated(session, settings.store, prepared.results_pdf)
    urls = publication.urls_for(settings.base_url, call, prepared.version)
    head = process_log.append(session, call, chain.RESULTS_PUBLISHED, published_payload(prepared, urls), prepared.now)
    row = Publication(
        call_id=call.id, version=prepared.version, published_at=prepared.now,
        published_by_id=staff.id if staff else None, reason=prepared.reason if previous else "",
        results=prepared.document, results_sha256=sha256_hex(chain.canonical_json(prepared.document)),
        results_pdf_name=results_pdf_name, log_pdf_name=log_pdf_name, head_seq=head.seq, head_hash=head.hash,
        head_signature=signing.sign_head(settings.key, head.hash, head.seq))
    session.add(row)
    proposals = list(session.scalars(select(Proposal).where(Proposal.id.in_(prepared.proposal_ids))
                                     .order_by(Proposal.id))) if prepared.proposal_ids else []
    for proposal in proposals:
        if proposal.status != ProposalStatus.RESULTS:
            workflow.record_status(session, proposal, ProposalStatus.RESULTS, staff, prepared.now,
                                   note="審査結果を公表しました。")
    if call.results_published_at is None:
        call.results_published_at = prepared.now
    session.flush()
    issued = notices.issue(session, call, row, proposals, prepared.now,  # 通知書: numbered now, PDFs after
                           prefix=settings.notice_prefix)
    if mailer is not None:
        for recipient, subject, body in notices.result_mails(proposals, call, settings, urls,
                                                             correction=previous is not None,
                                                             notices={n.proposal_id: n for n in issued}):
            mailer(recipient, subject, body)
    return row
