"""The deadline-day benchmark (bench/deadline.py) on a small scale: it only
targets this machine, and its check of the database catches a lost save and
a duplicated submission after a real run against a server in a thread."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from bench import deadline
from portal.models import Proposal, Submission



@pytest.mark.parametrize("url", [
    "http://10.0.0.5:8000", "http://192.168.1.10", "http://example.jp", "https://127.0.0.1:8443",
    "http://127.0.0.1.example.jp", "ftp://127.0.0.1",
])
def test_run_refuses_anything_but_this_machine(url):
    prepared = {"call_id": 1, "call_slug": "x", "password": "pw", "emails": ["a@example.jp"], "proposal_ids": [1]}
    with pytest.raises(ValueError, match="refusing"):
        deadline.run(url, prepared, concurrency=1)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:5000", "http://[::1]:8000"])
def test_loopback_addresses_are_accepted(url):
    host, port = deadline.check_local(url)
    assert host in deadline.LOCAL_HOSTS and port > 0


def test_form_reader_posts_what_a_browser_posts():
    html = """<form id="f" action="/x/submit"><input type="hidden" name="csrf_token" value="t&amp;1">
      <textarea name="body">
line1
line2</textarea><select name="kind"><option value="">選ぶ</option><option value="a" selected>A</option></select>
      <select name="other"><option>最初</option><option>次</option></select>
      <input type="checkbox" name="declarations" value="d1"><input type="checkbox" name="forms" value="k" checked>
      <button type="submit" name="action" value="save">保存</button></form>"""
    form = deadline.find_form(html, action_suffix="/submit")
    assert form["fields"] == [("csrf_token", "t&1"), ("body", "line1\nline2"), ("kind", "a"),
                              ("other", "最初"), ("forms", "k")]
    assert ("declarations", "d1") in form["choices"]


def test_cookie_jar_keeps_secure_cookies_and_forgets_deleted_ones():
    jar = deadline.CookieJar()
    jar.take(["portal_session=abc.def; Secure; HttpOnly; Path=/; SameSite=Lax"])
    assert jar.header() == "portal_session=abc.def"
    jar.take(["portal_session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"])
    assert jar.header() == ""


@pytest.fixture()
def bench_app(isolated_app):
    """The benchmark commits for real and leaves a call whose process log
    cannot be deleted: it runs on a database of its own (conftest)."""
    return isolated_app


@pytest.fixture()
def live_server(bench_app):
    server = make_server("127.0.0.1", 0, bench_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture()
def bench_data(bench_app):
    return deadline.prepare(bench_app.config["DATABASE_URL"], applicants=3, password="bench-password-1",
                            closes_in_minutes=30, app=bench_app)


def test_a_small_run_is_verified_and_tampering_is_caught(bench_app, live_server, bench_data):
    database_url = bench_app.config["DATABASE_URL"]
    figures = deadline.run(live_server, bench_data, concurrency=3, autosaves=2, double_submit_every=3,
                           think_seconds=0.02, deadline_seconds=60, request_timeout=20)
    assert figures["problems"] == []
    assert figures["completed"] == 3 and figures["server_errors"] == 0
    assert figures["status_counts"]["autosave"] == {"200": 6}
    # One applicant in three clicks twice: both clicks answer with a redirect, never a 500.
    assert figures["double_submitters"] == 1
    assert figures["status_counts"]["submit"] == {"302": 3 + figures["double_submitters"]}
    assert set(figures["latency_ms"]) >= {"login", "edit_get", "autosave", "confirm", "submit", "receipt"}
    for result in figures["applicant_results"]:
        assert result["acked_text"].endswith(f"-{result['index']:04d}-2）")
        # A double click shows the same receipt number twice (receipt page, then the proposal page).
        assert len(set(result["receipts_shown"])) == 1

    clean = deadline.verify(database_url, bench_data, figures)
    assert clean["ok"], clean
    assert (clean["lost"], clean["duplicated"], clean["submissions"], clean["receipt_counter"],
            clean["proposal_received_entries"]) == (0, 0, 3, 3, 3)

    first, second = bench_data.proposal_ids[:2]
    with Session(bench_app.extensions["engine"]) as session, session.begin():
        # A save the server acknowledged, gone; a second snapshot of a proposal.
        session.execute(update(Proposal).where(Proposal.id == first).values({deadline.MARKER_FIELD: "古い内容"})
                        .execution_options(synchronize_session=False))
        original = session.scalars(select(Submission).where(Submission.proposal_id == second)).one()
        session.add(Submission(proposal_id=second, revision=2, receipt_number=original.receipt_number,
                               submitted_at=original.submitted_at, snapshot=original.snapshot,
                               snapshot_sha256=original.snapshot_sha256))
    tampered = deadline.verify(database_url, bench_data, figures)
    assert not tampered["ok"]
    assert tampered["lost"] == 1 and tampered["duplicated"] == 1


def test_verify_counts_server_errors_from_the_run(bench_app, bench_data):
    """A run that saw a 500 is not clean even when the database is."""
    figures = {"server_errors": 1, "applicant_results": []}
    report = deadline.verify(bench_app.config["DATABASE_URL"], bench_data, figures)
    assert report["server_errors"] == 1 and not report["ok"]
