"""Sending mail: through SMTP when configured, into the outbox otherwise."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from .db import db_session
from .models import OutboxMessage, utcnow


def send_mail(recipient: str, subject: str, body: str) -> OutboxMessage:
    config = current_app.config
    message = OutboxMessage(recipient=recipient, subject=subject, body=body)
    if config.get("MAIL_SERVER"):
        try:
            _send_smtp(config, recipient, subject, body)
            message.sent_at = utcnow()
            message.body = ""  # one-time links are not kept once delivered
        except (OSError, smtplib.SMTPException) as error:
            current_app.logger.warning("mail to %s failed: %s", recipient, error)
            message.error = str(error)[:500]
    db_session.add(message)
    db_session.flush()
    return message


def _send_smtp(config, recipient: str, subject: str, body: str) -> None:
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = recipient
    email["Subject"] = subject
    email.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
