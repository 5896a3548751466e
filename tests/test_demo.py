"""The demo data (``flask seed-demo``) obeys the portal's own rules, was built
through the real verbs (its process logs and published documents verify),
and every demo account can use it through the real login form.

Loading the demo renders the published PDFs, so it is loaded once for this
module, inside a transaction that is rolled back at the end; each test runs
in a savepoint of its own (the ``db`` fixture below replaces conftest's
here, and ``client``/``login`` use it)."""
from __future__ import annotations

import json
import os
import uuid
from collections import Counter

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.orm import Session

from portal import db as database
from portal.db import db_session
from portal.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    FINISHED_CALL_SLUG,
    OPEN_CALL_SLUG,
    REVIEWERS,
    SPECIAL_CALL_SLUG,
    STAFF,
    load_demo_data,
)
from portal.domain.log import chain, process_log, published_log, signing, verification
from portal.domain.proposals import workflow
from portal.domain.proposals.snapshot import snapshot_digest
from portal.domain.results import publication
from portal.domain.scoring import progress
from portal.domain.proposals.proposal_fields import EXPENSE_CATEGORIES, INCOME_CATEGORIES, REQUEST_CATEGORY
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.migrate import upgrade
from portal.models import (
    Assignment,
    BudgetKind,
    Call,
    Conflict,
    ConflictSource,
    ConflictStatus,
    Decision,
    DecisionOutcome,
    FindingStatus,
    IntakeDecision,
    LogEntry,
    PanelMember,
    Proposal,
    ProposalStatus,
    RedactionFinding,
    ReviewCopy,
    ReviewSheet,
    Role,
    SheetStatus,
    Stage,
    Submission,
    User,
)

from .conftest import TEST_DATABASE_URL, _postgres_url_with_schema, _sqlite_begin


@pytest.fixture(scope="module")
def demo_connection(app, tmp_path_factory):
    # The log is signed with a key of this module's own; the instance key stays untouched.
    previous_key = app.config.get("LOG_SIGNING_KEY_PATH")
    app.config["LOG_SIGNING_KEY_PATH"] = str(tmp_path_factory.mktemp("demo-key") / "log-signing-key.pem")
    engine = app.extensions["engine"]
    connection = engine.connect()
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        connection.connection.driver_connection.isolation_level = None
        event.listen(connection, "begin", _sqlite_begin)
    transaction = connection.begin()
    database.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    db_session.remove()
    with app.app_context():
        load_demo_data(db_session)
        db_session.commit()  # a savepoint release: the module's transaction keeps it
    db_session.remove()
    yield connection
    db_session.remove()
    transaction.rollback()
    if sqlite:
        event.remove(connection, "begin", _sqlite_begin)
        connection.connection.driver_connection.isolation_level = ""
    connection.close()
    database.session_factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")
    if previous_key is None:
        app.config.pop("LOG_SIGNING_KEY_PATH", None)
    else:
        app.config["LOG_SIGNING_KEY_PATH"] = previous_key


@pytest.fixture()
def db(demo_connection):
    """This module's ``db``: the loaded demo, with whatever a test changes rolled back."""
    savepoint = demo_connection.begin_nested()
    db_session.remove()
    yield db_session
    db_session.remove()
    if savepoint.is_active:
        savepoint.rollback()


@pytest.fixture()
def demo(db):
    db.expire_all()
    return db


DEMO_SLUGS = (FINISHED_CALL_SLUG, OPEN_CALL_SLUG, SPECIAL_CALL_SLUG)
from portal.demo.large_call import LARGE_CALL_SLUG  # noqa: E402 - the fourth call, 40 proposals, k-of-n


def call_by_slug(db, slug) -> Call:
    return db.scalar(select(Call).where(Call.slug == slug))


def demo_calls(db) -> list[Call]:
    """The demo's calls only (a test elsewhere may leave a committed call behind)."""
    return list(db.scalars(select(Call).where(Call.slug.in_(DEMO_SLUGS)).order_by(Call.id)))


def demo_proposals(db) -> list[Proposal]:
    return [p for call in demo_calls(db) for p in proposals_of(db, call)]


def proposals_of(db, call) -> list[Proposal]:
    return list(db.scalars(select(Proposal).where(Proposal.call_id == call.id).order_by(Proposal.id)))


