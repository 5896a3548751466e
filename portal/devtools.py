"""Development-only pages: the mail outbox. Registered only when DEV_OUTBOX."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from .db import db_session
from .models import OutboxMessage

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox():
    messages = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50)).all()
    return render_template("dev/outbox.html", messages=messages)
