"""Server-side login sessions and password hashing (the throttle in front of
the checks is throttle.py)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, request
from flask_login import login_user, logout_user

from ..db import db_session
from ..models import LoginSession, User, utcnow
from .accounts import revoke_logins


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    hasher = _hasher()
    if user is None:
        # Same work for unknown addresses, so timing does not reveal accounts.
        hasher.hash(password)
        return False
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


def start_login(user: User) -> None:
    token = secrets.token_urlsafe(32)
    db_session.add(LoginSession(token=token, user_id=user.id, ip_address=client_ip()))
    db_session.flush()
    user.login_token = token
    login_user(user)


def end_login(user: User) -> None:
    if user.login_token:
        record = db_session.get(LoginSession, user.login_token)
        if record is not None and record.revoked_at is None:
            record.revoked_at = utcnow()
    logout_user()


def end_all_logins(user: User) -> None:
    """After a password reset every other login ends too."""
    revoke_logins(db_session, user, utcnow())


def load_user_from_token(token: str) -> User | None:
    record = db_session.get(LoginSession, token)
    if record is None or record.revoked_at is not None:
        return None
    idle = timedelta(seconds=current_app.config["LOGIN_SESSION_IDLE_SECONDS"])
    now = utcnow()
    if now - record.last_seen_at > idle:
        record.revoked_at = now
        return None
    if now - record.last_seen_at > timedelta(minutes=5):
        record.last_seen_at = now
    user = record.user
    if not user.is_active_account:
        return None
    user.login_token = token
    return user
