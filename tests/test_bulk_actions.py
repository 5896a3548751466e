"""Bulk actions on the work lists (issue 12, item 3): accepting several
proposals at once (only those whose checklist passes, nothing half-done)
and reminders to chosen panel members, sent now or at a scheduled time."""
from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import func, select

from portal.admin import bulk
from portal.domain.intake import intake
from portal.domain.timeutil import now_utc, to_jst
from portal.jobs.tasks import sweep_once
from portal.models import IntakeDecision, OutboxMessage, Proposal, ProposalStatus, utcnow

from .conftest import csrf_token_from
from .factories import Factory
from .test_mail import smtp_config, smtp_server  # noqa: F401  (fixtures)


def _intake_world(factory):
    call = factory.call(opens_in=timedelta(days=-10), closes_in=timedelta(days=20))
    good = [factory.submitted(call) for _ in range(2)]
    bad = factory.submitted(call)
    call.requires_base_in_city = True
    bad.group.based_in_city = False  # no base in the city: its checklist fails
    factory.session.commit()
    return call, good, bad


def test_bulk_accept_takes_only_the_passing_ones_and_lists_the_others(factory, db, client, login):
    call, good, bad = _intake_world(factory)
    assert not all(item.ok for item in intake.checklist(bad, intake.latest_submission(bad, db)))
    login(factory.staff())
    page = client.get(f"/admin/calls/{call.id}/intake")
    html = page.get_data(as_text=True)
    assert f'id="pick-{good[0].id}"' in html and f'id="pick-{bad.id}"' not in html  # only passing ones offered
    response = client.post(f"/admin/calls/{call.id}/intake/bulk-accept", data={
        "csrf_token": csrf_token_from(html),
        "proposal_ids": [str(good[0].id), str(good[1].id), str(bad.id), "999999", "x"]},
        follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2件を受理しました" in text
    assert bad.receipt_number in text and "形式要件の確認が必要です" in text
    db.expire_all()
    assert [p.status for p in good] == [ProposalStatus.ACCEPTED] * 2
    assert bad.status != ProposalStatus.ACCEPTED
    mails = db.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient.in_([p.group.account.email for p in good])))
    assert mails >= 2


def test_bulk_accept_undoes_every_acceptance_when_one_fails(factory, db, monkeypatch):
    call, good, _bad = _intake_world(factory)
    staff = factory.staff()
    real = intake.decide_intake
    calls = []

    def failing_second(session, proposal, *args, **kwargs):
        calls.append(proposal.id)
        if len(calls) == 2:  # e.g. the group withdrew it a moment ago
            raise intake.IntakeError("この提案は「取下げ」のため、受付の判断はできません。")
        return real(session, proposal, *args, **kwargs)

    monkeypatch.setattr(intake, "decide_intake", failing_second)
    result = bulk.accept_many(db, call, [p.id for p in good], staff, now_utc())
    db.commit()
    assert result.accepted == [] and len(result.refused) == 2
    assert all("どれも受理していません" in reason for _label, reason in result.refused)
    db.expire_all()
    assert all(p.status != ProposalStatus.ACCEPTED for p in good)
    assert db.scalar(select(func.count()).select_from(IntakeDecision)) == 0


def test_bulk_accept_without_a_choice_explains(factory, db, client, login):
    call, _good, _bad = _intake_world(factory)
    login(factory.staff())
    html = client.get(f"/admin/calls/{call.id}/intake").get_data(as_text=True)
    response = client.post(f"/admin/calls/{call.id}/intake/bulk-accept",
                           data={"csrf_token": csrf_token_from(html)}, follow_redirects=True)
    assert "選んでください" in response.get_data(as_text=True)


