"""Published results and the process log, for anyone, at stable URLs.

Every results view (page, JSON, CSV) is drawn from one stored document,
the results document written at publication (``domain.publication``), so the
page cannot show a figure the JSON does not. PDFs are the files stored at
publication, never rendered again here. The URLs are documented in
docs/transparency.md; keep the two in step.

    /calls/<slug>/results            page      (.json .csv .pdf twins)
    /calls/<slug>/results/v<n>       an earlier version after a correction
    /calls/<slug>/log                the process log (.json .pdf twins; log_pages.py)
    /transparency/public-key.pem     the key that signs the log head
    /transparency/verify_log.py      the citizen's verifier

HTTP caching: every public document carries an ETag and a Last-Modified
(the publication time; for the log, the time of its last entry) and answers
conditional requests with 304. Pages for signed-in visitors show their own
menu and stay out of every cache.

Results day: the press links the results page and hundreds of anonymous
requests per second arrive. Such pages come from the worker's page cache
(``page_cache.py``: answered before Flask, gzip-compressed, revalidated
with one query every ``RESULTS_PAGE_CACHE_SECONDS``); a correction shows
on every worker within that period (docs/deployment.md).
"""
from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import Response, abort, current_app, render_template, request, send_file, session
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.http import generate_etag, http_date

from ..db import db_session
from ..domain.log import chain, signing
from ..domain.results import publication
from ..domain.timeutil import format_jst
from ..errors import refuse
from ..models import Call, LogEntry, Publication
from . import bp
from .page_cache import page_cache

# Versioned documents never change; the latest ones change only by a logged
# correction, so a short shared cache is safe and an ETag makes re-checks cheap.
IMMUTABLE = "public, max-age=31536000, immutable"
LATEST = "public, max-age=300"
LOG = "public, max-age=60"
VERIFY_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_log.py"
SLUG_MAX = 40  # calls.slug is VARCHAR(40)

ADOPTED_OUTCOMES = ("adopted", "conditional")


# -- loading -------------------------------------------------------------------

def plausible_slug(slug: str) -> bool:
    """A slug some call could have: asking the database about any other
    would only risk a database error."""
    return bool(slug) and len(slug) <= SLUG_MAX and not any(ord(ch) < 32 or ord(ch) == 127 for ch in slug)


def load_public_call(slug: str) -> Call:
    """A published call by slug; anything else (unknown, unpublished, a slug
    no call could have) is a 404, never a database error."""
    if not plausible_slug(slug):
        abort(404)
    call = db_session.scalar(select(Call).where(Call.slug == slug, Call.published_at.is_not(None)))
    if call is None:
        abort(404)
    return call


def _not_yet(call: Call):
    due = call.results_scheduled_at or call.results_at
    when = f"公表予定は{format_jst(due)}（日本時間）です。" if due else ""
    refuse(404, f"「{call.title}」の審査結果はまだ公表されていません。{when}")


def _latest(call: Call) -> Publication:
    """The latest published version (its ``results`` is what
    ``publication.results_document`` returns); 404 before publication."""
    row = publication.latest(db_session, call)
    if row is None:
        _not_yet(call)
    return row


def _version(call: Call, version: int) -> Publication:
    """Version ``version``; only once results are public."""
    row = publication.publication_of(db_session, call, version) if version >= 1 else None
    if row is None:
        _latest(call)  # before publication, say when the results are due
        refuse(404, f"第{version}版の審査結果はありません。")
    return row


def _versions(call: Call) -> list[tuple[int, object]]:
    return list(db_session.execute(
        select(Publication.version, Publication.published_at)
        .where(Publication.call_id == call.id).order_by(Publication.version)
    ).tuples())


# -- responses -----------------------------------------------------------------

def _json_bytes(document: dict) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _document_response(data: bytes, mimetype: str, filename: str, cache: str, *,
                       attachment: bool = False, last_modified: datetime | None = None) -> Response:
    response = Response(data, mimetype=mimetype)
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = cache
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: other sites may read it
    response.add_etag()
    if last_modified is not None:
        response.last_modified = last_modified
    return response.make_conditional(request)


def _stored_pdf(name: str | None, filename: str, cache: str, missing: str, *,
                published_at: datetime) -> Response:
    if not name:
        refuse(404, missing)
    try:
        path = publication.stored_pdf_path(current_app.config["UPLOAD_DIR"], name)
    except ValueError:
        path = None
    if path is None or not path.is_file():
        current_app.logger.error("stored PDF %s is missing", name)
        refuse(404, missing)
    # The file was written at publication and never changes: its
    # Last-Modified is the publication time, not whenever a backup restored it.
    response = send_file(path, mimetype="application/pdf", download_name=filename, conditional=True, etag=True,
                         last_modified=published_at)
    response.headers["Cache-Control"] = cache
    return response


