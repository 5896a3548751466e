"""The job queue: Huey, with its storage chosen by ``JOB_QUEUE_URL``.

- ``sqlite:///path`` (the embedded default; ``make run`` starts a worker
  beside the web server, nothing to install);
- ``redis://host:port/db`` (production, and what several app servers share);
- ``immediate`` (the unit tests: a task runs in the thread that enqueued it,
  right after the commit; the queue tests start real workers instead).

The queue carries only ids. What a job did and how far it got is in the
application's database (``Job``, ``OutboxMessage``), so a message may be
delivered twice, or lost with a dead worker, without harm: every task
claims its row first and the periodic sweep re-enqueues what was left.
Work is enqueued only after the transaction that asked for it commits, so
a worker never looks for a row that is not there yet (or never will be).
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..db import session_factory

log = logging.getLogger(__name__)

_PENDING = "portal_jobs_to_enqueue"


def make_huey(url: str, name: str = "kyodo-portal") -> Huey:
    if url == "immediate":
        return Huey(name, immediate=True, results=False)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if not path:
            raise RuntimeError("JOB_QUEUE_URL の sqlite:/// にはファイルの場所が必要です。")
        return SqliteHuey(name, filename=path, results=False, timeout=30)
    if parts.scheme in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=url, results=False)
    raise RuntimeError(f"JOB_QUEUE_URL={url!r} は使えません（sqlite:///… / redis://… / immediate）。")


def init_jobs(app) -> Huey:
    """The app's queue, with the worker's tasks registered on it."""
    from . import tasks

    huey = make_huey(str(app.config["JOB_QUEUE_URL"]), app.config.get("JOB_QUEUE_NAME") or "kyodo-portal")
    tasks.register(app, huey)
    app.extensions["huey"] = huey
    return huey


def enqueue_after_commit(session: Session, huey: Huey, task_name: str, *args, delay: float | None = None) -> None:
    """Enqueue ``task_name(*args)`` once ``session``'s transaction commits;
    nothing happens if it rolls back."""
    session.info.setdefault(_PENDING, []).append((huey, task_name, args, delay))


def enqueue_now(huey: Huey, task_name: str, *args, delay: float | None = None) -> bool:
    """Enqueue at once (outside any transaction). False if the queue could
    not be reached: the sweep finds the row and enqueues it later."""
    wrapper = _TASKS[(id(huey), task_name)]
    try:
        if delay:
            wrapper.schedule(args=args, delay=delay)
        else:
            wrapper(*args)
    except Exception:  # the queue (Redis, the SQLite file) is down: the sweep retries
        log.exception("could not enqueue %s%r", task_name, args)
        return False
    return True


# (id(huey), name) -> the TaskWrapper registered by tasks.register
_TASKS: dict[tuple[int, str], object] = {}


def remember_task(huey: Huey, name: str, wrapper) -> None:
    _TASKS[(id(huey), name)] = wrapper


def registered_task(huey: Huey, name: str):
    """The TaskWrapper tasks.register made under ``name`` (None if none)."""
    return _TASKS.get((id(huey), name))


@event.listens_for(session_factory, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    for huey, task_name, args, delay in pending or ():
        enqueue_now(huey, task_name, *args, delay=delay)


@event.listens_for(session_factory, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    # after_commit has already taken what a commit enqueues; whatever is
    # left belonged to a rollback.
    session.info.pop(_PENDING, None)
