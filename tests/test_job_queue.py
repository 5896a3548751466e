"""Publication and mail through the real queue: a worker process of its own
(``flask worker``), on a SQLite queue file and on Redis, with the suite's
database (SQLite, or PostgreSQL with TEST_DATABASE_URL) and real commits.

- The staff's request only records the job: with no worker running the
  page shows it waiting and nothing is published; a worker then does it.
- Two tabs pressing 公表 at once make one job and one version.
- A job left running by a worker that died (what a SIGKILL leaves: status
  running, an old heartbeat) is run again by the next worker, once: no
  duplicated log entry, publication or mail.
- The groups' mails go out from the worker over SMTP, once each.
"""
from __future__ import annotations

import email
import os
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import func, select, update

from portal.domain.log import chain, process_log
from portal.jobs.queue import enqueue_now
from portal.jobs.tasks import sweep_once
from portal.models import Call, Job, JobStatus, OutboxMessage, Publication, utcnow

from .job_worker import Worker, forget_queue, queue_url, use_real_queue, wait_for
from .test_mail import smtp_server  # noqa: F401  (the recording SMTP server fixture)
from .test_publish_race import click_together, committed, ready_call, staff_tabs  # noqa: F401

pytestmark = pytest.mark.parametrize("queue", ["sqlite", "redis"])


@pytest.fixture()
def queued(committed, queue, tmp_path):  # noqa: F811
    app, Session = committed
    use_real_queue(app, queue_url(queue, tmp_path))
    workers: list[Worker] = []

    def start_worker(**env) -> Worker:
        worker = Worker(app, tmp_path / f"worker-{len(workers)}.log", **env).start()
        workers.append(worker)
        return worker

    yield app, Session, start_worker
    for worker in workers:
        worker.stop()
    forget_queue(app)


def job_of(Session, call_id: int) -> Job | None:
    with Session() as session:
        return session.scalars(select(Job).where(Job.call_id == call_id).order_by(Job.id.desc())).first()


def finished(Session, call_id: int):
    def check():
        job = job_of(Session, call_id)
        return job if job is not None and not job.active else None
    return check


def thread_policies(pid: int) -> set[int]:
    """The CPU scheduling policy of every thread of a process (Linux)."""
    return {os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def publication_state(Session, call_id: int):
    with Session() as session:
        versions = list(session.scalars(select(Publication.version).where(Publication.call_id == call_id)
                                        .order_by(Publication.version)))
        entries = process_log.entries(session, session.get(Call, call_id))
        assert chain.verify_chain(entries).ok
        kinds = [e.kind for e in entries]
        mails = session.scalar(select(func.count()).select_from(OutboxMessage))
        return versions, kinds, mails


def test_the_request_only_records_the_job_and_a_worker_publishes(queued):
    app, Session, start_worker = queued
    call_id, email_address = ready_call(app, Session)
    (client, fields), = staff_tabs(app, call_id, email_address, count=1)
    response = client.post(f"/admin/calls/{call_id}/results/publish", data=fields)
    assert response.status_code == 302

    # No worker yet: the job waits, nothing is published, the page says so.
    job = job_of(Session, call_id)
    assert job.status == JobStatus.QUEUED and job.active_key == f"publish:{call_id}"
    assert publication_state(Session, call_id)[0] == []
    page = client.get(f"/admin/calls/{call_id}/results").get_data(as_text=True)
    assert "公表の処理を進めています" in page and "待機中" in page and 'role="status"' in page
    status = client.get(f"/admin/jobs/{job.id}.json").get_json()
    assert status["status"] == "queued" and status["active"] is True

    # As production runs it: in the idle CPU class, which still gets the work done.
    worker = start_worker(JOB_WORKER_CPU_POLICY="idle")
    job = wait_for(finished(Session, call_id), what="the publication job", worker=worker)
    assert job.status == JobStatus.DONE, (job.message, worker.output())
    assert job.result == {"version": 1} and job.attempts == 1 and job.active_key is None
    assert thread_policies(worker.process.pid) == {os.SCHED_IDLE}, worker.output()
    versions, kinds, _mails = publication_state(Session, call_id)
    assert versions == [1] and kinds.count(chain.RESULTS_PUBLISHED) == 1
    status = client.get(f"/admin/jobs/{job.id}.json").get_json()
    assert status["status"] == "done" and status["done"] == status["total"]
    page = client.get(f"/admin/calls/{call_id}/results").get_data(as_text=True)
    assert "第1版を" in page and "公表の処理を進めています" not in page
    public = app.test_client().get(f"/calls/{_slug(Session, call_id)}/results.pdf")
    assert public.status_code == 200 and public.data.startswith(b"%PDF")


def test_two_tabs_pressing_publish_at_once_make_one_job_and_one_version(queued):
    app, Session, start_worker = queued
    call_id, email_address = ready_call(app, Session)
    worker = start_worker()
    tabs = staff_tabs(app, call_id, email_address)
    responses = click_together(tabs, call_id)
    assert [r.status_code for r in responses] == [302, 302]
    wait_for(finished(Session, call_id), what="the publication job", worker=worker)
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.call_id == call_id)) == 1
    versions, kinds, _mails = publication_state(Session, call_id)
    assert versions == [1]
    assert kinds.count(chain.SCORES_REVEALED) == 1 and kinds.count(chain.RESULTS_PUBLISHED) == 1


