"""The second factor for staff and reviewers: who needs it, the pending
state between password and code, and checking codes.

Between a correct password and a correct code there is no login session,
only a short-lived note in the signed Flask session cookie: the user id, the
time the password last changed (a reset in between spoils it) and an expiry.
The routes that read it act on that user alone, so the note cannot be
pointed at another account.
"""
from __future__ import annotations

import time
from datetime import datetime

from flask import current_app, session
from sqlalchemy import delete, or_, update

from ..db import db_session
from ..models import RecoveryCode, Role, User
from . import recovery, totp
from .accounts import revoke_logins

PENDING_KEY = "pending_login"
# The secret being enrolled lives with the browser doing the enrolment, so
# someone else who learns the password meanwhile cannot read or replace it.
ENROL_KEY = "enrol_secret"
PENDING_SECONDS = 5 * 60


def required_for(user: User) -> bool:
    """Staff, reviewers and department staff (who read the proposals of
    their field) need a second factor. The demo and test configurations may
    waive it per account; production never does."""
    if user.role not in (Role.STAFF, Role.REVIEWER, Role.DEPARTMENT):
        return False
    return not (user.second_factor_waived and current_app.config.get("ALLOW_SECOND_FACTOR_WAIVER", False))


def is_enrolled(user: User) -> bool:
    return bool(user.totp_secret) and user.totp_confirmed_at is not None


def failure_key(user: User) -> str:
    """The LoginFailure key for wrong codes: apart from wrong passwords, so a
    correct password (which clears those) does not reset the count of codes."""
    return f"second-factor:{user.id}"


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def begin(user: User, next_path: str | None) -> None:
    session.pop(PENDING_KEY, None)
    session[PENDING_KEY] = {
        "uid": user.id,
        "pwc": _stamp(user.password_changed_at),
        "exp": int(time.time()) + PENDING_SECONDS,
        "next": next_path,
    }


def _pending_data() -> dict | None:
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int) or not isinstance(data.get("exp"), int):
        return None
    # The cookie is signed, but keep an id the database cannot hold from ever reaching it.
    return data if 0 < data["uid"] < 2**31 else None


def pending_user() -> User | None:
    """The account waiting for its second factor, or None when there is none,
    it ran out, the password changed, or the account no longer needs one."""
    data = _pending_data()
    if data is None or data["exp"] < time.time():
        return None
    user = db_session.get(User, data["uid"])
    if (user is None or not user.is_active_account or not required_for(user)
            or _stamp(user.password_changed_at) != data.get("pwc")):
        return None
    return user


def pending_next() -> str | None:
    data = _pending_data()
    return data.get("next") if data else None


def had_pending() -> bool:
    return PENDING_KEY in session


def clear() -> None:
    session.pop(PENDING_KEY, None)
    session.pop(ENROL_KEY, None)


def enrolment_secret(user: User) -> str:
    """The secret offered to this browser for this account; the same one on
    every reload and after a new password step, until enrolment completes."""
    stored = session.get(ENROL_KEY)
    if isinstance(stored, dict) and stored.get("uid") == user.id and isinstance(stored.get("secret"), str):
        return stored["secret"]
    secret = totp.new_secret()
    session[ENROL_KEY] = {"uid": user.id, "secret": secret}
    return secret


def _claim_step(user: User, step: int) -> bool:
    """Record the step with a conditional UPDATE: two requests with the same
    code at the same moment cannot both pass."""
    result = db_session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def check_totp(user: User, code: str, now: datetime) -> bool:
    if not is_enrolled(user):
        return False
    step = totp.matching_step(user.totp_secret, code, now, user.totp_last_step)
    return step is not None and _claim_step(user, step)


def confirm_enrolment(user: User, secret: str, code: str, now: datetime) -> list[str] | None:
    """Save the secret once a first code proves the app has it; returns the
    new recovery codes (shown once), or None for a wrong code."""
    step = totp.matching_step(secret, code, now, None)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_confirmed_at = now
    user.totp_last_step = step
    db_session.flush()
    return recovery.regenerate(db_session, user)


def reset(user: User, now: datetime) -> None:
    """For a member who lost both the authenticator and the recovery codes:
    forget the enrolment and the codes and end every login, so they enrol
    again at their next login (after the password)."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db_session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    revoke_logins(db_session, user, now)


def check_code(user: User, code: str, now: datetime) -> str | None:
    """'totp' or 'recovery' for an accepted code, None otherwise. Six digits
    are an authenticator code; anything else is tried as a recovery code."""
    cleaned = totp.clean_code(code)
    if cleaned.isascii() and cleaned.isdigit():
        return "totp" if check_totp(user, cleaned, now) else None
    return "recovery" if recovery.consume(db_session, user, code, now) else None
