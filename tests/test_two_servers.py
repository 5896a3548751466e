"""Two app servers as a site with several of them runs: two real gunicorn
processes (gunicorn.conf.py, two workers each) on two loopback ports, over
one PostgreSQL schema, one Redis job queue and one S3-compatible store
(moto's server), with one job worker (``flask worker``). Real HTTP.

- A draft and an attachment saved through A are read through B with the
  same cookie (one database, one object store; each server has a local
  upload directory of its own, so nothing can come from a shared disk).
- Logging out on B ends the session on A (server-side login records).
- A publication made on A is served by B, and a correction made on B is
  served by A, within RESULTS_PAGE_CACHE_SECONDS (+2 s) of the job being
  done, though each worker of each server caches the anonymous page; the
  results PDF (in the object store) is the same bytes from both.
- The login throttle counts failures made on both servers together.

The servers run with PORTAL_ENV=development, not production: the staff
account logs in with the demo second-factor waiver, which production
refuses (ALLOW_SECOND_FACTOR_WAIVER = False) and development honours;
``testing`` cannot be used because it reads TEST_DATABASE_URL instead of
DATABASE_URL and turns the results page cache off. Both servers get the
same SECRET_KEY (the session cookie and its CSRF token are signed with it,
and a cookie from A must be good on B), the same LOG_SIGNING_KEY_PATH, and
the documented cache delay set explicitly. Plain HTTP (no
X-Forwarded-Proto), so the cookies are not Secure-only; X-Forwarded-For is
sent only where the visitor's address matters (the throttle).

PostgreSQL only (TEST_DATABASE_URL=postgresql+...; ``make test`` runs the
suite a second time so): two servers over one SQLite file is not a
deployment we support. The database is a schema of this module's own,
migrated once, with the servers started once for the four tests.
"""
from __future__ import annotations

import io
import re
import time
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import sessionmaker

from portal import create_app
from portal import db as database
from portal.files.objectstore import store_from_config
from portal.migrate import upgrade
from portal.models import Call, Job

from .conftest import TEST_DATABASE_URL, _postgres_url_with_schema
from .factories import Factory
from .job_worker import Worker, forget_queue, queue_url, use_real_queue, wait_for
from .test_publish_race import publish_form_fields, ready_call
from .two_servers_support import (
    CACHE_SECONDS,
    SECRET_KEY,
    Browser,
    Server,
    _free_port,
    _gunicorn,
    _stop,
    _wait_until_listening,
    server_environment,
)

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="two app servers share one PostgreSQL database: runs with TEST_DATABASE_URL=postgresql+... "
           "(make test's second pass)")

PASSWORD = Factory.PASSWORD


@pytest.fixture(scope="module")
def cluster(app, s3_server, tmp_path_factory):
    """(server A, server B, the test's app, a sessionmaker, the worker).

    Like conftest's ``isolated_app`` (a schema of its own, migrated), but for
    the whole module, so that the servers start once."""
    tmp_path = tmp_path_factory.mktemp("two-servers")
    schema = f"portal_two_servers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _postgres_url_with_schema(TEST_DATABASE_URL, schema)
    store = s3_server.overrides()
    key_path = str(tmp_path / "log-signing-key.pem")
    isolated = create_app("testing", {"DATABASE_URL": url, "UPLOAD_DIR": tmp_path / "test-uploads",
                                      "SERVER_NAME": "localhost", "LOG_SIGNING_KEY_PATH": key_path,
                                      "PUBLIC_BASE_URL": "http://127.0.0.1", **store})
    isolated.extensions["object_store"] = store_from_config(isolated.config)
    servers: list[Server] = []
    worker = None
    try:
        upgrade(isolated.extensions["engine"])
        use_real_queue(isolated, queue_url("redis", tmp_path))
        shared = {
            "PORTAL_ENV": "development", "SECRET_KEY": SECRET_KEY, "DATABASE_URL": url,
            "JOB_QUEUE_URL": isolated.config["JOB_QUEUE_URL"], "JOB_QUEUE_NAME": isolated.config["JOB_QUEUE_NAME"],
            "LOG_SIGNING_KEY_PATH": key_path, "PORTAL_BASE_URL": "http://127.0.0.1",
            "PORTAL_RESULTS_PAGE_CACHE_SECONDS": str(CACHE_SECONDS), **store,
        }
        for name in ("a", "b"):
            port = _free_port()
            env = server_environment(tmp_path, name, port, shared)
            servers.append(Server(name, port, tmp_path / name, _gunicorn(env, tmp_path / name)))
        worker = Worker(isolated, tmp_path / "worker.log", **store).start()
        for server in servers:
            _wait_until_listening(server.process, server.port, server.log_dir)
        yield (*servers, isolated, sessionmaker(bind=isolated.extensions["engine"], expire_on_commit=False), worker)
    finally:
        for server in servers:
            _stop(server.process)
        if worker is not None:
            worker.stop()
        forget_queue(isolated)
        database.db_session.remove()
        isolated.extensions["engine"].dispose()
        database.bind(app.extensions["engine"])
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def new_applicant(app, Session) -> str:
    with app.app_context(), Session() as session:
        return Factory(session, app).applicant().email


