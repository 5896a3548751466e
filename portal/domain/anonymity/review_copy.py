"""匿名化: what reviewers will read of one accepted proposal (its sources),
and the reviewer copy built from the secretariat's decisions on the
findings in them.

Every text comes from the latest submitted snapshot, never the live draft,
plus the 担当課所見 when the call shows it and the text layer of each
attachment. A location is ``field:<key>`` or ``file:<ReviewAttachment.id>``;
each finding keeps the SHA-256 of the text it was found in, so a finding
on text that has changed since (a stale finding) blocks the release.

The pure core is ``anonymise.py``; the secretariat's scan and decisions
are ``redaction.py``. Nothing here writes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from ...models import (
    FEASIBILITY_LABELS,
    Call,
    DepartmentOpinion,
    FindingStatus,
    Proposal,
    RedactionFinding,
    ReviewAttachment,
)
from .anonymise import Finding, apply_redactions
from ..intake.intake import department_opinion_of, latest_submission
from ..proposals.proposal_fields import FIELD_BY_KEY, TEXT_FIELDS
from ..proposals.workflow import WorkflowError

FIELD = "field:"
FILE = "file:"
PDF = "application/pdf"
ROLE_PARTS = (("item", "item", "項目"), ("group", "group_role", "団体の役割"), ("city", "city_role", "市の役割"))
# Keys of Call.reviewer_fields besides the text fields.
ROLE_SHARES_KEY = "role_shares"
BUDGET_KEY = "budget"
REVIEWABLE_FIELDS = {**{f.key: f.label for f in TEXT_FIELDS}, ROLE_SHARES_KEY: "役割分担", BUDGET_KEY: "収支予算書"}


class AnonymisationError(WorkflowError):
    """A refused anonymisation step; ``message`` is shown to staff."""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Source:
    location: str
    label: str
    text: str

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)


# --- what reviewers see ------------------------------------------------------------

def shown_text_keys(call: Call) -> list[str]:
    """Text fields reviewers read, title first; empty reviewer_fields means all."""
    chosen = set(call.reviewer_fields or [])
    keys = [f.key for f in TEXT_FIELDS if not chosen or f.key in chosen or f.key == "title"]
    return ["title"] + [k for k in keys if k != "title"]


def shows(call: Call, key: str) -> bool:
    return not call.reviewer_fields or key in call.reviewer_fields


def snapshot_of(proposal: Proposal) -> dict:
    submission = latest_submission(proposal, object_session(proposal))
    if submission is None:
        raise AnonymisationError("提出の記録がない提案は匿名化できません。")
    return submission.snapshot


def field_sources(proposal: Proposal, opinion: DepartmentOpinion | None = None) -> list[Source]:
    """Every reviewer-visible text of the submitted snapshot, in reading order."""
    call, snapshot = proposal.call, snapshot_of(proposal)
    texts = {t.get("key"): t.get("value") or "" for t in snapshot.get("texts") or []}
    sources = [Source(f"{FIELD}{key}", FIELD_BY_KEY[key].label, texts.get(key, "")) for key in shown_text_keys(call)]
    if shows(call, ROLE_SHARES_KEY):
        for i, row in enumerate(snapshot.get("roles") or []):
            for part, _, label in ROLE_PARTS:
                sources.append(Source(f"{FIELD}roles.{i}.{part}", f"役割分担{i + 1}（{label}）", row.get(part) or ""))
    if shows(call, BUDGET_KEY):
        budget = snapshot.get("budget") or {}
        for kind, kind_label in (("income", "収入"), ("expense", "支出")):
            for i, line in enumerate(budget.get(kind) or []):
                sources.append(Source(f"{FIELD}budget.{kind}.{i}.note", f"収支予算書 {kind_label}{i + 1}（摘要）",
                                      line.get("note") or ""))
    if call.show_department_opinion and opinion is not None:
        sources.append(Source(f"{FIELD}department.department", "担当課所見（担当課）", opinion.department or ""))
        sources.append(Source(f"{FIELD}department.opinion", "担当課所見（所見）", opinion.opinion or ""))
    return sources


def attachment_label(attachment: ReviewAttachment) -> str:
    return f"添付資料{attachment.position + 1}"


def attachment_sources(attachments: list[ReviewAttachment], *, included_only: bool) -> list[Source]:
    return [Source(f"{FILE}{a.id}", attachment_label(a), a.extracted_text or "")
            for a in attachments if not (included_only and a.excluded)]


def needs_eye_check(attachment: ReviewAttachment) -> bool:
    """Images, and PDFs without a text layer: nothing could be scanned."""
    return not (attachment.extracted_text or "").strip()


def review_attachments(session: Session, proposal: Proposal) -> list[ReviewAttachment]:
    return list(session.scalars(
        select(ReviewAttachment).where(ReviewAttachment.proposal_id == proposal.id).order_by(ReviewAttachment.position)
    ))


def sources_of(session: Session, proposal: Proposal, *, included_only: bool) -> dict[str, Source]:
    opinion = department_opinion_of(session, proposal)
    sources = field_sources(proposal, opinion) + attachment_sources(review_attachments(session, proposal),
                                                                   included_only=included_only)
    return {s.location: s for s in sources}


def findings_of(session: Session, proposal: Proposal) -> list[RedactionFinding]:
    return list(session.scalars(select(RedactionFinding).where(RedactionFinding.proposal_id == proposal.id)
                                .order_by(RedactionFinding.location, RedactionFinding.start, RedactionFinding.id)))


# --- the copy ------------------------------------------------------------------

def as_finding(row: RedactionFinding) -> Finding:
    return Finding(row.location, row.start, row.end, row.text, row.kind, row.replacement, row.confidence)


def redacted_by_location(rows: list[RedactionFinding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for row in rows:
        if row.status == FindingStatus.REDACT:
            out.setdefault(row.location, []).append(as_finding(row))
    return out


def segments(text: str, findings: list[Finding]) -> list[tuple[str, bool]]:
    """``text`` as (piece, is_mark) pieces after redaction, for the staff
    preview; joined, the pieces equal apply_redactions(text, findings)."""
    redacted = apply_redactions(text, findings)  # also refuses stale findings
    spans: list[tuple[int, int, str]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if spans and f.start < spans[-1][1]:
            start, end, mark = spans[-1]
            spans[-1] = (start, max(end, f.end), mark)
        else:
            spans.append((f.start, f.end, f.replacement))
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end, mark in spans:
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((mark, True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    if "".join(p for p, _ in pieces) != redacted:  # the two merges must agree, or the preview would lie
        raise RuntimeError("preview pieces differ from the redacted text")
    return pieces


@dataclass
class Preview:
    content: dict
    # location -> pieces, for highlighting the marks on the staff preview
    marked: dict[str, list[tuple[str, bool]]]
    labels: dict[str, str]


def build_content(session: Session, proposal: Proposal) -> Preview:
    """The ReviewCopy content (see its docstring) from the current decisions,
    without saving anything. Raises StaleFindingError on changed text."""
    call, snapshot = proposal.call, snapshot_of(proposal)
    opinion = department_opinion_of(session, proposal)
    attachments = review_attachments(session, proposal)
    sources = {s.location: s for s in field_sources(proposal, opinion)}
    sources.update({s.location: s for s in attachment_sources(attachments, included_only=True)})
    redactions = redacted_by_location(findings_of(session, proposal))
    marked = {loc: segments(s.text, redactions.get(loc, [])) for loc, s in sources.items()}
    text = {loc: "".join(p for p, _ in pieces) for loc, pieces in marked.items()}

    def field_text(location: str) -> str:
        return text.get(location, "")

    content: dict = {
        "code": proposal.anonymous_code,
        "title": field_text(f"{FIELD}title"),
        "fields": [
            {"key": key, "label": FIELD_BY_KEY[key].label, "text": field_text(f"{FIELD}{key}")}
            for key in shown_text_keys(call) if key != "title"
        ],
        "period": None,
        "desired_forms": list(snapshot.get("desired_forms") or []) if shows(call, "desired_forms") else [],
        "role_shares": [],
        "budget": None,
        "department": None,
        "attachments": [],
    }
    period = snapshot.get("period") or {}
    if shows(call, "period") and (period.get("start") or period.get("end")):
        content["period"] = {"start": period.get("start"), "end": period.get("end")}
    if shows(call, ROLE_SHARES_KEY):
        content["role_shares"] = [
            {key: field_text(f"{FIELD}roles.{i}.{part}") for part, key, _ in ROLE_PARTS}
            for i in range(len(snapshot.get("roles") or []))
        ]
    if shows(call, BUDGET_KEY):
        budget = snapshot.get("budget") or {}
        lines = []
        for kind in ("income", "expense"):
            for i, line in enumerate(budget.get(kind) or []):
                lines.append({"kind": kind, "category": line.get("category") or "", "amount": int(line.get("amount") or 0),
                              "note": field_text(f"{FIELD}budget.{kind}.{i}.note")})
        content["budget"] = {"lines": lines, "income_total": int(budget.get("income_total") or 0),
                             "expense_total": int(budget.get("expense_total") or 0),
                             "requested_amount": int(budget.get("requested_amount") or 0)}
    if call.show_department_opinion and opinion is not None:
        content["department"] = {"department": field_text(f"{FIELD}department.department"),
                                 "feasibility": FEASIBILITY_LABELS.get(opinion.feasibility, ""),
                                 "opinion": field_text(f"{FIELD}department.opinion")}
    # Numbered among the included ones only, so a left-out attachment leaves no gap.
    content["attachments"] = [
        {"id": a.id, "label": f"添付資料{n}", "content_type": a.content_type}
        for n, a in enumerate((a for a in attachments if not a.excluded), start=1)
    ]
    return Preview(content, marked, {loc: s.label for loc, s in sources.items()})
