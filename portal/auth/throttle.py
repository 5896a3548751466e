"""Throttling passwords and second-factor codes: per (account, address) and
per address, never per account alone, so nobody can lock a real user out
from elsewhere.

An attempt is reserved *before* the password or code is checked, and the
reservation is committed at once, so every other request (in any process, on
any server) counts it while argon2 runs. Each reservation is one conditional
``UPDATE ... SET attempts = attempts + 1 WHERE attempts < limit RETURNING``
on the database's counter row: the row lock (PostgreSQL) or the write lock
(SQLite) makes concurrent reservations take turns, and each sees the count
the one before it left. A burst therefore gets no more checks than the limit.

After the check, a failure keeps its reservation (that is the failure);
a success clears the account's count at this address and gives the address
back the one attempt it reserved.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, literal, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from ..db import db_session
from ..models import LoginThrottle, utcnow
from ..models.base import UTCDateTime
from .sessions import client_ip

# The account_key of an address's own counter (no e-mail address is empty).
ADDRESS_ALONE = ""


@dataclass(frozen=True)
class Reservation:
    """One attempt taken from both counters, committed."""

    key: str
    ip_address: str
    # The address counter's window when the attempt was taken: it is given
    # back only to that window, never to a later one.
    address_window: datetime


def reserve(key: str) -> Reservation | None:
    """Take one attempt for ``key`` (an e-mail address or a second-factor
    key) from this address, or None when either limit is reached. Commits:
    call it before anything else of the request is written."""
    config = current_app.config
    now = utcnow()
    since = now - timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    key, ip = key[:254], client_ip()
    # The reservation commits on its own, before the check; nothing is written before this point.
    db_session.commit()
    # Always the pair's row before the address's, so two reservations never wait on each other crosswise.
    address_window = None
    if _take(key, ip, config["LOGIN_FAILURES_PER_ACCOUNT_AND_IP"], now, since) is not None:
        address_window = _take(ADDRESS_ALONE, ip, config["LOGIN_FAILURES_PER_IP"], now, since)
    if address_window is None:
        db_session.rollback()  # gives back the pair's attempt when only the address is out
        return None
    db_session.commit()
    return Reservation(key, ip, address_window)


def succeeded(reservation: Reservation) -> None:
    """A right password or code: the account's failures at this address are
    forgotten and the address gets its attempt back. Flushed only, so a
    request that fails after all keeps the attempt counted."""
    forget(reservation.key, reservation.ip_address)
    db_session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.account_key == ADDRESS_ALONE, LoginThrottle.ip_address == reservation.ip_address,
               LoginThrottle.window_started_at == reservation.address_window, LoginThrottle.attempts > 0)
        .values(attempts=LoginThrottle.attempts - 1)
        .execution_options(synchronize_session=False)
    )


def forget(key: str, ip_address: str | None = None) -> None:
    """Clear the count of ``key`` at this address (after a password reset)."""
    db_session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.account_key == key[:254], LoginThrottle.ip_address == (ip_address or client_ip()))
        .values(attempts=0)
        .execution_options(synchronize_session=False)
    )


def _take(key: str, ip: str, limit: int, now: datetime, since: datetime) -> datetime | None:
    """One attempt off the counter of (key, ip): the start of its window, or
    None when the limit is reached within it. A window that has run out
    starts again at ``now`` with this attempt."""
    _ensure_counter(key, ip, now)
    expired = LoginThrottle.window_started_at < since
    row = db_session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.account_key == key, LoginThrottle.ip_address == ip,
               or_(LoginThrottle.attempts < limit, expired))
        .values(attempts=case((expired, 1), else_=LoginThrottle.attempts + 1),
                window_started_at=case((expired, literal(now, UTCDateTime())),
                                       else_=LoginThrottle.window_started_at))
        .returning(LoginThrottle.window_started_at)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    return row[0] if row else None


def _ensure_counter(key: str, ip: str, now: datetime) -> None:
    """The counter row, made empty if missing (two first attempts at once:
    one inserts, the other's insert does nothing)."""
    dialect = db_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db_session.execute(
        insert(LoginThrottle)
        .values(account_key=key, ip_address=ip, attempts=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["account_key", "ip_address"])
    )
