from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from ..db import db_session
from ..models import Call, PanelMember
from . import bp


@bp.route("/")
def index():
    calls = db_session.scalars(
        select(Call).join(PanelMember, PanelMember.call_id == Call.id)
        .where(PanelMember.user_id == current_user.id).order_by(Call.fiscal_year.desc())
    ).all()
    return render_template("review/index.html", calls=calls)