def test_reminders_go_to_chosen_members_with_the_edited_message(factory, db, client, login):
    call = factory.scoring_call()
    chosen, other = factory.panel_member(call), factory.panel_member(call)
    login(factory.staff())
    page = client.get(f"/admin/calls/{call.id}/reminders")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "採点のお願い" in html
    token = csrf_token_from(html)
    refused = client.post(f"/admin/calls/{call.id}/reminders",
                          data={"csrf_token": token, "subject": "件名", "body": "本文"})
    assert refused.status_code == 422 and "1人以上選んでください" in refused.get_data(as_text=True)
    when = to_jst(now_utc() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/admin/calls/{call.id}/reminders", data={
        "csrf_token": token, "member_ids": [str(chosen.id)], "subject": "採点のお願い（再送）",
        "body": "編集した本文です。", "send_at": when})
    assert response.status_code == 302
    rows = list(db.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains("採点のお願い"))
                           .order_by(OutboxMessage.id)))
    assert [r.recipient for r in rows] == [chosen.user.email]
    assert rows[0].body == "編集した本文です。" and rows[0].next_attempt_at > utcnow() + timedelta(hours=23)
    assert "予約中の督促メール（1通）" in client.get(f"/admin/calls/{call.id}/reminders").get_data(as_text=True)
    assert other.user.email not in {r.recipient for r in rows}
    past = to_jst(now_utc() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    late = client.post(f"/admin/calls/{call.id}/reminders", data={
        "csrf_token": token, "member_ids": [str(chosen.id)], "subject": "件名", "body": "本文", "send_at": past})
    assert late.status_code == 422 and "これから先の日時" in late.get_data(as_text=True)


def test_a_scheduled_reminder_goes_out_when_due_and_not_before(app, db, factory, smtp_server,  # noqa: F811
                                                               smtp_config):  # noqa: F811
    smtp_config(*smtp_server.server_address)
    call = factory.scoring_call()
    member = factory.panel_member(call)
    due = utcnow() + timedelta(seconds=2)
    with app.test_request_context():
        [message] = bulk.queue_reminders(db, [member], "【みなと市】採点のお願い：テスト", "本文", due)
        message_id = message.id
        db.commit()  # the immediate queue tries at once: not due, nothing is sent
    assert smtp_server.messages == []
    huey = app.extensions["huey"]
    sweep_once(app, huey)
    assert smtp_server.messages == []
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.2)
    sweep_once(app, huey)  # what the worker runs every minute
    assert len(smtp_server.messages) == 1
    db.expire_all()
    assert db.get(OutboxMessage, message_id).sent_at >= due


def test_the_reminder_page_keeps_a_fixed_query_count(app, db, seed, client, count_queries):
    counts = []
    for size in (2, 25):
        with seed() as f:
            call = f.scoring_call()
            call_id = call.id
            for _ in range(size):
                f.panel_member(call)
            staff = f.staff()
            email = staff.email
        page_client = app.test_client()
        token = csrf_token_from(page_client.get("/login").get_data(as_text=True))
        page_client.post("/login", data={"email": email, "password": Factory.PASSWORD,
                                         "csrf_token": token})
        with count_queries() as counter:
            response = page_client.get(f"/admin/calls/{call_id}/reminders")
        assert response.status_code == 200 and response.get_data(as_text=True).count('name="member_ids"') == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_300_proposals_the_intake_list_offers_a_bounded_page_and_accepts_it_in_one_go(app, db, seed,
                                                                                      count_queries):
    from portal.admin.list_params import DEFAULT_PAGE_SIZE

    from .test_query_counts import intake_world, measure, sign_in

    with seed() as f:
        (small_call, _), (large_call, _) = intake_world(f, 10), intake_world(f, 300)
        staff_email = f.staff().email
    client = sign_in(app, staff_email)
    small = measure(client, count_queries, f"/admin/calls/{small_call}/intake?status=waiting")
    large = measure(client, count_queries, f"/admin/calls/{large_call}/intake?status=waiting")
    assert small[0] == large[0], (small[0], large[0])
    picks = re.findall(r'name="proposal_ids" value="(\d+)"', large[1])
    assert 0 < len(picks) <= DEFAULT_PAGE_SIZE
    response = client.post(f"/admin/calls/{large_call}/intake/bulk-accept",
                           data={"csrf_token": csrf_token_from(large[1]), "proposal_ids": picks})
    assert response.status_code == 302
    db.expire_all()
    accepted = db.scalars(select(Proposal.status).where(Proposal.id.in_([int(p) for p in picks]))).all()
    assert set(accepted) == {ProposalStatus.ACCEPTED}
