"""The secretariat's anonymisation work on one accepted proposal: the scan
for identifying text, the decision on each finding, manual redactions and
extra terms, the attachments' settings, and whether it is all done
(:func:`release_problems`).

Nothing here may change once the proposal is released. The texts scanned
are those of ``review_copy.py``; the pure detector is ``anonymise.py``.
Verbs only flush.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...files.text_extract import extract_pdf_text
from ...models import (
    Call,
    ExtraTerm,
    FilePurpose,
    FindingStatus,
    Proposal,
    ProposalStatus,
    RedactionFinding,
    ReviewAttachment,
    StoredFile,
    User,
)
from .anonymise import EXTRA_TERM, REPLACEMENTS, Finding, find_identifiers
from .group_identity import identity_of
from .identity import HIGH, fold
from .review_copy import (
    PDF,
    AnonymisationError,
    attachment_label,
    findings_of,
    needs_eye_check,
    review_attachments,
    snapshot_of,
    sources_of,
)

MAX_FINDING_CHARS = 500  # RedactionFinding.text
MAX_TERM_CHARS = 100  # ExtraTerm.term
MAX_REASON_CHARS = 200  # RedactionFinding.reason


# --- loading ---------------------------------------------------------------------

def submitted_attachments(session: Session, proposal: Proposal) -> list[StoredFile]:
    """The proposal's attachments that are in the latest submission, in its order."""
    snapshot = snapshot_of(proposal)
    wanted = [a.get("sha256") for a in snapshot.get("attachments") or []]
    files = session.scalars(select(StoredFile).where(
        StoredFile.proposal_id == proposal.id, StoredFile.purpose == FilePurpose.ATTACHMENT
    ).order_by(StoredFile.uploaded_at, StoredFile.id)).all()
    by_sha: dict[str, StoredFile] = {}
    for stored in files:
        by_sha.setdefault(stored.sha256, stored)
    return [by_sha[sha] for sha in dict.fromkeys(wanted) if sha in by_sha]


def extra_terms(session: Session, proposal: Proposal) -> list[ExtraTerm]:
    return list(session.scalars(select(ExtraTerm).where(
        ExtraTerm.call_id == proposal.call_id,
        (ExtraTerm.proposal_id == proposal.id) | ExtraTerm.proposal_id.is_(None),
    ).order_by(ExtraTerm.id)))


def identity_for(session: Session, proposal: Proposal):
    return identity_of(proposal.group, [t.term for t in extra_terms(session, proposal)])


# --- the scan ------------------------------------------------------------------

def _require_editable(proposal: Proposal) -> None:
    if proposal.status != ProposalStatus.ACCEPTED:
        if proposal.released_at is not None:
            raise AnonymisationError("審査委員に公開済みのため、匿名化の内容は変更できません。")
        raise AnonymisationError(f"この提案は「{proposal.status.label}」のため、匿名化の対象ではありません。")


def sync_attachments(session: Session, proposal: Proposal, store: ObjectStore | None) -> list[ReviewAttachment]:
    """One ReviewAttachment per submitted attachment, with its text layer."""
    existing = {a.source_file_id: a for a in review_attachments(session, proposal)}
    rows = []
    for position, stored in enumerate(submitted_attachments(session, proposal)):
        row = existing.pop(stored.id, None)
        if row is None:
            row = ReviewAttachment(proposal_id=proposal.id, source_file_id=stored.id, position=position,
                                   content_type=stored.content_type)
            session.add(row)
            if stored.content_type == PDF:
                data = storage.read_bytes(store, stored.storage_name) if store is not None else None
                text = extract_pdf_text(data) if data is not None else None
                row.extracted_text = text or ""
        row.position = position
        rows.append(row)
    for stale in existing.values():  # no longer in the submission
        session.delete(stale)
    session.flush()
    return rows


@dataclass
class ScanResult:
    added: int = 0
    removed: int = 0
    kept: int = 0
    locations: list[str] = field(default_factory=list)