def open_call_slug(app, Session) -> str:
    with app.app_context(), Session() as session:
        return Factory(session, app).call().slug


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def logged_in(server: Server, email: str, forwarded_for: str | None = None) -> Browser:
    browser = Browser(forwarded_for=forwarded_for)
    response = browser.login(server, email, PASSWORD)
    assert response.status == 302, (response.status, response.text[:500], server.log())
    return browser


# -- 1. one database, one object store ----------------------------------------------------

def test_a_draft_and_an_attachment_saved_on_one_server_are_read_on_the_other(cluster):
    a, b, app, Session, _worker = cluster
    email, slug = new_applicant(app, Session), open_call_slug(app, Session)
    browser = logged_in(a, email)

    token = browser.csrf(a, f"/calls/{slug}/propose")
    started = browser.post(a, f"/calls/{slug}/propose", {"csrf_token": token})
    assert started.status == 302, started.text[:500]
    edit_path = started.location.split("127.0.0.1", 1)[-1]
    edit_path = edit_path[edit_path.index("/proposals/"):]
    proposal_id = int(re.search(r"/proposals/(\d+)/edit", edit_path).group(1))

    page = browser.get(a, edit_path).text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    title, background = "二台のサーバーで読む下書き", f"サーバーAで書いた背景です。{uuid.uuid4().hex}"
    saved = browser.post(a, edit_path, {"csrf_token": browser.csrf(a, edit_path), "version": version,
                                        "title": title, "background": background, "action": "save"})
    assert saved.status in (200, 302), (saved.status, saved.text[:500])

    uploaded = browser.post_file(a, f"/proposals/{proposal_id}/attachments",
                                 {"csrf_token": browser.csrf(a, edit_path)}, "file", "figure.png", png(),
                                 "image/png")
    assert uploaded.status == 302, (uploaded.status, uploaded.text[:500], a.log())

    # Read back on B, step by step of the form: 概要, 内容, 添付.
    overview, content, files = (browser.get(b, f"/proposals/{proposal_id}/edit{step}")
                                for step in ("", "/content", "/attachments"))
    assert overview.status == content.status == files.status == 200, overview.text[:300]
    assert f'value="{title}"' in overview.text and background in content.text
    file_ids = re.findall(r"/files/(\d+)/download", files.text)
    assert len(file_ids) == 1 and "figure.png" in files.text
    from_b = browser.get(b, f"/files/{file_ids[0]}/download")
    from_a = browser.get(a, f"/files/{file_ids[0]}/download")
    assert from_b.status == 200 and from_a.status == 200, (from_b.status, from_a.status, b.log())
    assert from_b.body.startswith(b"\x89PNG") and from_b.body == from_a.body
    # Nothing went to either server's own disk.
    assert [f for s in (a, b) for f in (s.log_dir / "uploads").rglob("*") if f.is_file()] == []


# -- 2. server-side sessions ------------------------------------------------------------

def test_logging_out_on_one_server_ends_the_session_on_the_other(cluster):
    a, b, app, Session, _worker = cluster
    email = new_applicant(app, Session)
    browser = logged_in(a, email)
    copied = dict(browser.cookies)
    assert browser.get(b, "/mypage").status == 200  # the login holds on B

    logout = browser.post(b, "/logout", {"csrf_token": browser.csrf(b, "/mypage")})
    assert logout.status == 302

    for cookies in (browser.cookies, copied):  # the browser itself, and the cookie as it was before logout
        refused = Browser(cookies=dict(cookies)).get(a, "/mypage")
        assert refused.status == 302 and "/login" in refused.location, (refused.status, refused.location)
    assert Browser(cookies=copied).get(b, "/mypage").status == 302


# -- 3. publication and correction --------------------------------------------------------

