"""The documents an adopted project publishes (change decisions, accepted
reports, the settlement, the evaluation): each PDF is stored once, its
SHA-256 appended to the call's process log (``project_document_published``
with the proposal's code, the document's kind and the hash) and served
publicly at ``/calls/<slug>/projects/<code>/documents/<sha256>.pdf``, so
anyone can check that what is served is what was logged.

Only documents without personal data are published this way: the
templates name the group and the project, never a person.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...models import Proposal, User
from ...models.adoption_work import DOCUMENT_KIND_LABELS, ProjectDocument
from ..log import chain, process_log

LABEL_MAX = 200


def publish_document(session: Session, proposal: Proposal, *, kind: str, label: str, pdf: bytes,
                     store: ObjectStore, now: datetime, user: User | None) -> ProjectDocument:
    """Store ``pdf``, record it and log its hash: one log entry per document."""
    if kind not in DOCUMENT_KIND_LABELS:
        raise ValueError(f"unknown project document kind: {kind!r}")
    if not pdf.startswith(b"%PDF"):
        raise ValueError("a project document is a PDF")
    digest = hashlib.sha256(pdf).hexdigest()
    document = ProjectDocument(
        proposal_id=proposal.id, kind=kind, label=label.strip()[:LABEL_MAX] or DOCUMENT_KIND_LABELS[kind],
        sha256=digest, storage_name=storage.write_generated(session, store, pdf), created_at=now,
        created_by_id=user.id if user is not None else None)
    session.add(document)
    process_log.append(session, proposal.call, chain.PROJECT_DOCUMENT_PUBLISHED,
                       {"proposal_code": proposal.anonymous_code, "document_kind": kind,
                        "document_sha256": digest}, now)
    session.flush()
    return document


def documents_of(session: Session, proposal: Proposal) -> list[ProjectDocument]:
    return list(session.scalars(select(ProjectDocument).where(ProjectDocument.proposal_id == proposal.id)
                                .order_by(ProjectDocument.created_at, ProjectDocument.id)))


def document_by_hash(session: Session, proposal: Proposal, sha256: str) -> ProjectDocument | None:
    """The project's document with this hash (the first, should the same
    bytes ever be published twice)."""
    if not chain.HEX64.match(sha256 or ""):
        return None
    return session.scalars(select(ProjectDocument).where(ProjectDocument.proposal_id == proposal.id,
                                                         ProjectDocument.sha256 == sha256)
                           .order_by(ProjectDocument.id).limit(1)).first()


def document_pdf(doc: ProjectDocument, store: ObjectStore) -> bytes | None:
    """The stored PDF, checked against the hash that was logged."""
    data = storage.read_bytes(store, doc.storage_name)
    if data is None or hashlib.sha256(data).hexdigest() != doc.sha256:
        return None
    return data
