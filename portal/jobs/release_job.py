"""Releasing many proposals to the reviewers, as a background job.

Releasing a proposal freezes its reviewer copy and redacts each of its
attachments (a PDF rewritten, an image decoded and masked): at a few
hundred proposals that is minutes of work, too long for a request and,
on SQLite, for holding the database's write lock. A few proposals are
still released inside the request (``INLINE_MAX``); more go to the worker.

Every proposal is checked before the job is recorded, so the staff see at
once what stops a release. The worker then releases ``CHUNK`` proposals
per transaction (one ``released_to_reviewers`` entry each in the process
log): what is released stays released whatever happens later, and a job
run again after its worker died skips the proposals already under review.
A proposal refused when its turn comes (changed since the check) is left
out and named in the job's outcome; the others are released.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import session_factory
from ..domain.anonymity.release import ReleaseRefused, release_for_review
from ..domain.anonymity.redaction import release_problems
from ..domain.calls.call_lock import lock_call
from ..domain.timeutil import now_utc
from ..files.objectstore import store_of
from ..models import Call, Job, JobStatus, Proposal, ProposalStatus, User
from . import progress

KIND = "release"
STAGE = "審査委員への公開"
FAILED_MESSAGE = ("審査委員への公開の途中でエラーが発生しました。公開済みの提案はそのままです。"
                  "残りの提案を選んで、もう一度公開してください。")
# Up to this many proposals are released inside the staff's request.
INLINE_MAX = 10
CHUNK = 10


def active_key(call: Call) -> str:
    return progress.call_key(KIND, call.id)


def latest_job(session: Session, call: Call) -> Job | None:
    return progress.latest_call_job(session, KIND, call.id)


def _code(proposal: Proposal) -> str:
    return proposal.anonymous_code or proposal.receipt_number or str(proposal.id)


def start(session: Session, call: Call, proposals: list[Proposal], staff: User | None, now: datetime, *,
          huey=None) -> Job:
    """Check every proposal and record the job (flushed); raises
    :class:`ReleaseRefused` with every problem found, as a release inside
    the request would. An active release job is returned as it is."""
    lock_call(session, call)
    running = progress.active_call_job(session, KIND, call.id)
    if running is not None:
        return running
    problems = {_code(p): release_problems(session, p) for p in proposals}
    problems = {code: reasons for code, reasons in problems.items() if reasons}
    if problems:
        raise ReleaseRefused(problems)
    ids = sorted(p.id for p in proposals)
    return progress.record_call_job(session, KIND, call, staff, now, total=len(ids), huey=huey,
                                    params={"proposal_ids": ids})


def run(job_id: int, *, heartbeat: bool = True) -> None:
    store = store_of(current_app)
    with session_factory() as session:
        job = session.get(Job, job_id)
        call_id, staff_id, ids = job.call_id, job.created_by_id, list(job.params["proposal_ids"])
    released: list[str] = []
    refused: dict[str, list[str]] = {}
    done = 0
    with progress.heartbeat(job_id, heartbeat):
        progress.report(job_id, STAGE, 0, len(ids))
        for first in range(0, len(ids), CHUNK):
            chunk = ids[first:first + CHUNK]
            codes, problems = _release_chunk(call_id, staff_id, chunk, store)
            released += codes
            refused.update(problems)
            done += len(chunk)
            progress.report(job_id, STAGE, done, len(ids))
    result = {"released": len(released), "codes": released, "refused": refused}
    if refused:
        lines = "、".join(f"{code}（{'／'.join(reasons)}）" for code, reasons in refused.items())
        progress.finish(job_id, JobStatus.FAILED, f"{len(released)}件を公開しました。次の提案は公開していません：{lines}",
                        result=result)
    else:
        progress.finish(job_id, JobStatus.DONE, result=result)


def _release_chunk(call_id: int, staff_id: int | None, ids: list[int], store) -> tuple[list[str], dict]:
    """Release the proposals of ``ids`` still waiting, in one transaction;
    a proposal refused now is left out and the rest released."""
    refused: dict[str, list[str]] = {}
    while True:
        with session_factory() as session:
            call = session.get(Call, call_id)
            lock_call(session, call)
            waiting = [p for p in session.scalars(select(Proposal).where(Proposal.id.in_(ids))
                                                   .order_by(Proposal.id))
                       if p.call_id == call_id and p.status == ProposalStatus.ACCEPTED and _code(p) not in refused]
            if not waiting:
                return [], refused
            staff = session.get(User, staff_id) if staff_id else None
            try:
                copies = release_for_review(session, waiting, staff, now_utc(), store=store)
            except ReleaseRefused as refusal:
                session.rollback()
                if not set(refusal.problems) - set(refused):
                    return [], refused  # nothing new to leave out: give up on this chunk
                refused.update(refusal.problems)
                continue
            session.commit()
            return [copy.code for copy in copies], refused
