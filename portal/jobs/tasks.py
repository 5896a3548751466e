"""What the worker runs, registered on an app's Huey instance.

- ``run_job(job_id)``: a job row's work (``Job.kind`` picks the handler),
  retried by the queue; after the last try the job ends as failed.
- ``deliver_mail(message_id)``: one outbox message; a failed try schedules
  the next with a growing delay (``mail.retry_delay``).
- ``sweep()``, every minute and when a worker starts: enqueues again what
  was lost (a job whose worker died, a job or mail whose enqueue failed
  because the queue was down), starts scheduled publications and deletes
  login-throttle counters whose window ended over a day ago.
"""
from __future__ import annotations

import ctypes
import functools
import gc
import logging
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from sqlalchemy import delete, or_, select

from .. import mail
from ..db import session_factory
from ..models import Job, JobStatus, LoginThrottle, OutboxMessage, utcnow
from . import progress, publish_job, release_job, rescan_job
from .queue import enqueue_now, remember_task

log = logging.getLogger(__name__)

# Each kind of job: its module's run(job_id, heartbeat=...) and the
# FAILED_MESSAGE the staff see when its last try failed.
JOB_KINDS = {module.KIND: module for module in (publish_job, rescan_job, release_job)}
JOB_RETRIES = 2
LOST_AFTER_SECONDS = 120  # queued this long and never started: enqueue again
THROTTLE_KEPT_AFTER_WINDOW = timedelta(days=1)  # for a look at last night's attempts


def register(app: Flask, huey: Huey) -> None:
    def in_app(function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            if has_app_context() and current_app._get_current_object() is app:
                # The immediate queue, inside the request (or test) that
                # enqueued: a context of our own would end its session.
                return function(*args, **kwargs)
            with app.app_context():
                return function(*args, **kwargs)
        return wrapped

    @in_app
    def run_job(job_id: int, task=None) -> None:
        _run_job(app, huey, job_id, final_try=task is None or not task.retries)

    @in_app
    def deliver_mail(message_id: int) -> None:
        delay = mail.deliver(message_id)
        if delay is not None:
            enqueue_now(huey, "deliver_mail", message_id, delay=delay.total_seconds())

    @in_app
    def sweep() -> None:
        sweep_once(app, huey)

    @in_app
    def project_reminders() -> None:
        # Report deadlines of adopted projects: each reminder is recorded
        # once (project_reminders), so running every hour sends nothing twice.
        from ..adoption.money_pages import send_due_reminders

        send_due_reminders()

    wrappers = {
        "run_job": huey.task(name="run_job", retries=JOB_RETRIES, retry_delay=30, context=True)(run_job),
        "deliver_mail": huey.task(name="deliver_mail")(deliver_mail),
        "sweep": huey.periodic_task(crontab(minute="*"), name="sweep")(sweep),
        "project_reminders": huey.periodic_task(crontab(minute="7"), name="project_reminders")(project_reminders),
    }
    for name, wrapper in wrappers.items():
        remember_task(huey, name, wrapper)


def _run_job(app: Flask, huey: Huey, job_id: int, *, final_try: bool) -> None:
    if not progress.claim(job_id, app.config["JOB_STALL_SECONDS"]):
        return  # done, failed, or being run by a live worker
    with session_factory() as session:
        kind = session.get(Job, job_id).kind
    try:
        JOB_KINDS[kind].run(job_id, heartbeat=not huey.immediate)
    except Exception:
        log.exception("job %s (%s) failed", job_id, kind)
        if final_try:
            progress.finish(job_id, JobStatus.FAILED, JOB_KINDS[kind].FAILED_MESSAGE)
        else:
            progress.requeue(job_id, "一時的なエラーのため、自動でやり直します。")
        raise
    finally:
        if not huey.immediate:
            release_memory()


def release_memory() -> None:
    """Hand the memory of a finished job back to the system. Rendering a
    300-proposal call's PDFs takes about 2 GB; glibc keeps most of it in
    the process after the objects are freed unless asked to trim."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (e.g. musl, macOS): nothing to trim
        pass


def sweep_once(app: Flask, huey: Huey) -> dict[str, int]:
    """Enqueue again what nobody is working on. Safe to run anywhere, any
    number of times: every task claims its row first."""
    now = utcnow()
    stall = timedelta(seconds=app.config["JOB_STALL_SECONDS"])
    counts = {"jobs": 0, "mails": 0, "scheduled": 0}
    with session_factory() as session:
        lost = session.scalars(select(Job.id).where(or_(
            (Job.status == JobStatus.QUEUED) & (Job.created_at < now - timedelta(seconds=LOST_AFTER_SECONDS)),
            (Job.status == JobStatus.RUNNING) & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < now - stall),
        )).order_by(Job.id)).all()
        unsent = []
        if app.config.get("MAIL_SERVER"):
            unsent = session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                or_(OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.next_attempt_at.is_(None)
                    & (OutboxMessage.created_at < now - timedelta(seconds=LOST_AFTER_SECONDS))),
            ).order_by(OutboxMessage.id).limit(500)).all()
    for job_id in lost:
        counts["jobs"] += enqueue_now(huey, "run_job", job_id)
    for message_id in unsent:
        counts["mails"] += enqueue_now(huey, "deliver_mail", message_id)
    counts["scheduled"] = _start_scheduled(huey, now)
    counts["throttles"] = purge_login_throttles(now - timedelta(seconds=app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
                                                - THROTTLE_KEPT_AFTER_WINDOW)
    return counts


def purge_login_throttles(before) -> int:
    """Counters whose window started before ``before`` count nothing any
    more (the next attempt would start a new window): delete them, so the
    table does not grow with every address that ever mistyped."""
    with session_factory() as session:
        deleted = session.execute(delete(LoginThrottle).where(LoginThrottle.window_started_at < before)
                                  .execution_options(synchronize_session=False)).rowcount
        session.commit()
    return deleted


def _start_scheduled(huey: Huey, now) -> int:
    """Scheduled publications whose time has come start as jobs."""
    from ..domain.results import publication

    started = 0
    with session_factory() as session:
        for call in publication.due_calls(session, now):
            if publish_job.active_job(session, call) is not None:
                continue
            try:
                publish_job.start(session, call, None, now, expected_version=0, huey=huey)
                session.commit()
                started += 1
            except publication.PublicationRefused as refused:
                session.rollback()
                log.warning("scheduled publication of %s refused: %s", call.slug, refused.message)
    return started
