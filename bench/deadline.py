"""Deadline day (issue 5, figure 2): hundreds of applicants autosaving and
submitting in the last minutes, against a portal running on this machine.

* :func:`prepare` makes, straight in the database, a published call that
  closes soon and N confirmed applicants, each with its own group (complete
  profile and documents) and one complete draft.
* :func:`run` plays the applicants over real HTTP the way a browser does:
  log in through the form, then, all at once, open the editor, autosave a few
  times (the whole form, as ``static/js/proposal-editor.js`` posts it), open
  the confirmation page and submit with every declaration ticked; every
  ``double_submit_every``-th applicant double-clicks (two connections).
* :func:`verify` reads the database afterwards: every submission there once,
  nothing the server acknowledged lost, receipt numbers unique and equal to
  what the receipt pages showed, counters and the process log consistent.

The HTTP client (``bench.http_client``) is the standard library only
(``http.client`` and one thread per applicant, each with its own connection
and cookie jar), so what is
measured is the portal and not a client library. Traffic goes to loopback
addresses only, every request has a socket timeout, the whole run has a
wall-clock limit, and nothing is retried.

    python -m bench.deadline --base-url http://127.0.0.1:8000 \\
        --database-url sqlite:////tmp/bench.sqlite3 --applicants 200
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import secrets
import string
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from bench.http_client import (
    Browser,
    CookieJar,
    DeadlineReached,
    Recorder,
    field_value,
    find_form,
    receipt_number_in,
    with_value,
)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# The text field each autosave changes; its last acknowledged value must be
# what the database and the submitted snapshot hold.
MARKER_FIELD = "capability"
MARKER_BASE = "2015年から地域の見守り活動を続けています。会員12名で毎月の見回りを行っています。"
# Limits that keep a mistyped command line from becoming a flood.
MAX_APPLICANTS = 1000
MAX_AUTOSAVES = 50
MAX_DEADLINE_SECONDS = 3600
REQUEST_TIMEOUT_SECONDS = 60.0
PREPARE_BATCH = 50


# --------------------------------------------------------------------------- prepare

@dataclass
class Prepared:
    call_id: int
    call_slug: str
    password: str
    emails: list[str]
    proposal_ids: list[int]
    prepare_seconds: float = 0.0

    @classmethod
    def of(cls, value: Prepared | dict) -> Prepared:
        return value if isinstance(value, Prepared) else cls(**value)

    def as_dict(self) -> dict:
        return asdict(self)


def prepare(database_url: str, *, applicants: int, password: str, closes_in_minutes: int = 30,
            app=None, upload_dir: str | os.PathLike | None = None) -> Prepared:
    """Make the call, the applicants and their drafts; committed.

    ``app`` is an already created portal app on ``database_url`` (the tests
    pass theirs); without one a development app is created for preparation
    only (its argon2 cost is the production one), with ``upload_dir`` (the
    served app's upload directory) as its UPLOAD_DIR. The groups' documents
    go to the app's object store."""
    from sqlalchemy.orm import Session

    from portal import create_app
    from portal.auth.sessions import hash_password
    from portal.domain.timeutil import now_utc
    from portal.files.objectstore import store_of

    if not 1 <= applicants <= MAX_APPLICANTS:
        raise ValueError(f"applicants must be between 1 and {MAX_APPLICANTS}")
    started = time.monotonic()
    if app is None:
        overrides: dict = {"DATABASE_URL": database_url}
        if upload_dir is not None:
            overrides["UPLOAD_DIR"] = Path(upload_dir)
        app = create_app("development", overrides)
    elif app.config["DATABASE_URL"] != database_url:
        raise ValueError("app is not on database_url")
    store = store_of(app)
    token = "".join(random.SystemRandom().choice(string.ascii_lowercase) for _ in range(10))
    now = now_utc()
    with app.app_context():
        # Every account has the same password, so one real argon2 hash (the
        # app's own function and cost) serves them all: logins verify at the
        # production cost, and preparing 300 accounts does not take minutes
        # of hashing that would crowd the machine before the measurement.
        password_hash = hash_password(password)
    emails, proposal_ids = [], []
    with Session(app.extensions["engine"], expire_on_commit=False) as session:
        call = _create_call(session, token, now, closes_in_minutes)
        session.commit()
        for start in range(0, applicants, PREPARE_BATCH):
            for number in range(start, min(start + PREPARE_BATCH, applicants)):
                email = f"deadline-{token}-{number:04d}@example.jp"
                proposal = _applicant_with_draft(session, call, email, password_hash, number, store, now)
                emails.append(email)
                proposal_ids.append(proposal.id)
            session.commit()
    return Prepared(call_id=call.id, call_slug=call.slug, password=password, emails=emails,
                    proposal_ids=proposal_ids, prepare_seconds=round(time.monotonic() - started, 2))


def _create_call(session, token: str, now, closes_in_minutes: int):
    """A call created and published through the secretariat's verbs, so its
    process log starts with ``call_published`` as a real one does."""
    from portal.domain.calls import call_admin
    from portal.domain.calls.call_settings import DEFAULT_LEVELS, CallSettings, CriterionInput
    from portal.domain.timeutil import fiscal_year_of, to_jst

    closes = now + timedelta(minutes=closes_in_minutes)
    settings = CallSettings(
        title="締切日の負荷試験（ベンチマーク用の募集）",
        slug=f"bench-deadline-{token}",
        fiscal_year=fiscal_year_of(to_jst(now).date()),
        opens_at=now - timedelta(days=30),
        closes_at=closes,
        screening_starts_at=closes + timedelta(days=7),
        results_at=closes + timedelta(days=60),
        budget_cap_per_proposal=300_000,
        budget_total=3_000_000,
        summary="締切直前の集中した提出に耐えられるかを確かめるための募集です。",
        guidelines="ベンチマーク用の募集要項。",
        criteria=[
            CriterionInput(id=None, name=name, description=f"{name}の説明", weight=Decimal(weight),
                           levels=dict(DEFAULT_LEVELS), row=row)
            for row, (name, weight) in enumerate([("公益性", 2), ("必要性", 2), ("実現可能性", 2), ("予算の妥当性", 1)])
        ],
    )
    call = call_admin.create_call(session, settings, now)
    call_admin.publish_call(session, call, now)
    return call


def draft_form(number: int, fiscal_year: int) -> list[tuple[str, str]]:
    """A complete proposal as the editor's form carries it."""
    from portal.domain.proposals.proposal_fields import REQUEST_CATEGORY, TEXT_FIELDS

    texts = {f.key: f"{f.label}の内容です。地域の見守りを市と協働で進めます。" for f in TEXT_FIELDS}
    texts["title"] = f"地域見守りネットワーク事業 {number:04d}"
    texts[MARKER_FIELD] = MARKER_BASE
    return [
        *texts.items(),
        ("period_start", f"{fiscal_year}-07-01"),
        ("period_end", f"{fiscal_year + 1}-02-28"),
        ("desired_forms", "kyosai"),
        ("related_department", "市民協働課"),
        ("role-0-item", "広報"), ("role-0-group", "チラシの作成と配布"), ("role-0-city", "市報への掲載"),
        ("income-0-category", REQUEST_CATEGORY), ("income-0-amount", "200000"), ("income-0-note", ""),
        ("income-1-category", "自己資金"), ("income-1-amount", "50000"), ("income-1-note", "会費"),
        ("expense-0-category", "消耗品費"), ("expense-0-amount", "250000"), ("expense-0-note", "見回り用品"),
    ]


def _applicant_with_draft(session, call, email: str, password_hash: str, number: int, store, now):
    from datetime import date

    from werkzeug.datastructures import MultiDict

    from portal.domain.proposals import workflow
    from portal.domain.proposals.proposal_input import parse_proposal_form
    from portal.files.samples import attach_sample_documents
    from portal.models import Group, GroupKind, Proposal, ProposalStatus, Role, StatusEvent, User

    user = User(email=email, password_hash=password_hash, role=Role.APPLICANT, email_confirmed_at=now)
    session.add(user)
    session.flush()
    group = Group(
        account_id=user.id, contact_email=email, name=f"締切日ベンチ見守りの会{number:04d}",
        name_kana="しめきりびべんちみまもりのかい", kind=GroupKind.SHIMIN_KATSUDO, representative_name="山田 花子",
        contact_name="佐藤 太郎", postal_code="123-4567", address="みなと市中央1-2-3", phone="0123-45-6789",
        founded_on=date(2015, 4, 1), member_count=12, activity_record="2015年から地域の見守り活動を続けています。",
    )
    session.add(group)
    session.flush()
    attach_sample_documents(session, store, group, user.id)
    # As the "propose" page makes it, then filled through the editor's verb.
    proposal = Proposal(call=call, group=group, status=ProposalStatus.DRAFT, created_at=now, updated_at=now)
    data = parse_proposal_form(MultiDict(draft_form(number, call.fiscal_year)))
    if data.errors:
        raise RuntimeError(f"the prepared draft does not parse: {data.errors}")
    workflow.apply_input(proposal, data, now)
    session.add(proposal)
    session.flush()
    session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                            created_at=now, actor_id=user.id))
    if problems := workflow.submission_problems(proposal, user):
        raise RuntimeError(f"the prepared draft is not ready to submit: {problems}")
    return proposal


