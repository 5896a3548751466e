"""The public process log (審査プロセスの記録): every step of a call, from
募集 to 結果公表, as an append-only, hash-chained list of entries that anyone
can verify with the published JSON and ``scripts/verify_log.py``.

This module is the chain itself: event kinds, the canonical encoding, the
hashes, what a public payload may hold, appending and checking the links.
Sealed-score commitments are in ``seals.py``, the signing key and the head
signature in ``signing.py``, the published document in ``published_log.py``.

Pure Python: no Flask, no SQLAlchemy. The format is specified in
``docs/log-format.md``. The standalone script re-implements the checks on
purpose (a citizen runs it without the app), so any change here must be
mirrored there and in the document.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .report import VerificationReport


FORMAT = "kyodo-portal/process-log/v1"
HEAD_PURPOSE = "kyodo-portal/log-head/v1"
GENESIS_PREV = "0" * 64
FIRST_SEQ = 1
# I-JSON / JavaScript safe range: every JSON tool (jq included) reads these exactly.
MAX_SAFE_INTEGER = 2**53 - 1
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")

CALL_PUBLISHED = "call_published"
CRITERIA_CHANGED = "criteria_changed"
PROPOSAL_RECEIVED = "proposal_received"
INTAKE_DECIDED = "intake_decided"
RELEASED_TO_REVIEWERS = "released_to_reviewers"
REVIEWER_ASSIGNED = "reviewer_assigned"
REVIEWER_RECUSED = "reviewer_recused"
SCORE_SEALED = "score_sealed"
SCORING_CLOSED = "scoring_closed"
SCORES_REVEALED = "scores_revealed"
SCORE_REOPENED = "score_reopened"
DECISION_RECORDED = "decision_recorded"
RESULTS_PUBLISHED = "results_published"
CORRECTION = "correction"
AGREEMENT_CONCLUDED = "agreement_concluded"  # 協定締結: the agreement PDF's hash (portal/domain/adoption/)
ASSIGNMENT_CHANGED = "assignment_changed"  # a proposal moved between reviewers (panel/assignment.py)
REVIEWER_WITHDREW = "reviewer_withdrew"  # 辞退: the codes taken from the reviewer
PROJECT_DOCUMENT_PUBLISHED = "project_document_published"  # a project PDF served by its hash (adoption/project_documents.py)
MINUTES_PUBLISHED = "minutes_published"  # 議事録（公開部分）の公開: the PDF's hash (domain/meeting/minutes.py)

# What each kind may say in public. Proposals appear only by anonymous code,
# reviewers only by pseudonym ("R1"); names, addresses and contacts never.
PUBLIC_PAYLOAD_KEYS: Mapping[str, frozenset[str]] = {
    CALL_PUBLISHED: frozenset(
        {"call_ref", "title", "fiscal_year", "opens_at", "closes_at",
         "budget_cap_yen", "criteria", "rules", "document_sha256"}
    ),
    CRITERIA_CHANGED: frozenset({"criteria", "rules", "reason", "document_sha256"}),
    PROPOSAL_RECEIVED: frozenset({"proposal_code"}),
    INTAKE_DECIDED: frozenset({"proposal_code", "outcome", "reason"}),
    RELEASED_TO_REVIEWERS: frozenset({"proposal_codes"}),
    REVIEWER_ASSIGNED: frozenset({"reviewer", "proposal_codes"}),
    REVIEWER_RECUSED: frozenset({"reviewer", "proposal_code", "ground"}),
    SCORE_SEALED: frozenset({"reviewer", "proposal_code", "stage", "commitment"}),
    SCORING_CLOSED: frozenset({"sealed_count"}),
    SCORES_REVEALED: frozenset({"revealed_count"}),
    SCORE_REOPENED: frozenset({"reviewer", "proposal_code", "stage", "supersedes_seq", "reason"}),
    DECISION_RECORDED: frozenset({"outcomes", "basis"}),
    # document_sha256 is the results PDF's; the other digests were added with
    # docs/log-format.md v1.1 (older results_published entries lack them).
    RESULTS_PUBLISHED: frozenset({"url", "document_sha256", "version", "results_sha256", "csv_sha256",
                                  "log_pdf_sha256"}),
    CORRECTION: frozenset({"corrects_seq", "reason", "correction"}),
    AGREEMENT_CONCLUDED: frozenset({"proposal_code", "document_sha256", "revision"}),
    ASSIGNMENT_CHANGED: frozenset({"proposal_code", "from_reviewer", "to_reviewer", "ground"}),
    REVIEWER_WITHDREW: frozenset({"reviewer", "reassigned_codes"}),
    PROJECT_DOCUMENT_PUBLISHED: frozenset({"proposal_code", "document_kind", "document_sha256"}),
    MINUTES_PUBLISHED: frozenset({"meeting", "document_sha256"}),
}
KINDS: tuple[str, ...] = tuple(PUBLIC_PAYLOAD_KEYS)
# Keys allowed inside nested objects (criteria items, rules, decision outcomes).
NESTED_KEYS = frozenset(
    {"key", "label", "weight", "min", "max", "method", "threshold_percent",
     "veto", "tie_break", "proposal_code", "result", "reason", "field", "value"}
)
RECUSAL_GROUNDS = frozenset({"conflict_of_interest", "unavailable", "other"})
# A reviewer seals once per proposal and stage (一次審査, 二次審査, 見直し);
# a seal without "stage" is a first-stage (document) seal.
SCORE_STAGES = frozenset({"document", "presentation", "document_revised"})
DEFAULT_STAGE = "document"
# Free text is the one place a contact could slip in; refuse what looks like one.
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_DASH = "[-\u2010-\u2015\u2212\u30fc()\\s]"  # hyphens, minus, 長音, brackets, space
_PHONE = re.compile(rf"(?<!\d)0\d{{1,4}}{_DASH}{{1,2}}\d{{1,4}}{_DASH}\d{{3,4}}(?!\d)|(?<!\d)0[5789]0\d{{8}}(?!\d)")


class CanonicalError(ValueError):
    """A value that has no canonical encoding (a float, a naive time, ...)."""


class PayloadRefused(ValueError):
    """A payload that may not enter the public log."""


class ChainError(ValueError):
    """An append that would break the chain's rules."""


