"""Absolute links for mails.

``url_for(..., _external=True)`` takes the host from the request's Host
header, which the client chooses: a password-reset mail asked for with
``Host: evil.example`` would carry a link to that site and its token. In
production every link in a mail is built on ``PORTAL_BASE_URL`` instead
(``MAIL_LINKS_FROM_BASE_URL``); development and tests keep the request's
host, so a link works on whatever port the server runs.
"""
from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    if current_app.config.get("MAIL_LINKS_FROM_BASE_URL") and base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
