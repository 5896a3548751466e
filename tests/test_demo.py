"""The demo data (``flask seed-demo``) obeys the portal's own rules, and a
demo applicant can use it through the real login form."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from portal.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    FINISHED_CALL_SLUG,
    OPEN_CALL_SLUG,
    load_demo_data,
)
from portal.domain import workflow
from portal.domain.proposal_fields import EXPENSE_CATEGORIES, INCOME_CATEGORIES, REQUEST_CATEGORY
from portal.domain.timeutil import now_utc
from portal.models import BudgetKind, Call, Proposal, ProposalStatus, Role, User


def _begin_real_transaction_on_sqlite(db) -> None:
    """pysqlite (legacy transaction mode) emits no BEGIN for ``connection.begin()``,
    so the first SAVEPOINT opens the transaction and releasing it (a commit in
    the app) writes to disk: the rollback in the ``db`` fixture then undoes
    nothing. The demo uses fixed slugs and addresses, so it must really be
    rolled back; an explicit BEGIN makes the savepoints nest inside it."""
    connection = db.get_bind()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN")


@pytest.fixture()
def demo(app, db):
    _begin_real_transaction_on_sqlite(db)
    with app.app_context():
        load_demo_data(db)
        db.commit()  # a savepoint release: request rollbacks must not undo the demo
    db.expire_all()
    return db


def call_by_slug(db, slug) -> Call:
    return db.scalar(select(Call).where(Call.slug == slug))


def proposals_of(db, call) -> list[Proposal]:
    return list(db.scalars(select(Proposal).where(Proposal.call_id == call.id).order_by(Proposal.id)))


def test_open_call_is_open_now_and_last_years_call_is_over(demo):
    now = now_utc()
    open_call = call_by_slug(demo, OPEN_CALL_SLUG)
    finished = call_by_slug(demo, FINISHED_CALL_SLUG)
    assert open_call.fiscal_year == 2026 and finished.fiscal_year == 2025
    assert open_call.is_open(now)
    assert not open_call.screening_started(now)
    assert open_call.published_at <= open_call.opens_at
    assert finished.published_at is not None and finished.is_closed(now)
    assert finished.results_at < now
    for call in (open_call, finished):
        assert call.budget_cap_per_proposal == 300_000
        assert call.budget_total == 1_500_000
        assert 5 <= len(call.criteria) <= 7
        assert call.max_total_points == 100
        assert all(c.level_descriptors["5"] == "優れている" and c.level_descriptors["1"] == "劣る"
                   for c in call.criteria)
        assert set(call.field_limits) == set(workflow.limits_for(call))
        for excluded in ("営利", "特定の個人", "施設の建設", "他の補助金", "宗教", "親睦", "単発のイベント",
                         "公開プレゼンテーション", "伏せた"):
            assert excluded in call.guidelines, excluded


def test_proposal_states(demo):
    now = now_utc()
    open_states = Counter(p.status for p in proposals_of(demo, call_by_slug(demo, OPEN_CALL_SLUG)))
    assert open_states == {ProposalStatus.DRAFT: 2, ProposalStatus.SUBMITTED: 2, ProposalStatus.RETURNED: 1}
    finished = proposals_of(demo, call_by_slug(demo, FINISHED_CALL_SLUG))
    assert len(finished) == 6 and {p.status for p in finished} == {ProposalStatus.RESULTS}

    returned = next(p for p in proposals_of(demo, call_by_slug(demo, OPEN_CALL_SLUG))
                    if p.status == ProposalStatus.RETURNED)
    assert returned.correction_due_at > now
    assert workflow.edit_refusal(returned, now) is None  # the group can correct and resubmit
    last = returned.events[-1]
    assert last.to_status == ProposalStatus.RETURNED and "施設" in last.note

    drafts = [p for p in proposals_of(demo, call_by_slug(demo, OPEN_CALL_SLUG)) if p.status == ProposalStatus.DRAFT]
    problems = sorted(len(workflow.submission_problems(p, p.group.account)) for p in drafts)
    assert problems[0] == 1  # the almost complete draft lacks one text
    assert problems[1] > 5  # the other one has barely started


def test_every_submission_has_a_unique_receipt_and_a_matching_snapshot(demo):
    seen = set()
    for call in demo.scalars(select(Call).where(Call.published_at.is_not(None))):
        submitted = [p for p in proposals_of(demo, call) if p.status != ProposalStatus.DRAFT]
        assert call.receipt_counter == len(submitted)
        for proposal in submitted:
            assert proposal.receipt_number and proposal.receipt_number not in seen
            seen.add(proposal.receipt_number)
            assert proposal.submitted_at is not None
            assert proposal.submissions, proposal.title
            assert {d.key for d in proposal.declarations} == set(workflow.DECLARATION_KEYS)
            for submission in proposal.submissions:
                assert submission.receipt_number == proposal.receipt_number
                assert submission.snapshot["receipt_number"] == proposal.receipt_number
                assert workflow.snapshot_digest(submission.snapshot) == submission.snapshot_sha256
                assert call.opens_at <= submission.submitted_at < call.closes_at
            events = [e.to_status for e in proposal.events]
            assert events[:2] == [ProposalStatus.DRAFT, ProposalStatus.SUBMITTED]
            assert events[-1] == proposal.status
            assert workflow.submission_problems(proposal, proposal.group.account) == []
    assert len(seen) == 9


def test_every_budget_balances_within_the_cap_and_texts_fit(demo):
    for proposal in demo.scalars(select(Proposal)):
        call = proposal.call
        assert workflow.text_problems(proposal, call) == {}, proposal.title
        income, expense = workflow.budget_totals(proposal)
        assert income == expense, proposal.title
        assert proposal.requested_amount == workflow.requested_amount(proposal)
        assert proposal.requested_amount <= call.budget_cap_per_proposal
        for line in proposal.budget_lines:
            allowed = INCOME_CATEGORIES if line.kind == BudgetKind.INCOME else EXPENSE_CATEGORIES
            assert line.category in allowed
        if proposal.budget_lines:
            assert any(line.category == REQUEST_CATEGORY for line in proposal.budget_lines)
        # Reviewers see proposals without the group's name; the demo texts set the example.
        texts = " ".join(getattr(proposal, key) for key in workflow.limits_for(call))
        assert proposal.group.name not in texts


def test_demo_accounts_are_confirmed_applicants_with_complete_groups(demo):
    users = list(demo.scalars(select(User)))
    assert {(u.email, u.group.name) for u in users} == {(a.email, a.group_name) for a in DEMO_ACCOUNTS}
    for user in users:
        assert user.role == Role.APPLICANT and user.email_confirmed
        assert user.email.endswith("@example.jp")
        assert user.group.profile_complete, user.group.missing_profile_items()
        assert user.group.member_count >= 5


def test_a_demo_applicant_logs_in_and_sees_the_dashboard(demo, client, login):
    user = demo.scalar(select(User).where(User.email == "chanoma@example.jp"))
    login(user, password=DEMO_PASSWORD)
    page = client.get("/mypage")
    assert page.status_code == 200
    assert "地域の茶の間「ひだまり」運営委員会" in page.text
    assert "地域の茶の間で始める「ちょっと困りごと」相談と見守り" in page.text
    assert "令和8年度 市民提案型協働モデル事業 提案募集" in page.text


def test_public_pages_show_the_demo_calls(demo, client):
    index = client.get("/")
    assert index.status_code == 200 and "令和8年度 市民提案型協働モデル事業" in index.text
    for slug in (OPEN_CALL_SLUG, FINISHED_CALL_SLUG):
        page = client.get(f"/calls/{slug}")
        assert page.status_code == 200 and "公益性" in page.text
