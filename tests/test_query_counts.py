"""No query spam: the list pages that grow with a call's proposals issue a
fixed number of SQL queries, for 10 proposals as for 1,000.

* the public results page ``/calls/<slug>/results``;
* the reviewer's list of assigned proposals ``/review/``;
* the secretariat's intake list ``/admin/calls/<id>/intake``.

Each world starts from one proposal made through the real verbs (submitted,
released, scored...), then clones its rows in bulk, so 1,000 proposals take
a second rather than minutes. Clones get their own account, group, receipt
number and code, so a lazy load per row would show as one query per row.

Data is built inside ``seed()`` (a short-lived app context) and every page
is requested on its own, as in production: the session keeps objects
unexpired after a commit (``expire_on_commit=False``), so a session shared
between the set-up and the request would answer lazy loads from its
identity map and hide exactly the queries this file is here to count.
"""
from __future__ import annotations

import copy
import itertools
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import inspect, insert, select, update

from portal.admin.list_params import DEFAULT_PAGE_SIZE
from portal.domain.log import chain
from portal.domain.results import publication
from portal.domain.panel import conflict_declaration
from portal.domain.scoring import scoring
from portal.domain.timeutil import now_utc
from portal.models import (
    Assignment,
    AssignmentStatus,
    Proposal,
    ProposalStatus,
    Publication,
    ReviewSheet,
    SheetStatus,
    Stage,
    Submission,
)

from . import results_support
from .conftest import csrf_token_from
from .factories import Factory

SMALL, LARGE = 10, 1_000
# Ceilings with some room: today the results page makes 3 queries, the
# reviewer's list 8 (with one call) and the intake list 5. A page that crosses
# one has grown queries per request rather than per row, but should be looked
# at all the same.
MAX_QUERIES = {"results": 6, "review": 12, "intake": 10}

_world = itertools.count(1)


# -- bulk rows shaped like a real one ------------------------------------------------

def _column_values(obj) -> dict:
    """Every column attribute of ``obj`` except its primary key."""
    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs
            if not any(column.primary_key for column in attr.columns)}


def insert_like(session, template, rows: list[dict]) -> list[int]:
    """Insert one row per dict in ``rows``: a copy of ``template``'s columns
    with that dict's values on top. Returns the new ids in ``rows`` order."""
    if not rows:
        return []
    model = type(template)
    base = _column_values(template)
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, [{**base, **row} for row in rows]))


def clone_groups(session, template: Proposal, count: int, tag: str) -> list[int]:
    """``count`` applicant accounts with a group each, like the template's
    (same password hash: no argon2 per clone). Returns the group ids."""
    group = template.group
    user_ids = insert_like(session, group.account, [
        {"email": f"{tag}-{n:04d}@example.jp"} for n in range(count)])
    return insert_like(session, group, [
        {"account_id": user_id, "name": group_name(tag, n), "contact_email": f"{tag}-{n:04d}@example.jp"}
        for n, user_id in enumerate(user_ids)])


def group_name(tag: str, n: int) -> str:
    return f"一括の会{tag}-{n:04d}"


def clone_proposals(session, template: Proposal, group_ids: list[int], tag: str, **columns) -> list[int]:
    """One proposal per group, like the template, each with its own receipt
    number and anonymous code (提案0001...; real codes have two or three digits)."""
    return insert_like(session, template, [
        {"group_id": group_id, "receipt_number": receipt_number(tag, n), "anonymous_code": f"提案{n:04d}",
         **{key: value(n) if callable(value) else value for key, value in columns.items()}}
        for n, group_id in enumerate(group_ids, start=1)])


def receipt_number(tag: str, n: int) -> str:
    return f"Q{tag}-{n:04d}"  # unique across calls, never the R8-.. form of real ones


# -- measuring -------------------------------------------------------------------------

def sign_in(app, email: str):
    """A test client of its own, logged in through the real form (staff and
    reviewers made by the factory have their second factor waived)."""
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": Factory.PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def measure(client, count_queries, path: str) -> tuple[int, str, list[str]]:
    """(queries, page, statements) of a GET of ``path``, after one warm-up
    request (the login session's first touch, template compilation)."""
    assert client.get(path).status_code == 200
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return counter.count, response.get_data(as_text=True), list(counter.statements)


