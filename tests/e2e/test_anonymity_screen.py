"""The official's anonymisation screen in a real browser (issue 14): sure
hits already redacted, pointers flagged with their reason, a release
refused (also when forced past the disabled checkbox) until every pointer
is decided, then released. axe checks every page.

The proposal is written into the live server's database by this module's
``main()`` (run as ``python -m tests.e2e.test_anonymity_screen`` with the
server's environment), with the real verbs: submitted, then accepted.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import ROOT

pytestmark = pytest.mark.e2e

GROUP = "白浜の松林を守る会"
UNIVERSITY = "新潟みなと大学"
NAMING_COMMENT = f"私の勤める{UNIVERSITY}でも同様の調査をしました。山田さんの熱意が伝わります。"
TEXTS = {
    "title": "海岸林を次の世代へつなぐ事業",
    "background": "白浜町の海岸林は松くい虫の被害で減っています。私たちは白浜海岸の清掃も続けてきました。",
    "capability": f"{GROUP}は、代表の渡辺陽子を中心に2015年から活動してきました。電話は〇二五六－八八－一〇二〇です。",
}


def main() -> None:
    from flask import current_app

    from portal import create_app
    from portal.db import db_session
    from portal.domain.intake import intake
    from portal.domain.proposals import workflow
    from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY, TEXT_FIELDS
    from portal.domain.timeutil import now_utc
    from portal.files.objectstore import store_of
    from portal.files.samples import attach_sample_documents
    from portal.models import (BudgetKind, BudgetLine, Declaration, Group, GroupKind, IntakeOutcome, Proposal,
                               ProposalStatus, Role, RoleShare, StatusEvent, User)
    from tests.e2e.seed import PASSWORD, STAFF_EMAIL, staff_call, user

    from sqlalchemy import select

    app = create_app()
    with app.app_context():
        now = now_utc()
        call = staff_call("e2e-anonymity", "令和8年度 協働事業提案（E2E匿名化）", opens=timedelta(days=-40),
                          closes=timedelta(days=-5), scoring=(timedelta(days=5), timedelta(days=20)),
                          results=timedelta(days=30))
        account = user("e2e-anonymity@example.jp", Role.APPLICANT)
        group = Group(account_id=account.id, contact_email=account.email, name=GROUP, name_kana="しらはまのまつばやしをまもるかい",
                      kind=GroupKind.SHIMIN_KATSUDO, representative_name="渡辺 陽子", contact_name="渡辺 陽子",
                      postal_code="959-1501", address="みなと市白浜町12番地", phone="0256-88-1020",
                      founded_on=date(2015, 4, 1), member_count=12, activity_record="2015年から活動しています。",
                      aliases=[], activity_bases=["白浜地区公民館"])
        db_session.add(group)
        db_session.flush()
        attach_sample_documents(db_session, store_of(current_app), group, account.id)
        at = now - timedelta(days=10)
        proposal = Proposal(call=call, group=group, status=ProposalStatus.DRAFT, created_at=at, updated_at=at)
        for f in TEXT_FIELDS:
            setattr(proposal, f.key, TEXTS.get(f.key, f"{f.label}を書きます。"))
        proposal.period_start, proposal.period_end = date(2026, 7, 1), date(2027, 2, 28)
        proposal.desired_forms = ["kyosai"]
        proposal.role_shares = [RoleShare(position=0, item="広報", group_role="チラシ作成", city_role="市報掲載")]
        proposal.budget_lines = [
            BudgetLine(position=0, kind=BudgetKind.INCOME, category=REQUEST_CATEGORY, amount=200_000),
            BudgetLine(position=1, kind=BudgetKind.INCOME, category="自己資金", amount=50_000),
            BudgetLine(position=2, kind=BudgetKind.EXPENSE, category="消耗品費", amount=250_000),
        ]
        proposal.requested_amount = 200_000
        proposal.declarations = [Declaration(key=k, accepted_at=at, accepted_by_id=account.id)
                                 for k in DECLARATION_KEYS]
        db_session.add(proposal)
        db_session.flush()
        db_session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                                   created_at=at, actor_id=account.id))
        workflow.submit_proposal(db_session, proposal, account, proposal.version, at)
        staff = db_session.scalars(select(User).where(User.email == STAFF_EMAIL)).one()
        intake.decide_intake(db_session, proposal, IntakeOutcome.ACCEPT, "", staff, now - timedelta(days=1))
        scored = seed_scored_comment(staff)
        db_session.commit()
        print(json.dumps({"call_id": call.id, "proposal_id": proposal.id, "code": proposal.anonymous_code,
                          "staff": {"email": STAFF_EMAIL, "password": PASSWORD}, "scored": scored},
                         ensure_ascii=False))


def seed_scored_comment(staff) -> dict:
    """A proposal scored by one reviewer whose comment names her own university."""
    from portal.db import db_session
    from portal.domain.panel import conflict_declaration, panel
    from portal.domain.scoring import scoring
    from portal.domain.timeutil import now_utc
    from portal.models import Assignment, Role, Stage
    from sqlalchemy import select
    from tests.e2e import seed
    from tests.e2e.seed import accept_and_release, staff_call, submitted_proposal, user

    now = now_utc()
    call = staff_call("e2e-anonymity-comments", "令和8年度 協働事業提案（E2E講評）", opens=timedelta(days=-60),
                      closes=timedelta(days=-40), scoring=(timedelta(days=-20), timedelta(days=-2)),
                      results=timedelta(days=10))
    reviewer = user("e2e-anonymity-panel@example.jp", Role.REVIEWER, "委員 匿名")
    member = panel.add_member(db_session, call, reviewer, [UNIVERSITY], now=now - timedelta(days=39))
    seed.TITLES["anonymity-comments"] = "水辺の清掃事業"  # submitted_proposal titles by key
    _account, proposal = submitted_proposal(call, "anonymity-comments", "みずべ清掃の会", "木村 一", 10,
                                            now - timedelta(days=50))
    accept_and_release(call, [proposal], staff, now - timedelta(days=30))
    at = now - timedelta(days=10)
    assignment = db_session.scalars(select(Assignment).where(Assignment.panel_member_id == member.id,
                                                             Assignment.proposal_id == proposal.id)).one()
    conflict_declaration.confirm_no_conflict(db_session, assignment, at)
    data = scoring.SheetInput(scores={c.id: scoring.ScoreInput(4, "よい") for c in call.criteria},
                              comment_for_group=NAMING_COMMENT)
    scoring.submit_sheet(db_session, scoring.save_draft(db_session, assignment, Stage.DOCUMENT, data, at), at)
    return {"call_id": call.id, "proposal_id": proposal.id}


@pytest.fixture(scope="module")
def case(live_server):
    done = subprocess.run([sys.executable, "-m", "tests.e2e.test_anonymity_screen"], cwd=ROOT,
                          env=live_server.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_pointers_are_shown_with_reasons_and_block_the_release_until_decided(new_page, a11y, case):
    page = new_page()
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(case["staff"]["email"])
    page.get_by_label("パスワード").fill(case["staff"]["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")
    base = f"/admin/calls/{case['call_id']}/anonymise"
    page.goto(f"{base}/{case['proposal_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"匿名化：{case['code']}")
    page.get_by_role("button", name="スキャンする（再スキャン）").click()
    expect(page.locator(".flashes")).to_contain_text("スキャンしました")
    rows = page.locator("#findings tbody tr")

    def finding(text: str):
        return rows.filter(has=page.locator(".finding-text").get_by_text(text, exact=True))

    # Sure hits: redacted by default.
    for text in (GROUP, "渡辺陽子", "〇二五六－八八－一〇二〇"):
        expect(finding(text).locator(".badge")).to_have_text("伏せる")
        expect(finding(text)).to_contain_text("既定で伏せる")
    # Pointers: undecided, each with its reason.
    town, beach = finding("白浜町"), finding("白浜海岸")
    for row in (town, beach):
        expect(row.locator(".badge")).to_have_text("未判断")
        expect(row).to_contain_text("要判断")
        expect(row.locator(".finding-reason")).to_contain_text("白浜")
    expect(page.locator("#findings-heading")).to_contain_text("未判断 2件")
    expect(page.locator("#release-problems")).to_contain_text("伏せるか伏せないかを決めていない検出が2件あります")
    a11y.check(page, "anonymisation: pointers pending")

    # The list offers no release; forced past the disabled box, the server refuses.
    page.goto(base)
    box = page.get_by_label(f"{case['code']}を公開する")
    expect(box).to_be_disabled()
    box.evaluate("el => { el.disabled = false; }")
    box.check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="選んだ提案を審査委員に公開する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("審査委員に公開できません")
    expect(page.locator("#error-summary")).to_contain_text(
        f"{case['code']}：伏せるか伏せないかを決めていない検出が2件あります")
    a11y.check(page, "anonymisation: release refused")

    # Decide: the beach is redacted, the town kept (by keyboard); then it may go.
    page.goto(f"{base}/{case['proposal_id']}")
    finding("白浜海岸").get_by_role("button", name=re.compile(r"^伏せる\s*（")).click()
    expect(page.locator("#findings-heading")).to_contain_text("未判断 1件")
    keep = finding("白浜町").get_by_role("button", name=re.compile(r"^伏せない\s*（"))
    keep.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#findings-heading")).to_contain_text("未判断 0件")
    expect(page.locator("main")).to_contain_text("公開できます。")
    a11y.check(page, "anonymisation: decided")

    page.get_by_role("link", name="審査委員に見える内容をプレビューする").click()
    copy = page.locator("article")
    expect(copy).to_contain_text("白浜町の海岸林")  # kept by the official
    expect(copy).not_to_contain_text("白浜海岸")
    expect(copy).not_to_contain_text(GROUP)
    expect(copy).not_to_contain_text("一〇二〇")

    page.goto(base)
    page.get_by_label(f"{case['code']}を公開する").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="選んだ提案を審査委員に公開する").click()
    expect(page.locator(".flashes")).to_contain_text(f"1件の提案（{case['code']}）を審査委員に公開しました")
    a11y.check(page, "anonymisation: released")
    a11y.assert_clean()


def test_a_reviewer_comment_naming_people_waits_for_staff(new_page, a11y, case):
    page = new_page()
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(case["staff"]["email"])
    page.get_by_label("パスワード").fill(case["staff"]["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")
    scored = case["scored"]
    page.goto(f"/admin/calls/{scored['call_id']}/results/{scored['proposal_id']}/comments")
    expect(page.get_by_role("heading", level=1)).to_contain_text("委員の講評の確認")
    section = page.locator("section.comment-check")
    expect(section).to_contain_text("要確認（団体にまだ表示しません）")
    expect(section.locator("mark").filter(has_text=UNIVERSITY)).to_have_count(1)
    expect(section).to_contain_text(f"「{UNIVERSITY}」：審査委員の所属")
    expect(section).to_contain_text("「山田さん」：人名の可能性（敬称・役職つき）")
    a11y.check(page, "comment check (flagged)")
    box = page.get_by_label(re.compile("編集して伝える講評"))
    box.fill("")
    page.get_by_role("button", name=re.compile("^編集した講評を伝える")).click()
    expect(page.locator("#error-summary")).to_contain_text("団体に伝える講評を入力してください。")
    a11y.check(page, "comment check (error)")
    box = page.get_by_label(re.compile("編集して伝える講評"))
    box.fill("同様の調査の例もあり、熱意が伝わる提案です。")
    page.get_by_role("button", name=re.compile("^編集した講評を伝える")).click()
    expect(page.locator(".flashes")).to_contain_text("編集して団体に伝えることにしました")
    expect(section).to_contain_text("編集して伝えます")
    a11y.check(page, "comment check (edited)")
    a11y.assert_clean()


if __name__ == "__main__":
    main()