def user_by_email(db, email) -> User:
    return db.scalar(select(User).where(User.email == email))


# -- calls and proposals -------------------------------------------------------------


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
    assert finished.results_published_at == finished.results_at
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


def test_the_special_call_closed_three_weeks_ago_and_is_being_scored_now(demo):
    now = now_utc()
    call = call_by_slug(demo, SPECIAL_CALL_SLUG)
    assert call.published_at is not None and call.is_closed(now)
    assert 19 <= (now - call.closes_at).days <= 22
    assert call.screening_started(now)
    assert call.is_scoring_open("document", now) and call.scoring_closed_at is None
    assert not call.scoring_over(now) and call.results_published_at is None
    assert call.max_total_points == 100
    assert "伏せた" in call.guidelines and "書類審査のみ" in call.guidelines


def test_proposal_states(demo):
    now = now_utc()
    open_call = call_by_slug(demo, OPEN_CALL_SLUG)
    open_states = Counter(p.status for p in proposals_of(demo, open_call))
    assert open_states == {ProposalStatus.DRAFT: 2, ProposalStatus.SUBMITTED: 2, ProposalStatus.RETURNED: 1}
    finished = proposals_of(demo, call_by_slug(demo, FINISHED_CALL_SLUG))
    assert len(finished) == 6 and {p.status for p in finished} == {ProposalStatus.RESULTS}
    special = proposals_of(demo, call_by_slug(demo, SPECIAL_CALL_SLUG))
    assert Counter(p.status for p in special) == {
        ProposalStatus.REVIEW: 5, ProposalStatus.SUBMITTED: 1, ProposalStatus.RETURNED: 1}

    for call, word in ((open_call, "施設"), (call_by_slug(demo, SPECIAL_CALL_SLUG), "親睦")):
        returned = next(p for p in proposals_of(demo, call) if p.status == ProposalStatus.RETURNED)
        assert returned.correction_due_at > now
        assert workflow.edit_refusal(returned, now) is None  # the group can correct and resubmit
        last = returned.events[-1]
        assert last.to_status == ProposalStatus.RETURNED and word in last.note
        decision = demo.scalar(select(IntakeDecision).where(IntakeDecision.proposal_id == returned.id)
                               .order_by(IntakeDecision.id.desc()))
        assert decision.correction_due_at == returned.correction_due_at and word in decision.reasons

    drafts = [p for p in proposals_of(demo, open_call) if p.status == ProposalStatus.DRAFT]
    problems = sorted(len(workflow.submission_problems(p, p.group.account)) for p in drafts)
    assert problems[0] == 1  # the almost complete draft lacks one text
    assert problems[1] > 5  # the other one has barely started


def test_every_submission_has_a_unique_receipt_code_and_a_matching_snapshot(demo):
    seen, codes = set(), set()
    for call in demo_calls(demo):
        assert call.published_at is not None
        submitted = [p for p in proposals_of(demo, call) if p.status != ProposalStatus.DRAFT]
        assert call.receipt_counter == len(submitted)
        for proposal in submitted:
            assert proposal.receipt_number and proposal.receipt_number not in seen
            seen.add(proposal.receipt_number)
            assert (call.id, proposal.anonymous_code) not in codes
            codes.add((call.id, proposal.anonymous_code))
            assert proposal.submitted_at is not None
            assert proposal.submissions, proposal.title
            assert {d.key for d in proposal.declarations} == set(workflow.DECLARATION_KEYS)
            for submission in proposal.submissions:
                assert submission.receipt_number == proposal.receipt_number
                assert submission.snapshot["receipt_number"] == proposal.receipt_number
                assert snapshot_digest(submission.snapshot) == submission.snapshot_sha256
                assert call.opens_at <= submission.submitted_at < call.closes_at
            events = [e.to_status for e in proposal.events]
            assert events[:2] == [ProposalStatus.DRAFT, ProposalStatus.SUBMITTED]
            assert events[-1] == proposal.status
            assert workflow.submission_problems(proposal, proposal.group.account) == []
            assert proposal.group.account.created_at < proposal.created_at  # registered first
    assert len(seen) == 6 + 3 + 7


def test_every_budget_balances_within_the_cap_and_texts_fit(demo):
    for proposal in demo_proposals(demo):
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


