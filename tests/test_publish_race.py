"""A double-clicked 公表 (or the same page in two tabs) against the real
database, two requests at once, real commits: one publication, one
version, and neither click sees an error page. The first click records
the publication job; the second waits for the call's lock and finds that
job (or, once it has run, the published version). Jobs run in the
requesting thread here (JOB_QUEUE_URL=immediate); tests/test_job_queue.py
does the same with real workers. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from portal.domain.log import chain, process_log
from portal.domain.results import publication, publish_steps, result_pdfs
from portal.jobs import publish_job
from portal.domain.timeutil import now_utc
from portal.models import Call, LogEntry, Publication

from .conftest import csrf_token_from
from .factories import Factory
from .results_support import decide_as_recommended
from .test_concurrency import run_in_threads
from .test_publication import scored_call

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')


@pytest.fixture()
def committed(isolated_app, monkeypatch, tmp_path):
    monkeypatch.setitem(isolated_app.config, "LOG_SIGNING_KEY_PATH", str(tmp_path / "log-signing-key.pem"))
    return isolated_app, sessionmaker(bind=isolated_app.extensions["engine"], expire_on_commit=False)


@pytest.fixture()
def slow_pdfs(monkeypatch):
    """The first click is still rendering when the second arrives."""
    original = result_pdfs.render_log_pdf

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(result_pdfs, "render_log_pdf", slow)


def ready_call(app, Session) -> tuple[int, str]:
    with app.app_context(), Session() as session:
        factory = Factory(session, app)
        s = scored_call(factory, session)
        decide_as_recommended(session, s, s.extra["staff"])
        return s.call.id, s.extra["staff"].email


def publish_form_fields(page: str) -> dict[str, str]:
    """What the browser sends from the publish form: its hidden inputs."""
    form = page[page.index("/results/publish"):]
    form = form[:form.index("</form>")]
    fields = {}
    for tag in HIDDEN.findall(form):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1) if value else ""
    return fields


def staff_tabs(app, call_id: int, email: str, count: int = 2):
    """``count`` signed-in tabs showing the results page, each with its form."""
    tabs = []
    for _ in range(count):
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"email": email, "password": Factory.PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        page = client.get(f"/admin/calls/{call_id}/results")
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        tabs.append((client, publish_form_fields(page.get_data(as_text=True))))
    return tabs


def click_together(tabs, call_id: int, **extra):
    def click(client, fields):
        return client.post(f"/admin/calls/{call_id}/results/publish", data={**fields, **extra})

    responses, errors = run_in_threads([lambda c=c, f=f: click(c, f) for c, f in tabs])
    assert not errors, errors
    return responses


def pages_after(tabs, responses, call_id: int) -> list[str]:
    """Both clicks are redirected to the results page; the page each lands
    on (with its flash message)."""
    pages = []
    for (client, _fields), response in zip(tabs, responses, strict=True):
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert response.headers["Location"].endswith(f"/admin/calls/{call_id}/results#publish")
        pages.append(client.get(response.headers["Location"]).get_data(as_text=True))
    return pages


def double_click(app, call_id: int, email: str, **form):
    """Two signed-in tabs press 公表 at once; neither may get an error page."""
    tabs = staff_tabs(app, call_id, email)
    responses = click_together(tabs, call_id, **form)
    assert all(r.status_code < 500 for r in responses), [r.get_data(as_text=True)[:300] for r in responses]
    return tabs, responses


STARTED = "公表の処理を進めています"


def TOLD(version: int) -> str:
    return f"結果はすでに公表されています（第{version}版）"


def assert_one_started_one_told(pages: list[str], version: int) -> None:
    """The first click is told the job started; the second, that the job is
    under way or that the version is out. Both pages end up showing it."""
    assert STARTED in pages[0] or STARTED in pages[1], [p[:200] for p in pages]
    assert any(TOLD(version) in page or "公表の処理はすでに始まっています" in page or STARTED in page
               for page in pages)
    assert all(f"第{version}版を" in page for page in pages)


def published_rows(Session, call_id: int):
    with Session() as session:
        rows = list(session.scalars(select(Publication).where(Publication.call_id == call_id)
                                    .order_by(Publication.version)))
        call = session.get(Call, call_id)
        entries = process_log.entries(session, call)
        kinds = [e.kind for e in entries]
        assert chain.verify_chain(entries).ok
        seqs = list(session.scalars(select(LogEntry.seq).where(LogEntry.call_id == call_id).order_by(LogEntry.seq)))
        assert seqs == list(range(1, len(seqs) + 1))
        return rows, kinds


def test_a_double_clicked_publish_is_one_publication_and_no_error(committed, slow_pdfs):
    app, Session = committed
    call_id, email = ready_call(app, Session)
    tabs, responses = double_click(app, call_id, email)
    rows, kinds = published_rows(Session, call_id)
    assert [row.version for row in rows] == [1]
    assert kinds.count(chain.SCORES_REVEALED) == 1 and kinds.count(chain.RESULTS_PUBLISHED) == 1
    pages = pages_after(tabs, responses, call_id)
    assert_one_started_one_told(pages, version=1)


def test_a_double_clicked_correction_is_one_new_version(committed, slow_pdfs):
    app, Session = committed
    call_id, email = ready_call(app, Session)
    with app.app_context(), Session() as session:
        publication.publish(session, session.get(Call, call_id), None, now_utc(),
                            settings=publication.Settings.for_app(app))
        session.commit()
    tabs, responses = double_click(app, call_id, email, reason="得点の転記に誤りがありました。")
    rows, kinds = published_rows(Session, call_id)
    assert [row.version for row in rows] == [1, 2]
    assert kinds.count(chain.CORRECTION) == 1 and kinds.count(chain.RESULTS_PUBLISHED) == 2
    pages = pages_after(tabs, responses, call_id)
    assert_one_started_one_told(pages, version=2)


def test_a_collision_the_lock_did_not_prevent_is_still_no_error_page(committed, slow_pdfs, monkeypatch):
    """Were the lock ever bypassed, the database's unique keys catch the
    second publication and the route answers as for a double click."""
    app, Session = committed
    for module in (publish_job, publish_steps):
        monkeypatch.setattr(module, "lock_call", lambda session, call: None)
    call_id, email = ready_call(app, Session)
    tabs, responses = double_click(app, call_id, email)
    rows, _kinds = published_rows(Session, call_id)
    assert [row.version for row in rows] == [1]
    pages = pages_after(tabs, responses, call_id)
    assert all(STARTED in page or TOLD(1) in page or "公表の処理はすでに始まっています" in page for page in pages)
