from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from ..db import db_session
from ..models import Call
from . import bp


@bp.route("/")
def index():
    calls = db_session.scalars(select(Call).order_by(Call.fiscal_year.desc(), Call.opens_at.desc())).all()
    return render_template("admin/index.html", calls=calls)