def job_done(Session, call_id: int, count: int):
    def check():
        with Session() as session:
            jobs = list(session.scalars(select(Job).where(Job.call_id == call_id).order_by(Job.id)))
        return jobs[-1] if len(jobs) == count and not jobs[-1].active else None
    return check


def publish(browser: Browser, server: Server, call_id: int, **form) -> None:
    page = browser.get(server, f"/admin/calls/{call_id}/results")
    assert page.status == 200, page.text[:300]
    response = browser.post(server, f"/admin/calls/{call_id}/results/publish",
                            {**publish_form_fields(page.text), **form})
    assert response.status == 302, (response.status, response.text[:500])


def fresh_after(server: Server, path: str, marker: str, since: float, seconds: float) -> None:
    """``seconds`` after ``since`` (when the job was done), every anonymous
    request for ``path`` (no cookie: each worker's page cache answers) shows
    ``marker``. Until then a worker may still serve its cached copy."""
    deadline = since + seconds
    while time.monotonic() < deadline:
        Browser().get(server, path)  # keeps the workers' caches warm, as visitors would
        time.sleep(0.2)
    for _ in range(8):  # several requests, so both workers of the server answer
        response = Browser().get(server, path)
        assert response.status == 200 and marker in response.text, (
            f"{server.name} still serves a stale {path} {seconds} s after the change (status {response.status})")


def test_a_publication_and_a_correction_on_one_server_are_served_by_the_other(cluster):
    a, b, app, Session, worker = cluster
    call_id, staff_email = ready_call(app, Session)
    with Session() as session:
        slug = session.get(Call, call_id).slug
    results = f"/calls/{slug}/results"
    # B's workers have seen the page before publication (what a cache could keep).
    for _ in range(4):
        assert Browser().get(b, results).status < 500

    staff_a = logged_in(a, staff_email)
    publish(staff_a, a, call_id)
    job = wait_for(job_done(Session, call_id, 1), what="the publication job", worker=worker)
    done = time.monotonic()
    assert job.result == {"version": 1}, (job.status, job.message, worker.output())
    fresh_after(b, results, "第1版", done, CACHE_SECONDS + 2)
    pdf_b, pdf_a = Browser().get(b, f"{results}.pdf"), Browser().get(a, f"{results}.pdf")
    assert pdf_b.status == 200 and pdf_b.body.startswith(b"%PDF") and pdf_b.body == pdf_a.body
    # Version 1 is now in A's page caches (both workers, most likely).
    for _ in range(6):
        page = Browser().get(a, results)
        assert page.status == 200 and "第2版" not in page.text

    staff_b = logged_in(b, staff_email)
    publish(staff_b, b, call_id, reason="二台目のサーバーから訂正しました。")
    job = wait_for(job_done(Session, call_id, 2), what="the correction job", worker=worker)
    done = time.monotonic()
    assert job.result == {"version": 2}, (job.status, job.message, worker.output())
    fresh_after(a, results, "第2版（訂正により更新）", done, CACHE_SECONDS + 2)
    pdf_a2, pdf_b2 = Browser().get(a, f"{results}.pdf"), Browser().get(b, f"{results}.pdf")
    assert pdf_a2.status == 200 and pdf_a2.body == pdf_b2.body and pdf_a2.body != pdf_a.body


# -- 4. one throttle for both servers -------------------------------------------------------

THROTTLED = "ログインの失敗が続いたため"


def test_the_login_throttle_counts_failures_on_both_servers(cluster):
    a, b, app, Session, _worker = cluster
    email = new_applicant(app, Session)
    attacker = "198.51.100.23"  # TEST-NET-2: only ever a header value here
    for server in (a, b, a, b, a):
        failed = Browser(forwarded_for=attacker).login(server, email, "wrong-password")
        assert failed.status == 401, (server.name, failed.status, failed.text[:300])
    for server in (b, a):  # the right password now: refused on either server
        refused = Browser(forwarded_for=attacker).login(server, email, PASSWORD)
        assert refused.status == 429 and THROTTLED in refused.text, (server.name, refused.status)
        assert "retry-after" in refused.headers
    # The account itself is not locked: the same person elsewhere logs in.
    elsewhere = Browser(forwarded_for="198.51.100.77").login(b, email, PASSWORD)
    assert elsewhere.status == 302, (elsewhere.status, elsewhere.text[:300])
    assert Browser(forwarded_for="198.51.100.78").login(a, email, PASSWORD).status == 302