def scan(session: Session, proposal: Proposal, staff: User | None, now: datetime, *,
         store: ObjectStore | None = None) -> ScanResult:
    """Scan every reviewer-visible text (and every attachment's text, even
    excluded ones) and store what was found. Decisions on findings whose text
    has not changed are kept; findings on changed text are dropped."""
    _require_editable(proposal)
    sync_attachments(session, proposal, store)
    sources = sources_of(session, proposal, included_only=False)
    fresh = find_identifiers({loc: s.text for loc, s in sources.items()}, identity_for(session, proposal))
    result = ScanResult(locations=list(sources))
    rows = findings_of(session, proposal)
    kept: dict[tuple[str, int, int], RedactionFinding] = {}
    for row in rows:
        source = sources.get(row.location)
        if source is None or row.source_sha256 != source.sha256:
            session.delete(row)
            result.removed += 1
        else:
            kept[(row.location, row.start, row.end)] = row
    session.flush()  # deletions first: a fresh finding may take the same span
    seen = set()
    for finding in fresh:
        key = (finding.field, finding.start, finding.end)
        seen.add(key)
        row = kept.get(key)
        if row is not None:
            if row.status == FindingStatus.PENDING and not row.manual:
                row.kind, row.replacement, row.confidence = finding.kind, finding.replacement, finding.confidence
                row.reason = finding.reason[:MAX_REASON_CHARS]
                _default_decision(row, now)
            result.kept += 1
            continue
        if len(finding.text) > MAX_FINDING_CHARS:
            continue  # cannot be stored; release_problems() reports the span as not scanned
        row = RedactionFinding(
            proposal_id=proposal.id, location=finding.field, start=finding.start, end=finding.end,
            text=finding.text, kind=finding.kind, replacement=finding.replacement, confidence=finding.confidence,
            reason=finding.reason[:MAX_REASON_CHARS], source_sha256=sources[finding.field].sha256,
            status=FindingStatus.PENDING,
        )
        _default_decision(row, now)
        session.add(row)
        result.added += 1
    for key, row in kept.items():
        # Undecided findings and the scan's own defaults that it no longer
        # makes (an extra term removed) go; staff's decisions and manual
        # redactions stay.
        by_scan = row.status == FindingStatus.PENDING or (row.status == FindingStatus.REDACT
                                                           and row.decided_by_id is None)
        if key not in seen and by_scan and not row.manual:
            session.delete(row)
            result.removed += 1
    session.flush()
    return result


def _default_decision(row: RedactionFinding, now: datetime) -> None:
    """Two levels: a sure hit is redacted by default (staff may still undo
    it); a pointer stays undecided until the official decides it. The
    default has no decider: it is the scan's, not a person's."""
    if row.confidence == HIGH and row.status == FindingStatus.PENDING:
        row.status = FindingStatus.REDACT
        row.decided_at = now
        row.decided_by_id = None


# --- decisions ---------------------------------------------------------------------

def decide_finding(session: Session, finding: RedactionFinding, status: FindingStatus | str, staff: User | None,
                   now: datetime) -> None:
    proposal = session.get(Proposal, finding.proposal_id)
    _require_editable(proposal)
    finding.status = FindingStatus(status)
    finding.decided_at = None if finding.status == FindingStatus.PENDING else now
    finding.decided_by_id = staff.id if staff and finding.status != FindingStatus.PENDING else None
    session.flush()


def redact_high_confidence(session: Session, proposal: Proposal, staff: User | None, now: datetime) -> int:
    _require_editable(proposal)
    count = 0
    for row in findings_of(session, proposal):
        if row.status == FindingStatus.PENDING and row.confidence == HIGH:
            row.status = FindingStatus.REDACT
            row.decided_at = now
            row.decided_by_id = staff.id if staff else None
            count += 1
    session.flush()
    return count


def add_manual_redaction(session: Session, proposal: Proposal, location: str, text: str, staff: User | None,
                         now: datetime) -> int:
    """Redact every occurrence of ``text`` (exactly as written) in one location."""
    _require_editable(proposal)
    if not text:
        raise AnonymisationError("伏せる文字列を入力してください。")
    if len(text) > MAX_FINDING_CHARS:
        raise AnonymisationError(f"伏せる文字列は{MAX_FINDING_CHARS}字以内にしてください。")
    source = sources_of(session, proposal, included_only=False).get(location)
    if source is None:
        raise AnonymisationError("伏せる箇所を一覧から選んでください。")
    starts = []
    start = source.text.find(text)
    while start != -1:
        starts.append(start)
        start = source.text.find(text, start + len(text))
    if not starts:
        raise AnonymisationError(f"「{source.label}」に、入力した文字列は見つかりませんでした。本文のとおりに入力してください。")
    existing = {(r.location, r.start, r.end): r for r in findings_of(session, proposal)}
    for start in starts:
        row = existing.get((location, start, start + len(text)))
        if row is None:
            row = RedactionFinding(proposal_id=proposal.id, location=location, start=start, end=start + len(text),
                                   text=text, kind=EXTRA_TERM, replacement=REPLACEMENTS[EXTRA_TERM],
                                   confidence=HIGH, source_sha256=source.sha256, manual=True)
            session.add(row)
        row.status = FindingStatus.REDACT
        row.decided_at = now
        row.decided_by_id = staff.id if staff else None
    session.flush()
    return len(starts)