@dataclass
class ApplicantResult:
    index: int
    email: str
    proposal_id: int
    double_submit: bool
    logged_in: bool = False
    acked_text: str | None = None       # the last autosaved text the server answered ok=True for
    acked_version: int | None = None
    unacked_texts: list[str] = field(default_factory=list)  # sent after it, answer lost: may be stored too
    autosave_conflicts: int = 0
    submit_outcomes: list[str] = field(default_factory=list)  # the page each submit ended on
    receipts_shown: list[str] = field(default_factory=list)
    completed: bool = False
    problems: list[str] = field(default_factory=list)


class Scenario:
    """What every simulated applicant does, with the run's settings."""

    def __init__(self, host, port, recorder, deadline, request_timeout, autosaves, think_seconds, barrier,
                 run_token, login_concurrency: int | None = None):
        self.host, self.port, self.recorder = host, port, recorder
        self.login_slots = threading.BoundedSemaphore(login_concurrency) if login_concurrency else None
        self.deadline, self.request_timeout = deadline, request_timeout
        self.autosaves, self.think_seconds, self.barrier = autosaves, think_seconds, barrier
        self.run_token = run_token

    def browser(self, jar: CookieJar) -> Browser:
        return Browser(self.host, self.port, jar, self.recorder, self.deadline, self.request_timeout)

    def think(self) -> None:
        pause = self.think_seconds * random.uniform(0.5, 1.5)
        if time.monotonic() + pause >= self.deadline:
            raise DeadlineReached()
        time.sleep(pause)

    def play(self, result: ApplicantResult, password: str) -> None:
        jar = CookieJar()
        browser = self.browser(jar)
        try:
            try:
                result.logged_in = self.log_in(browser, result, password)
            finally:
                self.wait_for_everyone()
            if result.logged_in:
                self.write_and_submit(browser, jar, result)
        except DeadlineReached:
            result.problems.append("the run's time limit was reached")
        except Exception as error:  # noqa: BLE001 - a client bug is reported with the figures, not lost in a thread
            result.problems.append(f"client error: {error!r}")
        finally:
            browser.close()

    def wait_for_everyone(self) -> None:
        try:
            self.barrier.wait(timeout=max(0.1, self.deadline - time.monotonic()))
        except threading.BrokenBarrierError:
            pass

    def log_in(self, browser: Browser, result: ApplicantResult, password: str) -> bool:
        if self.login_slots is None:
            return self._log_in(browser, result, password)
        if not self.login_slots.acquire(timeout=max(0.1, self.deadline - time.monotonic())):
            raise DeadlineReached()
        try:
            return self._log_in(browser, result, password)
        finally:
            self.login_slots.release()

    def _log_in(self, browser: Browser, result: ApplicantResult, password: str) -> bool:
        page = browser.get("login_page", "/login")
        form = find_form(page.text, action_suffix="/login") if page and page.status == 200 else None
        if form is None:
            result.problems.append("no login form")
            return False
        fields = with_value(with_value(form["fields"], "email", result.email), "password", password)
        answer = browser.post_form("login", "/login", fields)
        if answer is None or answer.status != 302 or answer.location.startswith("/login"):
            result.problems.append(f"login answered {answer.status if answer else 'nothing'}")
            return False
        return True

    def write_and_submit(self, browser: Browser, jar: CookieJar, result: ApplicantResult) -> None:
        # The form is in steps: MARKER_FIELD (団体の実績) is on the 内容 step.
        edit_path = f"/proposals/{result.proposal_id}/edit/content"
        fields = self.open_editor(browser, result, edit_path)
        if fields is None:
            return
        for number in range(1, self.autosaves + 1):
            self.think()
            text = f"{MARKER_BASE}（締切前の追記 {self.run_token}-{result.index:04d}-{number}）"
            fields = with_value(fields, MARKER_FIELD, text)
            answer = browser.post_multipart(
                "autosave", f"/proposals/{result.proposal_id}/autosave", fields,
                headers={"Accept": "application/json", "X-CSRFToken": field_value(fields, "csrf_token") or ""},
            )
            reply = _json(answer.text) if answer is not None else {}
            if answer is not None and answer.status == 200 and reply.get("ok") is True:
                result.acked_text, result.acked_version = text, reply.get("version")
                result.unacked_texts = []
                fields = with_value(fields, "version", str(reply.get("version")))
            elif answer is not None and answer.status == 409:
                # One tab per applicant: a conflict here is the server's
                # mistake. Do what the page offers: reload, then go on.
                result.autosave_conflicts += 1
                fields = self.open_editor(browser, result, edit_path)
                if fields is None:
                    return
            else:
                if answer is None or answer.status >= 500:
                    result.unacked_texts.append(text)
                result.problems.append(f"autosave {number} answered {answer.status if answer else 'nothing'}")
        self.think()
        confirm_path = f"/proposals/{result.proposal_id}/confirm"
        page = browser.get("confirm", confirm_path)
        form = find_form(page.text, action_suffix="/submit") if page and page.status == 200 else None
        if form is None:
            result.problems.append(f"no submit form on the confirmation page ({page.status if page else 'nothing'})")
            return
        fields = [(k, v) for k, v in form["fields"] if k != "declarations"]
        fields += [(name, value) for name, value in form["choices"] if name == "declarations"]
        self.think()
        submit_path = f"/proposals/{result.proposal_id}/submit"
        if result.double_submit:
            outcomes = self.double_click(jar, submit_path, fields)
        else:
            outcomes = [self.submit_and_follow(browser, submit_path, fields)]
        for final_path, receipt in outcomes:
            result.submit_outcomes.append(final_path)
            if receipt:
                result.receipts_shown.append(receipt)
        receipt_pages = [path for path in result.submit_outcomes if "/receipt/" in path]
        result.completed = (len(receipt_pages) == 1 and len(result.receipts_shown) == len(outcomes)
                            and len(set(result.receipts_shown)) == 1)
        if not result.completed:
            result.problems.append(f"submission ended on {result.submit_outcomes} showing {result.receipts_shown}")

    def open_editor(self, browser: Browser, result: ApplicantResult, edit_path: str):
        page = browser.get("edit_get", edit_path)
        form = find_form(page.text, form_id="proposal-form") if page and page.status == 200 else None
        if form is None or field_value(form["fields"], "version") is None:
            result.problems.append(f"no editor form ({page.status if page else 'nothing'})")
            return None
        return form["fields"]

    def submit_and_follow(self, browser: Browser, path: str, fields) -> tuple[str, str | None]:
        """Submit, then follow redirects (at most three) as a browser does:
        the page it ends on and the receipt number that page shows."""
        answer = browser.post_form("submit", path, fields)
        hops = 0
        while answer is not None and answer.status in (301, 302, 303) and hops < 3:
            hops += 1
            path = answer.location
            answer = browser.get("receipt" if "/receipt/" in path else "after_submit", path)
        if answer is None or answer.status != 200:
            return f"{path} ({answer.status if answer else 'nothing'})", None
        return path, receipt_number_in(answer.text)

    def double_click(self, jar: CookieJar, path: str, fields) -> list[tuple[str, str | None]]:
        """The same form sent twice at once over two connections."""
        both = threading.Barrier(2, timeout=max(0.1, self.deadline - time.monotonic()))
        outcomes: list = [None, None]

        def click(slot: int) -> None:
            browser = self.browser(jar)
            try:
                both.wait()
                outcomes[slot] = self.submit_and_follow(browser, path, fields)
            except (threading.BrokenBarrierError, DeadlineReached):
                outcomes[slot] = (f"{path} (not sent)", None)
            finally:
                browser.close()

        clicks = [threading.Thread(target=click, args=(slot,), daemon=True) for slot in (0, 1)]
        for thread in clicks:
            thread.start()
        for thread in clicks:
            thread.join(max(0.1, self.deadline - time.monotonic()) + self.request_timeout)
        return [outcome or (f"{path} (unfinished)", None) for outcome in outcomes]


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- run

