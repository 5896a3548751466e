"""One home for access rules. Routes, templates and tests all ask here.

Every route goes: load -> 404 -> check -> 403 -> act. Something that belongs
to someone else is answered with 404, so IDs cannot be used to learn what
exists. The same goes for a child named in the URL under its parent (a
member of a call's panel, a finding of a proposal, a revision's receipt):
it is loaded here, by ``load_child`` or a named loader, and is a 404 when
it is missing or not under that parent.

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

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import db_session
from .domain.adoption.agreement import is_adopted
from .domain.results.results import RELEASED_STATUSES
from .domain.scoring.scoring import call_of, sheet_for
from .domain.scoring.stages import stages_of
from .models import (
    BLOCKING_CONFLICT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    DepartmentMember,
    ExtraTerm,
    PanelMember,
    Proposal,
    ProposalDepartment,
    RedactionFinding,
    ReviewAttachment,
    ReviewCopy,
    ReviewSheet,
    Role,
    SheetStatus,
    Stage,
    StoredFile,
    Submission,
    User,
)

Row = TypeVar("Row")


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


def load_child(model: type[Row], child_id: int, *, where: Callable[[Row], bool] | None = None,
               **parent_ids: int) -> Row:
    """The ``model`` row ``child_id``, or 404 when it is missing or not under
    its parent: each keyword names a column of the row and the id it must
    hold (``call_id=call.id``); ``where`` is any further rule the row must
    meet (a parent further up, a state, who may see it). The parent is
    loaded and checked first, by the caller; a row with no parent in the
    URL (a call) takes no keywords."""
    row = db_session.get(model, child_id)
    if (row is None or any(getattr(row, column) != parent_id for column, parent_id in parent_ids.items())
            or (where is not None and not where(row))):
        abort(404)
    return row


# -- applicants ----------------------------------------------------------------

def require_applicant() -> User:
    if not is_applicant(current_user):
        abort(403)
    return current_user


def load_own_proposal(proposal_id: int) -> Proposal:
    user = require_applicant()
    return load_child(Proposal, proposal_id, where=lambda p: owns_proposal(user, p))


def load_submission(proposal: Proposal, revision: int) -> Submission:
    """One submitted revision of a proposal already loaded for this user."""
    submission = next((s for s in proposal.submissions if s.revision == revision), None)
    if submission is None:
        abort(404)
    return submission


def load_visible_file(file_id: int) -> StoredFile:
    return load_child(StoredFile, file_id, where=lambda f: can_view_file(current_user, f))


# -- staff -----------------------------------------------------------------------

def require_staff() -> User:
    if not is_staff(current_user):
        abort(403)
    return current_user


def load_staff_call(call_id: int) -> Call:
    require_staff()
    return load_child(Call, call_id)


def load_staff_proposal(proposal_id: int, call: Call | None = None) -> Proposal:
    """A proposal for staff; drafts are the group's own business and 404."""
    require_staff()
    parent = {} if call is None else {"call_id": call.id}
    return load_child(Proposal, proposal_id, where=lambda p: p.receipt_number is not None, **parent)


def load_released_proposal(call: Call, proposal_id: int) -> Proposal:
    """A proposal of this call that went to the reviewers (its decision)."""
    proposal = load_staff_proposal(proposal_id, call)
    if proposal.status not in RELEASED_STATUSES:
        abort(404)
    return proposal


def load_call_member(call: Call, member_id: int) -> PanelMember:
    """A member of this call's panel."""
    return load_child(PanelMember, member_id, call_id=call.id)


def load_call_conflict(call: Call, conflict_id: int) -> Conflict:
    """A conflict of interest of a member of this call's panel."""
    return load_child(Conflict, conflict_id, where=lambda c: c.panel_member.call_id == call.id)


def load_call_sheet(call: Call, sheet_id: int) -> ReviewSheet:
    """A review sheet of a member of this call's panel."""
    return load_child(ReviewSheet, sheet_id, where=lambda s: s.assignment.panel_member.call_id == call.id)


