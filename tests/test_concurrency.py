"""Concurrent submissions against the real database (own connections, real
commits), as on deadline day: one submission per proposal, unique receipts."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from portal.domain.proposals import workflow
from portal.domain.timeutil import now_utc
from portal.models import Call, Proposal, Submission, User

from .factories import Factory


@pytest.fixture()
def committed(isolated_app):
    """(app, session factory) on a database of the test's own, with real
    commits: what these tests leave (calls with an append-only log, mails)
    never reaches the suite's database."""
    return isolated_app, sessionmaker(bind=isolated_app.extensions["engine"], expire_on_commit=False)


def make_ready_proposals(app, Session, count):
    with app.app_context(), Session() as session:
        factory = Factory(session, app)
        call = factory.call()
        ids = []
        for _ in range(count):
            user = factory.applicant()
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


def test_simultaneous_clicks_make_one_submission(committed):
    app, Session = committed
    _call_id, [(proposal_id, user_id)] = make_ready_proposals(app, Session, 1)
    results, errors = run_in_threads([lambda: submit_once(Session, proposal_id, user_id)] * 4)
    assert not errors, errors
    assert len([r for r in results if r]) == 1
    with Session() as session:
        assert session.scalars(select(Submission).where(Submission.proposal_id == proposal_id)).all().__len__() == 1


def test_concurrent_submissions_get_unique_receipt_numbers(committed):
    app, Session = committed
    call_id, pairs = make_ready_proposals(app, Session, 12)
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


def test_double_click_on_submit_over_http_is_one_submission_and_no_error(committed, monkeypatch):
    """Both clicks read the draft before either has written: each ticks the
    declarations, and the second insert of the same declarations collides
    with the first. The loser is rolled back and told the proposal is already
    submitted; it never sees a server error."""
    from .conftest import csrf_token_from

    app, Session = committed
    with app.app_context(), Session() as session:
        factory = Factory(session, app)
        call = factory.call()
        user = factory.applicant()
        proposal = factory.proposal(user, call)  # no declarations yet: both clicks add them
        proposal_id, email = proposal.id, user.email

    clients = []
    for _ in range(2):
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        assert client.post("/login", data={"email": email, "password": Factory.PASSWORD,
                                           "csrf_token": token}).status_code == 302
        page = client.get(f"/proposals/{proposal_id}/confirm").get_data(as_text=True)
        clients.append((client, csrf_token_from(page)))

    both_read = threading.Barrier(2, timeout=20)
    original = workflow.accept_declarations

    def after_both_have_read(*args, **kwargs):
        both_read.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(workflow, "accept_declarations", after_both_have_read)
    with Session() as session:
        version = session.get(Proposal, proposal_id).version
    from portal.domain.proposals.proposal_fields import DECLARATION_KEYS

    def click(client, token):
        return client.post(f"/proposals/{proposal_id}/submit", data={
            "csrf_token": token, "version": str(version), "declarations": list(DECLARATION_KEYS)})

    responses, errors = run_in_threads([lambda c=c, t=t: click(c, t) for c, t in clients])
    assert not errors, errors
    assert sorted(r.status_code for r in responses) == [302, 302], [r.get_data(as_text=True)[:300] for r in responses]
    locations = sorted(r.headers["Location"] for r in responses)
    assert any("/receipt/1" in location for location in locations), locations
    assert any(location.endswith(f"/proposals/{proposal_id}") for location in locations), locations
    with Session() as session:
        assert len(session.scalars(select(Submission).where(Submission.proposal_id == proposal_id)).all()) == 1