def _same_for_everyone() -> bool:
    """True when a page is the same for every visitor: nobody is signed in
    (no personal menu, no CSRF token in it) and no flashed message waits to
    be shown on it. Only such pages may be shared by caches. A request
    without cookies has neither; answering that without loading the session
    and the user keeps a cache hit cheap."""
    if not request.cookies:
        return True
    return not current_user.is_authenticated and not session.get("_flashes")


def _page_response(body: bytes, *, shared: bool, cache: str, last_modified: datetime | None,
                   etag: str | None = None, gzip_body: bytes | None = None) -> Response:
    """A public page. ``gzip_body``, when the cache made one, goes to
    visitors whose browser accepts gzip, under its own ETag (a strong ETag
    names one exact representation)."""
    compressed = gzip_body is not None and shared and "gzip" in request.accept_encodings
    response = Response(gzip_body if compressed else body, mimetype="text/html")
    response.vary.add("Cookie")
    if gzip_body is not None:
        response.vary.add("Accept-Encoding")
    if not shared:
        # Signed-in visitors see their own menu: no validators, and the
        # security hook makes the page no-store.
        return response
    response.headers["Cache-Control"] = cache
    etag = etag or generate_etag(body)
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
        etag = f"{etag}-gzip"
    response.set_etag(etag)
    if last_modified is not None:
        response.headers["Last-Modified"] = _http_date(last_modified)
    if request.if_none_match or request.if_modified_since:
        return response.make_conditional(request)
    return response


@functools.lru_cache(maxsize=256)
def _http_date(moment: datetime) -> str:
    """The same few publication times are formatted for every request."""
    return http_date(moment)


def _render(template: str, **context) -> bytes:
    return render_template(template, **context).encode("utf-8")


def _clamped(moment: datetime | None) -> datetime | None:
    """A Last-Modified is never in the future (a clock ahead on another
    server, a back-dated demo entry); HTTP says to send the present then."""
    if moment is None:
        return None
    now = datetime.now(UTC)
    return moment if moment <= now else now


# -- results ---------------------------------------------------------------------

def _render_results(call: Call, row: Publication, *, latest: bool) -> bytes:
    document = row.results
    proposals = document.get("proposals") or []
    adopted = [p for p in proposals if (p.get("decision") or {}).get("outcome") in ADOPTED_OUTCOMES]
    others = [p for p in proposals if p not in adopted]
    return _render(
        "public/results.html", call=call, doc=document, publication=row, latest=latest,
        adopted=adopted, others=others, criteria=document.get("criteria") or [],
        ranked_count=sum(1 for p in proposals if p.get("rank") is not None),
        versions=_versions(call), fingerprint=_fingerprint(document.get("public_key_pem")),
    )


def _freshness(slug: str) -> tuple | None:
    """What every cached page of a call is rendered from, in one small
    query: the call, its newest publication and the head of its log. A
    cached page whose token is unchanged is still right. None for a slug no
    published call has (the rendering then answers 404)."""
    if not plausible_slug(slug):
        return None
    row = db_session.execute(
        select(Call.id,
               select(func.max(Publication.id)).where(Publication.call_id == Call.id).scalar_subquery(),
               select(func.max(LogEntry.seq)).where(LogEntry.call_id == Call.id).scalar_subquery())
        .where(Call.slug == slug, Call.published_at.is_not(None))
    ).first()
    return tuple(row) if row is not None else None


def _from_cache(key: tuple, shared: bool, serve, render) -> Response:
    """A page the same for everyone, from the worker's page cache when
    caching is on: ``serve(entry)`` answers from an entry; ``render(cache,
    token)`` renders, stores (when ``cache``) and answers. One thread per
    page renders or checks at a time (``PageCache.lookup``)."""
    ttl = current_app.config.get("RESULTS_PAGE_CACHE_SECONDS") or 0
    if not shared or ttl <= 0:
        return render(None, None)
    cache = page_cache()
    page, claim = cache.lookup(key, ttl)
    if page is not None:
        return serve(page)
    try:
        token = _freshness(key[1])
        still_right = cache.revalidated(key, token)
        if still_right is not None:
            return serve(still_right)
        return render(cache, token)
    finally:
        if claim is not None:
            claim.release()


def rendered_page(body: bytes, *, key: tuple, cache, token, shared: bool, cache_control: str,
                  last_modified: datetime | None) -> Response:
    """A page just rendered: stored in the page cache (when ``cache``, and
    with a time to validate it by) with its gzip form, then answered."""
    etag = generate_etag(body)
    compressed = None
    if cache is not None and last_modified is not None:
        compressed = cache.put(key, body, etag, last_modified, compress=True, token=token).gzip_body
    return _page_response(body, shared=shared, cache=cache_control, last_modified=last_modified, etag=etag,
                          gzip_body=compressed)


