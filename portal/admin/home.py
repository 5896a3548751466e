"""The staff landing page: every call with its next steps, and the accounts."""
from __future__ import annotations

from flask import render_template

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.calls import call_admin
from ..domain.timeutil import now_utc
from ..policy import require_staff
from . import bp, todo
from .calls import all_calls


@bp.route("/")
def index():
    require_staff()
    calls = all_calls()
    counts = call_admin.proposal_counts(db_session, [c.id for c in calls])
    return render_template("admin/index.html", calls=calls, counts=counts, now=now_utc(), form=EmptyForm(),
                           todo=todo.lines(calls, counts))
