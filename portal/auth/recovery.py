"""One-time recovery codes for a lost authenticator. Only hashes are stored."""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import RecoveryCode, User

CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper and typed by hand.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUP = 5


def _new_code() -> str:
    # 10 characters of a 31-letter alphabet: about 49 bits, and tries are throttled.
    raw = "".join(secrets.choice(ALPHABET) for _ in range(2 * GROUP))
    return f"{raw[:GROUP]}-{raw[GROUP:]}"


def clean(value: str | None) -> str:
    text = unicodedata.normalize("NFKC", value or "").lower()
    return "".join(ch for ch in text if ch.isalnum())


def hash_code(value: str) -> str:
    return hashlib.sha256(clean(value).encode()).hexdigest()


def looks_like_recovery_code(value: str | None) -> bool:
    cleaned = clean(value)
    return len(cleaned) == 2 * GROUP and all(ch in ALPHABET for ch in cleaned)


def regenerate(session: Session, user: User) -> list[str]:
    """Replace every code of the user (used or not) with a fresh set; the
    plain codes are returned once, for the page that shows them."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_code(code)) for code in codes)
    session.flush()
    return codes


def consume(session: Session, user: User, value: str, now: datetime) -> bool:
    """Spend a code. A single conditional UPDATE, so two requests racing
    with the same code cannot both succeed."""
    if not looks_like_recovery_code(value):
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == hash_code(value),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def remaining(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