def test_reviewers_never_see_what_identifies_a_group(demo):
    """Some demo texts slip in a group's name, its representative or its
    website, as real ones do: the scan found them, staff decided every
    finding, and the reviewers' copies carry none of it."""
    ids = [p.id for p in demo_proposals(demo)]
    findings = list(demo.scalars(select(RedactionFinding).where(RedactionFinding.proposal_id.in_(ids))))
    statuses = Counter(f.status for f in findings)
    assert statuses[FindingStatus.PENDING] == 0
    assert statuses[FindingStatus.REDACT] >= 4 and statuses[FindingStatus.DISMISS] >= 1
    copies = list(demo.scalars(select(ReviewCopy).where(ReviewCopy.proposal_id.in_(ids))))
    assert len(copies) == 6 + 5
    for copy in copies:
        proposal = demo.get(Proposal, copy.proposal_id)
        content = json.dumps(copy.content, ensure_ascii=False)
        group = proposal.group
        for identifying in (group.name, group.representative_name, group.phone, group.address):
            assert identifying not in content, (proposal.title, identifying)
        if group.website:
            assert group.website not in content
        assert copy.code == proposal.anonymous_code
    redacted = {f.text for f in findings if f.status == FindingStatus.REDACT}
    assert "白浜の松林を守る会" in redacted and "https://satoyama.example.jp/" in redacted
    # Proposals nobody has anonymised yet keep the example of not naming the group.
    for proposal in (p for p in demo_proposals(demo) if p.released_at is None):
        texts = " ".join(getattr(proposal, key) for key in workflow.limits_for(proposal.call))
        assert proposal.group.name not in texts


# -- the process log ----------------------------------------------------------------


def test_every_log_verifies_with_its_signature_and_published_documents(app, demo):
    key = signing.key_for_app(app)
    reports = {call.slug: verification.verify_call(demo, call, key, store_of(app))
               for call in demo_calls(demo)}
    for slug, report in reports.items():
        assert report.ok, (slug, report.problems)
        assert process_log.verify(demo, call_by_slug(demo, slug)).ok
    assert reports[FINISHED_CALL_SLUG].publications == 1
    assert reports[SPECIAL_CALL_SLUG].entries > 20 and reports[SPECIAL_CALL_SLUG].publications == 0

    for slug in DEMO_SLUGS:
        result = app.test_cli_runner().invoke(args=["verify-log", "--call", slug])
        assert result.exit_code == 0, result.output
        assert f"検証成功 / VERIFIED  {slug}" in result.output
        assert ("公表 1版" in result.output) == (slug == FINISHED_CALL_SLUG)


def test_log_times_are_when_things_happened(demo):
    """Every step was appended in the order it happened: no entry's time
    had to be pulled forward to keep the log from running backwards."""
    for call in demo_calls(demo):
        rows = process_log.rows(demo, call)
        times = [row.at for row in rows]
        assert times == sorted(times)
        assert rows[0].kind == chain.CALL_PUBLISHED and rows[0].at == chain.utc_timestamp(call.published_at)
        by_seq = {row.seq: row for row in rows}
        sheets = demo.scalars(select(ReviewSheet).join(Assignment).join(Proposal).where(
            Proposal.call_id == call.id, ReviewSheet.sealed_seq.is_not(None)))
        for sheet in sheets:
            assert by_seq[sheet.sealed_seq].at == chain.utc_timestamp(sheet.submitted_at)
        received = {row.payload["proposal_code"]: row.at for row in rows if row.kind == chain.PROPOSAL_RECEIVED}
        decided = [row.at for row in rows if row.kind == chain.INTAKE_DECIDED]
        for proposal in proposals_of(demo, call):
            if proposal.anonymous_code:
                assert received[proposal.anonymous_code] == chain.utc_timestamp(proposal.submissions[0].submitted_at)
        intake_times = sorted(chain.utc_timestamp(d.decided_at) for d in demo.scalars(
            select(IntakeDecision).join(Proposal).where(Proposal.call_id == call.id)))
        assert sorted(decided) == intake_times


# -- 令和7年度: results --------------------------------------------------------------