def load_extra_term(call: Call, proposal: Proposal, term_id: int) -> ExtraTerm:
    """A term searched for in this proposal: its own, or one for the whole call."""
    return load_child(ExtraTerm, term_id, call_id=call.id, where=lambda t: t.proposal_id in (None, proposal.id))


def load_finding(proposal: Proposal, finding_id: int) -> RedactionFinding:
    """A redaction finding of this proposal."""
    return load_child(RedactionFinding, finding_id, proposal_id=proposal.id)


def load_review_attachment(proposal: Proposal, attachment_id: int, *, copied: bool = False) -> ReviewAttachment:
    """An attachment of this proposal as set up for the reviewers' copy;
    ``copied``: only one whose copy has been made (at release)."""
    return load_child(ReviewAttachment, attachment_id, proposal_id=proposal.id,
                      where=(lambda a: a.storage_name is not None) if copied else None)


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
    return load_child(Assignment, assignment_id, where=lambda a: reviewer_can_see(current_user, a))


def load_reviewer_attachment(assignment: Assignment, copy: ReviewCopy,
                             attachment_id: int) -> tuple[ReviewAttachment, dict]:
    """An attachment of the assigned proposal that was released (included,
    copied and listed in the released copy), with its entry in that copy."""
    attachment = load_child(ReviewAttachment, attachment_id, proposal_id=assignment.proposal_id,
                            where=lambda a: not a.excluded and a.storage_name is not None)
    listed = next((a for a in copy.content.get("attachments", []) if a.get("id") == attachment.id), None)
    if listed is None:  # not part of what was released
        abort(404)
    return attachment, listed


# -- departments (担当課) and adopted projects --------------------------------------
# A department account sees only the proposals assigned to its department
# (``ProposalDepartment``); anything else is a 404, like another group's.

def is_department(user) -> bool:
    return _signed_in(user) and user.role == Role.DEPARTMENT


def department_id_of(user) -> int | None:
    if not is_department(user):
        return None
    member = db_session.get(DepartmentMember, user.id)
    return member.department_id if member is not None else None


def department_sees(user, proposal: Proposal) -> bool:
    department_id = department_id_of(user)
    if department_id is None or proposal.receipt_number is None:
        return False
    assigned = db_session.get(ProposalDepartment, proposal.id)
    return assigned is not None and assigned.department_id == department_id


def require_department() -> User:
    if not is_department(current_user):
        abort(403)
    return current_user


def load_department_proposal(proposal_id: int) -> Proposal:
    user = require_department()
    return load_child(Proposal, proposal_id, where=lambda p: department_sees(user, p))


def project_side(user, proposal: Proposal) -> str | None:
    """Which side of an adopted project the user speaks for: "city" (staff,
    or the project's department), "group" (the group's account), or None."""
    if is_staff(user) or department_sees(user, proposal):
        return "city"
    if owns_proposal(user, proposal):
        return "group"
    return None


def load_project(proposal_id: int) -> Proposal:
    """An adopted project's shared pages (the agreement): staff, its
    department and its group. Another group or department gets 404; an
    account of another kind, 403. Whether it was adopted is the caller's
    question (a 404 too)."""
    if not (is_staff(current_user) or is_department(current_user) or is_applicant(current_user)):
        abort(403)
    return load_child(Proposal, proposal_id, where=lambda p: project_side(current_user, p) is not None)


def is_adopted_project(proposal: Proposal) -> bool:
    """Adopted and published: the agreement pages exist (links in templates)."""
    return is_adopted(db_session, proposal)


def is_running_project(proposal: Proposal) -> bool:
    """Adopted and its agreement concluded: the work pages (変更申請, 報告,
    精算 under /projects/<id>/work) exist (links in templates)."""
    from .domain.adoption.reports import concluded_agreement  # here, not at the top: only templates ask

    return is_adopted(db_session, proposal) and concluded_agreement(db_session, proposal) is not None
