"""Signed one-time links for email confirmation and password reset."""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..db import db_session
from ..models import User

CONFIRM_MAX_AGE = 7 * 24 * 3600
RESET_MAX_AGE = 2 * 3600


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"portal-{purpose}")


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def make_confirm_token(user: User) -> str:
    return _serializer("confirm").dumps({"uid": user.id, "email": _fingerprint(user.email)})


def make_reset_token(user: User) -> str:
    # Bound to the current password hash: once the password changes, the link is spent.
    return _serializer("reset").dumps({"uid": user.id, "pw": _fingerprint(user.password_hash)})


def read_confirm_token(token: str) -> User | None:
    data = _load("confirm", token, CONFIRM_MAX_AGE)
    if not data:
        return None
    user = db_session.get(User, data.get("uid"))
    if user is None or _fingerprint(user.email) != data.get("email"):
        return None
    return user


def read_reset_token(token: str) -> User | None:
    data = _load("reset", token, RESET_MAX_AGE)
    if not data:
        return None
    user = db_session.get(User, data.get("uid"))
    if user is None or _fingerprint(user.password_hash) != data.get("pw"):
        return None
    return user


def _load(purpose: str, token: str, max_age: int) -> dict | None:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("uid"), int) else None
