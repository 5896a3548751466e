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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..refusals import WrongState
from ...files import storage
from ...files.objectstore import ObjectStore, store_of
from ...models import (
    Assignment,
    Call,
    Proposal,
    Publication,
    ReviewSheet,
    User,
)
from ..calls.call_lock import lock_call
from ..log import chain, process_log, published_log, seals, signing
from . import decisions, results
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
    store: ObjectStore  # where the PDFs are kept
    key: Ed25519PrivateKey
    base_url: str  # where the public pages live, without a trailing slash
    city_name: str
    notice_prefix: str = ""  # 通知書の文書番号の頭 (notices.py)

    @classmethod
    def for_app(cls, app, base_url: str | None = None) -> Settings:
        # No default: production has none unless PORTAL_BASE_URL is set, and
        # publish_steps.prepare refuses to publish without one.
        base = base_url or app.config.get("PUBLIC_BASE_URL") or ""
        return cls(store=store_of(app), key=signing.key_for_app(app),
                   base_url=base.rstrip("/"), city_name=app.config.get("CITY_NAME", ""),
                   notice_prefix=app.config.get("NOTICE_NUMBER_PREFIX", ""))


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


def stored_pdf_bytes(store: ObjectStore, name: str | None) -> bytes | None:
    """A PDF stored at publication, or None when it is missing."""
    return storage.read_bytes(store, name)


def results_pdf_bytes(session: Session, call: Call, version: int | None = None, *,
                      store: ObjectStore) -> bytes | None:
    row = publication_of(session, call, version)
    return None if row is None else stored_pdf_bytes(store, row.results_pdf_name)


def log_pdf_bytes(session: Session, call: Call, version: int | None = None, *, store: ObjectStore) -> bytes | None:
    row = publication_of(session, call, version)
    return None if row is None else stored_pdf_bytes(store, row.log_pdf_name)


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

def refusal(session: Session, call: Call, now: datetime, reason: str = "", *,
            result: results.Result | None = None, rank: bool = True) -> str | None:
    """Why ``publish`` would refuse now, or None. ``result``: the call's
    ranking when the caller has computed it already. ``rank=False`` leaves
    out the checks that need the ranking (a second at 300 proposals): for
    the request that only records a publication job, whose worker checks
    everything again before it renders."""
    if not call.scoring_over(now):
        return "採点期間が終わっていないため、結果は公表できません。"
    # Loaded once: a 300-proposal call would otherwise load them four times.
    proposals = results.released_proposals(session, call)
    if not proposals:
        return "審査した提案がないため、結果は公表できません。"
    decided = decisions.decisions_of(session, call)
    missing = decisions.undecided(session, call, proposals=proposals, decided=decided)
    if missing:
        return "決定が入力されていない提案があります：" + "、".join(p.anonymous_code for p in missing)
    if result is None and rank:
        try:
            result = results.compute(session, call)
        except results.aggregation.AggregationError as error:
            return f"集計できないため、結果は公表できません：{error.message}"
    unexplained = decisions.unexplained_under_minimum(result, decided) if result is not None else []
    if unexplained:
        return ("採点不成立の提案の決定に、公表する理由がありません：" + "、".join(row.code for row in unexplained)
                + "（決定の画面で理由を入力し、決定を確定し直してください）")
    if not decisions.finalised(session, call, proposals=proposals, decided=decided):
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
    ``reason``) at once, in the caller's transaction, holding the call's
    lock throughout: for the CLI, the demo data and tests. The staff's
    button starts a job instead (``portal/jobs/publish_job.py``), which runs
    the same two steps with the slow one outside any lock. Flushes; raises
    ``PublicationRefused`` with a Japanese message. ``mailer(recipient,
    subject, body)`` tells the groups. ``expected_version`` is the latest
    version the caller saw (0: none); when another publication came first,
    ``AlreadyPublished``."""
    from . import publish_steps  # the steps read through this module

    lock_call(session, call)
    prepared = publish_steps.prepare(session, call, now, reason, settings=settings,
                                     expected_version=expected_version)
    return publish_steps.complete(session, call, prepared, staff, settings=settings, mailer=mailer)


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
