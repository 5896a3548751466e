"""Demo data for みなと市 (a fictional city): three calls, eight groups,
the secretariat and a five-member review panel. Every person, address, phone
number and mail address here is fictional.

- 令和7年度 (fixed dates in 2025): finished for real, results published
  with the process log, the signed documents and PDFs;
- 令和8年度 (relative to loading): open for proposals, with drafts, two
  submitted proposals and a returned one;
- 令和8年度 地域防災・見守り特別枠 (relative to loading): closed three weeks
  ago; five proposals with the panel in their scoring window, one waiting for
  the intake decision, one returned.

Everything is built through the portal's own verbs (``build.py``), so the
process logs verify. ``load_demo_data(session)`` only adds and flushes;
``flask seed-demo`` commits. It needs an app context (passwords are hashed
with the configured argon2id cost; the log is signed with the app's key;
files go to its object store).

The staff and reviewer accounts skip the second factor only where the
configuration allows it (ALLOW_SECOND_FACTOR_WAIVER: development and tests).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from ..domain.results import publication
from ..domain.timeutil import now_utc
from ..files.objectstore import store_of
from . import build, calls
from .content import (  # noqa: F401 - tests import these from here too
    CRITERIA_DESCRIPTIONS,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DRAFT_CHANOMA,
    DRAFT_KOSODATE,
    FIELD_LIMITS,
    FINISHED_CALL_CRITERIA,
    FINISHED_CALL_SLUG,
    FINISHED_PROPOSALS,
    GROUPS,
    LEVELS,
    OPEN_CALL_CRITERIA,
    OPEN_CALL_SLUG,
    RETURN_REASON,
    RETURNED_SHOKOKAI,
    SUBMITTED_BOUSAI,
    SUBMITTED_MORI,
    DemoGroup,
    DemoProposal,
)
from .people import REVIEWERS, STAFF, DemoReviewer, DemoStaff  # noqa: F401
from .tokubetsu import (  # noqa: F401
    SPECIAL_CALL_CRITERIA,
    SPECIAL_CALL_SLUG,
    SPECIAL_IN_INTAKE,
    SPECIAL_RELEASED,
    SPECIAL_RETURNED,
)


def load_demo_data(session: Session) -> None:
    """Add the demo calls, accounts, proposals, reviews and results; flush, never commit."""
    now = now_utc().replace(second=0, microsecond=0)
    city = current_app.config.get("CITY_NAME", "みなと市")
    schedule = build.plan(now)

    finished = calls.finished_call(city)
    open_call, open_published = calls.open_call(city, now)
    special, special_published = calls.special_call(city, now)
    session.add_all([finished, open_call, special])
    session.flush()

    loader = build.Loader(session, now, city, store_of(current_app),
                          publication.Settings.for_app(current_app))
    loader.accounts(DEMO_PASSWORD, schedule["first_activity"])
    loader.finished(finished, *schedule["finished"])
    loader.open(open_call, open_published, schedule["open"])
    loader.special(special, special_published, *schedule["special"])
    session.flush()
