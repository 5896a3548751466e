from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    APPLICANT = "applicant"
    STAFF = "staff"
    REVIEWER = "reviewer"
    DEPARTMENT = "department"  # a city department's account (担当課): portal/department/


class User(Base):
    """A login. Applicant accounts belong to one group (団体)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20), default=Role.APPLICANT)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # Second factor for staff and reviewers (RFC 6238 TOTP). The secret is
    # set at enrolment and confirmed by a first valid code.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last accepted time step: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column()
    # The demo configuration may waive the second factor for demo accounts.
    second_factor_waived: Mapped[bool] = mapped_column(default=False)

    group: Mapped["Group | None"] = relationship(back_populates="account", uselist=False)  # noqa: F821

    # Set when loaded through a login session; flask-login stores this token,
    # not the user id, so ending the session on the server logs the cookie out.
    login_token = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def needs_second_factor(self) -> bool:
        return self.role in (Role.STAFF, Role.REVIEWER, Role.DEPARTMENT) and not self.second_factor_waived

    # The role alone; whether the person may act as staff or reviewer now
    # (signed in, active) is ``policy.is_staff`` / ``policy.is_reviewer``.
    @property
    def has_staff_role(self) -> bool:
        return self.role == Role.STAFF

    @property
    def has_reviewer_role(self) -> bool:
        return self.role == Role.REVIEWER


class LoginSession(Base):
    """A server-side record of one login; logout revokes it."""

    __tablename__ = "login_sessions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Attempts at a password or a second-factor code within a window, per
    (account, address) and per address (``account_key`` empty): the counters
    the login throttle reserves from before each check (portal/auth/throttle.py)."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    # The e-mail address as typed, a second-factor key, or "" for the address alone.
    account_key: Mapped[str] = mapped_column(String(254), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RecoveryCode(Base):
    """A one-time recovery code for a lost authenticator; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invitation(Base):
    """An invitation for a staff member or reviewer: a one-time link to set a
    password. Only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A reviewer invited onto a call's panel, with the organisations stated.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    affiliations: Mapped[list] = mapped_column(JSON, default=list)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
