"""結果の公表: results and the process log as stored, signed documents.

``publish`` runs once per version, in one transaction:

1. refuse unless scoring is over and the decisions are final (every
   released proposal decided, and those decisions written to the log);
2. first time: ``scores_revealed`` (the salts go public with the scores);
   a correction: ``correction`` with the staff's reason;
3. sign the log head as it now stands (the *basis* the figures come from);
4. render the process-log PDF, build the results document (the JSON twin,
   ``FORMAT``), render the results PDF from that same document; store both
   PDFs under generated names;
5. ``results_published`` with the URL and the SHA-256 of the results PDF,
   sign the new head, save a ``Publication`` row (version 1, 2, ...);
6. proposals to 結果公表, ``Call.results_published_at``, mail the groups.

The PDFs are never rendered again: a download is the stored file, so its
hash stays the one in the log. ``verification.py`` checks all of it.
Domain code, no Flask: the caller passes the ``Settings`` (an app's come
from ``Settings.for_app``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..refusals import WrongState
from ...files import storage
from ...models import (
    Assignment,
    Call,
    Proposal,
    ProposalStatus,
    Publication,
    ReviewSheet,
    User,
)
from ..calls.call_lock import lock_call
from ..log import chain, process_log, published_log, seals, signing
from ..proposals import workflow
from . import decisions, result_pdfs, results
from .aggregation import AggregationError
from .results_document import FORMAT, build_document, csv_bytes  # noqa: F401  (the public pages use them from here)

CORRECTION_REASON_MAX = 500

Mailer = Callable[[str, str, str], object]


class PublicationRefused(WrongState):
    """Publication is not possible in the call's present state."""


class AlreadyPublished(PublicationRefused):
    """Someone else published first (a double click, a second tab, the
    scheduled publication): ``version`` is the latest version now."""

    def __init__(self, version: int):
        super().__init__(f"結果はすでに公表されています（第{version}版）。")
        self.version = version


@dataclass(frozen=True)
class Settings:
    upload_dir: Path
    key: Ed25519PrivateKey
    base_url: str  # where the public pages live, without a trailing slash
    city_name: str

    @classmethod
    def for_app(cls, app, base_url: str | None = None) -> Settings:
        base = base_url or app.config.get("PUBLIC_BASE_URL") or "http://localhost:5000"
        return cls(upload_dir=Path(app.config["UPLOAD_DIR"]), key=signing.key_for_app(app),
                   base_url=base.rstrip("/"), city_name=app.config.get("CITY_NAME", ""))


@dataclass(frozen=True)
class Urls:
    results: str
    results_json: str
    results_pdf: str
    version_pdf: str
    log: str
    log_json: str


def urls_for(base_url: str, call: Call, version: int) -> Urls:
    """The stable public addresses (docs/transparency.md)."""
    root = f"{base_url}/calls/{call.slug}"
    return Urls(results=f"{root}/results", results_json=f"{root}/results.json", results_pdf=f"{root}/results.pdf",
                version_pdf=f"{root}/results/v{version}.pdf", log=f"{root}/log", log_json=f"{root}/log.json")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- reading

def publications(session: Session, call: Call) -> list[Publication]:
    return list(session.scalars(select(Publication).where(Publication.call_id == call.id)
                                .order_by(Publication.version)))


def latest(session: Session, call: Call) -> Publication | None:
    return session.scalars(select(Publication).where(Publication.call_id == call.id)
                           .order_by(Publication.version.desc()).limit(1)).first()


def publication_of(session: Session, call: Call, version: int | None = None) -> Publication | None:
    if version is None:
        return latest(session, call)
    return session.scalars(select(Publication).where(Publication.call_id == call.id,
                                                     Publication.version == version)).first()


def results_document(session: Session, call: Call, version: int | None = None) -> dict | None:
    """The stored results document (the latest version by default)."""
    row = publication_of(session, call, version)
    return None if row is None else row.results


def stored_pdf_path(upload_dir, name: str) -> Path:
    return storage.path_of(upload_dir, name)


def _stored_bytes(upload_dir, name: str | None) -> bytes | None:
    if not name:
        return None
    path = storage.path_of(upload_dir, name)
    return path.read_bytes() if path.is_file() else None


def results_pdf_bytes(session: Session, call: Call, version: int | None = None, *, upload_dir) -> bytes | None:
    row = publication_of(session, call, version)
    return None if row is None else _stored_bytes(upload_dir, row.results_pdf_name)


def log_pdf_bytes(session: Session, call: Call, version: int | None = None, *, upload_dir) -> bytes | None:
    row = publication_of(session, call, version)
    return None if row is None else _stored_bytes(upload_dir, row.log_pdf_name)


# ---------------------------------------------------------------- the log document