def check_local(base_url: str) -> tuple[str, int]:
    """(host, port) of an http URL on this machine; anything else is refused."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS:
        raise ValueError(f"refusing {base_url!r}: the benchmark only targets http://127.0.0.1, localhost or [::1]")
    return parts.hostname, parts.port or 80


def run(base_url: str, prepared: Prepared | dict, *, concurrency: int = 200, autosaves: int = 5,
        double_submit_every: int = 10, think_seconds: float = 0.2, deadline_seconds: int = 300,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS, login_concurrency: int | None = 20) -> dict:
    """Play ``concurrency`` prepared applicants against ``base_url``; the figures.

    Logins are spread over at most ``login_concurrency`` at a time (None:
    all at once): on deadline day applicants have logged in over the hours
    before, and a password check costs argon2 at 64 MiB on purpose, so a
    storm of simultaneous logins would measure the hash queue (and leave the
    server hashing for clients that already gave up) instead of the last
    minutes' saves and submissions.

    Kinds of requests in the figures: ``login_page`` and ``login`` (phase
    one), then ``edit_get``, ``autosave``, ``confirm``, ``submit`` and the
    redirects a submit leads to, ``receipt`` (the receipt page) or
    ``after_submit`` (the proposal's page, where a second click lands)."""
    host, port = check_local(base_url)
    prepared = Prepared.of(prepared)
    if not 1 <= concurrency <= min(len(prepared.emails), MAX_APPLICANTS):
        raise ValueError(f"concurrency must be between 1 and the {len(prepared.emails)} prepared applicants")
    if not 0 <= autosaves <= MAX_AUTOSAVES:
        raise ValueError(f"autosaves must be between 0 and {MAX_AUTOSAVES}")
    if not 0 < deadline_seconds <= MAX_DEADLINE_SECONDS:
        raise ValueError(f"deadline_seconds must be between 1 and {MAX_DEADLINE_SECONDS}")
    if not 0 <= think_seconds <= 10:
        raise ValueError("think_seconds must be between 0 and 10")

    recorder = Recorder()
    cpu_before = _cpu_seconds()
    started = time.monotonic()
    deadline = started + deadline_seconds
    phase_started: list[float] = []

    def everyone_logged_in() -> None:
        phase_started.append(time.monotonic())
        recorder.deadline_phase = True

    barrier = threading.Barrier(concurrency, action=everyone_logged_in)
    scenario = Scenario(host, port, recorder, deadline, request_timeout, autosaves, think_seconds, barrier,
                        run_token=secrets.token_hex(3), login_concurrency=login_concurrency)
    results = [
        ApplicantResult(index=i, email=prepared.emails[i], proposal_id=prepared.proposal_ids[i],
                        double_submit=double_submit_every > 0 and (i + 1) % double_submit_every == 0)
        for i in range(concurrency)
    ]
    threads = [threading.Thread(target=scenario.play, args=(result, prepared.password), daemon=True,
                                name=f"applicant-{result.index}") for result in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()) + request_timeout + 5)
    finished = time.monotonic()
    unfinished = sum(thread.is_alive() for thread in threads)
    phase_start = phase_started[0] if phase_started else finished
    return figures(recorder, results, started=started, phase_start=phase_start, finished=finished,
                   unfinished=unfinished, deadline_reached=finished >= deadline, settings={
                       "base_url": base_url, "concurrency": concurrency, "autosaves": autosaves,
                       "double_submit_every": double_submit_every, "think_seconds": think_seconds,
                       "deadline_seconds": deadline_seconds, "request_timeout": request_timeout,
                       "login_concurrency": login_concurrency,
                   }, client_cpu_seconds=_cpu_seconds() - cpu_before)


