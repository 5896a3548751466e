"""App-level guards for rows that must never change once written."""
from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .log import LogEntry
from .proposal import Submission

# The receipt PDF is rendered from the snapshot later and its file name recorded.
SUBMISSION_MUTABLE = {"receipt_pdf_name"}


class ImmutableRowError(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def refuse_changes_to_submissions(session, flush_context, instances):
    for obj in session.deleted:
        if isinstance(obj, Submission):
            raise ImmutableRowError("submitted snapshots cannot be deleted")
    for obj in session.dirty:
        if not isinstance(obj, Submission):
            continue
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            if attr.key in SUBMISSION_MUTABLE:
                continue
            if state.attrs[attr.key].history.has_changes():
                raise ImmutableRowError(f"submitted snapshot field {attr.key} cannot change")


@event.listens_for(Session, "before_flush")
def refuse_changes_to_log_entries(session, flush_context, instances):
    """The process log is append-only (the database refuses too)."""
    for obj in session.deleted:
        if isinstance(obj, LogEntry):
            raise ImmutableRowError("process log entries cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, LogEntry) and session.is_modified(obj):
            raise ImmutableRowError("process log entries cannot change")
