"""Mail: written to the outbox with the change that caused it, delivered by
the job worker after the commit.

``send_mail`` (in a request) and ``queue_mail`` (anywhere, with a session)
only add an ``OutboxMessage`` row and, when SMTP is configured, ask for its
delivery once the transaction commits: a rolled-back request sends nothing,
and no request waits for a mail server. ``deliver`` runs in the worker:
it claims the row for a short lease, sends it, and marks it sent (the body
is then dropped: it may hold one-time links). A failure is retried with
growing delays up to ``MAIL_MAX_ATTEMPTS``. Each message has a Message-ID
derived from its row, so if a worker dies between sending and marking, the
copy sent again after the lease carries the same Message-ID.
Without SMTP (development) the message stays in the outbox (/dev/outbox).
"""
from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from .db import db_session, session_factory
from .models import OutboxMessage, utcnow

LEASE_SECONDS = 120
MAX_DELAY_SECONDS = 6 * 60 * 60


def send_mail(recipient: str, subject: str, body: str) -> OutboxMessage:
    """In a request: queue a mail in the request's transaction."""
    return queue_mail(db_session, recipient, subject, body)


def queue_mail(session: Session, recipient: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(recipient=recipient, subject=subject, body=body)
    session.add(message)
    session.flush()
    if current_app.config.get("MAIL_SERVER"):
        from .jobs.queue import enqueue_after_commit

        enqueue_after_commit(session, current_app.extensions["huey"], "deliver_mail", message.id)
    return message


def retry_delay(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, ... at most 6 hours."""
    base = current_app.config.get("MAIL_RETRY_BASE_SECONDS", 30)
    return timedelta(seconds=min(base * 4 ** max(attempts - 1, 0), MAX_DELAY_SECONDS))


def deliver(message_id: int) -> timedelta | None:
    """Send one message if it is due and nobody else is sending it. Returns
    the delay before the next try when this one failed and may be retried."""
    config = current_app.config
    now = utcnow()
    with session_factory() as session:
        claimed = session.execute(
            update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
            .values(claimed_until=now + timedelta(seconds=LEASE_SECONDS), attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if not claimed or not config.get("MAIL_SERVER"):
            return None
        message = session.get(OutboxMessage, message_id)
        try:
            _send_smtp(config, message)
        except (OSError, smtplib.SMTPException) as error:
            current_app.logger.warning("mail %s to %s failed (try %s): %s", message.id, message.recipient,
                                       message.attempts, error)
            message.error = str(error)[:500]
            message.claimed_until = None
            delay = None
            if message.attempts >= config.get("MAIL_MAX_ATTEMPTS", 8):
                message.failed_at = utcnow()
            else:
                delay = retry_delay(message.attempts)
                message.next_attempt_at = utcnow() + delay
            session.commit()
            return delay
        message.sent_at = utcnow()
        message.body = ""
        message.error = ""
        message.claimed_until = None
        session.commit()
    return None


def message_id_of(message: OutboxMessage, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def _send_smtp(config, message: OutboxMessage) -> None:
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message_id_of(message, config["MAIL_SENDER"])
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
