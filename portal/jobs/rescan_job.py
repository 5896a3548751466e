"""Scanning every accepted proposal of a call again, as a background job.

After the staff add a term to look for in all of a call's proposals, each
proposal must be scanned again: at 300 proposals (attachments' text
included) that is minutes of work. Each proposal is scanned and committed
on its own, so the findings of the ones done are kept whatever happens
later, and running the job again only scans again (decisions on findings
whose text has not changed are kept by ``redaction.scan``).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import session_factory
from ..domain.anonymity import redaction
from ..domain.anonymity.review_copy import AnonymisationError
from ..domain.calls.call_lock import lock_call
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..files.objectstore import store_of
from ..models import Call, Job, JobStatus, Proposal, ProposalStatus, User
from . import progress

KIND = "rescan"
STAGE = "提案のスキャン"
FAILED_MESSAGE = ("スキャンの途中でエラーが発生しました。スキャンを終えた提案の結果はそのままです。"
                  "もう一度「すべての提案を再スキャン」を押してください。")


def active_key(call: Call) -> str:
    return progress.call_key(KIND, call.id)


def latest_job(session: Session, call: Call) -> Job | None:
    return progress.latest_call_job(session, KIND, call.id)


def _accepted_ids(session: Session, call: Call) -> list[int]:
    return list(session.scalars(select(Proposal.id).where(
        Proposal.call_id == call.id, Proposal.status == ProposalStatus.ACCEPTED).order_by(Proposal.id)))


def start(session: Session, call: Call, staff: User | None, now: datetime, *, huey=None) -> Job:
    """Record the job (flushed); an active one is returned as it is."""
    lock_call(session, call)
    running = progress.active_call_job(session, KIND, call.id)
    if running is not None:
        return running
    ids = _accepted_ids(session, call)
    if not ids:
        raise WrongState("スキャンする提案がありません（審査委員に公開する前の、受理した提案が対象です）。")
    return progress.record_call_job(session, KIND, call, staff, now, total=len(ids), huey=huey)


def run(job_id: int, *, heartbeat: bool = True) -> None:
    store = store_of(current_app)
    with session_factory() as session:
        job = session.get(Job, job_id)
        call = session.get(Call, job.call_id)
        staff_id = job.created_by_id
        ids = _accepted_ids(session, call)
    added = removed = skipped = 0
    with progress.heartbeat(job_id, heartbeat):
        for done, proposal_id in enumerate(ids, start=1):
            with session_factory() as session:
                proposal = session.get(Proposal, proposal_id)
                staff = session.get(User, staff_id) if staff_id else None
                try:
                    result = redaction.scan(session, proposal, staff, now_utc(), store=store)
                except AnonymisationError:
                    skipped += 1  # released (or returned) since the job started: nothing to scan
                    session.rollback()
                else:
                    added, removed = added + result.added, removed + result.removed
                    session.commit()
            progress.report(job_id, STAGE, done, len(ids))
    progress.finish(job_id, JobStatus.DONE, result={"scanned": len(ids) - skipped, "added": added,
                                                      "removed": removed, "skipped": skipped})
