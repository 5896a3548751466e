"""The micro-cache of public pages that are the same for every visitor.

Results day: the press links the results page and hundreds of anonymous
visitors a second ask for it. Each worker process keeps the rendered bytes
of such pages (and their gzip form). A hit costs no query and no
rendering. Every ``RESULTS_PAGE_CACHE_SECONDS`` (5 by default) one request
asks the database, in one small query, whether anything the page shows has
changed (a new version, a new log entry); only then is the page rendered
again, so a correction published in another worker shows within that
time, and an unchanged page of a large call (rendering takes a CPU-second)
is rendered once per worker, not once per period. Shared caches are told
``max-age`` of 60-300 s anyway.

Only pages that are the same for everyone are stored (see
``serving.same_for_everyone``): no signed-in menu, no CSRF token, no
flashed message.
"""
from __future__ import annotations

import gzip
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app
from werkzeug.http import parse_accept_header

PAGE_CACHE_MAX_ENTRIES = 64
PAGE_CACHE_MAX_BYTES = 32 * 1024 * 1024  # per worker; a 300-proposal call's page is about 1.5 MB
# While one thread renders a page again, the others go on serving the old
# copy for at most this long past its time...
STALE_GRACE_SECONDS = 60
# ...and, with no copy at all, wait this long for that thread's rendering.
RENDER_WAIT_SECONDS = 30
# Renderings are single-flight per lock stripe: a fixed number of locks, so
# URLs with made-up slugs cannot grow a table of locks.
RENDER_LOCK_STRIPES = 64


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    last_modified: datetime
    stored_at: float
    # The same bytes gzip-compressed once when stored, for the browsers that
    # accept it (all of them): a 300-proposal results page is 2.3 MB of HTML
    # and about a tenth of that compressed, on a phone on results day.
    gzip_body: bytes | None = None
    # What the page was rendered from (see serving._freshness): when the
    # entry's time is up and this is unchanged, the page is still right.
    token: object = None
    # The status line's headers Flask sent for this entry, per encoding
    # ("identity", "gzip"), for PageCacheMiddleware to send again.
    sent_headers: dict = field(default_factory=dict, compare=False)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzip_body or b"")


class PageCache:
    """The rendered pages of one worker process, keyed by what the page
    shows (e.g. ("results", slug, version)), least recently used first out,
    bounded in count and bytes.

    An entry is trusted for the configured seconds and then rendered again.
    Version pages expire like the latest page: a version page says whether
    it is still the latest and lists every version, so a correction changes
    it too. ``clock`` is monotonic (tests replace it).

    ``lookup`` makes rendering single-flight: when a page expires under a
    burst of requests, one thread renders it again while the others serve
    the old copy, instead of every thread of the worker rendering the same
    page at once (the log of a large call takes seconds to build).
    """

    def __init__(self, max_entries: int = PAGE_CACHE_MAX_ENTRIES, max_bytes: int = PAGE_CACHE_MAX_BYTES,
                 clock=time.monotonic):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._entries: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # gthread workers serve several requests at once
        self._render_locks = [threading.Lock() for _ in range(RENDER_LOCK_STRIPES)]

    def lookup(self, key: tuple, ttl: float) -> tuple[CachedPage | None, threading.Lock | None]:
        """(page, None): serve ``page``. (None, claim): render the page, ``put``
        it, then ``claim.release()`` (in a ``finally``). (None, None): render
        without storing the wait for another thread's rendering timed out."""
        render_lock = self._render_locks[hash(key) % RENDER_LOCK_STRIPES]
        entry = self.peek(key)
        if entry is not None:
            age = self.clock() - entry.stored_at
            if age < ttl:
                return entry, None
            if render_lock.acquire(blocking=False):
                return None, render_lock
            if age < ttl + STALE_GRACE_SECONDS:
                return entry, None  # another thread is rendering it again
        if not render_lock.acquire(timeout=RENDER_WAIT_SECONDS):
            return None, None
        entry = self.peek(key)  # rendered by the thread we waited for?
        if entry is not None and self.clock() - entry.stored_at < ttl:
            render_lock.release()
            return entry, None
        return None, render_lock

    def revalidated(self, key: tuple, token: object) -> CachedPage | None:
        """The entry for ``key``, trusted for another period, if it was
        rendered from ``token``; None if it must be rendered again."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or token is None or entry.token != token:
                return None
            entry = replace(entry, stored_at=self.clock())
            self._entries[key] = entry
            self._entries.move_to_end(key)
            return entry

    def fresh(self, key: tuple, ttl: float) -> CachedPage | None:
        """The entry for ``key`` if it is within its time; never waits."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self.clock() - entry.stored_at >= ttl:
                return None
            return entry

    def peek(self, key: tuple) -> CachedPage | None:
        """The entry for ``key`` whatever its age (most recently used now)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def get(self, key: tuple, ttl: float) -> CachedPage | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self.clock() - entry.stored_at >= ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, body: bytes, etag: str, last_modified: datetime, *,
            compress: bool = False, token: object = None) -> CachedPage:
        """Store ``body`` (and, with ``compress``, its gzip form); returns the entry."""
        # mtime=0: the same page always compresses to the same bytes.
        entry = CachedPage(body, etag, last_modified, self.clock(),
                           gzip.compress(body, compresslevel=6, mtime=0) if compress else None, token)
        if entry.size > self.max_bytes:
            return entry
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._bytes += entry.size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple) -> None:
        self._bytes -= self._entries.pop(key).size


def page_cache(app=None) -> PageCache:
    """The worker's page cache (one per app object)."""
    extensions = (app or current_app).extensions
    cache = extensions.get("public_page_cache")
    if cache is None:
        cache = extensions.setdefault("public_page_cache", PageCache())
    return cache