def test_the_finished_call_was_reviewed_decided_and_published(demo):
    call = call_by_slug(demo, FINISHED_CALL_SLUG)
    members = list(demo.scalars(select(PanelMember).where(PanelMember.call_id == call.id)))
    assert sorted(m.pseudonym for m in members) == ["委員A", "委員B", "委員C", "委員D", "委員E"]
    conflicts = list(demo.scalars(select(Conflict).where(Conflict.panel_member_id.in_([m.id for m in members]))
                                  .order_by(Conflict.id)))
    assert [(c.source, c.status) for c in conflicts] == [(ConflictSource.DETECTED, ConflictStatus.CONFIRMED)]
    sheets = list(demo.scalars(select(ReviewSheet).join(Assignment).join(Proposal).where(Proposal.call_id == call.id)))
    assert len(sheets) == 6 * 5 - 1 and {s.status for s in sheets} == {SheetStatus.SUBMITTED}
    assert all(score.reason for sheet in sheets for score in sheet.scores)
    assert call.scoring_closed_at is not None and call.general_comment

    decisions = {d.proposal_id: d for d in demo.scalars(select(Decision).join(Proposal).where(
        Proposal.call_id == call.id))}
    assert len(decisions) == 6
    outcomes = Counter(d.outcome for d in decisions.values())
    assert outcomes == {DecisionOutcome.ADOPTED: 3, DecisionOutcome.CONDITIONAL: 1, DecisionOutcome.NOT_ADOPTED: 2}
    conditional = next(d for d in decisions.values() if d.outcome == DecisionOutcome.CONDITIONAL)
    assert conditional.conditions and not conditional.departs
    departing = [d for d in decisions.values() if d.departs]
    assert len(departing) == 1 and "補助金" in departing[0].reason
    consented = [p for p in proposals_of(demo, call) if p.name_publication_consent]
    assert [decisions[p.id].outcome for p in consented] == [DecisionOutcome.NOT_ADOPTED]


def test_the_published_results_answer_as_page_json_csv_and_pdf(demo, client):
    call = call_by_slug(demo, FINISHED_CALL_SLUG)
    stored = publication.results_document(demo, call)
    expected_names = {}  # code -> the group's name where it may be published, else None
    for proposal in proposals_of(demo, call):
        decision = demo.scalar(select(Decision).where(Decision.proposal_id == proposal.id))
        shown = decision.outcome != DecisionOutcome.NOT_ADOPTED or proposal.name_publication_consent
        expected_names[proposal.anonymous_code] = proposal.group.name if shown else None
    # Requests end the session; everything needed is read above.
    page = client.get(f"/calls/{FINISHED_CALL_SLUG}/results")
    assert page.status_code == 200
    for code in expected_names:
        assert code in page.text
    assert "条件付き採択" in page.text and "藤原 直樹" in page.text  # the roster is published

    document = client.get(f"/calls/{FINISHED_CALL_SLUG}/results.json")
    assert document.status_code == 200
    body = document.get_json()
    assert len(body["proposals"]) == 6 and body["counts"]["adopted"] == 4
    assert {p["code"]: p["group_name"] for p in body["proposals"]} == expected_names
    assert None in expected_names.values()  # a group that did not consent stays anonymous
    assert body == stored

    csv = client.get(f"/calls/{FINISHED_CALL_SLUG}/results.csv")
    assert csv.status_code == 200 and len(csv.get_data(as_text=True).strip().splitlines()) == 1 + 29 * 6
    for path in (f"/calls/{FINISHED_CALL_SLUG}/results.pdf", f"/calls/{FINISHED_CALL_SLUG}/log.pdf"):
        pdf = client.get(path)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF"), path

    log = client.get(f"/calls/{FINISHED_CALL_SLUG}/log")
    assert log.status_code == 200 and "結果の公表" in log.text
    log_json = client.get(f"/calls/{FINISHED_CALL_SLUG}/log.json")
    assert log_json.status_code == 200
    report = published_log.verify_document(log_json.get_json(), trusted_public_key_pem=signing.public_key_pem(
        signing.key_for_app(client.application)))
    assert report.ok and report.revealed == 29


# -- 令和8年度 特別枠: scoring -------------------------------------------------------


