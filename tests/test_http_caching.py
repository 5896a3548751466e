"""HTTP caching: validators and 304s on every public document, cache-busting
static URLs, and the per-worker micro-cache of the anonymous results pages.

The published call is the one of test_public_results.py (a Publication row
of the agreed shape); a correction is a second version.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import url_for
from werkzeug.http import http_date, parse_date

from portal.public.page_cache import PageCache, page_cache
from portal.templating import StaticVersions

from .test_public_results import Published, publish_document
from .test_security import assert_security_headers

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_VERSION = re.compile(r'/static/(css/app\.css)\?v=([0-9a-f]+)"')


@pytest.fixture()
def published(factory):
    return Published(factory)


def _seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _last_log_entry_time(client, slug: str) -> datetime:
    at = client.get(f"/calls/{slug}/log.json").get_json()["entries"][-1]["at"]
    return _seconds(datetime.fromisoformat(at.replace("Z", "+00:00")))


def _documents(slug: str) -> list[tuple[str, str]]:
    """(url, which time its Last-Modified is) for every public document."""
    return [
        (f"/calls/{slug}/results", "published"), (f"/calls/{slug}/results/v1", "published"),
        (f"/calls/{slug}/results.json", "published"), (f"/calls/{slug}/results.csv", "published"),
        (f"/calls/{slug}/results.pdf", "published"), (f"/calls/{slug}/results/v1.json", "published"),
        (f"/calls/{slug}/results/v1.csv", "published"), (f"/calls/{slug}/results/v1.pdf", "published"),
        (f"/calls/{slug}/log", "last entry"), (f"/calls/{slug}/log.json", "last entry"),
        (f"/calls/{slug}/log.pdf", "published"),
    ]


# -- validators and 304 ------------------------------------------------------------------

def test_every_public_document_has_an_etag_and_last_modified_and_answers_304(app, client, published):
    slug = published.call.slug
    # The stored PDFs' Last-Modified is the publication time, whenever the
    # object store (or a restored backup) wrote them.
    expected = {"published": _seconds(published.publication.published_at),
                "last entry": _last_log_entry_time(client, slug)}
    for url, which in _documents(slug):
        first = client.get(url)
        assert first.status_code == 200, url
        etag = first.headers.get("ETag")
        assert etag, url
        assert parse_date(first.headers["Last-Modified"]) == expected[which], url
        assert "public" in first.headers["Cache-Control"], url

        by_etag = client.get(url, headers={"If-None-Match": etag})
        assert by_etag.status_code == 304 and by_etag.data == b"", url
        assert by_etag.headers["ETag"] == etag, url
        assert_security_headers(f"304 {url}", by_etag)

        by_date = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert by_date.status_code == 304, url
        earlier = http_date(expected[which] - timedelta(seconds=1))
        assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200, url

        # The entity tag decides when both are sent (RFC 9110, 13.2.2).
        stale = client.get(url, headers={"If-None-Match": '"something-else"',
                                         "If-Modified-Since": first.headers["Last-Modified"]})
        assert stale.status_code == 200 and stale.data == first.data, url


def test_a_correction_changes_the_validators_of_the_latest_documents_only(client, published, factory):
    slug = published.call.slug
    before = {url: client.get(url).headers["ETag"] for url, _ in _documents(slug)}
    corrected = json.loads(json.dumps(published.document))
    corrected["general_comment"] = "訂正後の総評です。"
    second = publish_document(factory, published.call, corrected, version=2, reason="総評の誤字を訂正しました。")

    latest = client.get(f"/calls/{slug}/results", headers={"If-None-Match": before[f"/calls/{slug}/results"]})
    assert latest.status_code == 200 and "訂正後の総評です。" in latest.get_data(as_text=True)
    assert parse_date(latest.headers["Last-Modified"]) == _seconds(second.published_at)
    latest_json = client.get(f"/calls/{slug}/results.json",
                             headers={"If-None-Match": before[f"/calls/{slug}/results.json"]})
    assert latest_json.status_code == 200 and latest_json.get_json()["version"] == 2
    # The first version's documents are the same bytes: still 304.
    for url in (f"/calls/{slug}/results/v1.json", f"/calls/{slug}/results/v1.csv", f"/calls/{slug}/results/v1.pdf"):
        assert client.get(url, headers={"If-None-Match": before[url]}).status_code == 304, url
    # Its page now says it is an earlier version: a new entity.
    old_page = client.get(f"/calls/{slug}/results/v1", headers={"If-None-Match": before[f"/calls/{slug}/results/v1"]})
    assert old_page.status_code == 200 and "以前の版" in old_page.get_data(as_text=True)


def test_log_validators_follow_the_last_entry(client, factory):
    call = factory.scoring_call()
    factory.submitted(call)
    slug = call.slug
    page = client.get(f"/calls/{slug}/log")
    assert page.status_code == 200
    assert parse_date(page.headers["Last-Modified"]) == _last_log_entry_time(client, slug)
    etag = page.headers["ETag"]
    assert client.get(f"/calls/{slug}/log", headers={"If-None-Match": etag}).status_code == 304
    factory.submitted(call)  # one more entry: 提案の受付
    again = client.get(f"/calls/{slug}/log", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag


def test_pages_for_signed_in_visitors_stay_out_of_caches(client, published, factory, login):
    slug = published.call.slug
    anonymous = client.get(f"/calls/{slug}/results")
    login(factory.applicant())
    for url in (f"/calls/{slug}/results", f"/calls/{slug}/results/v1", f"/calls/{slug}/log"):
        response = client.get(url, headers={"If-None-Match": anonymous.headers["ETag"]})
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "ETag" not in response.headers and "Last-Modified" not in response.headers, url
        assert "Cookie" in response.headers.get("Vary", ""), url
        assert "ログアウト" in response.get_data(as_text=True), url


def test_anonymous_pages_set_no_cookie(client, published):
    # A response with Set-Cookie is not stored by shared caches (nginx) and
    # would give every reader the first one's session.
    slug = published.call.slug
    for url, _ in _documents(slug):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert b"csrf_token" not in response.data, url


# -- static files --------------------------------------------------------------------------

def _short_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_static_urls_carry_the_files_content_hash_and_are_immutable(client, published):
    html = client.get(f"/calls/{published.call.slug}/results").get_data(as_text=True)
    found = dict(STATIC_VERSION.findall(html))
    assert found["css/app.css"] == _short_hash(STATIC_DIR / "css" / "app.css")
    for src in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        assert "?v=" in src, src  # every static reference, in base.html and the page's own blocks

    versioned = client.get(f"/static/css/app.css?v={found['css/app.css']}")
    assert versioned.status_code == 200 and versioned.mimetype == "text/css"
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.data == (STATIC_DIR / "css" / "app.css").read_bytes()
    assert_security_headers("versioned static", versioned)
    revalidated = client.get(f"/static/css/app.css?v={found['css/app.css']}",
                             headers={"If-None-Match": versioned.headers["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    plain = client.get("/static/css/app.css")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "public, max-age=300"
    # A version that is not this file's (another release's page, a made-up
    # one) is served, but never pinned in a cache.
    wrong = client.get("/static/css/app.css?v=000000000000")
    assert wrong.status_code == 200 and wrong.headers["Cache-Control"] == "no-cache"
    assert client.get("/static/css/no-such.css?v=abc").status_code == 404


def test_url_for_static_adds_the_version_everywhere(app):
    with app.test_request_context():
        url = url_for("static", filename="js/submit-once.js")
        assert url == f"/static/js/submit-once.js?v={_short_hash(STATIC_DIR / 'js' / 'submit-once.js')}"
        assert url_for("static", filename="js/no-such.js") == "/static/js/no-such.js"
        assert url_for("static", filename="css/app.css", v="pinned") == "/static/css/app.css?v=pinned"


def test_a_changed_file_gets_a_new_version(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "site.css"
    sheet.write_bytes(b"body { color: black; }\n")
    versions = StaticVersions(tmp_path)
    first = versions.version("css/site.css")
    assert first == hashlib.sha256(b"body { color: black; }\n").hexdigest()[:12]
    assert versions.version("css/site.css") == first
    sheet.write_bytes(b"body { color: navy;  }\n")  # same size: the mtime tells
    stat = sheet.stat()
    os.utime(sheet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = versions.version("css/site.css")
    assert second == hashlib.sha256(b"body { color: navy;  }\n").hexdigest()[:12] and second != first
    assert versions.version("../site.css") is None
    assert versions.version("css") is None  # a folder
    assert versions.version("css/gone.css") is None
    assert versions.version("") is None


# -- the results-page micro-cache ----------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def micro_cache(app, monkeypatch):
    """The micro-cache on (5 seconds), empty, with a clock the test moves."""
    monkeypatch.setitem(app.config, "RESULTS_PAGE_CACHE_SECONDS", 5)
    cache = page_cache(app)
    cache.clear()
    clock = Clock()
    monkeypatch.setattr(cache, "clock", clock)
    yield cache, clock
    cache.clear()


def test_the_cache_is_off_in_testing_by_default(app, client, published, factory):
    assert app.config["RESULTS_PAGE_CACHE_SECONDS"] == 0
    slug = published.call.slug
    client.get(f"/calls/{slug}/results")
    corrected = dict(published.document, general_comment="すぐに見える訂正です。")
    publish_document(factory, published.call, corrected, version=2, reason="訂正")
    assert "すぐに見える訂正です。" in client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert len(page_cache(app)) == 0


def test_the_cache_serves_anonymous_results_pages_without_the_database(client, published, micro_cache,
                                                                        count_queries):
    cache, _clock = micro_cache
    slug = published.call.slug
    with count_queries() as first_time:
        first = client.get(f"/calls/{slug}/results")
    assert first.status_code == 200 and first_time.count > 0
    with count_queries() as cached:
        second = client.get(f"/calls/{slug}/results")
        conditional = client.get(f"/calls/{slug}/results", headers={"If-None-Match": first.headers["ETag"]})
        head = client.head(f"/calls/{slug}/results")
    assert cached.count == 0, cached.statements
    assert second.status_code == 200 and second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert second.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert "Cookie" in second.headers["Vary"]
    # The security headers come from after_request hooks: a cache hit has them too.
    assert_security_headers("cached results page", second)
    assert conditional.status_code == 304
    assert head.status_code == 200 and head.data == b""
    assert len(cache) == 1


def test_a_correction_shows_once_the_cache_time_has_passed(client, published, factory, micro_cache):
    """Another worker publishes a correction: this worker's copies of the
    latest page and of the version page are trusted for 5 seconds, then
    rendered again."""
    _cache, clock = micro_cache
    slug = published.call.slug
    original = published.document["general_comment"]
    assert original in client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert "以前の版" not in client.get(f"/calls/{slug}/results/v1").get_data(as_text=True)

    corrected = json.loads(json.dumps(published.document))
    corrected["general_comment"] = "訂正後の総評です。"
    publish_document(factory, published.call, corrected, version=2, reason="総評の誤字を訂正しました。")

    clock.now += 4.9
    stale = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert original in stale and "訂正後の総評です。" not in stale
    clock.now += 0.1
    fresh = client.get(f"/calls/{slug}/results")
    html = fresh.get_data(as_text=True)
    assert "訂正後の総評です。" in html and "第2版" in html and "総評の誤字を訂正しました。" in html
    old_page = client.get(f"/calls/{slug}/results/v1").get_data(as_text=True)
    assert "以前の版" in old_page and original in old_page
    assert client.get(f"/calls/{slug}/results/v2").get_data(as_text=True).count("訂正後の総評です。") == 1


def test_signed_in_visitors_neither_fill_nor_read_the_cache(client, published, factory, login, micro_cache):
    cache, _clock = micro_cache
    slug = published.call.slug
    anonymous = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert "ログアウト" not in anonymous and len(cache) == 1
    login(factory.applicant())
    cache.clear()
    personal = client.get(f"/calls/{slug}/results")
    assert "ログアウト" in personal.get_data(as_text=True)
    assert len(cache) == 0  # their menu is never stored for others


def test_a_cached_page_is_not_served_to_an_anonymous_visitor_with_a_message_waiting(
        app, client, published, micro_cache):
    cache, _clock = micro_cache
    slug = published.call.slug
    plain = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert len(cache) == 1

    visitor = app.test_client()
    assert visitor.get("/mypage").status_code == 302  # flashes "ログインしてください"
    with_message = visitor.get(f"/calls/{slug}/results")
    html = with_message.get_data(as_text=True)
    assert "このページを見るにはログインしてください。" in html  # rendered for them, message shown once
    assert with_message.headers["Cache-Control"] == "no-store"
    assert "このページを見るにはログインしてください。" not in visitor.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert client.get(f"/calls/{slug}/results").get_data(as_text=True) == plain


def test_unknown_calls_and_versions_are_never_cached(client, published, micro_cache):
    cache, _clock = micro_cache
    slug = published.call.slug
    for _ in range(2):
        assert client.get("/calls/no-such-call/results").status_code == 404
        assert client.get(f"/calls/{slug}/results/v9").status_code == 404
    assert len(cache) == 0


def test_the_cache_is_bounded_least_recently_used_first():
    clock = Clock()
    cache = PageCache(max_entries=2, max_bytes=10, clock=clock)
    moment = datetime(2026, 4, 1, tzinfo=UTC)
    cache.put(("a", None), b"aaa", "ea", moment)
    cache.put(("b", None), b"bbb", "eb", moment)
    assert cache.get(("a", None), ttl=5).body == b"aaa"  # "a" is now the most recent
    cache.put(("c", 1), b"ccc", "ec", moment)
    assert cache.get(("b", None), ttl=5) is None and len(cache) == 2
    cache.put(("d", None), b"dddddddd", "ed", moment)  # 3 + 8 bytes > 10: "a" goes too
    assert cache.get(("a", None), ttl=5) is None and cache.get(("c", 1), ttl=5) is None
    assert cache.get(("d", None), ttl=5).etag == "ed"
    cache.put(("e", None), b"x" * 11, "ee", moment)  # larger than the whole cache: not kept
    assert cache.get(("e", None), ttl=5) is None
    clock.now += 5
    assert cache.get(("d", None), ttl=5) is None and len(cache) == 0


def test_the_log_page_and_log_json_are_cached_and_a_new_entry_shows_after_the_cache_time(
        client, factory, micro_cache, count_queries):
    """The log of a large call takes seconds to build (every entry, the
    signed head): on results day it is served from the worker's copy, and an
    entry appended meanwhile shows once the cache time has passed."""
    _cache, clock = micro_cache
    call = factory.scoring_call()
    factory.submitted(call)
    slug = call.slug
    first_page = client.get(f"/calls/{slug}/log")
    first_json = client.get(f"/calls/{slug}/log.json")
    entries = len(first_json.get_json()["entries"])
    with count_queries() as cached:
        page = client.get(f"/calls/{slug}/log")
        document = client.get(f"/calls/{slug}/log.json")
    assert cached.count == 0, cached.statements
    assert page.data == first_page.data and page.headers["ETag"] == first_page.headers["ETag"]
    assert document.data == first_json.data and document.headers["Last-Modified"]
    assert_security_headers("cached log page", page)
    assert document.headers["Access-Control-Allow-Origin"] == "*"

    factory.submitted(call)  # one more entry: 提案の受付
    clock.now += 4.9
    assert len(client.get(f"/calls/{slug}/log.json").get_json()["entries"]) == entries
    clock.now += 0.1
    assert len(client.get(f"/calls/{slug}/log.json").get_json()["entries"]) == entries + 1
    fresh = client.get(f"/calls/{slug}/log")
    assert fresh.headers["ETag"] != first_page.headers["ETag"]


def test_an_unknown_call_log_is_a_404_and_not_cached(client, micro_cache):
    cache, _clock = micro_cache
    assert client.get("/calls/no-such-call/log").status_code == 404
    assert client.get("/calls/no-such-call/log.json").status_code == 404
    assert client.get("/calls/no-such-call/results").status_code == 404
    assert len(cache) == 0
    # The renderings that ended in a 404 gave their claim back.
    assert not any(lock.locked() for lock in cache._render_locks)


def test_an_expired_page_is_rendered_by_one_thread_while_the_others_serve_the_old_copy():
    clock = Clock()
    cache = PageCache(clock=clock)
    moment = datetime(2026, 8, 29, tzinfo=UTC)
    cache.put(("log", "c"), b"old", "e1", moment)
    clock.now += 6  # past a 5-second time
    page, claim = cache.lookup(("log", "c"), 5)
    assert page is None and claim is not None  # this thread renders again
    others = [cache.lookup(("log", "c"), 5) for _ in range(3)]
    assert all(p is not None and p.body == b"old" and c is None for p, c in others)
    cache.put(("log", "c"), b"new", "e2", moment)
    claim.release()
    page, claim = cache.lookup(("log", "c"), 5)
    assert page.body == b"new" and claim is None


def test_with_no_copy_the_others_wait_for_the_one_rendering():
    import threading

    cache = PageCache(clock=Clock())
    moment = datetime(2026, 8, 29, tzinfo=UTC)
    page, claim = cache.lookup(("results", "c", None), 5)
    assert page is None and claim is not None
    seen = []
    waiter = threading.Thread(target=lambda: seen.append(cache.lookup(("results", "c", None), 5)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # waiting for the rendering, not rendering too
    cache.put(("results", "c", None), b"page", "e", moment)
    claim.release()
    waiter.join(5)
    [(page, second_claim)] = seen
    assert page.body == b"page" and second_claim is None


def test_cached_pages_go_gzip_compressed_to_browsers_that_accept_it(client, published, micro_cache):
    import gzip

    slug = published.call.slug
    plain = client.get(f"/calls/{slug}/results")
    packed = client.get(f"/calls/{slug}/results", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data)
    for response in (plain, packed):
        assert {"Cookie", "Accept-Encoding"} <= set(response.headers["Vary"].replace(" ", "").split(","))
    # One ETag per representation, each answering its own conditional request.
    assert packed.headers["ETag"] != plain.headers["ETag"] and packed.headers["ETag"].endswith('-gzip"')
    again = client.get(f"/calls/{slug}/results", headers={"Accept-Encoding": "gzip",
                                                          "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    log = client.get(f"/calls/{slug}/log", headers={"Accept-Encoding": "gzip"})
    assert log.headers["Content-Encoding"] == "gzip" and b"<html" in gzip.decompress(log.data)


def test_without_the_cache_pages_are_sent_as_they_are(client, published):
    response = client.get(f"/calls/{published.call.slug}/results", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_an_unchanged_page_is_checked_with_one_query_when_its_time_is_up_not_rendered_again(
        client, published, micro_cache, count_queries, monkeypatch):
    """A 300-proposal results page takes a CPU-second to render: when its
    time is up, one small query tells the page is still right."""
    from portal.public import results as public_results

    _cache, clock = micro_cache
    slug = published.call.slug
    first = client.get(f"/calls/{slug}/results")
    renders = []
    original = public_results._render_results
    monkeypatch.setattr(public_results, "_render_results", lambda *a, **k: renders.append(1) or original(*a, **k))
    clock.now += 60
    with count_queries() as checked:
        again = client.get(f"/calls/{slug}/results")
    assert again.data == first.data and renders == []
    assert checked.count == 1, checked.statements
    with count_queries() as cached:
        client.get(f"/calls/{slug}/results")  # trusted again for the next period
    assert cached.count == 0


def test_a_fresh_page_is_answered_before_flask_with_the_headers_flask_sent(app, published, micro_cache,
                                                                         monkeypatch):
    """PageCacheMiddleware: the second anonymous request never reaches a
    view; a request with a cookie, a conditional request or a query string
    always does."""
    slug = published.call.slug
    anonymous = app.test_client(use_cookies=False)
    first = anonymous.get(f"/calls/{slug}/results", headers={"Accept-Encoding": "gzip"})
    plain_first = anonymous.get(f"/calls/{slug}/results")
    dispatched = []
    original = app.full_dispatch_request
    monkeypatch.setattr(app, "full_dispatch_request", lambda: dispatched.append(1) or original())
    again = anonymous.get(f"/calls/{slug}/results", headers={"Accept-Encoding": "gzip"})
    plain = anonymous.get(f"/calls/{slug}/results")
    head = anonymous.head(f"/calls/{slug}/results")
    assert dispatched == []
    assert again.data == first.data and again.headers["Content-Encoding"] == "gzip"
    assert sorted(again.headers.items()) == sorted(first.headers.items())
    assert plain.data == plain_first.data and "Content-Encoding" not in plain.headers
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == plain.headers["ETag"]
    assert_security_headers("page answered before Flask", again)

    anonymous.get(f"/calls/{slug}/results", headers={"Cookie": "portal_session=x"})
    anonymous.get(f"/calls/{slug}/results", headers={"If-None-Match": plain.headers["ETag"]})
    anonymous.get(f"/calls/{slug}/results?utm_source=press")
    assert len(dispatched) == 3
