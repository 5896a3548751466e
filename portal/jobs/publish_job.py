"""Publication of a call's results as a background job.

The staff's request only checks that publication may go ahead and records
a job (``start``); the worker renders the documents in a read transaction,
then writes everything in one short transaction (``publish_steps``), with
the job marked done in that same transaction. Concurrent clicks, tabs or
servers find the call's active job and are shown its progress: one version.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial

from flask import current_app
from sqlalchemy.orm import Session

from ..db import session_factory
from ..domain.calls.call_lock import lock_call
from ..domain.results import publication, publish_steps
from ..domain.timeutil import now_utc
from ..mail import queue_mail
from ..models import Call, Job, JobStatus, User, utcnow
from . import progress

KIND = "publish"
STALE_ROUNDS = 3  # the log moved on while rendering: render again, this many times at most
FAILED_MESSAGE = ("公表の処理中にエラーが発生したため、公表していません。"
                  "時間をおいてもう一度お試しください。続く場合はシステム管理者に連絡してください。")


def active_key(call: Call) -> str:
    return progress.call_key(KIND, call.id)


def active_job(session: Session, call: Call) -> Job | None:
    return progress.active_call_job(session, KIND, call.id)


def latest_job(session: Session, call: Call) -> Job | None:
    return progress.latest_call_job(session, KIND, call.id)


def start(session: Session, call: Call, staff: User | None, now: datetime, reason: str = "", *,
          expected_version: int | None = None, huey=None) -> Job:
    """Record a publication job (flushed) and have it run after the commit.
    An active job of the call is returned as it is (a second click).
    Raises ``AlreadyPublished`` / ``PublicationRefused`` as ``publish`` does."""
    lock_call(session, call)
    running = active_job(session, call)
    if running is not None:
        return running
    latest = publication.latest(session, call)
    version = latest.version if latest else 0
    if expected_version is not None and version != expected_version:
        raise publication.AlreadyPublished(version)
    # Without the ranking: the results page showed its refusals before the
    # button, and the job checks everything again before rendering.
    problem = publication.refusal(session, call, now, reason, rank=False)
    if problem:
        raise publication.PublicationRefused(problem)
    return progress.record_call_job(session, KIND, call, staff, now, total=publish_steps.STEPS, huey=huey,
                                    params={"reason": (reason or "").strip(), "expected_version": version})


def run(job_id: int, *, heartbeat: bool = True) -> None:
    """The worker's side. Raises on unexpected errors (the queue retries);
    a refusal ends the job as failed with its message."""
    settings = publication.Settings.for_app(current_app)
    report = partial(progress.report, job_id)
    with progress.heartbeat(job_id, heartbeat):
        for _round in range(STALE_ROUNDS):
            prepared, refused = _prepare(job_id, settings, report)
            if refused is not None:
                # Written after the read session has ended (on one shared
                # connection, as in the tests, its rollback would undo it).
                progress.finish(job_id, JobStatus.FAILED, refused)
                return
            report("保存と記録", publish_steps.STEPS, publish_steps.STEPS)
            with session_factory() as write:
                if _complete(write, job_id, prepared, settings):
                    _render_notices(prepared.call_id, settings)
                    return
    progress.finish(job_id, JobStatus.FAILED,
                    "公表の準備中に審査プロセスの記録が更新され続けたため、公表していません。もう一度お試しください。")


def _render_notices(call_id: int, settings) -> None:
    """The 通知書 PDFs, after the publication's commit (numbered inside it):
    hundreds of renders must not hold the call's lock. A failure here does
    not undo the publication; the first download renders what is missing."""
    from ..domain.results import notices

    try:
        with session_factory() as session:
            notices.render_missing(session, session.get(Call, call_id), settings.store,
                                   notices.NoticeSettings.for_app(current_app))
            session.commit()
    except Exception:  # noqa: BLE001  (logged; the download renders it again)
        current_app.logger.exception("rendering the notices of call %s failed", call_id)


def _prepare(job_id: int, settings, report):
    """(prepared, None), or (None, the refusal's message)."""
    with session_factory() as read:
        job = read.get(Job, job_id)
        call = read.get(Call, job.call_id)
        try:
            return publish_steps.prepare(
                read, call, now_utc(), job.params.get("reason", ""), settings=settings,
                expected_version=job.params.get("expected_version"), progress=report), None
        except publication.PublicationRefused as refused:
            return None, refused.message


def _complete(write: Session, job_id: int, prepared, settings) -> bool:
    """One transaction: the publication and the job marked done. False when
    the documents must be rendered again."""
    job = write.get(Job, job_id)
    call = write.get(Call, job.call_id)
    staff = write.get(User, job.created_by_id) if job.created_by_id else None
    try:
        row = publish_steps.complete(write, call, prepared, staff, settings=settings,
                                     mailer=partial(queue_mail, write))
    except publish_steps.StaleBasis:
        write.rollback()
        return False
    except publication.PublicationRefused as refused:
        write.rollback()
        write.refresh(job)
        done_elsewhere = job.status == JobStatus.DONE  # another worker finished it meanwhile
        write.close()
        if not done_elsewhere:
            progress.finish(job_id, JobStatus.FAILED, refused.message)
        return True
    job.status = JobStatus.DONE
    job.active_key = None
    job.stage = "完了"
    job.done = job.total = publish_steps.STEPS
    job.finished_at = utcnow()
    job.result = {"version": row.version}
    write.commit()
    return True
