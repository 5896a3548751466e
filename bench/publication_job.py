"""Publication as a background job (issue 13, item 6), on a real server,
a real worker and a real queue.

For one database it

1. builds a call ready for publication (``bench.scale_data``'s results-day
   call, every step up to the finalised decisions, but not published:
   300 proposals scored by 15 reviewers on 7 criteria; 20 by 5 in --quick)
   and applicants with drafts in another, open call (``bench.deadline``);
2. starts the portal under the production gunicorn settings and a job
   worker (``flask --app wsgi worker``) on a real queue: a SQLite file for
   SQLite, Redis on 127.0.0.1 (a queue name of its own) for PostgreSQL;
3. has the applicants autosave (the editor's whole form, as
   ``static/js/proposal-editor.js`` posts it) without pause, the staff log in
   (password and TOTP, as in production), wait, press 公表 on the results
   page, follow the redirect and poll the job as ``static/js/job-progress.js``
   does, while this process reads the job row every 0.2 s for its stages;
4. keeps autosaving as long again after the job ended, then stops
   everything it started and drops its database.

Autosaves are put into windows by the time they were sent: before the
publish request and after the job ended (nothing running), and between
the job's ``started_at`` and ``finished_at`` (the worker working). The
resident memory of the gunicorn processes and of the worker is sampled
every 0.5 s from /proc, and each process's own peak (VmHWM) read at the end.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

from bench.deadline import check_local, percentile
from bench.http_client import Browser, CookieJar, Recorder, find_form
from bench.job_processes import MemorySampler, Worker
from bench.publication_clients import (
    REQUEST_TIMEOUT,
    THINK_SECONDS,
    Autosavers,
    JobWatch,
    log_in,
    staff_polls,
)

QUICK = {"proposals": 20, "panel": 5, "applicants": 10, "warmup_seconds": 5, "idle_seconds": 10, "job_timeout": 300}
FULL = {"proposals": 300, "panel": 15, "applicants": 20, "warmup_seconds": 10, "idle_seconds": 30,
        "job_timeout": 1200}
REDIS_URL = "redis://127.0.0.1:6379/0"
PG_DATABASE = "portal_bench_publication"
STAFF_EMAIL = "jimukyoku@bench.example.jp"  # bench.scale_data's secretariat account
WAITING, DONE = "開始を待っています", "完了"  # the job's first and last stage labels (portal/jobs)


# -- data ------------------------------------------------------------------------------------

def build(database_url: str, work: str, proposals: int, panel: int, applicants: int) -> dict:
    """In a process of its own (``multiprocessing`` spawn): the ready call,
    the staff's second factor, the autosaving applicants."""
    from unittest import mock

    from sqlalchemy import select, update

    from bench import deadline, scale_data
    from portal import create_app
    from portal.auth import totp
    from portal.domain.results import publication
    from portal.models import Call, User
    from portal.models.base import utcnow

    work_dir = Path(work)
    overrides = {"LOG_SIGNING_KEY_PATH": str(work_dir / "log-signing-key.pem"),
                 "JOB_QUEUE_URL": f"sqlite:///{work_dir / 'build-queue.sqlite3'}"}
    spec = scale_data.ScaleSpec(groups=proposals, proposals=proposals, fiscal_years=1, panel=panel,
                                criteria=7, results_day_proposals=proposals)
    started = time.perf_counter()

    class NotYet:  # results_day() runs to its end, except that nothing is published
        Settings = publication.Settings

        @staticmethod
        def publish(*_args, **_kwargs):
            return None

    with mock.patch.object(scale_data, "publication", NotYet):
        report = scale_data.build(database_url, spec, upload_dir=work_dir / "uploads", overrides=overrides)
    built = time.perf_counter() - started
    app = create_app("development", {"DATABASE_URL": database_url, "UPLOAD_DIR": work_dir / "uploads", **overrides})
    secret = totp.new_secret()
    with app.app_context():
        engine = app.extensions["engine"]
        with engine.begin() as connection:
            call_id = connection.execute(select(Call.id).where(Call.slug == report.results_call_slug)).scalar_one()
            connection.execute(update(User).where(User.email == STAFF_EMAIL)
                               .values(totp_secret=secret, totp_confirmed_at=utcnow() - timedelta(days=1)))
    prepared = deadline.prepare(database_url, applicants=applicants, password=secrets.token_urlsafe(12),
                                closes_in_minutes=240, app=app)
    app.extensions["engine"].dispose()
    return {"call_id": call_id, "staff_email": STAFF_EMAIL, "staff_password": scale_data.BENCH_PASSWORD,
            "totp_secret": secret, "prepared": prepared.as_dict(), "counts": report.counts,
            "build_seconds": round(built, 1), "prepare_seconds": prepared.prepare_seconds}