def live_seals(entries: list[chain.Entry]) -> list[chain.Entry]:
    """Seals still in force: not superseded by a later ``score_reopened``."""
    live: dict[tuple, chain.Entry] = {}
    for entry in entries:
        key = seals.seal_key(entry.payload)
        if entry.kind == chain.SCORE_SEALED:
            live[key] = entry
        elif entry.kind == chain.SCORE_REOPENED and key in live \
                and live[key].seq == entry.payload.get("supersedes_seq"):
            del live[key]
    return sorted(live.values(), key=lambda e: e.seq)


def sealed_sheets(session: Session, call: Call) -> dict[int, ReviewSheet]:
    """Every sheet of the call that holds a seal, by the seal's seq."""
    rows = session.scalars(
        select(ReviewSheet).join(Assignment, Assignment.id == ReviewSheet.assignment_id)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(Proposal.call_id == call.id, ReviewSheet.sealed_seq.is_not(None))
    ).all()
    return {sheet.sealed_seq: sheet for sheet in rows}


def sheet_scores(call: Call, sheet: ReviewSheet) -> dict[str, int]:
    positions = {c.id: str(c.position) for c in call.criteria}
    return {positions[s.criterion_id]: s.score for s in sheet.scores}


def reveals(session: Session, call: Call, entries: list[chain.Entry]) -> list[seals.Reveal]:
    """The scores and salts behind every live seal, once scores are revealed."""
    if not any(e.kind == chain.SCORES_REVEALED for e in entries):
        return []
    sheets = sealed_sheets(session, call)
    found = []
    for seal in live_seals(entries):
        sheet = sheets.get(seal.seq)
        if sheet is not None and sheet.salt:
            found.append(seals.Reveal(seal.seq, sheet_scores(call, sheet), bytes.fromhex(sheet.salt)))
    return found


def log_call_info(call: Call, base_url: str | None = None) -> dict:
    info = {"ref": call.slug, "title": call.title, "fiscal_year": call.fiscal_year}
    if base_url:
        info["url"] = f"{base_url}/calls/{call.slug}/log"
    return info


def log_document(session: Session, call: Call, key: Ed25519PrivateKey,
                 base_url: str | None = None) -> dict | None:
    """The process log as published (docs/log-format.md), head signed now;
    ``None`` while the call's log is empty. Scores and salts are revealed
    only once ``scores_revealed`` is in the log."""
    entries = process_log.entries(session, call)
    if not entries:
        return None
    return published_log.export_document(log_call_info(call, base_url), entries, reveals(session, call, entries), key)


# ---------------------------------------------------------------- readiness

def refusal(session: Session, call: Call, now: datetime, reason: str = "") -> str | None:
    """Why ``publish`` would refuse now, or None."""
    if not call.scoring_over(now):
        return "採点期間が終わっていないため、結果は公表できません。"
    if not results.released_proposals(session, call):
        return "審査した提案がないため、結果は公表できません。"
    missing = decisions.undecided(session, call)
    if missing:
        return "決定が入力されていない提案があります：" + "、".join(p.anonymous_code for p in missing)
    if not decisions.finalised(session, call):
        return "決定が確定されていません（確定後に変更した決定も、もう一度確定してください）。"
    if latest(session, call) is not None:
        text = (reason or "").strip()
        if not text:
            return "公表済みの結果を訂正するには、訂正の理由を入力してください。"
        if len(text) > CORRECTION_REASON_MAX:
            return f"訂正の理由は{CORRECTION_REASON_MAX}字以内にしてください。"
        try:
            chain.check_public_payload(chain.CORRECTION, {"reason": text})
        except chain.PayloadRefused:
            return decisions.PUBLIC_TEXT_REFUSED
    return None


def due_calls(session: Session, now: datetime) -> list[Call]:
    return list(session.scalars(select(Call).where(
        Call.results_scheduled_at.is_not(None), Call.results_scheduled_at <= now,
        Call.results_published_at.is_(None)).order_by(Call.results_scheduled_at)))


def schedule_publication(session: Session, call: Call, when: datetime | None) -> None:
    """Have ``publish_due`` publish the results at ``when`` (UTC); None
    cancels. Refused once the results are out (flushes)."""
    if call.results_published_at is not None:
        raise PublicationRefused("結果はすでに公表しています。")
    call.results_scheduled_at = when
    session.flush()


# ---------------------------------------------------------------- publishing

