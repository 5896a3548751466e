"""Answering public pages and documents, for the results pages
(``results.py``) and the process log pages (``log_pages.py``): a published
call by its slug, its latest publication, documents with their validators,
the PDFs stored at publication, and pages through the worker's page cache.

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
import io
import json
import re
from datetime import UTC, datetime

from flask import Response, abort, current_app, render_template, request, send_file, session
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.http import generate_etag, http_date

from ..db import db_session
from ..domain.log import signing
from ..domain.results import publication
from ..domain.timeutil import format_jst
from ..errors import refuse
from ..files.objectstore import current_store
from ..models import Call, LogEntry, Publication
from .page_cache import page_cache

# Versioned documents never change; the latest ones change only by a logged
# correction, so a short shared cache is safe and an ETag makes re-checks cheap.
IMMUTABLE = "public, max-age=31536000, immutable"
LATEST = "public, max-age=300"
LOG = "public, max-age=60"
SLUG_MAX = 40  # calls.slug is VARCHAR(40)


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


def latest_publication(call: Call) -> Publication:
    """The latest published version (its ``results`` is what
    ``publication.results_document`` returns); 404 before publication."""
    row = publication.latest(db_session, call)
    if row is None:
        _not_yet(call)
    return row


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


# -- documents -----------------------------------------------------------------

def json_bytes(document: dict) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def document_response(data: bytes, mimetype: str, filename: str, cache: str, *,
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


def stored_pdf(name: str | None, filename: str, cache: str, missing: str, *,
                published_at: datetime) -> Response:
    if not name:
        refuse(404, missing)
    data = publication.stored_pdf_bytes(current_store(), name)
    if data is None:
        current_app.logger.error("stored PDF %s is missing", name)
        refuse(404, missing)
    # The object was written at publication under a name of its own and
    # never changes: the name is its entity tag, and its Last-Modified is the
    # publication time, not whenever a backup restored it.
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=filename, conditional=True,
                         etag=name, last_modified=published_at)
    response.headers["Cache-Control"] = cache
    return response


def ascii_filename(slug: str) -> str:
    """The slug as a header-safe file name part."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", slug) or "call"


def clamped(moment: datetime | None) -> datetime | None:
    """A Last-Modified is never in the future (a clock ahead on another
    server, a back-dated demo entry); HTTP says to send the present then."""
    if moment is None:
        return None
    now = datetime.now(UTC)
    return moment if moment <= now else now


# -- pages ---------------------------------------------------------------------

def same_for_everyone() -> bool:
    """True when a page is the same for every visitor: nobody is signed in
    (no personal menu, no CSRF token in it) and no flashed message waits to
    be shown on it. Only such pages may be shared by caches. A request
    without cookies has neither; answering that without loading the session
    and the user keeps a cache hit cheap."""
    if not request.cookies:
        return True
    return not current_user.is_authenticated and not session.get("_flashes")


def render_page_bytes(template: str, **context) -> bytes:
    return render_template(template, **context).encode("utf-8")


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


def from_cache(key: tuple, shared: bool, serve, render) -> Response:
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


def serve_page(cache_control: str):
    def serve(entry) -> Response:
        return _page_response(entry.body, shared=True, cache=cache_control, last_modified=entry.last_modified,
                              etag=entry.etag, gzip_body=entry.gzip_body)
    return serve


def published_fingerprint(pem) -> str | None:
    """The fingerprint of the key a published document names, or None when
    the document holds no readable key."""
    if not isinstance(pem, str):
        return None
    try:
        return signing.key_fingerprint(pem)
    except (ValueError, TypeError):
        return None
