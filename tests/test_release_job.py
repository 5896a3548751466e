"""Releasing many proposals to the reviewers as a job (portal/jobs/release_job.py),
on the immediate queue (the job runs in this thread right after the commit):
everything is checked before the job is recorded, the worker releases in
chunks with one log entry each, a run repeated after a dead worker
releases nothing twice, and the staff's page starts the job for a large
selection. The real worker processes are in tests/test_job_queue.py."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.anonymity import redaction, review_copy
from portal.domain.anonymity.release import ReleaseRefused
from portal.domain.intake import intake
from portal.domain.log import chain
from portal.domain.proposals import workflow
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.jobs import release_job
from portal.models import FindingStatus, Job, JobStatus, LogEntry, Proposal, ProposalStatus, ReviewCopy

from .conftest import csrf_token_from


def accepted_call(factory, db, count: int):
    """A closed call with ``count`` accepted proposals, scanned and not yet decided."""
    call = factory.call(opens_in=timedelta(days=-40), closes_in=timedelta(days=-10),
                        screening_in=timedelta(days=-9))
    staff = factory.staff()
    factory.panel_member(call)
    proposals = []
    for _ in range(count):
        user = factory.applicant()
        proposal = factory.proposal(user, call, declarations=True)
        # Something for the scanner to find in every proposal, decided later.
        proposal.description += "\nお問い合わせは 090-1234-5678 まで。"
        workflow.submit_proposal(db, proposal, user, proposal.version, call.closes_at - timedelta(minutes=1))
        proposals.append(proposal)
    for proposal in proposals:
        intake.decide_intake(db, proposal, "accept", "", staff, now_utc())
        redaction.scan(db, proposal, None, now_utc(), store=store_of(factory.app))
    db.commit()
    return call, staff, proposals


def resolve(db, proposal: Proposal) -> None:
    for row in review_copy.findings_of(db, proposal):
        redaction.decide_finding(db, row, FindingStatus.REDACT, None, now_utc())


def released_entries(db, call) -> list[dict]:
    rows = db.scalars(select(LogEntry).where(LogEntry.call_id == call.id, LogEntry.kind == chain.RELEASED_TO_REVIEWERS)
                      .order_by(LogEntry.seq))
    return [row.payload["proposal_codes"] for row in rows]


def test_the_job_releases_in_chunks_and_a_second_run_releases_nothing_twice(app, factory, db, monkeypatch):
    monkeypatch.setattr(release_job, "CHUNK", 2)
    call, staff, proposals = accepted_call(factory, db, 5)
    for proposal in proposals:
        resolve(db, proposal)
    db.commit()

    job = release_job.start(db, call, proposals, staff, now_utc())
    db.commit()  # the immediate queue runs the job here
    db.expire_all()
    job = db.get(Job, job.id)
    assert job.status == JobStatus.DONE, job.message
    assert (job.done, job.total, job.active_key) == (5, 5, None)
    by_id = [p.anonymous_code for p in sorted(proposals, key=lambda p: p.id)]
    chunks = [sorted(by_id[0:2]), sorted(by_id[2:4]), by_id[4:5]]
    assert job.result["codes"] == [code for chunk in chunks for code in chunk] and job.result["refused"] == {}
    assert {db.get(Proposal, p.id).status for p in proposals} == {ProposalStatus.REVIEW}
    assert released_entries(db, call) == chunks
    assert chain.verify_chain(list(db.scalars(select(LogEntry).where(LogEntry.call_id == call.id)
                                              .order_by(LogEntry.seq)))).ok

    # As after a worker died with the job done: run again, nothing repeats.
    release_job.run(job.id, heartbeat=False)
    db.expire_all()
    assert len(released_entries(db, call)) == 3
    assert db.scalar(select(func.count()).select_from(ReviewCopy).where(ReviewCopy.call_id == call.id)) == 5


def test_nothing_is_recorded_while_a_proposal_has_an_undecided_finding(app, factory, db):
    call, staff, proposals = accepted_call(factory, db, 3)
    resolve(db, proposals[0])
    review_copy.findings_of(db, proposals[1])[0].status = FindingStatus.PENDING  # not decided yet
    db.commit()
    with pytest.raises(ReleaseRefused) as refused:
        release_job.start(db, call, proposals, staff, now_utc())
    assert proposals[1].anonymous_code in refused.value.problems
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Job).where(Job.call_id == call.id)) == 0


def test_a_proposal_refused_when_its_turn_comes_is_named_and_the_others_are_released(app, factory, db, monkeypatch):
    monkeypatch.setattr(release_job, "CHUNK", 10)
    call, staff, proposals = accepted_call(factory, db, 3)
    for proposal in proposals:
        resolve(db, proposal)
    db.commit()
    job = release_job.start(db, call, proposals, staff, now_utc())
    # Between the check and the job, a decision on a proposal is taken back.
    late = proposals[1]
    review_copy.findings_of(db, late)[0].status = FindingStatus.PENDING
    db.commit()
    db.expire_all()
    job = db.get(Job, job.id)
    assert job.status == JobStatus.FAILED
    assert list(job.result["refused"]) == [late.anonymous_code]
    assert late.anonymous_code in job.message and "2件を公開しました" in job.message
    statuses = {p.anonymous_code: db.get(Proposal, p.id).status for p in proposals}
    assert statuses == {proposals[0].anonymous_code: ProposalStatus.REVIEW, late.anonymous_code: ProposalStatus.ACCEPTED,
                        proposals[2].anonymous_code: ProposalStatus.REVIEW}


def test_the_staff_page_releases_a_large_selection_through_the_job(app, factory, db, client, login, monkeypatch):
    monkeypatch.setattr(release_job, "INLINE_MAX", 2)
    call, staff, proposals = accepted_call(factory, db, 3)
    for proposal in proposals:
        resolve(db, proposal)
    db.commit()
    login(staff)
    page = client.get(f"/admin/calls/{call.id}/anonymise")
    token = csrf_token_from(page.text)
    response = client.post(f"/admin/calls/{call.id}/anonymise/release",
                           data={"csrf_token": token, "proposal_id": [str(p.id) for p in proposals]})
    assert response.status_code == 302
    db.expire_all()
    job = db.scalars(select(Job).where(Job.call_id == call.id, Job.kind == release_job.KIND)).one()
    assert job.status == JobStatus.DONE
    assert {db.get(Proposal, p.id).status for p in proposals} == {ProposalStatus.REVIEW}
    page = client.get(response.headers["Location"]).text
    assert "審査委員への公開" in page and "3件の提案を審査委員に公開しました" in page
