"""Small, valid PDFs standing in for a group's documents in demo and test
data (a real group uploads its own). They go through the same sanitising and
storage as an upload, so demo data exercises the real path."""
from __future__ import annotations

import io

import pikepdf

from ..models import FilePurpose, Group
from .objectstore import ObjectStore
from .sanitize import sanitize
from .storage import store_file

REQUIRED_DOCUMENTS = (FilePurpose.RULES, FilePurpose.OFFICERS, FilePurpose.ANNUAL_REPORT)


def sample_pdf(title: str) -> bytes:
    """A one-page A4 PDF whose page says what it stands for (ASCII only: the
    base-14 fonts have no Japanese glyphs)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    content = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    page = pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(content),
    ))
    pdf.pages.append(page)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def attach_sample_documents(session, store: ObjectStore, group: Group, uploaded_by_id: int | None = None) -> None:
    names = {
        FilePurpose.RULES: ("Sample: rules of the group", "規約.pdf"),
        FilePurpose.OFFICERS: ("Sample: list of officers", "役員名簿.pdf"),
        FilePurpose.ANNUAL_REPORT: ("Sample: annual report and accounts", "事業報告・決算書.pdf"),
    }
    for purpose in REQUIRED_DOCUMENTS:
        title, file_name = names[purpose]
        clean = sanitize(sample_pdf(title), file_name)
        store_file(session, store, clean, original_name=file_name, purpose=purpose, group_id=group.id,
                   uploaded_by_id=uploaded_by_id)