def fresh_database(backend: str, pg_admin_url: str, work: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{work / 'publication.sqlite3'}"
    _pg(pg_admin_url, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)', f'CREATE DATABASE "{PG_DATABASE}"')
    return pg_admin_url.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def _pg(admin_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


# -- the step ------------------------------------------------------------------------------------

def measure(backend: str, options, work: Path) -> dict:
    """The figures for one database; errors are reported in them, not raised."""
    import multiprocessing

    from bench.run import Server, server_env

    sizes = dict(QUICK if options.quick else FULL)
    shutil.rmtree(work, ignore_errors=True)
    (work / "uploads").mkdir(parents=True)
    (work / "instance").mkdir()
    # BENCH_WORKER_NICE=10 runs the worker at a lower CPU priority (as a systemd unit's Nice=10 would).
    nice = int(os.environ.get("BENCH_WORKER_NICE") or 0)
    figures: dict = {"sizes": sizes, "errors": [], "worker_nice": nice}
    queue_name = f"portal-bench-{secrets.token_hex(4)}"
    queue_url = f"sqlite:///{work / 'jobs.sqlite3'}" if backend == "sqlite" else REDIS_URL
    figures["queue"] = queue_url.split("///")[-1].replace(str(work), "…") if backend == "sqlite" else queue_url
    database_url = fresh_database(backend, options.pg_admin_url, work)
    try:
        if backend != "sqlite":
            _check_redis(queue_url)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            data = pool.apply(build, (database_url, str(work), sizes["proposals"], sizes["panel"], sizes["applicants"]))
        figures["data"] = {k: data[k] for k in ("counts", "build_seconds", "prepare_seconds")}
        env = server_env(database_url, work, JOB_QUEUE_URL=queue_url, JOB_QUEUE_NAME=queue_name)
        server = Server("portal-publication", "wsgi:app", env, work)
        worker = Worker(env, work / "job-worker.log", nice=nice)
        try:
            server.start("/")
            worker.start()
            figures.update(_play(server, worker, database_url, data, sizes))
        finally:
            worker.stop()
            server.stop()
        figures["check"] = _check(database_url, data["call_id"])
    except Exception as error:  # noqa: BLE001 - the report says what failed
        import traceback

        traceback.print_exc()
        figures["errors"].append(f"{type(error).__name__}: {error}")
    finally:
        if backend != "sqlite":
            _pg(options.pg_admin_url, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            _forget_queue(queue_url, queue_name)
    return figures


def _play(server, worker: Worker, database_url: str, data: dict, sizes: dict) -> dict:
    host, port = check_local(server.base_url)
    run_deadline = time.monotonic() + sizes["job_timeout"] + 4 * sizes["idle_seconds"] + sizes["warmup_seconds"] + 300
    cpu_before = _cpu_seconds()
    sampler = MemorySampler(server.process.pid, worker.process.pid)
    sampler.start()
    staff = Browser(host, port, CookieJar(), Recorder(), run_deadline, REQUEST_TIMEOUT)
    if not log_in(staff, data["staff_email"], data["staff_password"], data["totp_secret"]):
        raise RuntimeError("the staff could not log in (password and TOTP)")
    results_path = f"/admin/calls/{data['call_id']}/results"
    page = staff.get("results_page", results_path)
    form = find_form(page.text, action_suffix="/results/publish") if page and page.status == 200 else None
    if form is None:
        raise RuntimeError(f"no publish form on {results_path} ({page.status if page else 'nothing'})")
    applicants = Autosavers(server.base_url, data["prepared"], run_deadline)
    applicants.start()
    watch = JobWatch(database_url, data["call_id"])
    try:
        # Not counted: every gunicorn worker's first requests (templates,
        # imports) and the memory the applicants' logins took (argon2id).
        time.sleep(sizes["warmup_seconds"])
        sampler.reset()
        sampler.mark("window_start")
        began = time.time()
        time.sleep(sizes["idle_seconds"])
        sampler.mark("before_job")
        publish_sent = time.time()
        started = time.perf_counter()
        answer = staff.post_form("publish", f"{results_path}/publish", form["fields"])
        publish_seconds = time.perf_counter() - started
        if answer is None or answer.status != 302:
            raise RuntimeError(f"publish answered {answer.status if answer else 'nothing'}")
        started = time.perf_counter()
        shown = staff.get("results_page", answer.location)
        redirect_seconds = time.perf_counter() - started
        job_url = re.search(r'data-job-url="([^"]+)"', shown.text) if shown else None
        stop_polls = threading.Event()
        poller = threading.Thread(target=staff_polls, daemon=True, args=(
            Browser(host, port, staff.jar, staff.recorder, run_deadline, REQUEST_TIMEOUT),
            job_url.group(1) if job_url else "/", stop_polls))
        if job_url:
            poller.start()
        row, stages = watch.follow(sizes["job_timeout"])
        stop_polls.set()
        sampler.mark("job_finished")
        ended = time.time()
        time.sleep(sizes["idle_seconds"])
        finished = time.time()
        sampler.mark("end")
    finally:
        applicants.stop()
        watch.engine.dispose()
        memory = sampler.figures()
        sampler.stop_event.set()
    if row is None:
        raise RuntimeError("no job row was recorded")
    job = _job_figures(row, stages)
    running_from = row.started_at.timestamp() if row.started_at else publish_sent
    running_to = row.finished_at.timestamp() if row.finished_at else ended
    windows = {"before": (began, publish_sent), "during": (running_from, running_to),
               "after": (max(ended, running_to) + 1.0, finished)}
    autosave = {name: _latency([ms for sent, ms, _s in applicants.samples if start <= sent < end])
                for name, (start, end) in windows.items()}
    autosave["idle"] = _latency([ms for sent, ms, _s in applicants.samples
                                 if any(windows[w][0] <= sent < windows[w][1] for w in ("before", "after"))])
    idle_p95, during_p95 = autosave["idle"].get("p95"), autosave["during"].get("p95")
    autosave["ratio_p95"] = during_p95 / idle_p95 if idle_p95 and during_p95 else None
    statuses: dict[str, int] = {}
    for _sent, _ms, status in applicants.samples:
        statuses[status] = statuses.get(status, 0) + 1
    autosave.update(applicants=len(data["prepared"]["emails"]), think_seconds=THINK_SECONDS, statuses=statuses,
                    problems=applicants.problems[:10], client_cpu_seconds=round(_cpu_seconds() - cpu_before, 1),
                    client_seconds=round(finished - began, 1))
    staff_latency = {kind: _latency(values) for kind, values in staff.recorder.latencies.items()}
    return {"publish_request_s": publish_seconds, "publish_status": answer.status,
            "redirect_page_s": redirect_seconds, "job": job, "autosave": autosave, "memory": memory,
            "staff_requests": staff_latency, "staff_statuses": {k: dict(v) for k, v in staff.recorder.statuses.items()}}


def _job_figures(row, stages: list[tuple[str, float]]) -> dict:
    """Exact times from the row (created, started, finished); each stage from
    when it was first seen to when the next one was (the last to finished_at)."""
    created, started, finished = row.created_at, row.started_at, row.finished_at
    timeline = []
    for index, (stage, seen) in enumerate(stages):
        if stage in (WAITING, DONE):
            continue
        following = stages[index + 1] if index + 1 < len(stages) else None
        until = following[1] if following and following[0] != DONE else None
        if until is None and finished is not None:
            until = finished.timestamp()
        timeline.append({"stage": stage, "seconds": None if until is None else max(0.0, round(until - seen, 2))})
    return {"id": row.id, "status": row.status.value, "attempts": row.attempts, "message": row.message,
            "result": row.result, "stages": timeline,
            "queued_s": (started - created).total_seconds() if started else None,
            "running_s": (finished - started).total_seconds() if started and finished else None,
            "total_s": (finished - created).total_seconds() if finished else None}


def _cpu_seconds() -> float:
    """This process's CPU time: the clients share the machine with the server and the worker."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _latency(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {"count": len(ordered), **{f"p{p}": round(percentile(ordered, p), 1) for p in (50, 95, 99)},
            "max": round(ordered[-1], 1)}


def _check(database_url: str, call_id: int) -> dict:
    """What the database holds afterwards: one publication, every proposal 結果公表."""
    from sqlalchemy import func, select

    from portal.db import make_engine
    from portal.models import Proposal, ProposalStatus, Publication

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            publications = connection.execute(select(func.count()).select_from(Publication)
                                              .where(Publication.call_id == call_id)).scalar_one()
            by_status = dict(connection.execute(select(Proposal.status, func.count()).where(
                Proposal.call_id == call_id).group_by(Proposal.status)).all())
    finally:
        engine.dispose()
    results = by_status.get(ProposalStatus.RESULTS, 0)
    return {"publications": publications, "proposals_results": results,
            "proposals_other": sum(by_status.values()) - results,
            "ok": publications == 1 and results > 0 and sum(by_status.values()) == results}


def _check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise RuntimeError(f"Redis at {url} is not reachable ({error}); the PostgreSQL run needs it") from None
    finally:
        client.close()


def _forget_queue(url: str, name: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        for key in client.scan_iter(f"huey*{name}*"):
            client.delete(key)
    except redis.RedisError:
        pass
    finally:
        client.close()
