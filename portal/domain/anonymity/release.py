"""審査委員への公開: freezing the anonymised copy of accepted proposals.

release_for_review() refuses, with every unresolved point listed, while a
finding is undecided, an unreadable attachment is neither checked by eye
nor left out, or a text changed since it was scanned. Otherwise it writes
the ReviewCopy, makes the reviewers' copies of the included attachments
under generated names, moves the proposals to REVIEW, logs
``released_to_reviewers`` and assigns them to the panel.

Reviewer copies of attachments (issue 14: redacted in place):
- a PDF: the group's own PDF with the redacted text removed from it (not
  only covered; ``files/redact_pages.py``), the masked pages rasterised with
  the masks burnt in and the excluded pages replaced by empty ones, then
  rebuilt with no metadata, outline, form, annotation, page label or
  structure tree (text the scan never read);
- an image: re-encoded from its pixels, with the masked regions painted out.
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime

import pikepdf
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...files.redact_pages import Mask, PageError, mask_image, redact_pdf
from ...files.sanitize import RejectedFile, clean_image, clean_pdf
from ...models import Proposal, ProposalStatus, ReviewAttachment, ReviewCopy, StoredFile, User
from ..log import process_log
from ..panel import panel
from .anonymise import StaleFindingError
from ..log.chain import RELEASED_TO_REVIEWERS, canonical_json, sha256_hex
from .redaction import page_masks, release_problems
from .review_copy import (
    FILE,
    PDF,
    attachment_label,
    build_content,
    findings_of,
    redacted_by_location,
    review_attachments,
)
from ..proposals.workflow import WorkflowError, record_status


class ReleaseRefused(WorkflowError):
    """Nothing was released; ``problems`` maps each proposal code to its reasons."""

    def __init__(self, problems: dict[str, list[str]]):
        lines = [f"{code}：{reason}" for code, reasons in problems.items() for reason in reasons]
        super().__init__("審査委員に公開できません。次の点を解決してください。\n" + "\n".join(lines))
        self.problems = problems


def release_for_review(session: Session, proposals: Iterable[Proposal], staff: User | None, now: datetime, *,
                       store: ObjectStore | None = None) -> list[ReviewCopy]:
    """Release all of ``proposals`` or none of them. ``store`` (the object
    store) is needed when a proposal has an attachment to copy."""
    proposals = sorted(set(proposals), key=lambda p: (p.call_id, p.anonymous_code or ""))
    if not proposals:
        raise ReleaseRefused({"—": ["公開する提案を選んでください。"]})
    problems = {p.anonymous_code or p.receipt_number or str(p.id): release_problems(session, p) for p in proposals}
    problems = {code: reasons for code, reasons in problems.items() if reasons}
    if problems:
        raise ReleaseRefused(problems)

    previews = {}
    for proposal in proposals:
        try:
            previews[proposal.id] = build_content(session, proposal)
        except StaleFindingError:
            raise ReleaseRefused({proposal.anonymous_code: ["スキャンの後に内容が変わっています。再スキャンしてください。"]}) from None
        if previews[proposal.id].content["attachments"] and store is None:
            raise ValueError("the object store is needed to copy attachments for reviewers")

    copies = []
    for proposal in proposals:
        content = previews[proposal.id].content
        _copy_attachments(session, proposal, store, {a["id"]: a["label"] for a in content["attachments"]})
        copy = ReviewCopy(proposal_id=proposal.id, call_id=proposal.call_id, code=proposal.anonymous_code,
                          content=content, content_sha256=sha256_hex(canonical_json(content)), released_at=now,
                          released_by_id=staff.id if staff else None)
        session.add(copy)
        record_status(session, proposal, ProposalStatus.REVIEW, staff, now)
        proposal.released_at = now
        copies.append(copy)
    session.flush()

    by_call: dict[int, list[Proposal]] = {}
    for proposal in proposals:
        by_call.setdefault(proposal.call_id, []).append(proposal)
    for group in by_call.values():
        call = group[0].call
        process_log.append(session, call, RELEASED_TO_REVIEWERS,
                           {"proposal_codes": sorted(p.anonymous_code for p in group)}, now)
        panel.assign_released(session, call, group, now)
    return copies


# --- attachments -----------------------------------------------------------------

def _copy_attachments(session: Session, proposal: Proposal, store: ObjectStore, labels: dict[int, str]) -> None:
    redactions = redacted_by_location(findings_of(session, proposal))
    for attachment in review_attachments(session, proposal):
        if attachment.excluded:
            continue
        source = session.get(StoredFile, attachment.source_file_id)
        original = storage.read_bytes(store, source.storage_name)
        if original is None:
            raise ReleaseRefused({proposal.anonymous_code: [
                f"{attachment_label(attachment)}のファイルが見つかりません。システム管理者に連絡してください。"]})
        try:
            data, content_type = reviewer_copy(attachment, original,
                                               redactions.get(f"{FILE}{attachment.id}", []), labels[attachment.id])
        except RejectedFile as rejected:  # an image over today's limits, or the server busy decoding others
            raise ReleaseRefused({proposal.anonymous_code: [f"{attachment_label(attachment)}：{rejected.message}"]}) \
                from None
        attachment.storage_name = storage.write_generated(session, store, data)
        attachment.content_type = content_type


def reviewer_copy(attachment: ReviewAttachment, data: bytes, redactions, label: str) -> tuple[bytes, str]:
    """The reviewers' copy of one attachment. ``label`` is kept for callers;
    nothing of the group's file name reaches the copy."""
    masks, excluded = page_masks(attachment)
    if attachment.content_type == PDF:
        terms = sorted({(f.text, f.replacement) for f in redactions})
        if terms or masks or excluded:
            try:
                data, _report = redact_pdf(data, terms, {page: [Mask(*box) for box in boxes]
                                                         for page, boxes in masks.items()}, excluded)
            except PageError as error:
                raise RejectedFile(f"墨消しできませんでした（{error.message}）。この添付資料は除外してください。") from None
        try:
            return bare_pdf(data), PDF
        except pikepdf.PdfError:
            raise RejectedFile("PDFを組み立て直せませんでした。この添付資料は除外してください。") from None
    clean = clean_image(data, attachment.content_type)
    if masks.get(0):
        try:
            clean = mask_image(clean, attachment.content_type, [Mask(*box) for box in masks[0]])
        except PageError as error:
            raise RejectedFile(error.message) from None
    return clean, attachment.content_type


