"""Published results, for anyone, at stable URLs.

Every results view (page, JSON, CSV) is drawn from one stored document,
the results document written at publication (``domain.results.publication``), so the
page cannot show a figure the JSON does not. PDFs are the files stored at
publication, never rendered again here. The URLs are documented in
docs/transparency.md; keep the two in step.

    /calls/<slug>/results            page      (.json .csv .pdf twins)
    /calls/<slug>/results/v<n>       an earlier version after a correction
    /calls/<slug>/results/p/<code>   one proposal in full (…/v<n>/p/<code> for a version)
    /calls/<slug>/log                the process log (.json .pdf twins; log_pages.py)
    /transparency/public-key.pem     the key that signs the log head
    /transparency/verify_log.py      the citizen's verifier

Loading, HTTP caching and the worker's page cache, shared with the log
pages, are ``serving.py``.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import Response, current_app, url_for
from sqlalchemy import select

from ..db import db_session
from ..domain.log import signing
from ..domain.results import publication
from ..domain.timeutil import format_jst
from ..errors import refuse
from ..models import Call, Publication
from . import bp, serving
from .serving import (
    IMMUTABLE,
    LATEST,
    ascii_filename,
    clamped,
    document_response,
    from_cache,
    json_bytes,
    latest_publication,
    render_page_bytes,
    same_for_everyone,
    serve_page,
    stored_pdf,
    load_public_call,
    rendered_page,
)

VERIFY_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_log.py"

ADOPTED_OUTCOMES = ("adopted", "conditional")


# -- versions --------------------------------------------------------------------

def _version(call: Call, version: int) -> Publication:
    """Version ``version``; only once results are public."""
    row = publication.publication_of(db_session, call, version) if version >= 1 else None
    if row is None:
        latest_publication(call)  # before publication, say when the results are due
        refuse(404, f"第{version}版の審査結果はありません。")
    return row


def _versions(call: Call) -> list[tuple[int, object]]:
    return list(db_session.execute(
        select(Publication.version, Publication.published_at)
        .where(Publication.call_id == call.id).order_by(Publication.version)
    ).tuples())


# -- results ---------------------------------------------------------------------

def _detail_url(call: Call, version: int | None):
    """Where one proposal's full figures are, for this version's page."""
    if version is None:
        return lambda code: url_for("public.result_detail", slug=call.slug, code=code)
    return lambda code: url_for("public.result_version_detail", slug=call.slug, version=version, code=code)


def _render_results(call: Call, row: Publication, *, latest: bool) -> bytes:
    document = row.results
    proposals = document.get("proposals") or []
    adopted = [p for p in proposals if (p.get("decision") or {}).get("outcome") in ADOPTED_OUTCOMES]
    return render_page_bytes(
        "public/results.html", call=call, doc=document, publication=row, latest=latest,
        adopted=adopted, criteria=document.get("criteria") or [],
        ranked_count=sum(1 for p in proposals if p.get("rank") is not None),
        detail_url=_detail_url(call, None if latest else row.version),
        versions=_versions(call), fingerprint=serving.published_fingerprint(document.get("public_key_pem")),
    )


def _render_detail(call: Call, row: Publication, code: str, *, latest: bool) -> bytes:
    document = row.results
    proposals = document.get("proposals") or []
    proposal = next((p for p in proposals if p.get("code") == code), None)
    if proposal is None:
        refuse(404, f"「{code}」という提案はこの審査結果にありません。")
    back = (url_for("public.results", slug=call.slug) if latest
            else url_for("public.results_version", slug=call.slug, version=row.version))
    return render_page_bytes(
        "public/result_detail.html", call=call, doc=document, p=proposal, latest=latest, back_url=back,
        criteria=document.get("criteria") or [],
        ranked_count=sum(1 for p in proposals if p.get("rank") is not None),
    )


def _results_page(slug: str, version: int | None) -> Response:
    """The results page (``version`` None: the latest), from the worker's
    page cache when the visitor sees what everyone sees."""
    shared = same_for_everyone()
    key = ("results", slug, version)
    return from_cache(key, shared, serve_page(LATEST),
                       lambda cache, token: _render_results_page(slug, version, key, cache, token, shared))


def _render_results_page(slug: str, version: int | None, key: tuple, cache, token, shared: bool) -> Response:
    call = load_public_call(slug)
    if version is None:
        row = newest = latest_publication(call)
    else:
        row = _version(call, version)
        newest = latest_publication(call)
    body = _render_results(call, row, latest=newest.version == row.version)
    # Every version's page says whether it is the latest and lists them all:
    # it last changed when the newest version was published.
    return rendered_page(body, key=key, cache=cache, token=token, shared=shared, cache_control=LATEST,
                         last_modified=clamped(newest.published_at))


@bp.get("/calls/<slug>/results")
def results(slug: str):
    return _results_page(slug, None)


def _detail_page(slug: str, version: int | None, code: str) -> Response:
    shared = same_for_everyone()
    key = ("result-detail", slug, version, code)

    def render(cache, token) -> Response:
        call = load_public_call(slug)
        newest = latest_publication(call)
        row = newest if version is None else _version(call, version)
        body = _render_detail(call, row, code, latest=newest.version == row.version)
        return rendered_page(body, key=key, cache=cache, token=token, shared=shared, cache_control=LATEST,
                             last_modified=clamped(newest.published_at))

    return from_cache(key, shared, serve_page(LATEST), render)


@bp.get("/calls/<slug>/results/p/<code>")
def result_detail(slug: str, code: str):
    return _detail_page(slug, None, code)


@bp.get("/calls/<slug>/results/v<int:version>/p/<code>")
def result_version_detail(slug: str, version: int, code: str):
    return _detail_page(slug, version, code)


@bp.get("/calls/<slug>/results.json")
def results_json(slug: str):
    call = load_public_call(slug)
    row = latest_publication(call)
    return document_response(json_bytes(row.results), "application/json", _filename(call, row.results, "json"),
                              LATEST, last_modified=clamped(row.published_at))


@bp.get("/calls/<slug>/results.csv")
def results_csv(slug: str):
    call = load_public_call(slug)
    row = latest_publication(call)
    return document_response(publication.csv_bytes(row.results), "text/csv", _filename(call, row.results, "csv"),
                              LATEST, attachment=True, last_modified=clamped(row.published_at))


@bp.get("/calls/<slug>/results.pdf")
def results_pdf(slug: str):
    call = load_public_call(slug)
    row = latest_publication(call)
    return stored_pdf(row.results_pdf_name, _filename(call, row.results, "pdf"), LATEST,
                       "審査結果のPDFはまだ用意されていません。", published_at=clamped(row.published_at))


@bp.get("/calls/<slug>/results/v<int:version>")
def results_version(slug: str, version: int):
    return _results_page(slug, version)


@bp.get("/calls/<slug>/results/v<int:version>.json")
def results_version_json(slug: str, version: int):
    call = load_public_call(slug)
    row = _version(call, version)
    return document_response(json_bytes(row.results), "application/json", _filename(call, row.results, "json"),
                              IMMUTABLE, last_modified=clamped(row.published_at))


@bp.get("/calls/<slug>/results/v<int:version>.csv")
def results_version_csv(slug: str, version: int):
    call = load_public_call(slug)
    row = _version(call, version)
    return document_response(publication.csv_bytes(row.results), "text/csv", _filename(call, row.results, "csv"),
                              IMMUTABLE, attachment=True, last_modified=clamped(row.published_at))


@bp.get("/calls/<slug>/results/v<int:version>.pdf")
def results_version_pdf(slug: str, version: int):
    call = load_public_call(slug)
    row = _version(call, version)
    return stored_pdf(row.results_pdf_name, _filename(call, row.results, "pdf"), IMMUTABLE,
                       f"第{version}版の審査結果のPDFはありません。", published_at=clamped(row.published_at))


def _filename(call: Call, document: dict, extension: str) -> str:
    return f"{ascii_filename(call.slug)}-results-v{document.get('version', 0)}.{extension}"


# -- the key and the verifier ------------------------------------------------------------

@bp.get("/transparency/public-key.pem")
def public_key():
    pem = signing.public_key_pem(signing.key_for_app(current_app))
    return document_response(pem.encode("ascii"), "application/x-pem-file", "public-key.pem", "public, max-age=3600")


@bp.get("/transparency/verify_log.py")
def verify_script():
    return document_response(VERIFY_SCRIPT.read_bytes(), "text/x-python", "verify_log.py", "public, max-age=3600")


# -- template helpers --------------------------------------------------------------------

@bp.app_template_filter("percent")
def percent(share) -> str:
    """'0.7733' -> '77.33': the share of the maximum as the same digits, in %."""
    try:
        return format(Decimal(str(share)).scaleb(2), "f")
    except (InvalidOperation, ValueError, TypeError):
        return ""


@bp.app_template_filter("utc_text_jst")
def utc_text_jst(value) -> str:
    """A stored UTC text (2026-04-01T00:00:00.000000Z) shown in Tokyo time."""
    if not isinstance(value, str):
        return format_jst(value) if value is not None else ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return format_jst(parsed)
