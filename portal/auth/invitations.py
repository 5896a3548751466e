"""Invitations for staff and reviewers: a one-time link to set a password.

Plain Python over the session (no Flask): the caller builds the link and
sends the mail. Only a SHA-256 of the token is stored, so a database copy
holds no usable link.

Revoking sets ``expires_at`` back to ``created_at``: an invitation whose
window is empty was withdrawn, one whose window has passed ran out. That
keeps the row (who invited whom, when) without another column.
"""
from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.panel import panel
from ..models import Call, Invitation, Role, User
from .accounts import ACCOUNT_EXISTS, AccountError, account_exists, create_account

VALID_FOR = timedelta(days=7)
MAX_AFFILIATIONS = 20


class InvitationState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


STATE_LABELS = {
    InvitationState.PENDING: "未承諾",
    InvitationState.ACCEPTED: "承諾済み",
    InvitationState.EXPIRED: "期限切れ",
    InvitationState.REVOKED: "取消し",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def state_of(invitation: Invitation, now: datetime) -> InvitationState:
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.expires_at <= invitation.created_at:
        return InvitationState.REVOKED
    if invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def parse_affiliations(text: str | None) -> list[str]:
    """One organisation per line; blanks and repeats dropped, order kept."""
    seen: list[str] = []
    for line in (text or "").splitlines():
        item = line.strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def pending_for(session: Session, email: str, now: datetime) -> list[Invitation]:
    rows = session.scalars(select(Invitation).where(Invitation.email == email, Invitation.accepted_at.is_(None)))
    return [row for row in rows if state_of(row, now) == InvitationState.PENDING]


def invite(session: Session, *, email: str, role: Role, display_name: str, now: datetime,
           invited_by: User | None = None, call: Call | None = None,
           affiliations: Iterable[str] = ()) -> tuple[Invitation, str]:
    """A new invitation and its plain token (shown or mailed once, never stored).
    A new invitation to the same address replaces a pending one, so only the
    latest link works."""
    if role not in (Role.STAFF, Role.REVIEWER):
        raise AccountError("事務局または審査委員だけを招待できます。")
    if account_exists(session, email):
        raise AccountError(ACCOUNT_EXISTS)
    if call is not None and role != Role.REVIEWER:
        raise AccountError("審査会への参加は審査委員の招待でだけ指定できます。")
    affiliations = [a.strip()[:200] for a in affiliations if a.strip()][:MAX_AFFILIATIONS]
    for old in pending_for(session, email, now):
        revoke(old)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email, role=role, display_name=display_name, token_hash=hash_token(token),
        call_id=call.id if call is not None else None,
        affiliations=affiliations if role == Role.REVIEWER else [],
        invited_by_id=invited_by.id if invited_by is not None else None,
        created_at=now, expires_at=now + VALID_FOR,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def find(session: Session, token: str) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def revoke(invitation: Invitation) -> None:
    invitation.expires_at = invitation.created_at


def accept(session: Session, invitation: Invitation, *, password_hash: str, now: datetime) -> User:
    """Create the account the invitation describes; a reviewer invited onto a
    call joins that call's panel with the organisations stated."""
    state = state_of(invitation, now)
    if state != InvitationState.PENDING:
        raise AccountError(REFUSALS[state])
    user = create_account(session, email=invitation.email, display_name=invitation.display_name,
                          role=invitation.role, password_hash=password_hash, now=now)
    invitation.accepted_at = now
    invitation.user_id = user.id
    if invitation.call_id is not None and invitation.role == Role.REVIEWER:
        call = session.get(Call, invitation.call_id)
        if call is not None:
            panel.add_member(session, call, user, invitation.affiliations or [], now=now)
    session.flush()
    return user


REFUSALS = {
    InvitationState.ACCEPTED: "この招待リンクはすでに使われています。設定したパスワードでログインしてください。",
    InvitationState.EXPIRED: "この招待リンクは有効期限（7日間）が切れています。事務局に再度の招待を依頼してください。",
    InvitationState.REVOKED: "この招待リンクは取り消されています。事務局にお問い合わせください。",
}
UNKNOWN_LINK = "招待リンクが正しくありません。メールのリンクを途中で切らずに開いてください。"