def add_extra_term(session: Session, call: Call, proposal: Proposal | None, term: str, staff: User | None,
                   now: datetime) -> ExtraTerm:
    term = (term or "").strip()
    if len(fold(term)) < 2:
        raise AnonymisationError("追加する語句は2文字以上で入力してください。")
    if len(term) > MAX_TERM_CHARS:
        raise AnonymisationError(f"追加する語句は{MAX_TERM_CHARS}字以内にしてください。")
    if proposal is not None:
        _require_editable(proposal)
    existing = session.scalars(select(ExtraTerm).where(
        ExtraTerm.call_id == call.id,
        ExtraTerm.proposal_id.is_(None) if proposal is None else ExtraTerm.proposal_id == proposal.id,
    )).all()
    if any(fold(t.term) == fold(term) for t in existing):
        raise AnonymisationError(f"「{term}」はすでに登録されています。")
    row = ExtraTerm(call_id=call.id, proposal_id=proposal.id if proposal else None, term=term, created_at=now,
                    created_by_id=staff.id if staff else None)
    session.add(row)
    session.flush()
    return row


def remove_extra_term(session: Session, term: ExtraTerm) -> None:
    if term.proposal_id is not None:
        _require_editable(session.get(Proposal, term.proposal_id))
    session.execute(delete(ExtraTerm).where(ExtraTerm.id == term.id))
    session.flush()


def set_attachment(session: Session, attachment: ReviewAttachment, *, excluded: bool, checked_by_eye: bool) -> None:
    _require_editable(session.get(Proposal, attachment.proposal_id))
    attachment.excluded = bool(excluded)
    attachment.checked_by_eye = bool(checked_by_eye)
    session.flush()


# --- readiness ---------------------------------------------------------------------

def release_problems(session: Session, proposal: Proposal) -> list[str]:
    """Why this proposal cannot be released yet, in plain Japanese; [] when it can."""
    if proposal.status != ProposalStatus.ACCEPTED:
        if proposal.released_at is not None:
            return ["すでに審査委員に公開されています。"]
        return [f"「{proposal.status.label}」の提案は公開できません（受理した提案だけが対象です）。"]
    problems: list[str] = []
    attachments = review_attachments(session, proposal)
    if len(attachments) != len(submitted_attachments(session, proposal)):
        problems.append("添付資料をまだスキャンしていません。スキャンしてください。")
    sources = sources_of(session, proposal, included_only=True)
    rows = [r for r in findings_of(session, proposal) if r.location in sources]
    stale = sorted({sources[r.location].label for r in rows if r.source_sha256 != sources[r.location].sha256})
    if stale:
        problems.append(f"スキャンの後に内容が変わった箇所があります（{'、'.join(stale)}）。再スキャンしてください。")
    pending: dict[str, int] = {}
    for row in rows:
        if row.status == FindingStatus.PENDING and sources[row.location].label not in stale:
            label = sources[row.location].label
            pending[label] = pending.get(label, 0) + 1
    if pending:
        total = sum(pending.values())
        where = "、".join(f"{label} {n}件" for label, n in pending.items())
        problems.append(f"伏せるか伏せないかを決めていない検出が{total}件あります（{where}）。")
    decided = [r for r in rows if r.status != FindingStatus.PENDING]
    fresh = find_identifiers({loc: s.text for loc, s in sources.items()}, identity_for(session, proposal))
    missed = sorted({sources[f.field].label for f in fresh if not _covered(f, rows, decided)})
    if missed and not stale:
        problems.append(f"まだスキャンしていない検出があります（{'、'.join(missed)}）。再スキャンしてください。")
    for attachment in attachments:
        if not attachment.excluded and needs_eye_check(attachment) and not attachment.checked_by_eye:
            problems.append(f"{attachment_label(attachment)}は文字を読み取れないため、"
                            "「目視で確認済み」にするか、審査委員に渡さない設定にしてください。")
    return problems


def _covered(finding: Finding, rows: list[RedactionFinding], decided: list[RedactionFinding]) -> bool:
    for row in rows:
        if row.location == finding.field and row.start == finding.start and row.end == finding.end:
            return True
    return any(r.location == finding.field and r.status == FindingStatus.REDACT
               and r.start <= finding.start and finding.end <= r.end for r in decided)