def test_the_scoring_stage_call_has_the_panel_at_work(demo):
    call = call_by_slug(demo, SPECIAL_CALL_SLUG)
    state = progress.build(demo, call)
    assert len(state.members) == 5 and len(state.copies) == 5
    names = {m.user.email: m.pseudonym for m in state.members}
    document = state.stage(Stage.DOCUMENT)
    counts = {names[spec.email]: dict(document.member_counts(m))
              for spec in REVIEWERS for m in state.members if m.user.email == spec.email}
    by_key = {spec.key: counts[names[spec.email]] for spec in REVIEWERS}
    assert by_key["fujiwara"] == {progress.SUBMITTED: 5}
    assert by_key["ogawa"] == {progress.SUBMITTED: 5}
    assert by_key["murakami"] == {progress.DRAFT: 3, progress.NOT_OPENED: 2}
    assert by_key["ohno"] == {progress.NOT_OPENED: 4, progress.HELD: 1}  # not started; one flag awaits staff
    assert by_key["nishimura"] == {progress.SUBMITTED: 2, progress.RECUSED: 1, progress.NOT_OPENED: 2}

    member_ids = [m.id for m in state.members]
    conflicts = list(demo.scalars(select(Conflict).where(Conflict.panel_member_id.in_(member_ids))))
    declared = [c for c in conflicts if c.source == ConflictSource.DECLARED]
    assert len(declared) == 1 and declared[0].status == ConflictStatus.CONFIRMED and declared[0].reason
    flagged = [c for c in conflicts if c.status == ConflictStatus.FLAGGED]
    assert len(flagged) == 1 and flagged[0].source == ConflictSource.DETECTED
    assert demo.get(Proposal, flagged[0].proposal_id).group.name in flagged[0].reason
    recused = [row.payload for row in process_log.rows(demo, call) if row.kind == chain.REVIEWER_RECUSED]
    assert recused == [{"reviewer": declared[0].panel_member.pseudonym, "ground": "conflict_of_interest",
                        "proposal_code": demo.get(Proposal, declared[0].proposal_id).anonymous_code}]
    sealed = [row for row in process_log.rows(demo, call) if row.kind == chain.SCORE_SEALED]
    assert len(sealed) == 12 and progress.seals_in_force(demo, call) == 12


# -- accounts ------------------------------------------------------------------------


def test_demo_applicants_are_confirmed_with_complete_groups(demo):
    users = list(demo.scalars(select(User).where(User.role == Role.APPLICANT)))
    # The 40 groups of the 地区提案枠 (portal/demo/large_call.py, chiku01@...) are not listed log-in accounts.
    listed = {(u.email, u.group.name) for u in users if not u.email.startswith("chiku")}
    assert listed == {(a.email, a.group_name) for a in DEMO_ACCOUNTS}
    for user in users:
        assert user.email_confirmed
        assert user.email.endswith("@example.jp")
        assert user.group.profile_complete, user.group.missing_profile_items()
        assert user.group.member_count >= 5


def test_demo_staff_and_reviewers_skip_the_second_factor_only_by_configuration(demo):
    staff = list(demo.scalars(select(User).where(User.role == Role.STAFF).order_by(User.id)))
    reviewers = list(demo.scalars(select(User).where(User.role == Role.REVIEWER)))
    assert [u.email for u in staff] == [STAFF.email]
    assert {u.email for u in reviewers} == {spec.email for spec in REVIEWERS} and len(reviewers) == 5
    for user in staff + reviewers:
        assert user.second_factor_waived and user.display_name and user.email_confirmed
        assert user.totp_secret is None


def test_a_demo_applicant_logs_in_and_sees_the_dashboard(demo, client, login):
    login(user_by_email(demo, "chanoma@example.jp"), password=DEMO_PASSWORD)
    page = client.get("/mypage")
    assert page.status_code == 200
    assert "地域の茶の間「ひだまり」運営委員会" in page.text
    assert "地域の茶の間で始める「ちょっと困りごと」相談と見守り" in page.text
    assert "令和8年度 市民提案型協働モデル事業 提案募集" in page.text


def test_the_demo_staff_logs_in_and_sees_every_call(demo, client, login):
    titles = [call.title for call in demo_calls(demo)]
    special_id = call_by_slug(demo, SPECIAL_CALL_SLUG).id
    response = login(user_by_email(demo, STAFF.email), password=DEMO_PASSWORD)
    assert response.headers["Location"].endswith("/admin/")
    calls = client.get("/admin/calls")
    assert calls.status_code == 200
    for title in titles:
        assert title in calls.text
    panel = client.get(f"/admin/calls/{special_id}/panel")
    assert panel.status_code == 200 and "要確認" in panel.text and "大野 勝" in panel.text
    assert client.get(f"/admin/calls/{special_id}/progress").status_code == 200
    intake_page = client.get(f"/admin/calls/{special_id}/intake")
    assert intake_page.status_code == 200 and "里山の斜面を見守る" in intake_page.text


