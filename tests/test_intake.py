"""受付・形式審査 and 担当課所見: the eligibility rules, the secretariat's
decisions, what the group is told, and the public log."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.domain.intake import eligibility, intake
from portal.domain.log import process_log
from portal.domain.proposals import workflow
from portal.domain.proposals.proposal_fields import DECLARATIONS
from portal.domain.timeutil import now_utc
from portal.models import (
    Call,
    DepartmentOpinion,
    Group,
    IntakeDecision,
    LogEntry,
    OutboxMessage,
    Proposal,
    ProposalStatus,
    StatusEvent,
)

from .conftest import csrf_token_from


# --- the rules, one by one (pure) ------------------------------------------------

def rules_call(**overrides) -> Call:
    values = dict(min_members=5, min_years_active=1, requires_base_in_city=True, budget_cap_per_proposal=300_000,
                  closes_at=datetime(2026, 5, 31, 8, 0, tzinfo=UTC))  # 17:00 JST on 31 May
    values.update(overrides)
    return Call(**values)


def snapshot(**overrides) -> dict:
    data = {
        "group": {"member_count": 12, "founded_on": "2015-04-01"},
        "documents": [{"kind": "規約・会則"}, {"kind": "役員名簿"}, {"kind": "直近の事業報告・決算書"}],
        "budget": {"income_total": 250_000, "expense_total": 250_000, "requested_amount": 200_000},
        "declarations": [{"text": d.text, "accepted_at": "2026-05-01T00:00:00+00:00"} for d in DECLARATIONS],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def result(items, key):
    return next(item for item in items if item.key == key)


def test_a_complete_submission_passes_every_rule():
    items = eligibility.check_submission(rules_call(), snapshot(), based_in_city=True)
    assert [i.key for i in items] == ["members", "base", "years_active", "documents", "budget_cap", "balance",
                                      "declarations"]
    assert all(i.ok for i in items), [i for i in items if not i.ok]
    assert eligibility.all_ok(items)


@pytest.mark.parametrize("members, ok", [(4, False), (5, True), (None, False)])
def test_members_at_least_the_minimum(members, ok):
    item = result(eligibility.check_submission(rules_call(), snapshot(group={"member_count": members}),
                                               based_in_city=True), "members")
    assert item.ok is ok
    assert "5人以上" in item.detail


def test_base_in_the_city_only_when_the_call_requires_it():
    assert not result(eligibility.check_submission(rules_call(), snapshot(), based_in_city=False), "base").ok
    relaxed = rules_call(requires_base_in_city=False)
    assert result(eligibility.check_submission(relaxed, snapshot(), based_in_city=False), "base").ok


@pytest.mark.parametrize("founded, ok", [
    ("2025-05-31", True),   # one full year on the closing day (JST)
    ("2025-06-01", False),  # one day short
    ("", False),            # not given
])
def test_years_active_counted_at_the_close_in_tokyo(founded, ok):
    item = result(eligibility.check_submission(rules_call(), snapshot(group={"founded_on": founded}),
                                               based_in_city=True), "years_active")
    assert item.ok is ok, item.detail


def test_years_active_uses_the_tokyo_date_of_the_close():
    # 15:30 UTC on 31 May is already 1 June in Tokyo: a group founded on
    # 1 June 2025 has its full year on the closing day.
    call = rules_call(closes_at=datetime(2026, 5, 31, 15, 30, tzinfo=UTC))
    item = result(eligibility.check_submission(call, snapshot(group={"founded_on": "2025-06-01"}),
                                               based_in_city=True), "years_active")
    assert item.ok
    assert eligibility.full_years(date(2024, 2, 29), date(2025, 2, 28)) == 0
    assert eligibility.full_years(date(2024, 2, 29), date(2025, 3, 1)) == 1


def test_required_documents_present():
    item = result(eligibility.check_submission(rules_call(), snapshot(documents=[{"kind": "規約・会則"}]),
                                               based_in_city=True), "documents")
    assert not item.ok
    assert "役員名簿" in item.detail and "直近の事業報告・決算書" in item.detail


@pytest.mark.parametrize("requested, ok", [(300_000, True), (300_001, False), (0, False)])
def test_requested_amount_within_the_cap(requested, ok):
    item = result(eligibility.check_submission(rules_call(), snapshot(budget={"requested_amount": requested}),
                                               based_in_city=True), "budget_cap")
    assert item.ok is ok


def test_income_equals_expenses():
    item = result(eligibility.check_submission(rules_call(), snapshot(budget={"expense_total": 260_000}),
                                               based_in_city=True), "balance")
    assert not item.ok
    assert "250,000円" in item.detail and "260,000円" in item.detail


def test_every_declaration_accepted():
    declarations = snapshot()["declarations"]
    declarations[2]["accepted_at"] = None
    item = result(eligibility.check_submission(rules_call(), snapshot(declarations=declarations),
                                               based_in_city=True), "declarations")
    assert not item.ok
    assert DECLARATIONS[2].text in item.detail


# --- the secretariat's pages -----------------------------------------------------------

@pytest.fixture()
def world(seed):
    with seed() as f:
        call = f.call(correction_days=7)
        proposal = f.submitted(call, name="みなと見守りの会")
        staff = f.staff()
        return {"call_id": call.id, "proposal_id": proposal.id, "staff": staff,
                "applicant": proposal.group.account, "receipt": proposal.receipt_number,
                "code": proposal.anonymous_code, "reviewer": f.reviewer()}


def intake_url(world, suffix=""):
    return f"/admin/calls/{world['call_id']}/intake/{world['proposal_id']}{suffix}"


def decide(client, world, **data):
    token = csrf_token_from(client.get(intake_url(world)).text)
    return client.post(intake_url(world, "/decide"), data={"csrf_token": token, **data})


def fresh(db, model, id_):
    db.expire_all()
    return db.get(model, id_)


def log_entries(db, call_id, kind):
    return db.scalars(select(LogEntry).where(LogEntry.call_id == call_id, LogEntry.kind == kind)
                      .order_by(LogEntry.seq)).all()


def test_intake_list_shows_submissions_with_their_checklist(client, login, world):
    login(world["staff"])
    page = client.get(f"/admin/calls/{world['call_id']}/intake")
    assert page.status_code == 200
    assert world["receipt"] in page.text
    assert "みなと見守りの会" in page.text
    assert "すべて適合" in page.text
    detail = client.get(intake_url(world))
    assert detail.status_code == 200
    assert "会員数12人" in detail.text  # the checklist
    assert "事業名の内容です。" in detail.text  # the submitted snapshot
    assert "規約.pdf" in detail.text and "/files/" in detail.text  # documents, downloadable


def test_a_failed_rule_is_flagged_on_the_list(client, login, world, db):
    proposal = db.get(Proposal, world["proposal_id"])
    proposal.group.based_in_city = False
    db.commit()
    login(world["staff"])
    page = client.get(f"/admin/calls/{world['call_id']}/intake")
    assert "要確認 1件" in page.text
    assert "市内の活動拠点" in page.text


@pytest.mark.parametrize("outcome", ["return", "reject"])
def test_return_and_reject_need_reasons(client, login, world, db, outcome):
    login(world["staff"])
    response = decide(client, world, outcome=outcome, reasons="  ", reason_category="formal")
    assert response.status_code == 422
    assert "理由を入力してください" in response.text
    assert fresh(db, Proposal, world["proposal_id"]).status == ProposalStatus.SUBMITTED
    assert db.scalars(select(IntakeDecision)).all() == []
    assert log_entries(db, world["call_id"], "intake_decided") == []


def test_the_domain_verb_refuses_a_return_without_reasons(db, world):
    proposal = db.get(Proposal, world["proposal_id"])
    with pytest.raises(intake.IntakeError):
        intake.decide_intake(db, proposal, "return", "", db.merge(world["staff"]), now_utc())


def test_return_tells_the_group_and_logs_only_a_category(client, login, world, db):
    login(world["staff"])
    private = "役員名簿の山田 花子様の記載が古いため、最新のものを添付してください。"
    before = now_utc()
    response = decide(client, world, outcome="return", reasons=private, reason_category="documents")
    assert response.status_code == 302

    proposal = fresh(db, Proposal, world["proposal_id"])
    assert proposal.status == ProposalStatus.RETURNED
    assert before + timedelta(days=7) <= proposal.correction_due_at <= now_utc() + timedelta(days=7)
    decision = db.scalars(select(IntakeDecision).where(IntakeDecision.proposal_id == proposal.id)).one()
    assert decision.reasons == private
    assert decision.submission_id == proposal.submissions[-1].id
    assert {item["key"] for item in decision.checklist} >= {"members", "documents", "declarations"}
    event = proposal.events[-1]
    assert event.to_status == ProposalStatus.RETURNED and private in event.note

    mail = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == world["applicant"].email)
                      .order_by(OutboxMessage.id.desc())).first()
    assert "差し戻し" in mail.subject and private in mail.body

    entries = log_entries(db, world["call_id"], "intake_decided")
    assert [e.payload for e in entries] == [
        {"proposal_code": world["code"], "outcome": "return", "reason": "提出書類不備"}]
    assert "山田" not in str(entries[0].payload) and "みなと" not in str(entries[0].payload)
    assert process_log.verify(db, db.get(Call, world["call_id"])).ok


def test_the_group_sees_the_decision_and_can_resubmit(client, seed, login, world, db):
    proposal = db.get(Proposal, world["proposal_id"])
    staff = db.merge(world["staff"])
    intake.decide_intake(db, proposal, "return", "収支予算書の内訳を記入してください。", staff, now_utc())
    db.commit()

    login(world["applicant"])
    page = client.get(f"/proposals/{world['proposal_id']}")
    assert page.status_code == 200
    assert "収支予算書の内訳を記入してください。" in page.text
    assert "修正期限" in page.text
    assert "修正して再提出する" in page.text

    # The group corrects and resubmits through the existing workflow; staff accept.
    proposal = fresh(db, Proposal, world["proposal_id"])
    user = db.merge(world["applicant"])
    workflow.submit_proposal(db, proposal, user, proposal.version, now_utc())
    db.commit()
    assert proposal.status == ProposalStatus.SUBMITTED
    assert intake.latest_submission(proposal, db).revision == 2
    decision = intake.decide_intake(db, proposal, "accept", "", staff, now_utc())
    db.commit()
    assert proposal.status == ProposalStatus.ACCEPTED
    assert decision.submission_id == intake.latest_submission(proposal, db).id
    entries = log_entries(db, world["call_id"], "intake_decided")
    assert [e.payload["outcome"] for e in entries] == ["return", "accept"]
    assert entries[-1].payload["reason"] == ""
    assert process_log.verify(db, db.get(Call, world["call_id"])).ok


def test_reject_is_shown_with_its_reason(client, login, world, db):
    login(world["staff"])
    assert decide(client, world, outcome="reject", reasons="営利を目的とする事業のため対象外です。",
                  reason_category="excluded").status_code == 302
    proposal = fresh(db, Proposal, world["proposal_id"])
    assert proposal.status == ProposalStatus.REJECTED
    assert proposal.correction_due_at is None
    assert log_entries(db, world["call_id"], "intake_decided")[0].payload["reason"] == "対象外の事業"
    # Decided once: a second decision is refused.
    response = decide(client, world, outcome="accept", reasons="")
    assert response.status_code == 409
    assert fresh(db, Proposal, world["proposal_id"]).status == ProposalStatus.REJECTED


def test_accept(client, login, world, db):
    login(world["staff"])
    assert decide(client, world, outcome="accept", reasons="").status_code == 302
    proposal = fresh(db, Proposal, world["proposal_id"])
    assert proposal.status == ProposalStatus.ACCEPTED
    assert db.scalars(select(StatusEvent).where(StatusEvent.proposal_id == proposal.id)
                      .order_by(StatusEvent.id.desc())).first().to_status == ProposalStatus.ACCEPTED
    assert db.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains("受理"))).first() is not None


def test_department_opinion(client, login, world, db):
    login(world["staff"])
    token = csrf_token_from(client.get(intake_url(world)).text)
    bad = client.post(intake_url(world, "/department"),
                      data={"csrf_token": token, "department": "高齢福祉課", "feasibility": "maybe"})
    assert bad.status_code == 422
    assert db.scalars(select(DepartmentOpinion)).all() == []
    ok = client.post(intake_url(world, "/department"),
                     data={"csrf_token": token, "department": "高齢福祉課", "feasibility": "conditional",
                           "opinion": "会場の確保に協力できます。"})
    assert ok.status_code == 302
    opinion = db.scalars(select(DepartmentOpinion).where(DepartmentOpinion.proposal_id == world["proposal_id"])).one()
    assert (opinion.department, opinion.feasibility) == ("高齢福祉課", "conditional")
    assert "条件付きで実施可能" in client.get(intake_url(world)).text


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_only_staff_reach_intake(client, login, world, db, role):
    login(world[role])
    for path in (f"/admin/calls/{world['call_id']}/intake", intake_url(world)):
        assert client.get(path).status_code == 403
    token = csrf_token_from(client.get("/").text) if 'name="csrf_token"' in client.get("/").text else ""
    response = client.post(intake_url(world, "/decide"), data={"outcome": "accept", "csrf_token": token})
    assert response.status_code == 403
    assert fresh(db, Proposal, world["proposal_id"]).status == ProposalStatus.SUBMITTED


# --- the officers list on the profile ----------------------------------------------------

def test_officers_are_kept_one_per_line(client, seed, login, db):
    with seed() as f:
        user = f.applicant()
    login(user)
    page = client.get("/profile")
    assert 'name="officer_names"' in page.text
    from .journey import PROFILE

    token = csrf_token_from(page.text)
    response = client.post("/profile", data={**PROFILE, "csrf_token": token,
                                             "officer_names": "鈴木 一郎\r\n\r\n　林 美咲　\n髙橋 次郎"})
    assert response.status_code == 302
    db.expire_all()
    group = db.scalar(select(Group).where(Group.account_id == user.id))
    assert group.officer_names == ["鈴木 一郎", "林 美咲", "髙橋 次郎"]
    assert "林 美咲\n髙橋 次郎" in client.get("/profile").text
