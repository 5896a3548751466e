"""A double-clicked 採点を締め切る against the real database, two sessions at
once, real commits: the scoring is closed once, one ``scoring_closed``
entry goes into the log, and the second click is told it is already
closed, never a database error. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from portal.domain.log.chain import SCORING_CLOSED
from portal.domain.scoring import progress
from portal.domain.scoring.progress import ProgressError
from portal.domain.timeutil import now_utc
from portal.models import Call, LogEntry

from .factories import Factory
from .results_support import build, score
from .test_concurrency import run_in_threads


def test_a_double_clicked_close_closes_once(isolated_app):
    Session = sessionmaker(bind=isolated_app.extensions["engine"], expire_on_commit=False)
    with isolated_app.app_context(), Session() as session:
        scenario = build(Factory(session, isolated_app), reviewers=2, proposals=1)
        score(session, scenario, 0, 0, [3, 3, 3, 3, 3])
        call_id = scenario.call.id

    def close():
        with isolated_app.app_context(), Session() as session:
            call = session.get(Call, call_id)
            try:
                count = progress.close_scoring(session, call, now_utc(), early_confirmed=True)
            except ProgressError as refused:
                session.rollback()
                return ("refused", refused.message)
            session.commit()
            return ("closed", count)

    results, errors = run_in_threads([close, close])
    assert errors == []
    assert sorted(kind for kind, _ in results) == ["closed", "refused"], results
    assert [detail for kind, detail in results if kind == "closed"] == [1]
    assert "すでに締め切られています" in next(detail for kind, detail in results if kind == "refused")
    with Session() as session:
        kinds = session.scalars(select(LogEntry.kind).where(LogEntry.call_id == call_id)
                                .order_by(LogEntry.seq)).all()
    assert kinds.count(SCORING_CLOSED) == 1 and kinds[-1] == SCORING_CLOSED