def _cpu_seconds() -> float:
    """This process's CPU time: the load generator shares the machine with
    the server, and the report should say how much of it the client took."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of values at or below it."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def figures(recorder: Recorder, results: list[ApplicantResult], *, started, phase_start, finished, unfinished,
            deadline_reached, settings, client_cpu_seconds: float = 0.0) -> dict:
    latency = {}
    for kind, values in sorted(recorder.latencies.items()):
        values = sorted(values)
        latency[kind] = {"count": len(values), **{f"p{p}": round(percentile(values, p), 1) for p in (50, 95, 99)},
                         "max": round(values[-1], 1)}
    statuses = {kind: dict(sorted(counts.items())) for kind, counts in sorted(recorder.statuses.items())}
    server_errors = sum(n for counts in statuses.values() for status, n in counts.items() if status[:1] == "5")
    transport_errors = sum(n for counts in statuses.values() for status, n in counts.items()
                           if status.startswith("error:"))
    phase_seconds = max(finished - phase_start, 1e-9)
    completed = sum(r.completed for r in results)
    return {
        "settings": settings,
        "applicants": len(results),
        "logged_in": sum(r.logged_in for r in results),
        "completed": completed,
        "double_submitters": sum(r.double_submit for r in results),
        "elapsed_seconds": round(finished - started, 2),
        "login_phase_seconds": round(phase_start - started, 2),
        "client_cpu_seconds": round(client_cpu_seconds, 1),
        "deadline_phase_seconds": round(phase_seconds, 2),
        "throughput": {
            "requests_per_second": round(recorder.requests_in_deadline_phase / phase_seconds, 1),
            "submissions_per_second": round(completed / phase_seconds, 2),
        },
        "status_counts": statuses,
        "latency_ms": latency,
        "server_errors": server_errors,
        "transport_errors": transport_errors,
        "autosave_conflicts": sum(r.autosave_conflicts for r in results),
        "unfinished_applicants": unfinished,
        "deadline_reached": deadline_reached,
        "problems": [f"applicant {r.index}: {problem}" for r in results for problem in r.problems][:50],
        "applicant_results": [asdict(r) for r in results],
    }


# --------------------------------------------------------------------------- verify

def verify(database_url: str, prepared: Prepared | dict, run_result: dict) -> dict:
    """What the database says after the run. ``lost`` counts applicants
    whose last acknowledged autosave, or whose shown receipt, is not what
    the database holds; ``duplicated`` counts submissions beyond one per
    proposal."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from portal.db import make_engine
    from portal.domain.log import process_log
    from portal.domain.log.chain import PROPOSAL_RECEIVED
    from portal.models import Call, LogEntry, Proposal, ProposalStatus, Submission

    prepared = Prepared.of(prepared)
    engine = make_engine(database_url)
    problems: list[str] = []
    lost = duplicated = not_submitted = receipt_mismatches = snapshot_mismatches = 0
    try:
        with Session(engine) as session:
            call = session.get(Call, prepared.call_id)
            if call is None or call.slug != prepared.call_slug:
                raise ValueError(f"call {prepared.call_slug} is not in this database")
            proposals = {p.id: p for p in session.scalars(select(Proposal).where(Proposal.call_id == call.id))}
            submissions = defaultdict(list)
            for row in session.scalars(select(Submission).join(Proposal).where(Proposal.call_id == call.id)):
                submissions[row.proposal_id].append(row)
            for result in run_result["applicant_results"]:
                proposal = proposals.get(result["proposal_id"])
                rows = sorted(submissions.get(result["proposal_id"], []), key=lambda s: s.revision)
                who = f"proposal {result['proposal_id']}"
                if proposal is None:
                    lost += 1
                    problems.append(f"{who}: missing")
                    continue
                if len(rows) > 1 or any(s.revision != 1 for s in rows):
                    duplicated += max(len(rows) - 1, 1)
                    problems.append(f"{who}: {len(rows)} submissions (revisions {[s.revision for s in rows]})")
                if proposal.status != ProposalStatus.SUBMITTED or not rows:
                    not_submitted += 1
                    if result["receipts_shown"]:
                        lost += 1
                        problems.append(f"{who}: receipt {result['receipts_shown']} shown, but {proposal.status}")
                    continue
                stored = getattr(proposal, MARKER_FIELD)
                kept = {result["acked_text"], *result["unacked_texts"]} if result["acked_text"] else None
                if kept is not None and stored not in kept:
                    lost += 1
                    problems.append(f"{who}: holds {stored[-40:]!r}, the server acknowledged "
                                    f"{result['acked_text'][-40:]!r}")
                snapshot_text = next((t["value"] for t in rows[0].snapshot.get("texts", [])
                                      if t.get("key") == MARKER_FIELD), None)
                if snapshot_text != stored:
                    snapshot_mismatches += 1
                    problems.append(f"{who}: the snapshot differs from the proposal")
                shown = set(result["receipts_shown"])
                if not proposal.receipt_number or rows[0].receipt_number != proposal.receipt_number or (
                        shown and shown != {proposal.receipt_number}):
                    receipt_mismatches += 1
                    problems.append(f"{who}: receipt {proposal.receipt_number}, submission "
                                    f"{rows[0].receipt_number}, pages showed {sorted(shown)}")
            numbers = [p.receipt_number for p in proposals.values() if p.receipt_number]
            receipts_unique = len(numbers) == len(set(numbers))
            all_submissions = sum(len(rows) for rows in submissions.values())
            first_submissions = sum(1 for rows in submissions.values() if any(s.revision == 1 for s in rows))
            received_entries = session.scalar(
                select(func.count()).select_from(LogEntry).where(LogEntry.call_id == call.id,
                                                                 LogEntry.kind == PROPOSAL_RECEIVED))
            chain_report = process_log.verify(session, call)
            receipt_counter = call.receipt_counter
    finally:
        engine.dispose()
    if receipt_counter != first_submissions:
        problems.append(f"the call's receipt counter is {receipt_counter} for {first_submissions} submissions")
    if received_entries != first_submissions:
        problems.append(f"{received_entries} proposal_received log entries for {first_submissions} submissions")
    problems += [f"log: {p.code} at {p.seq}" for p in chain_report.problems]
    server_errors = run_result["server_errors"]
    exercised = {r["proposal_id"] for r in run_result["applicant_results"]}
    report = {
        "lost": lost,
        "duplicated": duplicated,
        "server_errors": server_errors,
        "receipts_unique": receipts_unique,
        "not_submitted": not_submitted,
        "receipt_mismatches": receipt_mismatches,
        "snapshot_mismatches": snapshot_mismatches,
        "submissions": all_submissions,
        "receipt_counter": receipt_counter,
        "proposal_received_entries": received_entries,
        "chain_ok": chain_report.ok,
        "not_exercised": len([p for p in prepared.proposal_ids if p not in exercised]),
        "problems": problems[:50],
    }
    report["ok"] = (lost == duplicated == server_errors == not_submitted == receipt_mismatches
                    == snapshot_mismatches == 0 and receipts_unique and chain_report.ok
                    and receipt_counter == first_submissions == received_entries)
    return report


