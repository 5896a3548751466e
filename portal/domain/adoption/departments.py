"""City departments (担当課) as organisations, their accounts and the
proposals assigned to them. Plain Python over the session; verbs flush.

A department's account is invited by the secretariat like a staff member
(a one-time link, only the token's hash stored, 7 days), but into its own
table: the account belongs to one department, and that department decides
what it sees (``policy.department_sees``).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Department,
    DepartmentInvitation,
    DepartmentMember,
    Proposal,
    ProposalDepartment,
    Role,
    User,
)
from ..refusals import Invalid, WrongState

VALID_FOR = timedelta(days=7)
NAME_MAX = 100
ACCOUNT_EXISTS = "このメールアドレスのアカウントはすでにあります。"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.name, Department.id)))


def create_department(session: Session, name: str, *, staff: User | None, now: datetime) -> Department:
    name = (name or "").strip()
    if not name:
        raise Invalid("担当課の名前を入力してください。", "name")
    if len(name) > NAME_MAX:
        raise Invalid(f"{NAME_MAX}字以内で入力してください。", "name")
    if session.scalar(select(Department.id).where(Department.name == name)) is not None:
        raise Invalid("同じ名前の担当課がすでにあります。", "name")
    department = Department(name=name, created_at=now, created_by_id=staff.id if staff else None)
    session.add(department)
    session.flush()
    return department


def invitation_state(invitation: DepartmentInvitation, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.expires_at <= invitation.created_at:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "pending"


INVITATION_REFUSALS = {
    "accepted": "この招待リンクはすでに使われています。設定したパスワードでログインしてください。",
    "expired": "この招待リンクは有効期限（7日間）が切れています。市民協働課に再度の招待を依頼してください。",
    "revoked": "この招待リンクは取り消されています。市民協働課にお問い合わせください。",
}
UNKNOWN_LINK = "招待リンクが正しくありません。メールのリンクを途中で切らずに開いてください。"


def invite_member(session: Session, department: Department, *, email: str, display_name: str,
                  staff: User | None, now: datetime) -> tuple[DepartmentInvitation, str]:
    """A new invitation and its plain token (mailed once, never stored). A
    newer invitation to the same address replaces a pending one."""
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Invalid(ACCOUNT_EXISTS, "email")
    for old in session.scalars(select(DepartmentInvitation).where(
            DepartmentInvitation.email == email, DepartmentInvitation.accepted_at.is_(None))):
        if invitation_state(old, now) == "pending":
            old.expires_at = old.created_at
    token = secrets.token_urlsafe(32)
    invitation = DepartmentInvitation(
        department_id=department.id, email=email, display_name=display_name, token_hash=hash_token(token),
        invited_by_id=staff.id if staff else None, created_at=now, expires_at=now + VALID_FOR,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def find_invitation(session: Session, token: str) -> DepartmentInvitation | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(select(DepartmentInvitation).where(DepartmentInvitation.token_hash == hash_token(token)))


def accept_invitation(session: Session, invitation: DepartmentInvitation, *, password_hash: str,
                      now: datetime) -> User:
    """The department's account, confirmed (the link proved the address)."""
    state = invitation_state(invitation, now)
    if state != "pending":
        raise WrongState(INVITATION_REFUSALS[state])
    if session.scalar(select(User.id).where(User.email == invitation.email)) is not None:
        raise WrongState(ACCOUNT_EXISTS)
    user = User(email=invitation.email, display_name=invitation.display_name, role=Role.DEPARTMENT,
                password_hash=password_hash, email_confirmed_at=now, password_changed_at=now, created_at=now)
    session.add(user)
    session.flush()
    session.add(DepartmentMember(user_id=user.id, department_id=invitation.department_id, joined_at=now))
    invitation.accepted_at = now
    invitation.user_id = user.id
    session.flush()
    return user


def members(session: Session, department: Department) -> list[User]:
    return list(session.scalars(
        select(User).join(DepartmentMember, DepartmentMember.user_id == User.id)
        .where(DepartmentMember.department_id == department.id).order_by(User.email)))


def pending_invitations(session: Session, department: Department, now: datetime) -> list[DepartmentInvitation]:
    rows = session.scalars(select(DepartmentInvitation).where(
        DepartmentInvitation.department_id == department.id, DepartmentInvitation.accepted_at.is_(None))
        .order_by(DepartmentInvitation.created_at.desc(), DepartmentInvitation.id.desc()))
    return [row for row in rows if invitation_state(row, now) == "pending"]


def department_of(session: Session, proposal: Proposal) -> Department | None:
    assigned = session.get(ProposalDepartment, proposal.id)
    return assigned.department if assigned is not None else None


def assign(session: Session, proposal: Proposal, department: Department | None, *, staff: User | None,
           now: datetime) -> None:
    """Make ``department`` the proposal's 担当課 (None: none)."""
    if proposal.receipt_number is None:
        raise WrongState("提出前の提案には担当課を割り当てられません。")
    assigned = session.get(ProposalDepartment, proposal.id)
    if department is None:
        if assigned is not None:
            session.delete(assigned)
    elif assigned is None:
        session.add(ProposalDepartment(proposal_id=proposal.id, department_id=department.id, assigned_at=now,
                                       assigned_by_id=staff.id if staff else None))
    elif assigned.department_id != department.id:
        assigned.department_id = department.id
        assigned.assigned_at = now
        assigned.assigned_by_id = staff.id if staff else None
    session.flush()


def assigned_proposals(session: Session, department_id: int) -> list[Proposal]:
    """A department's proposals, newest call first, in receipt order."""
    return list(session.scalars(
        select(Proposal).join(ProposalDepartment, ProposalDepartment.proposal_id == Proposal.id)
        .where(ProposalDepartment.department_id == department_id, Proposal.receipt_number.is_not(None))
        .order_by(Proposal.call_id.desc(), Proposal.receipt_number)))
