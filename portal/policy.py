"""One home for access rules. Routes, templates and tests all ask here.

Every route goes: load -> 404 -> check -> 403 -> act. Something that belongs
to someone else is answered with 404, so IDs cannot be used to learn what
exists.

Roles:
- applicants see their own group's proposals and files;
- staff (事務局) see everything of every call;
- reviewers (審査委員) see only the released, anonymised copies of the
  proposals assigned to them on a call's panel, and never a proposal with a
  flagged or confirmed conflict, not even its title; the other members'
  scores only once their own is submitted and scoring is over.

Staff and reviewers only get a login session after their second factor
(see ``portal/auth``), so an authenticated staff user has passed it.
"""
from __future__ import annotations

from datetime import datetime

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import db_session
from .domain.scoring.scoring import call_of, sheet_for
from .domain.scoring.stages import stages_of
from .models import (
    BLOCKING_CONFLICT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    PanelMember,
    Proposal,
    ReviewAttachment,
    ReviewCopy,
    Role,
    SheetStatus,
    Stage,
    StoredFile,
    User,
)


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_applicant(user) -> bool:
    return _signed_in(user) and user.role == Role.APPLICANT and user.group is not None


def is_staff(user) -> bool:
    return _signed_in(user) and user.role == Role.STAFF


def is_reviewer(user) -> bool:
    return _signed_in(user) and user.role == Role.REVIEWER


def owns_proposal(user, proposal: Proposal) -> bool:
    return is_applicant(user) and proposal.group_id == user.group.id


def can_view_file(user, stored: StoredFile) -> bool:
    if is_staff(user):
        return True
    return is_applicant(user) and stored.group_id == user.group.id


# -- applicants ----------------------------------------------------------------

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


# -- staff -----------------------------------------------------------------------

def require_staff() -> User:
    if not is_staff(current_user):
        abort(403)
    return current_user


def load_staff_call(call_id: int) -> Call:
    require_staff()
    call = db_session.get(Call, call_id)
    if call is None:
        abort(404)
    return call


def load_staff_proposal(proposal_id: int, call: Call | None = None) -> Proposal:
    """A proposal for staff; drafts are the group's own business and 404."""
    require_staff()
    proposal = db_session.get(Proposal, proposal_id)
    if proposal is None or proposal.receipt_number is None or (call is not None and proposal.call_id != call.id):
        abort(404)
    return proposal


# -- reviewers ---------------------------------------------------------------------

def require_reviewer() -> User:
    if not is_reviewer(current_user):
        abort(403)
    return current_user


def panel_membership(user, call: Call | int) -> PanelMember | None:
    if not is_reviewer(user):
        return None
    call_id = call if isinstance(call, int) else call.id
    return db_session.scalars(
        select(PanelMember).where(PanelMember.call_id == call_id, PanelMember.user_id == user.id)
    ).first()


def has_blocking_conflict(panel_member_id: int, proposal_id: int) -> bool:
    return db_session.scalar(
        select(Conflict.id).where(
            Conflict.panel_member_id == panel_member_id,
            Conflict.proposal_id == proposal_id,
            Conflict.status.in_(BLOCKING_CONFLICT_STATUSES),
        )
    ) is not None


def reviewer_can_see(user, assignment: Assignment) -> bool:
    """The reviewer's own, not recused, released and conflict-free assignment."""
    member = assignment.panel_member
    return (
        is_reviewer(user)
        and member.user_id == user.id
        and assignment.status != AssignmentStatus.RECUSED
        and not has_blocking_conflict(member.id, assignment.proposal_id)
        and review_copy_of(assignment.proposal_id) is not None
    )


def visible_assignments(user, call: Call) -> list[Assignment]:
    """What a reviewer may see of a call, in anonymous-code order, in a
    fixed number of queries."""
    member = panel_membership(user, call)
    if member is None:
        return []
    blocked = select(Conflict.proposal_id).where(
        Conflict.panel_member_id == member.id, Conflict.status.in_(BLOCKING_CONFLICT_STATUSES)
    )
    return list(db_session.scalars(
        select(Assignment)
        .join(ReviewCopy, ReviewCopy.proposal_id == Assignment.proposal_id)
        .where(
            Assignment.panel_member_id == member.id,
            Assignment.status != AssignmentStatus.RECUSED,
            Assignment.proposal_id.not_in(blocked),
        )
        .order_by(ReviewCopy.code)
    ))


def may_see_panel(session: Session, assignment: Assignment, stage: Stage, now: datetime) -> bool:
    """Other members' scores for this proposal and stage: only after this
    reviewer submitted their own for it, and after every stage closed."""
    call = call_of(session, assignment)
    if stage not in stages_of(call) or assignment.status != AssignmentStatus.CLEARED:
        return False
    own = sheet_for(session, assignment, stage)
    return own is not None and own.status == SheetStatus.SUBMITTED and call.scoring_over(now)


def review_copy_of(proposal_id: int) -> ReviewCopy | None:
    return db_session.scalars(select(ReviewCopy).where(ReviewCopy.proposal_id == proposal_id)).first()


def load_reviewer_assignment(assignment_id: int) -> Assignment:
    require_reviewer()
    assignment = db_session.get(Assignment, assignment_id)
    if assignment is None or not reviewer_can_see(current_user, assignment):
        abort(404)
    return assignment


def load_reviewer_attachment(assignment: Assignment, attachment_id: int) -> ReviewAttachment:
    attachment = db_session.get(ReviewAttachment, attachment_id)
    if (attachment is None or attachment.proposal_id != assignment.proposal_id or attachment.excluded
            or attachment.storage_name is None):
        abort(404)
    return attachment
