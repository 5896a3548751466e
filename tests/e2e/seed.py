"""Data the end-to-end tests need, written straight into the live server's
database. Run as ``python -m tests.e2e.seed`` with the server's environment
(PORTAL_ENV, DATABASE_URL, PORTAL_INSTANCE_DIR, PORTAL_UPLOAD_DIR); prints a
JSON description of what it created on the last line of stdout.

Independent of portal/demo/ on purpose: the tests must not change when the
demo data does.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from portal import create_app
from portal.auth.sessions import hash_password
from portal.db import db_session
from portal.domain.anonymity import redaction, review_copy
from portal.domain.calls import call_admin
from portal.domain.intake import intake
from portal.domain.panel import conflict_declaration, panel
from portal.domain.proposals import workflow
from portal.domain.scoring import scoring
from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY, TEXT_FIELDS
from portal.domain.anonymity.release import release_for_review
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.files.samples import attach_sample_documents
from portal.models import (
    Assignment,
    BudgetKind,
    BudgetLine,
    Call,
    Criterion,
    Declaration,
    FindingStatus,
    Group,
    GroupKind,
    IntakeOutcome,
    Proposal,
    ProposalStatus,
    Role,
    RoleShare,
    Stage,
    StatusEvent,
    User,
)

PASSWORD = "e2e-Passw0rd-long"
CALL_SLUG = "e2e-kyodo"
CALL_TITLE = "令和8年度 市民提案型協働モデル事業（E2E）"

# Accounts with a ready-made draft, one per test that does not go through
# registration, so tests never share a proposal.
DRAFT_ACCOUNTS = ("conflict", "counter", "missing", "phone", "delete", "reload", "offline", "budget")


def seed_call() -> Call:
    now = now_utc()
    call = Call(
        slug=CALL_SLUG,
        title=CALL_TITLE,
        fiscal_year=2026,
        summary="地域の課題を市と市民が協働で解決する事業の提案を募集します。",
        guidelines="募集要項の本文です。\n提案書と収支予算書を提出してください。",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=30),
        screening_starts_at=now + timedelta(days=40),
        results_at=now + timedelta(days=70),
        budget_cap_per_proposal=300_000,
        budget_total=1_500_000,
        published_at=now - timedelta(days=20),
        field_limits={"title": 40, "background": 800},
    )
    levels = {"5": "優れている", "4": "やや優れている", "3": "普通", "2": "やや劣る", "1": "劣る"}
    call.criteria = [
        Criterion(position=i, name=name, description=f"{name}の観点から評価します。", weight=weight,
                  scale_min=1, scale_max=5, level_descriptors=levels)
        for i, (name, weight) in enumerate(
            [("公益性", 2), ("必要性", 2), ("協働の効果", 2), ("実現可能性", 2), ("予算の妥当性", 1)]
        )
    ]
    db_session.add(call)
    db_session.flush()
    return call


def seed_applicant(key: str, call: Call) -> dict:
    user = User(
        email=f"e2e-{key}@example.jp",
        password_hash=hash_password(PASSWORD),
        role=Role.APPLICANT,
        email_confirmed_at=now_utc(),
    )
    db_session.add(user)
    db_session.flush()
    group = Group(
        account_id=user.id,
        contact_email=user.email,
        name=f"みなと{key}の会",
        name_kana="みなとのかい",
        kind=GroupKind.SHIMIN_KATSUDO,
        representative_name="山田 花子",
        contact_name="佐藤 太郎",
        postal_code="123-4567",
        address="みなと市中央1-2-3",
        phone="0123-45-6789",
        founded_on=date(2015, 4, 1),
        member_count=12,
        activity_record="2015年から地域の見守り活動を続けています。",
    )
    db_session.add(group)
    db_session.flush()
    attach_sample_documents(db_session, store_of(current_app), group, user.id)
    now = now_utc()
    proposal = Proposal(call=call, group=group, status=ProposalStatus.DRAFT, created_at=now, updated_at=now,
                        title="見守りの下書き")
    if key == "phone":
        for f in TEXT_FIELDS[1:]:
            setattr(proposal, f.key, f"{f.label}の下書きです。")
    db_session.add(proposal)
    db_session.flush()
    db_session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                               created_at=now, actor_id=user.id))
    return {"email": user.email, "password": PASSWORD, "proposal_id": proposal.id}


# --- the secretariat, the panel and the results ------------------------------------
#
# Three more calls, each at the stage one browser test starts from, built with
# the real domain verbs (submission, intake, anonymisation, release, scoring)
# at back-dated times, so every process log verifies:
#   e2e-intake   closed; two submitted proposals waiting for the intake decision
#   e2e-scoring  first-stage scoring open; two released proposals, two reviewers
#   e2e-results  scoring closed; three proposals scored by three reviewers

STAFF_EMAIL = "e2e-staff@city.example.jp"
TOTP_EMAIL = "e2e-totp@city.example.jp"
# A fixed base32 secret (RFC 6238's test key): the test computes its codes.
TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

LEVELS = {"5": "優れている", "4": "やや優れている", "3": "普通", "2": "やや劣る", "1": "劣る"}
CRITERIA = [("公益性", 2), ("必要性", 2), ("協働の効果", 2), ("実現可能性", 2), ("予算の妥当性", 1)]

# Per group: (key, name, representative, members). Names appear in the proposal
# text so the anonymisation scan has something to find.
INTAKE_GROUPS = [("intake-accept", "ひかり子ども食堂の会", "田中 一郎", 12),
                 ("intake-return", "こもれび読書クラブ", "鈴木 次郎", 3)]
SCORING_GROUPS = [("scoring-1", "さくら防災クラブ", "高橋 三郎", 20),
                  ("scoring-2", "あおば環境の会", "伊藤 四郎", 8)]
RESULTS_GROUPS = [("results-high", "みどり川清掃の会", "渡辺 五郎", 30),
                  ("results-mid", "ふれあい体操クラブ", "小林 六子", 15),
                  ("results-low", "まちかど将棋の会", "加藤 七海", 6)]
TITLES = {"intake-accept": "子どもの居場所づくり事業", "intake-return": "親子で読書を楽しむ事業",
          "scoring-1": "地域の防災訓練を広げる事業", "scoring-2": "川沿いの緑を守る事業",
          "results-high": "川辺の清掃と見守り事業", "results-mid": "高齢者の健康体操事業",
          "results-low": "世代をつなぐ将棋教室事業"}
# Scores per reviewer (委員A, B, C) per criterion position, per results proposal.
RESULT_SCORES = {
    "results-high": [[5, 5, 4, 4, 4], [4, 5, 5, 4, 3], [5, 4, 4, 5, 4]],
    "results-mid": [[4, 3, 4, 3, 3], [3, 4, 3, 4, 4], [4, 4, 3, 3, 3]],
    "results-low": [[2, 2, 3, 2, 2], [3, 2, 2, 2, 3], [2, 3, 2, 2, 2]],
}


def user(email: str, role: Role, name: str = "", *, waived: bool = True) -> User:
    account = User(email=email, password_hash=hash_password(PASSWORD), role=role, display_name=name,
                   email_confirmed_at=now_utc(), second_factor_waived=waived)
    db_session.add(account)
    db_session.flush()
    return account


def staff_call(slug: str, title: str, *, opens: timedelta, closes: timedelta, scoring: tuple | None = None,
               results: timedelta, **extra) -> Call:
    """A call published the day before it opens, through the real verb (so its log starts right)."""
    now = now_utc()
    call = Call(slug=slug, title=title, fiscal_year=2026,
                summary="地域の課題を市と市民が協働で解決する事業の提案を募集します。",
                guidelines="募集要項の本文です。", opens_at=now + opens, closes_at=now + closes,
                screening_starts_at=now + closes + timedelta(days=1), results_at=now + results,
                budget_cap_per_proposal=300_000, budget_total=1_500_000, **extra)
    if scoring:
        call.scoring_opens_at, call.scoring_closes_at = now + scoring[0], now + scoring[1]
    call.criteria = [Criterion(position=i, name=name, description=f"{name}の観点から評価します。", weight=weight,
                               scale_min=1, scale_max=5, level_descriptors=LEVELS)
                     for i, (name, weight) in enumerate(CRITERIA)]
    db_session.add(call)
    db_session.flush()
    call_admin.publish_call(db_session, call, now + opens - timedelta(days=1))
    return call


def submitted_proposal(call: Call, key: str, name: str, representative: str, members: int,
                       at) -> tuple[User, Proposal]:
    """A group with a complete profile and a proposal submitted at ``at``
    through the real workflow; the text names the group and its representative."""
    account = user(f"e2e-{key}@example.jp", Role.APPLICANT)
    group = Group(account_id=account.id, contact_email=account.email, name=name, name_kana="てすとのかい",
                  kind=GroupKind.SHIMIN_KATSUDO, representative_name=representative, contact_name="佐藤 太郎",
                  postal_code="123-4567", address="みなと市中央1-2-3", phone="0123-45-6789",
                  founded_on=date(2015, 4, 1), member_count=members,
                  activity_record="2015年から地域で活動しています。")
    db_session.add(group)
    db_session.flush()
    attach_sample_documents(db_session, store_of(current_app), group, account.id)
    proposal = Proposal(call=call, group=group, status=ProposalStatus.DRAFT, created_at=at, updated_at=at)
    for f in TEXT_FIELDS:
        setattr(proposal, f.key, f"{f.label}の内容です。")
    proposal.title = TITLES[key]
    proposal.capability = (f"{name}は、代表の{representative.replace(' ', '')}を中心に"
                           "2015年から地域で活動してきました。")
    proposal.period_start, proposal.period_end = date(2026, 7, 1), date(2027, 2, 28)
    proposal.desired_forms = ["kyosai"]
    proposal.role_shares = [RoleShare(position=0, item="広報", group_role="チラシ作成", city_role="市報掲載")]
    proposal.budget_lines = [
        BudgetLine(position=0, kind=BudgetKind.INCOME, category=REQUEST_CATEGORY, amount=200_000),
        BudgetLine(position=1, kind=BudgetKind.INCOME, category="自己資金", amount=50_000),
        BudgetLine(position=2, kind=BudgetKind.EXPENSE, category="消耗品費", amount=250_000),
    ]
    proposal.requested_amount = 200_000
    proposal.declarations = [Declaration(key=k, accepted_at=at, accepted_by_id=account.id) for k in DECLARATION_KEYS]
    db_session.add(proposal)
    db_session.flush()
    db_session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                               created_at=at, actor_id=account.id))
    workflow.submit_proposal(db_session, proposal, account, proposal.version, at)
    return account, proposal


def accept_and_release(call: Call, proposals: list[Proposal], staff: User, at) -> None:
    """受理, scan, redact every finding, release: what staff do in the browser in test_secretariat."""
    store = store_of(current_app)
    for proposal in proposals:
        intake.decide_intake(db_session, proposal, IntakeOutcome.ACCEPT, "", staff, at)
        redaction.scan(db_session, proposal, staff, at, store=store)
        for finding in review_copy.findings_of(db_session, proposal):
            redaction.decide_finding(db_session, finding, FindingStatus.REDACT, staff, at)
    release_for_review(db_session, proposals, staff, at + timedelta(minutes=1), store=store)


def account_info(account: User, proposal: Proposal | None = None, **extra) -> dict:
    info = {"email": account.email, "password": PASSWORD, **extra}
    if proposal is not None:
        info.update(proposal_id=proposal.id, code=proposal.anonymous_code, receipt=proposal.receipt_number,
                    group=proposal.group.name, representative=proposal.group.representative_name,
                    title=proposal.title)
    return info


def seed_intake_call(staff: User) -> dict:
    now = now_utc()
    call = staff_call("e2e-intake", "令和8年度 協働事業提案（E2E受付）", opens=timedelta(days=-40),
                      closes=timedelta(days=-5), scoring=(timedelta(days=5), timedelta(days=20)),
                      results=timedelta(days=30))
    groups = {key: account_info(*submitted_proposal(call, key, name, rep, members, now - timedelta(days=10)))
              for key, name, rep, members in INTAKE_GROUPS}
    return {"id": call.id, "slug": call.slug, "title": call.title, "groups": groups}


def seed_scoring_call(staff: User) -> dict:
    now = now_utc()
    call = staff_call("e2e-scoring", "令和8年度 協働事業提案（E2E採点）", opens=timedelta(days=-40),
                      closes=timedelta(days=-10), scoring=(timedelta(days=-2), timedelta(days=10)),
                      results=timedelta(days=30))
    reviewers = {}
    for key, name in (("reviewer-a", "審査 一子"), ("reviewer-b", "審査 二郎")):
        account = user(f"e2e-{key}@example.jp", Role.REVIEWER, name)
        member = panel.add_member(db_session, call, account, now=now - timedelta(days=9))
        reviewers[key] = account_info(account, pseudonym=member.pseudonym)
    made = [submitted_proposal(call, key, name, rep, members, now - timedelta(days=20))
            for key, name, rep, members in SCORING_GROUPS]
    accept_and_release(call, [p for _, p in made], staff, now - timedelta(days=8))
    groups = {key: account_info(a, p) for (key, *_), (a, p) in zip(SCORING_GROUPS, made, strict=True)}
    return {"id": call.id, "slug": call.slug, "title": call.title, "groups": groups, "reviewers": reviewers}


def seed_results_call(staff: User) -> dict:
    """Scoring ran from 20 to 2 days ago; every sheet was submitted 10 days ago."""
    now = now_utc()
    call = staff_call("e2e-results", "令和8年度 協働事業提案（E2E結果）", opens=timedelta(days=-60),
                      closes=timedelta(days=-40), scoring=(timedelta(days=-20), timedelta(days=-2)),
                      results=timedelta(days=10), threshold_share=Decimal("0.6"))
    members = []
    for i in range(3):
        account = user(f"e2e-panel-{i + 1}@example.jp", Role.REVIEWER, f"委員 {i + 1}号")
        members.append(panel.add_member(db_session, call, account, now=now - timedelta(days=39)))
    made = [submitted_proposal(call, key, name, rep, n, now - timedelta(days=50))
            for key, name, rep, n in RESULTS_GROUPS]
    accept_and_release(call, [p for _, p in made], staff, now - timedelta(days=30))
    at = now - timedelta(days=10)
    criteria = sorted(call.criteria, key=lambda c: c.position)
    for (key, *_), (_account, proposal) in zip(RESULTS_GROUPS, made, strict=True):
        for member, scores in zip(members, RESULT_SCORES[key], strict=True):
            assignment = db_session.scalars(select(Assignment).where(
                Assignment.panel_member_id == member.id, Assignment.proposal_id == proposal.id)).one()
            conflict_declaration.confirm_no_conflict(db_session, assignment, at)
            data = scoring.SheetInput(
                scores={c.id: scoring.ScoreInput(score, f"{c.name}について{score}点と評価しました。")
                        for c, score in zip(criteria, scores, strict=True)},
                comment_for_group=f"{member.pseudonym}の講評です。")
            sheet = scoring.save_draft(db_session, assignment, Stage.DOCUMENT, data, at)
            scoring.submit_sheet(db_session, sheet, at)
    groups = {key: account_info(a, p) for (key, *_), (a, p) in zip(RESULTS_GROUPS, made, strict=True)}
    return {"id": call.id, "slug": call.slug, "title": call.title, "groups": groups}


def seed_staff() -> tuple[User, dict]:
    staff = user(STAFF_EMAIL, Role.STAFF, "市民協働課 担当者")
    # No waiver: logs in with a code from an authenticator app (enrolled already).
    totp_user = user(TOTP_EMAIL, Role.STAFF, "市民協働課 二段階", waived=False)
    totp_user.totp_secret = TOTP_SECRET
    totp_user.totp_confirmed_at = now_utc() - timedelta(days=30)
    # No waiver and not enrolled: enrols in the browser on first login.
    enrol_user = user("e2e-enrol@city.example.jp", Role.STAFF, "市民協働課 新任", waived=False)
    db_session.flush()
    return staff, {"staff": account_info(staff), "totp": account_info(totp_user, secret=TOTP_SECRET),
                   "enrol": account_info(enrol_user)}


def main() -> None:
    app = create_app()
    with app.app_context():
        call = seed_call()
        accounts = {key: seed_applicant(key, call) for key in DRAFT_ACCOUNTS}
        staff_user, staff = seed_staff()
        calls = {"intake": seed_intake_call(staff_user), "scoring": seed_scoring_call(staff_user),
                 "results": seed_results_call(staff_user)}
        db_session.commit()
        print(json.dumps({"call": {"slug": call.slug, "title": call.title, "id": call.id},
                          "accounts": accounts, **staff, "calls": calls}, ensure_ascii=False))


if __name__ == "__main__":
    main()