# Document-level entries that can carry text the scan never read (outline
# titles, form values, named destinations, structure-tree alt text, ...).
_CATALOG_KEYS = ("/Outlines", "/AcroForm", "/PageLabels", "/Names", "/StructTreeRoot", "/Threads", "/Dests",
                 "/URI", "/SpiderInfo", "/Collection", "/Perms", "/Legal", "/Lang", "/MarkInfo", "/Metadata",
                 "/OCProperties")
_PAGE_KEYS = ("/Annots", "/B", "/Thumb", "/PieceInfo", "/StructParents", "/AA", "/Metadata")
# Associated files (PDF 2.0, PDF/A-3 ``/AF``) may hang on any object, not only
# the /Names tree clean_pdf() empties: office suites embed the source document
# there (with its author), and qpdf/pikepdf add /AF for every attachment.
_ANY_OBJECT_KEYS = ("/AF",)


def bare_pdf(data: bytes) -> bytes:
    """The group's PDF with its pages only: clean_pdf() (no DocInfo, XMP,
    scripts, embedded files, photo EXIF) and then everything around the
    pages removed as well."""
    cleaned = clean_pdf(data)
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        root = pdf.Root
        for key in _CATALOG_KEYS:
            if key in root:
                del root[key]
        for page in pdf.pages:
            for key in _PAGE_KEYS:
                if key in page.obj:
                    del page.obj[key]
            try:
                page.remove_unreferenced_resources()  # what a redaction or a raster left behind
            except pikepdf.PdfError:
                pass
        for obj in pdf.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                for key in _ANY_OBJECT_KEYS:
                    if key in obj:
                        del obj[key]
        _drop_marked_content_properties(pdf)
        out = io.BytesIO()
        # Object streams: the file's structure (xref, font widths) is
        # compressed too, as in the PDF the group uploaded.
        pdf.save(out, fix_metadata_version=False, deterministic_id=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


# Marked content with a property list: ``/Span <</ActualText (...)>> BDC``
# (also /Alt, /E, layer names via /Properties). Viewers copy and read those
# aloud, but text extraction (so the scan) never sees them. The marks stay,
# without their lists (BDC -> BMC, DP -> MP); with the structure tree and the
# layers gone they had no other use. Every page and form is written back from
# what the parser understood, so bytes it could not read do not ride along.
_WITH_PROPERTIES = {"BDC": "BMC", "DP": "MP"}


def _drop_marked_content_properties(pdf: pikepdf.Pdf) -> None:
    streams = [page.obj for page in pdf.pages]
    streams += [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form"]
    for owner in streams:
        rewritten = [
            pikepdf.ContentStreamInstruction([i.operands[0]], pikepdf.Operator(_WITH_PROPERTIES[str(i.operator)]))
            if isinstance(i, pikepdf.ContentStreamInstruction) and str(i.operator) in _WITH_PROPERTIES else i
            for i in pikepdf.parse_content_stream(owner)
        ]
        data = pikepdf.unparse_content_stream(rewritten)
        if isinstance(owner, pikepdf.Stream):
            owner.write(data)
        else:
            owner.Contents = pdf.make_stream(data)
    for owner in [page.obj for page in pdf.pages] + list(pdf.objects):  # pages inherit resources too
        resources = owner.get("/Resources") if isinstance(owner, (pikepdf.Dictionary, pikepdf.Stream)) else None
        if isinstance(resources, pikepdf.Dictionary) and "/Properties" in resources:
            del resources["/Properties"]
