"""Staff and reviewer accounts: create, deactivate. Plain Python over the
session (no Flask), shared by the invitation pages and ``create-user``."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import LoginSession, Role, User

# The secretariat says "管理者" as often as "事務局"; both are Role.STAFF.
ROLE_NAMES = {"admin": Role.STAFF, "staff": Role.STAFF, "reviewer": Role.REVIEWER}
ROLE_LABELS = {Role.STAFF: "事務局", Role.REVIEWER: "審査委員", Role.APPLICANT: "団体"}

ACCOUNT_EXISTS = "このメールアドレスのアカウントはすでにあります。"


class AccountError(ValueError):
    """A refusal whose message (Japanese) is shown to the person as is."""


def account_exists(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == email)) is not None


def create_account(session: Session, *, email: str, display_name: str, role: Role, password_hash: str,
                   now: datetime) -> User:
    """A staff or reviewer account. The address counts as confirmed: an
    invitation link proved it, or the secretariat typed it on the server."""
    if role not in (Role.STAFF, Role.REVIEWER):
        raise AccountError("事務局または審査委員のアカウントだけを作成できます。")
    if account_exists(session, email):
        raise AccountError(ACCOUNT_EXISTS)
    user = User(email=email, display_name=display_name, role=role, password_hash=password_hash,
                email_confirmed_at=now, password_changed_at=now, created_at=now)
    session.add(user)
    session.flush()
    return user


def revoke_logins(session: Session, user: User, now: datetime) -> None:
    """End every open login of the user now (the next request of each is
    logged out)."""
    for record in session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    ):
        record.revoked_at = now


def deactivate_account(session: Session, user: User, now: datetime) -> None:
    """No more logins, and every open login ends now (the session loader also
    refuses inactive accounts, this makes the records say so)."""
    user.is_active_account = False
    revoke_logins(session, user, now)
    session.flush()