def assert_fixed(page: str, database: str, small: tuple, large: tuple) -> None:
    small_count, _, small_statements = small
    large_count, _, large_statements = large
    print(f"\n{page} on {database}: {small_count} queries for {SMALL} proposals, "
          f"{large_count} for {LARGE}")
    assert large_count == small_count, (
        f"{page}: {small_count} queries for {SMALL} proposals but {large_count} for {LARGE}:\n"
        + "\n".join(_short(s) for s in large_statements))
    assert small_count <= MAX_QUERIES[page], "\n".join(_short(s) for s in small_statements)


def _short(statement: str) -> str:
    """A statement on one line, without the column lists and long IN lists."""
    text = re.sub(r"SELECT .*? FROM", "SELECT ... FROM", " ".join(statement.split()))
    return re.sub(r"\((?:\?|%\(\w+\)s|[$]\d+)(?:, (?:\?|%\(\w+\)s|[$]\d+))+\)", "(...)", text)


def database_name(app) -> str:
    return app.extensions["engine"].dialect.name


# -- the secretariat's intake list -------------------------------------------------------

INTAKE_STATUSES = [ProposalStatus.SUBMITTED, ProposalStatus.INTAKE, ProposalStatus.RETURNED,
                   ProposalStatus.ACCEPTED, ProposalStatus.REJECTED, ProposalStatus.REVIEW,
                   ProposalStatus.WITHDRAWN]


def intake_world(f: Factory, count: int) -> tuple[int, str]:
    """A closed call with ``count`` submitted proposals in every intake
    state; every fourth one resubmitted (two submissions). Returns the call
    id and the clones' tag."""
    tag = f"i{next(_world)}"
    session = f.session
    call = f.call(opens_in=timedelta(days=-40), closes_in=timedelta(days=-1))
    template = f.submitted(call)
    first = session.scalars(select(Submission).where(Submission.proposal_id == template.id)).one()
    group_ids = clone_groups(session, template, count - 1, tag)
    proposal_ids = clone_proposals(session, template, group_ids, tag,
                                   status=lambda n: INTAKE_STATUSES[n % len(INTAKE_STATUSES)])
    insert_like(session, first, [
        {"proposal_id": proposal_id, "revision": 1, "receipt_number": receipt_number(tag, n)}
        for n, proposal_id in enumerate(proposal_ids, start=1)])
    insert_like(session, first, [
        {"proposal_id": proposal_id, "revision": 2, "receipt_number": receipt_number(tag, n),
         "submitted_at": first.submitted_at + timedelta(days=2)}
        for n, proposal_id in enumerate(proposal_ids, start=1) if n % 4 == 0])
    session.commit()
    return call.id, tag


def test_the_intake_list_makes_as_many_queries_for_1000_proposals_as_for_10(app, seed, count_queries):
    with seed() as f:
        (small_call, _), (large_call, large_tag) = intake_world(f, SMALL), intake_world(f, LARGE)
        staff_email = f.staff().email
    client = sign_in(app, staff_email)
    # The list comes a bounded page at a time (portal/admin/list_params.py), newest receipt first here.
    small = measure(client, count_queries, f"/admin/calls/{small_call}/intake?sort=receipt_desc")
    large = measure(client, count_queries, f"/admin/calls/{large_call}/intake?sort=receipt_desc")
    for (_, page, _), count in ((small, SMALL), (large, LARGE)):
        assert f"提出された提案（{count}件）" in page
        assert page.count('class="check-ok"') + page.count('class="check-ng"') == min(count, DEFAULT_PAGE_SIZE)
    assert group_name(large_tag, LARGE - 2) in large[1]  # the last clone's group, by name
    assert "再提出" in large[1]
    assert_fixed("intake", database_name(app), small, large)


# -- the reviewer's list of assigned proposals -----------------------------------------------