# -- canonical encoding and hashes ------------------------------------------

def utc_timestamp(value: datetime) -> str:
    """The one spelling of a time in the log: 2026-04-01T00:00:00.000000Z."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalError("naive datetime: give an aware time (UTC)")
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def parse_timestamp(text: str) -> datetime:
    if not isinstance(text, str) or not TIME_PATTERN.match(text):
        raise CanonicalError(f"time must look like 2026-04-01T00:00:00.000000Z: {text!r}")
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def _plain(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise CanonicalError(f"{path}: not encodable as UTF-8") from error
        return str(value)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer outside ±(2**53-1)")
        return int(value)
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed; use integers (e.g. points x10)")
    if isinstance(value, datetime):
        return utc_timestamp(value)
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings, got {key!r}")
            plain[str(key)] = _plain(item, f"{path}.{key}")
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise CanonicalError(f"{path}: {type(value).__name__} is not allowed")


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON, keys sorted by code point, no spaces, non-ASCII kept as is.

    Only None, bool, int (within ±(2**53-1)), str, list/tuple and str-keyed
    dicts; an aware datetime becomes its ``utc_timestamp`` string; a float
    or anything else raises ``CanonicalError``. See docs/log-format.md.
    """
    return json.dumps(
        _plain(obj, "$"), sort_keys=True, separators=(",", ":"),
        ensure_ascii=False, allow_nan=False,
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_hash(prev_hash: str, seq: int, kind: str, at: str, payload: Mapping) -> str:
    return sha256_hex(canonical_json(
        {"prev": prev_hash, "seq": seq, "kind": kind, "at": at, "payload": payload}
    ))


# -- entries ------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    at: str
    payload: dict
    prev_hash: str
    hash: str

    def to_dict(self) -> dict:
        return {"seq": self.seq, "kind": self.kind, "at": self.at,
                "payload": self.payload, "prev": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_dict(cls, data: Mapping) -> Entry:
        """Read an entry of a published document; ``ValueError`` when malformed."""
        if not isinstance(data, Mapping):
            raise ValueError("an entry must be an object")
        entry = cls(seq=data.get("seq"), kind=data.get("kind"), at=data.get("at"),
                    payload=data.get("payload"), prev_hash=data.get("prev"), hash=data.get("hash"))
        if not isinstance(entry.seq, int) or isinstance(entry.seq, bool):
            raise ValueError(f"seq must be an integer: {entry.seq!r}")
        if not all(isinstance(v, str) for v in (entry.kind, entry.at, entry.prev_hash, entry.hash)):
            raise ValueError(f"seq {entry.seq}: kind, at, prev and hash must be strings")
        if not isinstance(entry.payload, dict):
            raise ValueError(f"seq {entry.seq}: payload must be an object")
        return entry


def _refuse_personal_looking(value: Any, path: str) -> None:
    if isinstance(value, str):
        if HEX64.match(value):
            return  # a SHA-256 digest (commitment, document hash): its digits can look like 070-xxxx-xxxx
        text = unicodedata.normalize("NFKC", value)
        if _EMAIL.search(text) or _PHONE.search(text):
            raise PayloadRefused(f"{path}: looks like an e-mail address or phone number")
    elif isinstance(value, Mapping):
        extra = sorted(set(value) - NESTED_KEYS)
        if extra:
            raise PayloadRefused(f"{path}: keys not allowed in the public log: {extra}")
        for key, item in value.items():
            _refuse_personal_looking(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_personal_looking(item, f"{path}[{index}]")


def check_public_payload(kind: str, payload: Any) -> None:
    """Raise ``PayloadRefused`` unless every key is on the kind's allow-list."""
    if kind not in PUBLIC_PAYLOAD_KEYS:
        raise PayloadRefused(f"unknown kind {kind!r}")
    if not isinstance(payload, Mapping):
        raise PayloadRefused(f"{kind}: payload must be an object")
    extra = sorted(set(payload) - PUBLIC_PAYLOAD_KEYS[kind])
    if extra:
        raise PayloadRefused(f"{kind}: keys not allowed in the public log: {extra}")
    if kind == REVIEWER_RECUSED and payload.get("ground") not in RECUSAL_GROUNDS | {None}:
        raise PayloadRefused(f"{kind}: ground must be one of {sorted(RECUSAL_GROUNDS)}")
    if kind in (SCORE_SEALED, SCORE_REOPENED) and "stage" in payload and payload["stage"] not in SCORE_STAGES:
        raise PayloadRefused(f"{kind}: stage must be one of {sorted(SCORE_STAGES)}")
    for key, item in payload.items():
        _refuse_personal_looking(item, f"{kind}.{key}")
    try:
        canonical_json(payload)
    except CanonicalError as error:
        raise PayloadRefused(f"{kind}: {error}") from error


def next_entry(previous: Entry | None, kind: str, at: datetime | str,
               payload: Mapping) -> Entry:
    """The entry that follows ``previous`` (``None`` for the first one)."""
    check_public_payload(kind, payload)
    at_text = utc_timestamp(at) if isinstance(at, datetime) else at
    parse_timestamp(at_text)
    if previous is None:
        if kind != CALL_PUBLISHED:
            raise ChainError("the first entry of a call's log must be call_published")
        seq, prev_hash = FIRST_SEQ, GENESIS_PREV
    else:
        if at_text < previous.at:  # one fixed-width format, so text order is time order
            raise ChainError(f"time goes backwards: {at_text} < {previous.at}")
        seq, prev_hash = previous.seq + 1, previous.hash
    plain = json.loads(canonical_json(payload))
    return Entry(seq, kind, at_text, plain, prev_hash,
                 entry_hash(prev_hash, seq, kind, at_text, plain))


def append(entries: list[Entry], kind: str, at: datetime | str, payload: Mapping) -> Entry:
    entry = next_entry(entries[-1] if entries else None, kind, at, payload)
    entries.append(entry)
    return entry


def verify_chain(entries: Sequence[Entry]) -> VerificationReport:
    """Every problem, with the seq where it occurs; ``ok`` when there is none."""
    report = VerificationReport(entry_count=len(entries))
    previous: Entry | None = None
    previous_time: datetime | None = None
    for entry in entries:
        seq = entry.seq
        expected_seq = FIRST_SEQ if previous is None else previous.seq + 1
        if seq != expected_seq:
            report.add(seq, "seq_gap", f"番号が連続していません / non-contiguous seq: expected {expected_seq}")
        expected_prev = GENESIS_PREV if previous is None else previous.hash
        if entry.prev_hash != expected_prev:
            report.add(seq, "broken_link", "前の記録とつながっていません / broken link: prev is not the previous entry's hash")
        try:
            computed = entry_hash(entry.prev_hash, seq, entry.kind, entry.at, entry.payload)
        except (CanonicalError, TypeError) as error:
            report.add(seq, "unencodable", f"符号化できません / cannot encode: {error}")
        else:
            if computed != entry.hash:
                report.add(seq, "wrong_hash", f"ハッシュが一致しません / wrong hash: stored {entry.hash}, computed {computed}")
        try:
            time = parse_timestamp(entry.at)
        except CanonicalError as error:
            report.add(seq, "bad_time", f"時刻の形式が不正です / bad time: {error}")
        else:
            if previous_time is not None and time < previous_time:
                report.add(seq, "time_backwards", "時刻が前の記録より前です / time goes backwards")
            previous_time = time
        if previous is None and entry.kind != CALL_PUBLISHED:
            report.add(seq, "first_entry", "最初の記録が募集開始ではありません / first entry is not call_published")
        try:
            check_public_payload(entry.kind, entry.payload)
        except PayloadRefused as error:
            report.add(seq, "payload_refused", f"公開できない内容です / payload not allowed: {error}")
        previous = entry
    if previous is not None:
        report.head_seq, report.head_hash = previous.seq, previous.hash
    return report
