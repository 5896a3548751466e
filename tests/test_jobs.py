"""Jobs on the immediate queue (a task runs in the thread that enqueued it,
right after the commit): what the worker does with scheduled publications,
refusals found when the job runs, a second start, and the progress
endpoint's access rule. The real workers are in tests/test_job_queue.py."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.results import publication
from portal.domain.timeutil import now_utc
from portal.jobs import publish_job
from portal.jobs.tasks import sweep_once
from portal.models import Job, JobStatus, LoginThrottle, Publication, utcnow

from .results_support import decide_as_recommended, use_temporary_key
from .test_publication import scored_call


@pytest.fixture()
def settings(app, monkeypatch, tmp_path):
    return use_temporary_key(app, monkeypatch, tmp_path)


def jobs_of(db, call):
    db.expire_all()
    return list(db.scalars(select(Job).where(Job.call_id == call.id).order_by(Job.id)))


def test_the_sweep_starts_due_scheduled_publications_and_leaves_the_rest(app, factory, db, settings):
    due = scored_call(factory, db)
    decide_as_recommended(db, due, due.extra["staff"])
    due.call.results_scheduled_at = now_utc() - timedelta(minutes=1)
    undecided = scored_call(factory, db)
    undecided.call.results_scheduled_at = now_utc() - timedelta(minutes=1)
    later = scored_call(factory, db)
    decide_as_recommended(db, later, later.extra["staff"])
    later.call.results_scheduled_at = now_utc() + timedelta(days=1)
    db.commit()
    counts = sweep_once(app, app.extensions["huey"])
    assert counts["scheduled"] == 1
    assert [job.status for job in jobs_of(db, due.call)] == [JobStatus.DONE]
    assert jobs_of(db, undecided.call) == [] and jobs_of(db, later.call) == []
    assert {row.call_id for row in db.scalars(select(Publication))} == {due.call.id}
    # Swept again: the call is published, nothing more starts.
    assert sweep_once(app, app.extensions["huey"])["scheduled"] == 0


def test_a_refusal_found_when_the_job_runs_ends_it_as_failed_with_the_reason(app, factory, db, settings):
    s = scored_call(factory, db)
    decide_as_recommended(db, s, s.extra["staff"])
    # Recorded while version 0 was the latest; before it runs (at the
    # commit, on this queue) someone publishes from the command line.
    publish_job.start(db, s.call, s.extra["staff"], now_utc(), expected_version=0)
    publication.publish(db, s.call, None, now_utc(), settings=settings)
    db.commit()
    failed = jobs_of(db, s.call)[-1]
    assert failed.status == JobStatus.FAILED
    assert failed.message == "結果はすでに公表されています（第1版）。"
    assert failed.active_key is None and failed.finished_at is not None
    versions = [row.version for row in db.scalars(select(Publication).where(Publication.call_id == s.call.id))]
    assert versions == [1]


def test_a_second_start_while_a_job_is_active_returns_that_job(app, factory, db, settings):
    s = scored_call(factory, db)
    decide_as_recommended(db, s, s.extra["staff"])
    first = publish_job.start(db, s.call, s.extra["staff"], now_utc(), expected_version=0)
    second = publish_job.start(db, s.call, s.extra["staff"], now_utc(), expected_version=0)
    assert first.id == second.id and first.active and first.status == JobStatus.QUEUED
    db.rollback()  # never committed: nothing was enqueued


def _progress_job(factory, db):
    s = scored_call(factory, db)
    job = Job(kind=publish_job.KIND, call_id=s.call.id, params={}, stage="集計", done=1, total=4)
    db.add(job)
    db.commit()
    return s, job


def test_job_progress_is_shown_to_the_staff(client, factory, db, login):
    s, job = _progress_job(factory, db)
    login(s.extra["staff"])
    answer = client.get(f"/admin/jobs/{job.id}.json")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["stage"] == "集計" and body["done"] == 1 and body["total"] == 4 and body["active"] is True
    assert body["status_label"] == "待機中"
    assert client.get("/admin/jobs/999999.json").status_code == 404


def test_job_progress_is_not_shown_to_applicants_or_visitors(client, factory, db, login):
    _s, job = _progress_job(factory, db)
    assert client.get(f"/admin/jobs/{job.id}.json").status_code in (302, 401)
    login(factory.applicant())
    assert client.get(f"/admin/jobs/{job.id}.json").status_code == 403


def test_the_sweep_deletes_login_throttle_counters_long_expired(app, db):
    window = timedelta(seconds=app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    now = utcnow()
    db.add_all([
        LoginThrottle(account_key="old@example.jp", ip_address="203.0.113.1", attempts=5,
                      window_started_at=now - window - timedelta(days=2)),
        LoginThrottle(account_key="recent@example.jp", ip_address="203.0.113.2", attempts=2,
                      window_started_at=now - window - timedelta(hours=1)),
        LoginThrottle(account_key="now@example.jp", ip_address="203.0.113.3", attempts=1, window_started_at=now),
    ])
    db.commit()
    assert sweep_once(app, app.extensions["huey"])["throttles"] == 1
    db.expire_all()
    left = sorted(db.scalars(select(LoginThrottle.account_key)))
    assert left == ["now@example.jp", "recent@example.jp"]