def _serve_page(cache_control: str):
    def serve(entry) -> Response:
        return _page_response(entry.body, shared=True, cache=cache_control, last_modified=entry.last_modified,
                              etag=entry.etag, gzip_body=entry.gzip_body)
    return serve


def _results_page(slug: str, version: int | None) -> Response:
    """The results page (``version`` None: the latest), from the worker's
    page cache when the visitor sees what everyone sees."""
    shared = _same_for_everyone()
    key = ("results", slug, version)
    return _from_cache(key, shared, _serve_page(LATEST),
                       lambda cache, token: _render_results_page(slug, version, key, cache, token, shared))


def _render_results_page(slug: str, version: int | None, key: tuple, cache, token, shared: bool) -> Response:
    call = load_public_call(slug)
    if version is None:
        row = newest = _latest(call)
    else:
        row = _version(call, version)
        newest = _latest(call)
    body = _render_results(call, row, latest=newest.version == row.version)
    # Every version's page says whether it is the latest and lists them all:
    # it last changed when the newest version was published.
    return rendered_page(body, key=key, cache=cache, token=token, shared=shared, cache_control=LATEST,
                         last_modified=_clamped(newest.published_at))


@bp.get("/calls/<slug>/results")
def results(slug: str):
    return _results_page(slug, None)


@bp.get("/calls/<slug>/results.json")
def results_json(slug: str):
    call = load_public_call(slug)
    row = _latest(call)
    return _document_response(_json_bytes(row.results), "application/json", _filename(call, row.results, "json"),
                              LATEST, last_modified=_clamped(row.published_at))


@bp.get("/calls/<slug>/results.csv")
def results_csv(slug: str):
    call = load_public_call(slug)
    row = _latest(call)
    return _document_response(publication.csv_bytes(row.results), "text/csv", _filename(call, row.results, "csv"),
                              LATEST, attachment=True, last_modified=_clamped(row.published_at))


@bp.get("/calls/<slug>/results.pdf")
def results_pdf(slug: str):
    call = load_public_call(slug)
    row = _latest(call)
    return _stored_pdf(row.results_pdf_name, _filename(call, row.results, "pdf"), LATEST,
                       "審査結果のPDFはまだ用意されていません。", published_at=_clamped(row.published_at))


@bp.get("/calls/<slug>/results/v<int:version>")
def results_version(slug: str, version: int):
    return _results_page(slug, version)


@bp.get("/calls/<slug>/results/v<int:version>.json")
def results_version_json(slug: str, version: int):
    call = load_public_call(slug)
    row = _version(call, version)
    return _document_response(_json_bytes(row.results), "application/json", _filename(call, row.results, "json"),
                              IMMUTABLE, last_modified=_clamped(row.published_at))


@bp.get("/calls/<slug>/results/v<int:version>.csv")
def results_version_csv(slug: str, version: int):
    call = load_public_call(slug)
    row = _version(call, version)
    return _document_response(publication.csv_bytes(row.results), "text/csv", _filename(call, row.results, "csv"),
                              IMMUTABLE, attachment=True, last_modified=_clamped(row.published_at))


@bp.get("/calls/<slug>/results/v<int:version>.pdf")
def results_version_pdf(slug: str, version: int):
    call = load_public_call(slug)
    row = _version(call, version)
    return _stored_pdf(row.results_pdf_name, _filename(call, row.results, "pdf"), IMMUTABLE,
                       f"第{version}版の審査結果のPDFはありません。", published_at=_clamped(row.published_at))


def _filename(call: Call, document: dict, extension: str) -> str:
    return f"{_ascii(call.slug)}-results-v{document.get('version', 0)}.{extension}"


def _ascii(slug: str) -> str:
    """The slug as a header-safe file name part."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", slug) or "call"


# -- the key and the verifier ------------------------------------------------------------

@bp.get("/transparency/public-key.pem")
def public_key():
    pem = signing.public_key_pem()
    return _document_response(pem.encode("ascii"), "application/x-pem-file", "public-key.pem", "public, max-age=3600")


@bp.get("/transparency/verify_log.py")
def verify_script():
    return _document_response(VERIFY_SCRIPT.read_bytes(), "text/x-python", "verify_log.py", "public, max-age=3600")


def _fingerprint(pem) -> str | None:
    if not isinstance(pem, str):
        return None
    try:
        return chain.key_fingerprint(pem)
    except (ValueError, TypeError):
        return None


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
