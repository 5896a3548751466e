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
from ...files.redact_pages import PageError, analyse
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
        if row.visual_pages is None and store is not None:
            analyse_attachment(row, stored, store)
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


# --- image pages, QR codes and masks (issue 14) ------------------------------------

CONFIRM, MASK, EXCLUDE = "confirm", "mask", "exclude"
PAGE_DECISIONS = {CONFIRM: "問題なし（確認済み）", MASK: "範囲を塗りつぶす", EXCLUDE: "除外する"}
MAX_MASKS = 20


def analyse_attachment(row: ReviewAttachment, stored: StoredFile, store: ObjectStore) -> None:
    """Find the pages with images and the QR codes (in a child process)."""
    data = storage.read_bytes(store, stored.storage_name)
    if data is None:
        row.visual_pages = {"error": "ファイルが見つかりません。"}
        return
    try:
        row.visual_pages = analyse(data, row.content_type)
    except PageError as error:
        row.visual_pages = {"error": error.message}


def visual_pages(attachment: ReviewAttachment) -> list[dict]:
    return list((attachment.visual_pages or {}).get("pages") or [])


def page_decision(attachment: ReviewAttachment, page: int) -> dict | None:
    decided = (attachment.page_decisions or {}).get(str(page))
    if decided is None and attachment.content_type != PDF and attachment.checked_by_eye:
        # An image looked at by eye before page decisions existed.
        qr = any(p.get("qr") for p in visual_pages(attachment) if p.get("page") == page)
        return None if qr else {"decision": CONFIRM, "masks": []}
    return decided


def undecided_pages(attachment: ReviewAttachment) -> list[dict]:
    return [p for p in visual_pages(attachment) if page_decision(attachment, p["page"]) is None]


def page_label(attachment: ReviewAttachment, page: dict) -> str:
    where = "画像" if attachment.content_type != PDF else f"{page['page'] + 1}ページ目"
    return where + ("（QRコードあり）" if page.get("qr") else "")


def parse_masks(values: list[str]) -> list[list[float]]:
    """Rectangles typed as "x,y,w,h" (percent of the page; one per line or
    field), clamped to the page. Raises AnonymisationError on bad input."""
    masks = []
    for raw in values:
        for line in (raw or "").replace("、", ",").replace("，", ",").splitlines():
            line = line.strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split(",")]
            try:
                x, y, w, h = (float(p) for p in parts)
            except ValueError:
                raise AnonymisationError(f"範囲「{line[:40]}」を読み取れません。「左,上,幅,高さ」を0〜100の数で入力してください（例：10,20,30,15）。") from None
            if not all(0 <= v <= 100 for v in (x, y, w, h)) or w <= 0 or h <= 0:
                raise AnonymisationError(f"範囲「{line[:40]}」は0〜100の範囲で、幅と高さは0より大きくしてください。")
            masks.append([round(x, 2), round(y, 2), round(min(w, 100 - x), 2), round(min(h, 100 - y), 2)])
    if len(masks) > MAX_MASKS:
        raise AnonymisationError(f"塗りつぶす範囲は{MAX_MASKS}個までにしてください。")
    return masks


def _covers(masks: list[list[float]], box: list[float], slack: float = 1.0) -> bool:
    x, y, w, h = box
    return any(mx - slack <= x and my - slack <= y and x + w <= mx + mw + slack and y + h <= my + mh + slack
               for mx, my, mw, mh in masks)


