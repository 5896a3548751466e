"""The people of the publication benchmark (bench/publication_job.py), over
real HTTP on 127.0.0.1 with ``bench.http_client``: applicants autosaving
their drafts, the staff logging in with a second factor and polling the
job as job-progress.js does; and the job row read straight from the
database for its stages."""
from __future__ import annotations

import json
import random
import threading
import time

from bench.deadline import MARKER_BASE, MARKER_FIELD, check_local
from bench.http_client import (
    Browser,
    CookieJar,
    DeadlineReached,
    Recorder,
    field_value,
    find_form,
    with_value,
)

THINK_SECONDS = 1.0       # an applicant's pause between autosaves (×0.5 to ×1.5)
POLL_SECONDS = 0.2        # this process reading the job row
STAFF_POLL_SECONDS = 2.0  # job-progress.js
REQUEST_TIMEOUT = 60.0


class Autosavers:
    """Applicants logged in, each autosaving its draft until told to stop."""

    def __init__(self, base_url: str, prepared: dict, deadline: float) -> None:
        self.host, self.port = check_local(base_url)
        self.prepared, self.deadline = prepared, deadline
        self.recorder = Recorder()
        self.samples: list[tuple[float, float, str]] = []  # (sent at, wall clock; ms; status)
        self.problems: list[str] = []
        self.stop_event = threading.Event()
        self.logins = threading.BoundedSemaphore(4)
        count = len(prepared["emails"])
        self.ready = threading.Barrier(count + 1)
        self.threads = [threading.Thread(target=self.play, args=(i,), daemon=True) for i in range(count)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        self.ready.wait(timeout=max(1.0, self.deadline - time.monotonic()))

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT + 5)

    def play(self, index: int) -> None:
        browser = Browser(self.host, self.port, CookieJar(), self.recorder, self.deadline, REQUEST_TIMEOUT)
        proposal_id = self.prepared["proposal_ids"][index]
        try:
            with self.logins:
                logged_in = log_in(browser, self.prepared["emails"][index], self.prepared["password"])
            fields = self.editor(browser, proposal_id) if logged_in else None
        except Exception as error:  # noqa: BLE001 - reported with the figures
            self.problems.append(f"applicant {index}: {error!r}")
            fields = None
        try:
            self.ready.wait(timeout=max(1.0, self.deadline - time.monotonic()))
        except threading.BrokenBarrierError:
            pass
        if fields is None:
            self.problems.append(f"applicant {index}: not logged in or no editor")
            return
        try:
            self.autosave(browser, proposal_id, index, fields)
        except DeadlineReached:
            self.problems.append(f"applicant {index}: the run's time limit was reached")
        finally:
            browser.close()

    def autosave(self, browser: Browser, proposal_id: int, index: int, fields) -> None:
        number = 0
        while not self.stop_event.is_set():
            number += 1
            fields = with_value(fields, MARKER_FIELD, f"{MARKER_BASE}（公表中の追記 {index:03d}-{number}）")
            sent, started = time.time(), time.perf_counter()
            answer = browser.post_multipart(
                "autosave", f"/proposals/{proposal_id}/autosave", fields,
                headers={"Accept": "application/json", "X-CSRFToken": field_value(fields, "csrf_token") or ""})
            status = str(answer.status) if answer is not None else "error"
            self.samples.append((sent, (time.perf_counter() - started) * 1000, status))
            reply = _json(answer.text) if answer is not None else {}
            if answer is not None and answer.status == 200 and reply.get("ok") is True:
                fields = with_value(fields, "version", str(reply.get("version")))
            elif answer is not None and answer.status == 409:
                fields = self.editor(browser, proposal_id) or fields
            self.stop_event.wait(THINK_SECONDS * random.uniform(0.5, 1.5))

    def editor(self, browser: Browser, proposal_id: int):
        page = browser.get("edit_get", f"/proposals/{proposal_id}/edit")
        form = find_form(page.text, form_id="proposal-form") if page and page.status == 200 else None
        return form["fields"] if form else None


def log_in(browser: Browser, email: str, password: str, totp_secret: str | None = None) -> bool:
    page = browser.get("login_page", "/login")
    form = find_form(page.text, action_suffix="/login") if page and page.status == 200 else None
    if form is None:
        return False
    answer = browser.post_form("login", "/login", with_value(with_value(form["fields"], "email", email),
                                                              "password", password))
    if answer is None or answer.status != 302:
        return False
    if totp_secret is None:
        return not answer.location.startswith("/login")
    if not answer.location.startswith("/login/code"):
        return False
    from portal.auth import totp

    page = browser.get("login_page", answer.location)
    form = find_form(page.text, action_suffix="/login/code") if page and page.status == 200 else None
    if form is None:
        return False
    answer = browser.post_form("login", "/login/code", with_value(form["fields"], "code",
                                                                  totp.code_at(totp_secret, time.time())))
    return answer is not None and answer.status == 302 and not answer.location.startswith("/login")


class JobWatch:
    """The call's publication job read every POLL_SECONDS: each stage as first seen."""

    def __init__(self, database_url: str, call_id: int) -> None:
        from portal.db import make_engine

        self.engine = make_engine(database_url)
        self.call_id = call_id

    def latest(self):
        from sqlalchemy import select

        from portal.models import Job

        with self.engine.connect() as connection:
            return connection.execute(select(Job.id, Job.status, Job.stage, Job.done, Job.total, Job.attempts,
                                             Job.message, Job.result, Job.created_at, Job.started_at,
                                             Job.finished_at)
                                      .where(Job.call_id == self.call_id, Job.kind == "publish")
                                      .order_by(Job.id.desc()).limit(1)).first()

    def follow(self, timeout: float):
        stages: list[tuple[str, float]] = []
        row = None
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            row = self.latest()
            if row is not None:
                if not stages or stages[-1][0] != row.stage:
                    stages.append((row.stage, time.time()))
                if row.status.value in ("done", "failed"):
                    break
            time.sleep(POLL_SECONDS)
        return row, stages


def staff_polls(browser: Browser, url: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(STAFF_POLL_SECONDS):
            answer = browser.request("job_status", "GET", url, headers={"Accept": "application/json"})
            if answer is not None and answer.status == 200 and _json(answer.text).get("active") is False:
                return
    except DeadlineReached:
        pass
    finally:
        browser.close()


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


