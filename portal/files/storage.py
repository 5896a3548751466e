"""Sanitised files on disk under generated names, and their StoredFile rows.

Files live in ``UPLOAD_DIR/files/<uuid hex>``, never under ``static/``; the
name a user gave is kept only in the row. Functions here only ``flush``.

The disk follows the database: a file written in a transaction that is
rolled back is removed again, and a file whose row is deleted is unlinked
only after the commit, so a failed request never leaves a row without its
file nor a file without its row.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..db import session_factory
from ..models import FilePurpose, Proposal, StoredFile
from .sanitize import CleanFile, clean_filename

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[0-9a-f]{32}$")
_WRITTEN = "portal_files_written"
_TO_DELETE = "portal_files_to_delete"


def files_dir(upload_dir) -> Path:
    path = Path(upload_dir) / "files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(upload_dir, storage_name: str) -> Path:
    if not _NAME_RE.match(storage_name or ""):
        raise ValueError("not a generated storage name")
    return files_dir(upload_dir) / storage_name


def store_file(session: Session, upload_dir, clean: CleanFile, *, original_name: str, purpose: FilePurpose,
               group_id: int, proposal_id: int | None = None, uploaded_by_id: int | None = None) -> StoredFile:
    """Write ``clean`` to disk under a new name and add its row (flushed)."""
    storage_name = write_generated(session, upload_dir, clean.data)
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


def delete_file(session: Session, upload_dir, stored: StoredFile) -> None:
    """Delete the row now (flushed) and the disk file once that is committed."""
    _unlink_after_commit(session, upload_dir, [stored.storage_name])
    session.delete(stored)
    session.flush()


def delete_files_of_proposal(session: Session, upload_dir, proposal: Proposal) -> None:
    """Call before deleting a proposal: the rows go with it (ON DELETE
    CASCADE), the disk files once the deletion is committed."""
    names = session.scalars(select(StoredFile.storage_name).where(StoredFile.proposal_id == proposal.id)).all()
    _unlink_after_commit(session, upload_dir, names)


def _unlink_after_commit(session: Session, upload_dir, names) -> None:
    session.info.setdefault(_TO_DELETE, []).extend(path_of(upload_dir, name) for name in names)


def read_path(upload_dir, stored: StoredFile) -> Path | None:
    path = path_of(upload_dir, stored.storage_name)
    return path if path.is_file() else None


def _unlink(paths) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("could not remove uploaded file %s", path.name)


@event.listens_for(session_factory, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    session.info.pop(_WRITTEN, None)
    _unlink(session.info.pop(_TO_DELETE, []))


@event.listens_for(session_factory, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    """The outer transaction ended without a commit (rollback, or a session
    closed mid-way): forget the planned deletions and remove new files."""
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    session.info.pop(_TO_DELETE, None)
    _unlink(session.info.pop(_WRITTEN, []))


def write_generated(session: Session, upload_dir, data: bytes) -> str:
    """Write bytes under a new generated name, with no StoredFile row (e.g. a
    reviewer's copy, which belongs to no group); removed again if the
    transaction rolls back. Returns the storage name."""
    storage_name = uuid.uuid4().hex
    path = path_of(upload_dir, storage_name)
    temporary = path.with_name(f".{storage_name}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    session.info.setdefault(_WRITTEN, []).append(path)
    return storage_name