# -- answering before Flask -------------------------------------------------------

CACHED_PATH = re.compile(r"^/calls/([^/]+)/(results|results/v(\d+)|log|log\.json)$")


def key_for_path(path: str) -> tuple | None:
    """The cache key of a URL the page cache may answer (see results.py)."""
    match = CACHED_PATH.match(path)
    if match is None:
        return None
    slug, what, version = match.groups()
    if what.startswith("results"):
        return ("results", slug, int(version) if version is not None else None)
    return (what, slug)


class PageCacheMiddleware:
    """Answers a fresh cached page before Flask sees the request.

    On results day nearly every request is an anonymous GET of the same
    results page. Going through Flask (request context, session, the
    login manager, CSRF, the after-request hooks) to send stored bytes
    cost twice what sending them costs. This layer sends the entry with the
    exact headers Flask sent for it the first time (security headers
    included), to requests that carry no cookie (no session: nobody signed
    in, no flashed message) and no conditional header. Everything else,
    including a stale entry, goes to Flask, which renders or revalidates.
    """

    def __init__(self, app, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        key = self._cacheable_key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        cache = page_cache(self.app)
        encoding = "gzip" if "gzip" in parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING")) else "identity"
        ttl = self.app.config.get("RESULTS_PAGE_CACHE_SECONDS") or 0
        entry = cache.fresh(key, ttl) if ttl > 0 else None
        headers = entry.sent_headers.get(encoding) if entry is not None else None
        if headers is not None:
            start_response("200 OK", list(headers))
            if environ["REQUEST_METHOD"] == "HEAD":
                return [b""]
            return [entry.gzip_body if encoding == "gzip" else entry.body]
        return self._remember_headers(key, encoding, environ, start_response)

    @staticmethod
    def _cacheable_key(environ) -> tuple | None:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("HTTP_COOKIE"):
            return None
        if environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MODIFIED_SINCE") or environ.get("QUERY_STRING"):
            return None
        path = environ.get("PATH_INFO", "").encode("latin-1", "replace").decode("utf-8", "replace")
        return key_for_path(path)

    def _remember_headers(self, key, encoding, environ, start_response):
        """Pass the request to Flask; if it answered 200 with the entry the
        view has just stored (same ETag), keep Flask's headers for it."""
        def capture(status, headers, exc_info=None):
            if status.startswith("200 ") and exc_info is None:
                names = {name.lower(): value for name, value in headers}
                etag = names.get("etag", "").strip('"').removesuffix("-gzip")
                entry = page_cache(self.app).peek(key)
                sent_as = names.get("content-encoding", "identity")
                if (entry is not None and etag == entry.etag and "set-cookie" not in names
                        and sent_as == encoding and environ["REQUEST_METHOD"] == "GET"):
                    entry.sent_headers[encoding] = tuple(headers)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, capture)
