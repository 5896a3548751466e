"""Pages anyone can read without an account."""
from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..db import db_session
from ..domain.proposals.proposal_fields import limits_for
from ..domain.timeutil import now_utc
from ..models import Call
from . import bp


def published_calls():
    return db_session.scalars(
        select(Call).where(Call.published_at.is_not(None))
        .order_by(Call.fiscal_year.desc(), Call.opens_at.desc(), Call.id)
    ).all()


@bp.get("/")
def index():
    now = now_utc()
    calls = published_calls()
    open_calls = [c for c in calls if c.is_open(now)]
    return render_template("public/index.html", open_calls=open_calls, calls=calls, now=now)


@bp.get("/calls")
def calls():
    """Every published call, newest fiscal year first, each with its results
    (once published) and its process log."""
    from itertools import groupby

    from ..models import Publication

    all_calls = published_calls()
    with_results = set(db_session.scalars(select(Publication.call_id).distinct()))
    years = [(year, list(items)) for year, items in groupby(all_calls, key=lambda c: c.fiscal_year)]
    return render_template("public/calls.html", years=years, with_results=with_results, now=now_utc())


@bp.get("/calls/<slug>")
def call_detail(slug: str):
    call = db_session.scalar(
        select(Call).where(Call.slug == slug, Call.published_at.is_not(None)).options(selectinload(Call.criteria))
    )
    if call is None:
        abort(404)
    return render_template("public/call.html", call=call, now=now_utc(), limits=limits_for(call))