def publish(session: Session, call: Call, staff: User | None, now: datetime, reason: str = "", *,
            settings: Settings, mailer: Mailer | None = None, expected_version: int | None = None) -> Publication:
    """Publish the results (or, once published, a corrected version with
    ``reason``). Flushes; raises ``PublicationRefused`` with a Japanese
    message. ``mailer(recipient, subject, body)`` tells the groups.
    ``expected_version`` is the latest version the caller saw (0: none);
    when another publication came first, ``AlreadyPublished``."""
    lock_call(session, call)
    previous = latest(session, call)
    if expected_version is not None and (previous.version if previous else 0) != expected_version:
        raise AlreadyPublished(previous.version if previous else 0)
    problem = refusal(session, call, now, reason)
    if problem:
        raise PublicationRefused(problem)
    version = 1 if previous is None else previous.version + 1
    try:
        computed = results.compute_all(session, call)
    except AggregationError as error:
        raise PublicationRefused(f"集計できないため公表できません：{error.message}") from None

    entries = process_log.entries(session, call)
    if previous is None:
        if not any(e.kind == chain.SCORES_REVEALED for e in entries):
            process_log.append(session, call, chain.SCORES_REVEALED,
                               {"revealed_count": len(live_seals(entries))}, now)
    else:
        process_log.append(session, call, chain.CORRECTION, {
            "corrects_seq": previous.head_seq, "reason": reason.strip(),
            "correction": f"審査結果を訂正し、第{version}版として公表します。"}, now)
    basis = process_log.head(session, call)
    basis_signature = signing.sign_head(settings.key, basis.hash, basis.seq)
    urls = urls_for(settings.base_url, call, version)

    log_entries = process_log.entries(session, call)
    log_pdf = result_pdfs.render_log_pdf(
        call, log_entries, reveals(session, call, log_entries), city_name=settings.city_name,
        head_signature=basis_signature, public_key_pem=signing.public_key_pem(settings.key), urls=urls,
        published_at=now, version=version)
    document = build_document(session, call, computed, version=version, published_at=now, urls=urls,
                              basis=basis, basis_signature=basis_signature,
                              public_key_pem=signing.public_key_pem(settings.key), log_pdf_sha256=sha256_hex(log_pdf))
    results_pdf = result_pdfs.render_results_pdf(document, city_name=settings.city_name)
    log_pdf_name = storage.write_generated(session, settings.upload_dir, log_pdf)
    results_pdf_name = storage.write_generated(session, settings.upload_dir, results_pdf)

    head = process_log.append(session, call, chain.RESULTS_PUBLISHED,
                              {"url": urls.version_pdf, "document_sha256": sha256_hex(results_pdf)}, now)
    row = Publication(
        call_id=call.id, version=version, published_at=now, published_by_id=staff.id if staff else None,
        reason=(reason or "").strip() if previous else "", results=document,
        results_sha256=sha256_hex(chain.canonical_json(document)), results_pdf_name=results_pdf_name,
        log_pdf_name=log_pdf_name, head_seq=head.seq, head_hash=head.hash,
        head_signature=signing.sign_head(settings.key, head.hash, head.seq))
    session.add(row)
    for proposal in computed.inputs.proposals:
        if proposal.status != ProposalStatus.RESULTS:
            workflow.record_status(session, proposal, ProposalStatus.RESULTS, staff, now,
                                   note="審査結果を公表しました。")
    if call.results_published_at is None:
        call.results_published_at = now
    session.flush()
    if mailer is not None:
        for recipient, subject, body in result_mails(computed.inputs.proposals, call, settings, urls,
                                                     correction=previous is not None):
            mailer(recipient, subject, body)
    return row


def result_mails(proposals, call: Call, settings: Settings, urls: Urls, *, correction: bool):
    """One mail per group: the results are out (the outcome itself is read
    after logging in, not sent by mail)."""
    what = "審査結果の訂正を公表しました" if correction else "審査結果を公表しました"
    for proposal in proposals:
        subject = f"【{settings.city_name}】{call.title}：{what}"
        body = (f"{proposal.group.name} 様\n\n「{call.title}」の{what}。\n\n"
                f"提案（受付番号 {proposal.receipt_number}）の結果と、審査委員の講評・基準ごとの平均点は、"
                f"ログインしてマイページで確認できます。\n{settings.base_url}/\n\n"
                f"公表した審査結果（どなたでも閲覧できます）：\n{urls.results}\n")
        for recipient in _recipients(proposal):
            yield recipient, subject, body


def _recipients(proposal: Proposal) -> list[str]:
    """The group's account address and its contact address, once each."""
    group, found = proposal.group, []
    for address in (group.account.email if group.account else "", group.contact_email):
        if address and address.lower() not in {a.lower() for a in found}:
            found.append(address)
    return found


def publish_due(session: Session, now: datetime, *, settings: Settings,
                mailer: Mailer | None = None) -> list[tuple[Call, str | None]]:
    """Publish every call whose scheduled time has passed. Each call in its
    own savepoint, so one refusal does not undo another call's publication."""
    done = []
    for call in due_calls(session, now):
        try:
            with session.begin_nested():
                publish(session, call, None, now, settings=settings, mailer=mailer, expected_version=0)
        except PublicationRefused as refused:
            done.append((call, refused.message))
        else:
            done.append((call, None))
    return done
