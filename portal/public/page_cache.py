"""The micro-cache of public pages that are the same for every visitor.

Results day: the press links the results page and hundreds of anonymous
visitors a second ask for it. Each worker process keeps the rendered bytes
of such pages for ``RESULTS_PAGE_CACHE_SECONDS`` (5 by default), so a burst
costs one rendering and a few queries per worker per interval, and a hit
costs neither. A correction published in another worker shows within that
time; shared caches are told ``max-age`` of 60-300 s anyway.

Only pages that are the same for everyone are stored (see
``results._same_for_everyone``): no signed-in menu, no CSRF token, no
flashed message.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

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
        entry = self._peek(key)
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
        entry = self._peek(key)  # rendered by the thread we waited for?
        if entry is not None and self.clock() - entry.stored_at < ttl:
            render_lock.release()
            return entry, None
        return None, render_lock

    def _peek(self, key: tuple) -> CachedPage | None:
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

    def put(self, key: tuple, body: bytes, etag: str, last_modified: datetime) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = CachedPage(body, etag, last_modified, self.clock())
            self._bytes += len(body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple) -> None:
        self._bytes -= len(self._entries.pop(key).body)


def page_cache(app=None) -> PageCache:
    """The worker's page cache (one per app object)."""
    extensions = (app or current_app).extensions
    cache = extensions.get("public_page_cache")
    if cache is None:
        cache = extensions.setdefault("public_page_cache", PageCache())
    return cache
