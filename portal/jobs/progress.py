"""A job's row, written in short transactions of its own.

A worker claims a job before working on it (one atomic UPDATE, so two
workers given the same id never both run it), reports each stage as it
starts, and beats a heartbeat while it works: a running job whose
heartbeat is older than ``JOB_STALL_SECONDS`` belonged to a worker that
died, and may be claimed again.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..db import session_factory
from ..models import Job, JobStatus, utcnow
from .queue import enqueue_after_commit

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
WAITING_STAGE = "開始を待っています"  # a recorded job's stage until a worker takes it


def call_key(kind: str, call_id: int) -> str:
    """``Job.active_key`` of a call's job of ``kind``: one under way at a time."""
    return f"{kind}:{call_id}"


def active_call_job(session: Session, kind: str, call_id: int) -> Job | None:
    return session.scalars(select(Job).where(Job.active_key == call_key(kind, call_id))).first()


def record_call_job(session: Session, kind: str, call, staff, now, *, total: int, params: dict | None = None,
                    huey=None) -> Job:
    """A new active job of ``kind`` for ``call`` (flushed), handed to the
    worker once the transaction commits. The caller holds the call's lock
    and has checked that no job of the kind is active."""
    job = Job(kind=kind, call_id=call.id, created_by_id=staff.id if staff else None, params=params or {},
              active_key=call_key(kind, call.id), stage=WAITING_STAGE, total=total, created_at=now)
    session.add(job)
    session.flush()
    enqueue_after_commit(session, huey or current_app.extensions["huey"], "run_job", job.id)
    return job


def latest_call_job(session: Session, kind: str, call_id: int) -> Job | None:
    return session.scalars(select(Job).where(Job.call_id == call_id, Job.kind == kind)
                           .order_by(Job.id.desc()).limit(1)).first()


def recently_ended(job: Job | None, now, minutes: int = 15) -> bool:
    """A finished job is still worth showing on the page that started it."""
    return job is not None and job.finished_at is not None and job.finished_at > now - timedelta(minutes=minutes)


def claim(job_id: int, stall_seconds: int) -> bool:
    """Take the job for this worker: queued, or running with a stale heartbeat."""
    now = utcnow()
    with session_factory() as session:
        taken = session.execute(
            update(Job).where(
                Job.id == job_id,
                or_(Job.status == JobStatus.QUEUED,
                    (Job.status == JobStatus.RUNNING)
                    & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < now - timedelta(seconds=stall_seconds))))
            .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, heartbeat_at=now,
                    started_at=now, message="")
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
    return taken == 1


def report(job_id: int, stage: str, done: int, total: int) -> None:
    _write(job_id, stage=stage, done=done, total=total, heartbeat_at=utcnow())


def beat(job_id: int) -> None:
    _write(job_id, heartbeat_at=utcnow())


def requeue(job_id: int, message: str) -> None:
    """A try failed and the queue will retry: queued again, still active."""
    _write(job_id, status=JobStatus.QUEUED, stage="再試行待ち", message=message[:500])


def finish(job_id: int, status: JobStatus, message: str = "", result: dict | None = None) -> None:
    values = {"status": status, "active_key": None, "finished_at": utcnow(), "message": message[:500]}
    if result is not None:
        values["result"] = result
    _write(job_id, **values)


def _write(job_id: int, **values) -> None:
    with session_factory() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values)
                        .execution_options(synchronize_session=False))
        session.commit()


@contextmanager
def heartbeat(job_id: int, enabled: bool = True):
    """Beat every ``HEARTBEAT_SECONDS`` from a thread while the body runs
    (a PDF of hundreds of pages renders for minutes in one call)."""
    if not enabled:
        yield
        return
    stop = threading.Event()

    def beating():
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                beat(job_id)
            except Exception:  # a busy database: the next beat will do
                log.warning("heartbeat of job %s failed", job_id, exc_info=True)

    thread = threading.Thread(target=beating, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