def decide_page(session: Session, attachment: ReviewAttachment, page: int, decision: str,
                masks: list[list[float]], staff: User | None, now: datetime) -> None:
    """The official's decision on one image page (or an image attachment)."""
    _require_editable(session.get(Proposal, attachment.proposal_id))
    found = next((p for p in visual_pages(attachment) if p.get("page") == page), None)
    if found is None:
        raise AnonymisationError("確認が必要なページではありません。")
    if decision not in PAGE_DECISIONS:
        raise AnonymisationError("「問題なし」「範囲を塗りつぶす」「除外する」のどれかを選んでください。")
    if decision == MASK and not masks:
        raise AnonymisationError("塗りつぶす範囲を1つ以上入力してください。")
    if found.get("qr"):
        if decision == CONFIRM:
            raise AnonymisationError("QRコードは団体のウェブサイトなどを指すおそれがあるため、「問題なし」にはできません。"
                                     "QRコードの範囲を塗りつぶすか、除外してください。")
        if decision == MASK and not all(_covers(masks, box) for box in found["qr"]):
            raise AnonymisationError("塗りつぶす範囲がQRコードを覆っていません。「QRコードの範囲」を使うか、範囲を広げてください。")
    decisions = dict(attachment.page_decisions or {})
    decisions[str(page)] = {"decision": decision, "masks": masks if decision == MASK else [],
                            "decided_by_id": staff.id if staff else None, "decided_at": now.isoformat()}
    attachment.page_decisions = decisions  # a new dict: JSON columns see assignment only
    if attachment.content_type != PDF:
        # The image is the attachment: excluding it leaves it out; otherwise it was looked at.
        attachment.excluded = decision == EXCLUDE
        attachment.checked_by_eye = decision != EXCLUDE
    session.flush()


def undo_page_decision(session: Session, attachment: ReviewAttachment, page: int) -> None:
    _require_editable(session.get(Proposal, attachment.proposal_id))
    decisions = dict(attachment.page_decisions or {})
    decisions.pop(str(page), None)
    attachment.page_decisions = decisions
    if attachment.content_type != PDF:
        attachment.checked_by_eye = False
        attachment.excluded = False
    session.flush()


def page_masks(attachment: ReviewAttachment) -> tuple[dict[int, list[list[float]]], list[int]]:
    """(page -> masks, excluded pages) as decided, for the reviewer copy."""
    masks, excluded = {}, []
    for key, decided in sorted((attachment.page_decisions or {}).items(), key=lambda kv: int(kv[0])):
        if decided.get("decision") == MASK and decided.get("masks"):
            masks[int(key)] = decided["masks"]
        elif decided.get("decision") == EXCLUDE:
            excluded.append(int(key))
    return masks, excluded


def _attachment_problems(attachment: ReviewAttachment) -> list[str]:
    label = attachment_label(attachment)
    if attachment.visual_pages is None:
        return [f"{label}の画像とQRコードをまだ調べていません。再スキャンしてください。"]
    if "error" in attachment.visual_pages:
        return [f"{label}の画像を調べられませんでした（{attachment.visual_pages['error']}）。除外してください。"]
    problems = []
    undecided = undecided_pages(attachment)
    if undecided:
        where = "、".join(page_label(attachment, p) for p in undecided[:10]) + ("ほか" if len(undecided) > 10 else "")
        problems.append(f"{label}の{where}を目視で確認して、「問題なし（目視で確認済み）」「範囲を塗りつぶす」「除外する」のどれかに決めてください。")
    all_pages_seen = (attachment.content_type == PDF and len(visual_pages(attachment))
                      == attachment.visual_pages.get("page_count") and not undecided)
    if (needs_eye_check(attachment) and not attachment.checked_by_eye and not undecided
            and not all_pages_seen and attachment.content_type == PDF):
        problems.append(f"{label}は文字を読み取れないため、「目視で確認済み」にするか、審査委員に渡さない設定にしてください。")
    return problems


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
        if not attachment.excluded:
            problems += _attachment_problems(attachment)
    return problems


def _covered(finding: Finding, rows: list[RedactionFinding], decided: list[RedactionFinding]) -> bool:
    for row in rows:
        if row.location == finding.field and row.start == finding.start and row.end == finding.end:
            return True
    return any(r.location == finding.field and r.status == FindingStatus.REDACT
               and r.start <= finding.start and finding.end <= r.end for r in decided)