def test_a_job_whose_worker_died_is_run_again_once(queued):
    app, Session, start_worker = queued
    call_id, email_address = ready_call(app, Session)
    (client, fields), = staff_tabs(app, call_id, email_address, count=1)
    assert client.post(f"/admin/calls/{call_id}/results/publish", data=fields).status_code == 302
    # What a worker killed mid-render leaves: the job running, its heartbeat
    # stopped long ago, and the queue's message gone with the worker.
    with Session() as session:
        session.execute(update(Job).where(Job.call_id == call_id).values(
            status=JobStatus.RUNNING, attempts=1, started_at=utcnow() - timedelta(minutes=10),
            heartbeat_at=utcnow() - timedelta(minutes=10)))
        session.commit()
    app.extensions["huey"].flush()  # the message is lost

    worker = start_worker(JOB_STALL_SECONDS=30)  # its start-up sweep finds the job
    job = wait_for(finished(Session, call_id), what="the recovered job", worker=worker)
    assert job.status == JobStatus.DONE and job.attempts == 2
    before = publication_state(Session, call_id)
    assert before[0] == [1] and before[1].count(chain.RESULTS_PUBLISHED) == 1

    # Asked again (a duplicate message, another sweep): nothing more happens.
    with app.app_context():
        sweep_once(app, app.extensions["huey"])
    enqueue_now(app.extensions["huey"], "run_job", job.id)
    wait_for(lambda: app.extensions["huey"].pending_count() == 0, seconds=30, what="the queue to drain")
    assert publication_state(Session, call_id) == before
    assert job_of(Session, call_id).attempts == 2  # a done job is not even claimed


def test_a_worker_killed_while_publishing_leaves_nothing_half_done(queued):
    """A real SIGKILL at whatever point the job had reached; the next worker
    (short stall time) finishes it: exactly one version either way."""
    app, Session, start_worker = queued
    call_id, email_address = ready_call(app, Session)
    (client, fields), = staff_tabs(app, call_id, email_address, count=1)
    first = start_worker()
    assert client.post(f"/admin/calls/{call_id}/results/publish", data=fields).status_code == 302
    wait_for(lambda: (job := job_of(Session, call_id)) is not None and job.status != JobStatus.QUEUED,
             what="the job to start", worker=first)
    first.kill()
    second = start_worker(JOB_STALL_SECONDS=2)
    # The start-up sweep runs before the stall has passed; the minute's
    # sweep would find it later, so ask for one now, as cron would.
    wait_for(lambda: _sweep_when_stalled(app, Session, call_id), seconds=60, what="the stalled job", worker=second)
    job = wait_for(finished(Session, call_id), what="the job after the crash", worker=second)
    assert job.status == JobStatus.DONE, job.message
    versions, kinds, _mails = publication_state(Session, call_id)
    assert versions == [1]
    assert kinds.count(chain.SCORES_REVEALED) == 1 and kinds.count(chain.RESULTS_PUBLISHED) == 1


def _sweep_when_stalled(app, Session, call_id) -> bool:
    job = job_of(Session, call_id)
    if not job.active:
        return True
    if job.status == JobStatus.RUNNING and job.heartbeat_at < utcnow() - timedelta(seconds=3):
        app.config["JOB_STALL_SECONDS"] = 2
        with app.app_context():
            sweep_once(app, app.extensions["huey"])
        return True
    return False


def test_the_groups_mails_go_out_from_the_worker_once_each(queued, smtp_server):  # noqa: F811
    app, Session, start_worker = queued
    host, port = smtp_server.server_address
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_USE_TLS=False)
    call_id, email_address = ready_call(app, Session)
    (client, fields), = staff_tabs(app, call_id, email_address, count=1)
    with Session() as session:
        already = session.scalar(select(func.count()).select_from(OutboxMessage))
    worker = start_worker()
    assert client.post(f"/admin/calls/{call_id}/results/publish", data=fields).status_code == 302
    wait_for(finished(Session, call_id), what="the publication job", worker=worker)

    def all_sent():
        with Session() as session:
            rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id).offset(already)).all()
            return rows if rows and all(r.sent_at is not None for r in rows) else None

    rows = wait_for(all_sent, what="the mails to be delivered", worker=worker)
    assert all(r.body == "" and r.attempts == 1 for r in rows)
    subjects = [email.message_from_bytes(m, policy=policy.default)["Subject"] for m in smtp_server.messages]
    assert len([s for s in subjects if "審査結果を公表しました" in s]) == len(rows)
    with app.app_context():
        sweep_once(app, app.extensions["huey"])
    assert len(smtp_server.messages) == len(subjects)  # nothing sent twice


def _slug(Session, call_id: int) -> str:
    with Session() as session:
        return session.get(Call, call_id).slug
