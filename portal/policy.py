"""One home for access rules. Routes, templates and tests all ask here.

Every route goes: load -> 404 -> check -> 403 -> act. A proposal or file
that belongs to another group is answered with 404, so IDs cannot be used
to learn what exists.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from .db import db_session
from .models import Proposal, Role, StoredFile, User


def is_applicant(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.APPLICANT and user.group is not None)


def owns_proposal(user, proposal: Proposal) -> bool:
    return is_applicant(user) and proposal.group_id == user.group.id


def can_view_file(user, stored: StoredFile) -> bool:
    if not (user and user.is_authenticated):
        return False
    if user.role == Role.STAFF:
        return True
    return is_applicant(user) and stored.group_id == user.group.id


def require_applicant() -> User:
    if not is_applicant(current_user):
        abort(403)
    return current_user


def load_own_proposal(proposal_id: int) -> Proposal:
    user = require_applicant()
    proposal = db_session.get(Proposal, proposal_id)
    if proposal is None or not owns_proposal(user, proposal):
        abort(404)
    return proposal


def load_visible_file(file_id: int) -> StoredFile:
    stored = db_session.get(StoredFile, file_id)
    if stored is None or not can_view_file(current_user, stored):
        abort(404)
    return stored