def test_a_demo_reviewer_logs_in_and_sees_anonymous_proposals_only(demo, client, login):
    special = call_by_slug(demo, SPECIAL_CALL_SLUG)
    member = demo.scalar(select(PanelMember).join(User, User.id == PanelMember.user_id).where(
        PanelMember.call_id == special.id, User.email == REVIEWERS[0].email))
    assignments = [(a.id, demo.get(Proposal, a.proposal_id).anonymous_code)
                   for a in demo.scalars(select(Assignment).where(Assignment.panel_member_id == member.id))]
    group_names = [user.group.name for user in demo.scalars(select(User).where(User.role == Role.APPLICANT))]
    title = special.title
    response = login(user_by_email(demo, REVIEWERS[0].email), password=DEMO_PASSWORD)
    assert response.headers["Location"].endswith("/review/")
    home = client.get("/review/")
    assert home.status_code == 200 and title in home.text
    assert len(assignments) == 5
    for assignment_id, code in assignments:
        page = client.get(f"/review/assignments/{assignment_id}")
        assert page.status_code == 200 and code in page.text
        assert not [name for name in group_names if name in page.text]
    assert not [name for name in group_names if name in home.text]


def test_without_the_waiver_the_demo_staff_needs_the_second_factor(app, demo, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_SECOND_FACTOR_WAIVER", False)  # as in production
    response = login(user_by_email(demo, STAFF.email), password=DEMO_PASSWORD)
    assert "/admin" not in response.headers["Location"]
    assert client.get("/admin/").status_code != 200


def test_public_pages_show_the_demo_calls(demo, client):
    index = client.get("/")
    assert index.status_code == 200 and "令和8年度 市民提案型協働モデル事業" in index.text
    for slug in (OPEN_CALL_SLUG, FINISHED_CALL_SLUG, SPECIAL_CALL_SLUG):
        page = client.get(f"/calls/{slug}")
        assert page.status_code == 200 and "公益性" in page.text


# -- loading -------------------------------------------------------------------------


def test_seed_demo_refuses_a_database_that_has_data(app, demo):
    before = demo.scalar(select(func.count()).select_from(User))
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "デモデータは投入しませんでした" in result.output
    assert demo.scalar(select(func.count()).select_from(User)) == before


@pytest.fixture()
def fresh_engine(tmp_path):
    """An empty, migrated database of its own (a schema on PostgreSQL)."""
    if TEST_DATABASE_URL.startswith("postgresql"):
        schema = f"portal_demo_{uuid.uuid4().hex[:8]}"
        admin = create_engine(TEST_DATABASE_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(_postgres_url_with_schema(TEST_DATABASE_URL, schema))
    else:
        admin, schema = None, None
        engine = create_engine(f"sqlite:///{os.fspath(tmp_path / 'second-demo.sqlite3')}")
    upgrade(engine)
    yield engine
    engine.dispose()
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_demo_loads_again_into_another_database(app, demo, fresh_engine):
    """Nothing in the loader depends on state left by an earlier load."""
    with Session(fresh_engine) as session, app.app_context():
        load_demo_data(session)
        session.commit()
        assert session.scalar(select(func.count()).select_from(Call)) == 3 + 1  # + the 地区提案枠 (large_call.py)
        assert session.scalar(select(func.count()).select_from(Submission)) == 6 + 3 + 7 + 40
        key = signing.key_for_app(app)
        for call in session.scalars(select(Call)):
            report = verification.verify_call(session, call, key, store_of(app))
            assert report.ok, (call.slug, report.problems)
        entries = session.scalar(select(func.count()).select_from(LogEntry))
    large = demo.scalars(select(Call).where(Call.slug == LARGE_CALL_SLUG)).one()  # portal/demo/large_call.py
    assert entries == sum(len(process_log.rows(demo, call)) for call in [*demo_calls(demo), large])
