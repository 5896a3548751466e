"""Serialising the verbs that must happen once per call (publish, close
the scoring): a second request waits until the first has committed, then
reads what it wrote."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from ...models import Call


def lock_call(session: Session, call: Call) -> None:
    """Take the call's lock and re-read the call. An UPDATE that changes
    nothing takes the row lock on PostgreSQL and the database's write lock
    on SQLite, where SELECT ... FOR UPDATE locks nothing and a request that
    has only read would go on from what it read before the first one
    committed."""
    session.execute(update(Call).where(Call.id == call.id).values(receipt_counter=Call.receipt_counter)
                    .execution_options(synchronize_session=False))
    session.refresh(call)