def review_world(f: Factory, count: int) -> str:
    """A call with two stages in its scoring window and a reviewer assigned
    ``count`` released proposals: a third not yet cleared, a third cleared
    with a draft sheet, a third with a submitted sheet. The template goes
    through the real verbs (release, 利害関係なし, draft, submit). Returns the
    reviewer's email."""
    tag = f"r{next(_world)}"
    session = f.session
    now = now_utc()
    call = f.scoring_call(has_presentation=True, presentation_opens_at=now + timedelta(days=20),
                          presentation_closes_at=now + timedelta(days=30))
    reviewer = f.reviewer()
    member = f.panel_member(call, reviewer)
    template = f.submitted(call)
    review_copy = f.released(template)
    assignment = session.scalars(select(Assignment).where(Assignment.proposal_id == template.id,
                                                          Assignment.panel_member_id == member.id)).one()
    conflict_declaration.confirm_no_conflict(session, assignment, now)
    data = scoring.SheetInput(
        scores={c.id: scoring.ScoreInput(4, f"{c.name}の理由") for c in call.criteria},
        comment_for_group="地域に根ざした提案です。")
    sheet = scoring.save_draft(session, assignment, Stage.DOCUMENT, data, now)
    scoring.submit_sheet(session, sheet, now)
    session.commit()

    group_ids = clone_groups(session, template, count - 1, tag)
    proposal_ids = clone_proposals(session, template, group_ids, tag, status=ProposalStatus.REVIEW)
    insert_like(session, review_copy, [
        {"proposal_id": proposal_id, "code": f"提案{n:04d}",
         "content": dict(review_copy.content, code=f"提案{n:04d}")}
        for n, proposal_id in enumerate(proposal_ids, start=1)])
    states = [(n, proposal_id, n % 3) for n, proposal_id in enumerate(proposal_ids, start=1)]
    assignment_ids = insert_like(session, assignment, [
        {"proposal_id": proposal_id, "assigned_at": now,
         "status": AssignmentStatus.ASSIGNED if state == 0 else AssignmentStatus.CLEARED,
         "cleared_at": None if state == 0 else now}
        for _n, proposal_id, state in states])
    # Sheets start as drafts (the database refuses any other new sheet); a
    # third are then submitted like the template, by an update as in
    # scoring.submit_sheet. Clones have no seal in the log, so no sealed_seq.
    cleared = [(assignment_id, state) for assignment_id, (_n, _p, state) in zip(assignment_ids, states, strict=True)
               if state != 0]
    sheet_ids = insert_like(session, sheet, [
        {"assignment_id": assignment_id, "status": SheetStatus.DRAFT, "submitted_at": None, "salt": None,
         "commitment": None, "sealed_seq": None} for assignment_id, _state in cleared])
    submitted = [sheet_id for sheet_id, (_a, state) in zip(sheet_ids, cleared, strict=True) if state == 2]
    session.execute(update(ReviewSheet).where(ReviewSheet.id.in_(submitted)).values(
        status=SheetStatus.SUBMITTED, submitted_at=sheet.submitted_at, salt=sheet.salt, commitment=sheet.commitment))
    session.commit()
    return reviewer.email


def test_the_reviewers_list_makes_as_many_queries_for_1000_proposals_as_for_10(app, seed, count_queries):
    with seed() as f:
        small_reviewer, large_reviewer = review_world(f, SMALL), review_world(f, LARGE)
    small = measure(sign_in(app, small_reviewer), count_queries, "/review/")
    large = measure(sign_in(app, large_reviewer), count_queries, "/review/")
    for (_, page, _), count in ((small, SMALL), (large, LARGE)):
        assert f"担当する提案（{count}件）" in page
        for label in ("提出済み", "下書き", "利害関係の確認前", "期間前"):
            assert label in page
    # The last clones, by code: 提案0999 not yet cleared, 提案0998 cleared.
    assert f"提案{LARGE - 1:04d}の利害関係を確認する" in large[1]
    assert f"提案{LARGE - 2:04d}を読む・採点する" in large[1]
    assert_fixed("review", database_name(app), small, large)


