"""Sanitised files in the object store under generated names, and their
StoredFile rows.

Files live in the app's object store (``objectstore.py``: by default the
local disk, ``UPLOAD_DIR/files/<uuid hex>``; never under ``static/``); the
name a user gave is kept only in the row. Functions here only ``flush``.

The store follows the database: an object written in a transaction that is
rolled back is removed again, and an object whose row is deleted is removed
only after the commit, so a failed request never leaves a row without its
file nor a file without its row.
"""
from __future__ import annotations

import hashlib
import logging

from sqlalchemy import event, select
from sqlalchemy.orm import Session, scoped_session

from ..db import session_factory
from ..models import FilePurpose, Proposal, StoredFile
from .objectstore import ObjectStore, check_name, new_name
from .sanitize import CleanFile, clean_filename

log = logging.getLogger(__name__)

_WRITTEN = "portal_files_written"
_TO_DELETE = "portal_files_to_delete"


def store_file(session: Session, store: ObjectStore, clean: CleanFile, *, original_name: str, purpose: FilePurpose,
               group_id: int, proposal_id: int | None = None, uploaded_by_id: int | None = None) -> StoredFile:
    """Store ``clean`` under a new name and add its row (flushed)."""
    storage_name = write_generated(session, store, clean.data)
    stored = StoredFile(
        storage_name=storage_name,
        original_name=clean_filename(original_name, clean.content_type),
        content_type=clean.content_type,
        size=len(clean.data),
        sha256=hashlib.sha256(clean.data).hexdigest(),
        purpose=purpose,
        group_id=group_id,
        proposal_id=proposal_id,
        uploaded_by_id=uploaded_by_id,
    )
    session.add(stored)
    session.flush()
    return stored


def delete_file(session: Session, store: ObjectStore, stored: StoredFile) -> None:
    """Delete the row now (flushed) and the object once that is committed."""
    _delete_after_commit(session, store, [stored.storage_name])
    session.delete(stored)
    session.flush()


def delete_files_of_proposal(session: Session, store: ObjectStore, proposal: Proposal) -> None:
    """Call before deleting a proposal: the rows go with it (ON DELETE
    CASCADE), the objects once the deletion is committed."""
    names = session.scalars(select(StoredFile.storage_name).where(StoredFile.proposal_id == proposal.id)).all()
    _delete_after_commit(session, store, names)


def _delete_after_commit(session: Session, store: ObjectStore, names) -> None:
    session.info.setdefault(_TO_DELETE, []).extend((store, check_name(name)) for name in names)


def read_bytes(store: ObjectStore, name: str | None) -> bytes | None:
    """The stored bytes, or None when the object is missing or ``name`` is
    not a generated name (a row pointing nowhere)."""
    try:
        check_name(name)
    except ValueError:
        return None
    return store.get(name)


def _delete(objects) -> None:
    for store, name in objects:
        try:
            store.delete(name)
        except OSError:
            log.exception("could not remove stored file %s from %r", name, store)


@event.listens_for(session_factory, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    session.info.pop(_WRITTEN, None)
    _delete(session.info.pop(_TO_DELETE, []))


@event.listens_for(session_factory, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    """The outer transaction ended without a commit (rollback, or a session
    closed mid-way): forget the planned deletions and remove new objects."""
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    session.info.pop(_TO_DELETE, None)
    _delete(session.info.pop(_WRITTEN, []))


def _begin(session: Session | scoped_session) -> None:
    """Begin the session's transaction now, even before any SQL: the rollback
    of a transaction that never began is a no-op and would leave a new object
    behind."""
    actual = session() if isinstance(session, scoped_session) else session
    if not actual.in_transaction():
        actual.begin()


def write_generated(session: Session, store: ObjectStore, data: bytes) -> str:
    """Store bytes under a new generated name, with no StoredFile row (e.g. a
    reviewer's copy, which belongs to no group); removed again if the
    transaction rolls back. Returns the storage name."""
    _begin(session)
    storage_name = new_name()
    store.put(storage_name, data)
    session.info.setdefault(_WRITTEN, []).append((store, storage_name))
    return storage_name