# --------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.deadline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the running portal, e.g. http://127.0.0.1:8000")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="the database the portal serves (default: $DATABASE_URL)")
    parser.add_argument("--upload-dir", help="the portal's upload directory (default: the app's)")
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--concurrency", type=int, help="applicants in flight together (default: all)")
    parser.add_argument("--autosaves", type=int, default=5)
    parser.add_argument("--double-submit-every", type=int, default=10)
    parser.add_argument("--think-seconds", type=float, default=0.2)
    parser.add_argument("--deadline-seconds", type=int, default=300)
    parser.add_argument("--closes-in-minutes", type=int, default=30)
    parser.add_argument("--login-concurrency", type=int, default=20, help="logins at a time (0: all at once)")
    parser.add_argument("--details", action="store_true", help="print every applicant's result too")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url or $DATABASE_URL is required")
    check_local(args.base_url)
    prepared = prepare(args.database_url, applicants=args.applicants, password=secrets.token_urlsafe(12),
                       closes_in_minutes=args.closes_in_minutes, upload_dir=args.upload_dir)
    measured = run(args.base_url, prepared, concurrency=args.concurrency or args.applicants,
                   autosaves=args.autosaves, double_submit_every=args.double_submit_every,
                   think_seconds=args.think_seconds, deadline_seconds=args.deadline_seconds,
                   login_concurrency=args.login_concurrency or None)
    checked = verify(args.database_url, prepared, measured)
    if not args.details:
        measured = {k: v for k, v in measured.items() if k != "applicant_results"}
    report = {"call_slug": prepared.call_slug, "prepare_seconds": prepared.prepare_seconds,
              "run": measured, "verify": checked}
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0 if checked["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