# -- the public results page -----------------------------------------------------------------

def expanded_document(template: dict, count: int, version: int) -> dict:
    """The real results document with its proposals repeated to ``count``
    entries (each with its own code and rank), counts to match."""
    entries = []
    for n in range(count):
        entry = copy.deepcopy(template["proposals"][n % len(template["proposals"])])
        entry.update(code=f"提案{n + 1:04d}", rank=n + 1 if entry.get("rank") is not None else None)
        entries.append(entry)
    adopted = sum(1 for e in entries if (e.get("decision") or {}).get("outcome") in ("adopted", "conditional"))
    document = copy.deepcopy(template)
    document.update(version=version, proposals=entries,
                    counts=dict(template["counts"], received=count, accepted=count, released=count,
                                adopted=adopted))
    return document


def add_version(session, call_id: int, real: Publication, document: dict) -> None:
    """A further published version holding ``document``, beside the real one."""
    session.add(Publication(
        call_id=call_id, version=document["version"], published_at=now_utc(), reason="件数の多い結果の表示の確認",
        results=document, results_sha256=chain.sha256_hex(chain.canonical_json(document)),
        results_pdf_name=real.results_pdf_name, log_pdf_name=real.log_pdf_name,
        head_seq=real.head_seq, head_hash=real.head_hash, head_signature=real.head_signature))
    session.commit()


def test_the_public_results_page_makes_as_many_queries_for_1000_proposals_as_for_10(
        app, seed, client, count_queries, monkeypatch, tmp_path):
    # Why not publish 1,000 proposals for real: ``publication.publish``
    # renders the results PDF (a card and a reviewer table per proposal) and
    # the process-log PDF with WeasyPrint, which for 1,000 proposals takes far
    # longer than the unit suite may, and needs 1,000 scored, decided
    # proposals first. The page itself reads only the stored document
    # (``Publication.results``), so its queries can depend only on that
    # document's size. So: publish a small call through the real engine
    # (scoring, sealing, decisions, publication), then store further versions
    # whose document is that real one with its proposals repeated to 10 and
    # 1,000 entries -- the real shape, at the size under test.
    with seed() as f:
        session = f.session
        scenario = results_support.build(f, reviewers=2, proposals=2, threshold_share=Decimal("0.6"))
        results_support.score(session, scenario, 0, 0, [5, 5, 5, 5, 5], comment="優れた提案です。")
        results_support.score(session, scenario, 1, 0, [4, 5, 4, 5, 4], comment="期待できます。")
        results_support.score(session, scenario, 0, 1, [1, 2, 1, 2, 1], comment="具体性に欠けます。")
        results_support.score(session, scenario, 1, 1, [2, 1, 2, 1, 2], comment="再検討を。")
        results_support.close_scoring(session, scenario)
        results_support.decide_as_recommended(session, scenario, f.staff())
        settings = results_support.use_temporary_key(app, monkeypatch, tmp_path)
        real = publication.publish(session, scenario.call, None, now_utc(), settings=settings)
        session.commit()
        call_id, slug, template = scenario.call.id, scenario.call.slug, real.results
        outcomes = {(p.get("decision") or {}).get("outcome") for p in template["proposals"]}
        assert outcomes == {"adopted", "not_adopted"}, outcomes  # both halves of the page are drawn
        add_version(session, call_id, real, expanded_document(template, SMALL, 2))
    path = f"/calls/{slug}/results"
    small = measure(client, count_queries, path)
    with seed() as f:
        real = f.session.scalars(select(Publication).where(Publication.call_id == call_id,
                                                           Publication.version == 1)).one()
        add_version(f.session, call_id, real, expanded_document(template, LARGE, 3))
    large = measure(client, count_queries, path)
    for (_, page, _), count, version in ((small, SMALL, 2), (large, LARGE, 3)):
        assert f"第{version}版" in page
        assert len(re.findall(r'<td class="num">\d+人</td>', page)) == count  # one ranking row each
    assert f"提案{LARGE:04d}" in large[1]
    assert_fixed("results", database_name(app), small, large)
