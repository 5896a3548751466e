"""Verification for anyone: the page that explains what the process log
proves and checks a call's files in the visitor's own browser
(``static/js/verify*.js``), and the documents it needs that no other page
serves.

    /transparency/verify                the page (``?call=<slug>`` checks that call's published files)
    /calls/<slug>/guidelines.json       the 募集要項 exactly as hashed in the log (document_sha256)
    /calls/<slug>/log/v<n>.pdf          the process log PDF published with version n

docs/transparency.md lists every address; docs/log-format.md says which
log field holds which document's SHA-256.
"""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from ..db import db_session
from ..domain.log import chain
from ..errors import refuse
from ..models import Call, Publication
from . import bp, serving
from .serving import IMMUTABLE, LATEST


@bp.get("/transparency/verify")
def verify_page():
    slug = request.args.get("call", "")
    call = None
    if slug and serving.plausible_slug(slug):
        call = db_session.scalar(select(Call).where(Call.slug == slug, Call.published_at.is_not(None)))
    versions = []
    if call is not None:
        versions = list(db_session.scalars(select(Publication.version).where(Publication.call_id == call.id)
                                           .order_by(Publication.version)))
    return render_template("public/verify.html", call=call, versions=versions)


@bp.get("/calls/<slug>/guidelines.json")
def guidelines_json(slug: str):
    """The bytes whose SHA-256 the log records as the 募集要項's
    ``document_sha256``: the canonical JSON of the title and the text."""
    call = serving.load_public_call(slug)
    data = chain.canonical_json({"title": call.title, "guidelines": call.guidelines})
    return serving.document_response(data, "application/json", f"{serving.ascii_filename(slug)}-guidelines.json",
                                     LATEST)


@bp.get("/calls/<slug>/log/v<int:version>.pdf")
def process_log_version_pdf(slug: str, version: int):
    call = serving.load_public_call(slug)
    row = db_session.scalar(select(Publication).where(Publication.call_id == call.id,
                                                      Publication.version == version)) if version >= 1 else None
    if row is None:
        serving.latest_publication(call)  # before publication: say when the results are due
        refuse(404, f"第{version}版の審査プロセスの記録のPDFはありません。")
    return serving.stored_pdf(row.log_pdf_name, f"{serving.ascii_filename(call.slug)}-log-v{version}.pdf", IMMUTABLE,
                              f"第{version}版の審査プロセスの記録のPDFはありません。",
                              published_at=serving.clamped(row.published_at))
