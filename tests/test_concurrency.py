"""Concurrent submissions against the real database (own connections, real
commits), as on deadline day: one submission per proposal, unique receipts."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from portal.domain import workflow
from portal.domain.timeutil import now_utc
from portal.models import Call, Group, LoginSession, Proposal, StatusEvent, Submission, User

from .factories import Factory


@pytest.fixture()
def committed(app):
    """A session factory on the real engine; everything made is removed after."""
    engine = app.extensions["engine"]
    Session = sessionmaker(bind=engine, expire_on_commit=False)
    made = {"calls": [], "users": []}
    yield Session, made
    with Session() as session, session.begin():
        for call_id in made["calls"]:
            proposal_ids = select(Proposal.id).where(Proposal.call_id == call_id)
            for table in (Submission, StatusEvent):
                session.execute(delete(table).where(table.proposal_id.in_(proposal_ids)))
            session.execute(delete(Proposal).where(Proposal.call_id == call_id))
            # The call's process log is append-only, so the call itself stays;
            # unpublished, it is invisible to the tests that follow.
            session.execute(update(Call).where(Call.id == call_id).values(published_at=None))
        for user_id in made["users"]:
            session.execute(delete(Group).where(Group.account_id == user_id))
            session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
            session.execute(delete(User).where(User.id == user_id))


def make_ready_proposals(app, Session, made, count):
    with app.app_context(), Session() as session:
        factory = Factory(session, app)
        call = factory.call()
        made["calls"].append(call.id)
        ids = []
        for _ in range(count):
            user = factory.applicant()
            made["users"].append(user.id)
            ids.append((factory.proposal(user, call, declarations=True).id, user.id))
        return call.id, ids


def run_in_threads(targets):
    barrier = threading.Barrier(len(targets))
    results, errors = [], []

    def wrap(target):
        barrier.wait()
        try:
            results.append(target())
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def submit_once(Session, proposal_id, user_id):
    with Session() as session:
        proposal = session.get(Proposal, proposal_id)
        user = session.get(User, user_id)
        try:
            submission = workflow.submit_proposal(session, proposal, user, proposal.version, now_utc())
            session.commit()
            return submission.receipt_number
        except (StaleDataError, workflow.AlreadySubmitted):
            session.rollback()
            return None


def test_simultaneous_clicks_make_one_submission(app, committed):
    Session, made = committed
    _call_id, [(proposal_id, user_id)] = make_ready_proposals(app, Session, made, 1)
    results, errors = run_in_threads([lambda: submit_once(Session, proposal_id, user_id)] * 4)
    assert not errors, errors
    assert len([r for r in results if r]) == 1
    with Session() as session:
        assert session.scalars(select(Submission).where(Submission.proposal_id == proposal_id)).all().__len__() == 1


def test_concurrent_submissions_get_unique_receipt_numbers(app, committed):
    Session, made = committed
    call_id, pairs = make_ready_proposals(app, Session, made, 12)
    targets = [lambda p=p, u=u: submit_once(Session, p, u) for p, u in pairs]
    results, errors = run_in_threads(targets)
    assert not errors, errors
    assert len(results) == 12 and all(results)
    assert len(set(results)) == 12
    with Session() as session:
        call = session.get(Call, call_id)
        assert call.receipt_counter == 12
        numbers = sorted(int(r.rsplit("-", 1)[1]) for r in results)
        assert numbers == list(range(1, 13))
