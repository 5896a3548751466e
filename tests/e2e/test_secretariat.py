"""The secretariat (事務局) in a real browser: intake with the eligibility
checklist, a return the group then reads, anonymisation (findings, a
refused release, decisions, the preview) and the release to reviewers;
the two ways a staff login meets its second factor. axe checks every page."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from portal.auth import totp

pytestmark = pytest.mark.e2e

RETURN_REASON = "会員数が募集要項の要件（5人以上）に達していません。会員名簿を確認のうえ再提出してください。"


def staff_log_in(page, account: dict) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")


def test_intake_anonymisation_and_release(new_page, a11y, live_server):
    seed = live_server.seed
    call = seed["calls"]["intake"]
    accepted, returned = call["groups"]["intake-accept"], call["groups"]["intake-return"]
    page = new_page()
    staff_log_in(page, seed["staff"])

    # --- from the staff home to the call and its intake list ----------------------------
    expect(page.get_by_role("heading", level=1)).to_have_text("事務局の画面")
    a11y.check(page, "admin home")
    page.get_by_role("link", name=call["title"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(call["title"])
    a11y.check(page, "call overview")
    page.get_by_role("link", name="受付・形式審査").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("受付・形式審査")
    expect(page.locator("main")).to_contain_text("判断を待っている提案：2件")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    accepted_row = rows.filter(has_text=accepted["receipt"])
    returned_row = rows.filter(has_text=returned["receipt"])
    expect(accepted_row).to_contain_text(accepted["group"])
    expect(accepted_row).to_contain_text("すべて適合")
    expect(returned_row).to_contain_text("要確認 1件")
    expect(returned_row.locator(".checklist")).to_contain_text("会員数")
    a11y.check(page, "intake list")

    # --- accept the complete one -------------------------------------------------------------
    accepted_row.get_by_role("link", name=accepted["receipt"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(accepted["title"])
    checklist = page.locator("section[aria-labelledby=checklist-heading] tbody tr")
    expect(checklist).to_have_count(7)
    expect(checklist.filter(has_text="会員数")).to_contain_text("適合")
    expect(page.locator("section[aria-labelledby=checklist-heading]")).not_to_contain_text("不適合")
    a11y.check(page, "intake proposal")
    page.get_by_label("受理", exact=True).check()
    page.get_by_role("button", name="判断を記録して団体に通知する").click()
    expect(page.locator(".flashes")).to_contain_text(f"受付番号 {accepted['receipt']} を「受理」としました")
    expect(page.locator("#proposal-status")).to_have_text("受理（審査準備中）")
    a11y.check(page, "intake proposal (accepted)")

    # --- return the other one, with a reason -------------------------------------------------
    page.get_by_role("link", name="受付・形式審査").click()
    page.locator("table tbody tr").filter(has_text=returned["receipt"]).get_by_role(
        "link", name=returned["receipt"]).click()
    members = page.locator("section[aria-labelledby=checklist-heading] tbody tr").filter(has_text="会員数")
    expect(members).to_contain_text("不適合")
    expect(members).to_contain_text("会員数3人（要件：5人以上）")
    page.get_by_label("差し戻し", exact=True).check()
    page.get_by_role("button", name="判断を記録して団体に通知する").click()  # no reason yet
    expect(page.locator("#error-summary")).to_contain_text("差し戻しの理由を入力してください")
    expect(page.get_by_label("差し戻し", exact=True)).to_be_checked()
    expect(page.locator("#proposal-status")).to_have_text("提出済")
    a11y.check(page, "intake decision with errors")
    page.get_by_label("団体に伝える理由").fill(RETURN_REASON)
    page.get_by_label("公表する理由の区分").select_option(label="応募資格を満たさない")
    page.get_by_role("button", name="判断を記録して団体に通知する").click()
    expect(page.locator(".flashes")).to_contain_text("「差し戻し」としました")
    expect(page.locator("#proposal-status")).to_have_text("差し戻し")
    expect(page.locator("section[aria-labelledby=decision-heading] table")).to_contain_text(RETURN_REASON)

    # The group reads the reason on its own proposal page (on a phone).
    group_page = new_page(phone=True)
    group_page.goto("/login")
    group_page.get_by_label("メールアドレス").fill(returned["email"])
    group_page.get_by_label("パスワード").fill(returned["password"])
    group_page.get_by_role("button", name="ログイン").click()
    group_page.wait_for_url("**/mypage")
    group_page.goto(f"/proposals/{returned['proposal_id']}")
    expect(group_page.locator("#proposal-status")).to_have_text("差し戻し")
    # The reason and the deadline are shown once, in the intake result (the history points there).
    expect(group_page.locator("#intake-result")).to_contain_text("差し戻しの理由")
    expect(group_page.locator("#intake-result")).to_contain_text(RETURN_REASON)
    expect(group_page.locator("#intake-result")).to_contain_text("修正期限")
    expect(group_page.get_by_text(RETURN_REASON)).to_have_count(1)
    a11y.check(group_page, "applicant: returned proposal")

    # --- anonymisation of the accepted proposal ---------------------------------------------
    page.goto(f"/admin/calls/{call['id']}")
    page.get_by_role("link", name="匿名化と審査委員への提供").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("匿名化と審査委員への公開")
    a11y.check(page, "anonymisation list (before the scan)")
    page.get_by_role("link", name=accepted["code"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"匿名化：{accepted['code']}")
    page.get_by_role("button", name="スキャンする（再スキャン）").click()
    expect(page.locator(".flashes")).to_contain_text("スキャンしました（新しい検出 2件")
    findings = page.locator("#findings tbody tr")
    expect(findings).to_have_count(2)
    representative = accepted["representative"].replace(" ", "")

    def finding(text: str):
        """The row whose found text (not its context) is ``text``."""
        return findings.filter(has=page.locator(".finding-text").get_by_text(text, exact=True))

    group_finding, person_finding = finding(accepted["group"]), finding(representative)
    expect(group_finding).to_contain_text("団体名")
    expect(person_finding).to_contain_text("氏名")
    # Sure hits are redacted by default (issue 14); pointers, which wait for a
    # decision and block the release, are tested in test_anonymity_screen.py.
    expect(group_finding.locator(".badge")).to_have_text("伏せる")
    expect(page.locator("#findings-heading")).to_have_text("検出した記述（2件、未判断 0件）")
    a11y.check(page, "anonymisation proposal (sure hits redacted)")

    # --- undo one by mouse and redo it by keyboard, check the preview ----------------------------
    person_finding.get_by_role("button", name=re.compile(r"^伏せない\s*（")).click()
    expect(person_finding.locator(".badge")).to_have_text("伏せない")
    redact_person = person_finding.get_by_role("button", name=re.compile(r"^伏せる\s*（"))
    redact_person.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#findings-heading")).to_have_text("検出した記述（2件、未判断 0件）")
    expect(person_finding.locator(".badge")).to_have_text("伏せる")
    expect(page.locator("main")).to_contain_text("公開できます。")
    a11y.check(page, "anonymisation proposal (decided)")

    page.get_by_role("link", name="審査委員に見える内容をプレビューする").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("審査委員に見える内容")
    copy = page.locator("article")
    expect(copy.locator("mark.redaction-mark").filter(has_text="＜団体名＞")).to_have_count(1)
    expect(copy.locator("mark.redaction-mark").filter(has_text="＜氏名＞")).to_have_count(1)
    expect(copy).to_contain_text("＜団体名＞は、代表の＜氏名＞を中心に")
    expect(copy).not_to_contain_text(accepted["group"])
    expect(copy).not_to_contain_text(representative)
    a11y.check(page, "anonymisation preview")

    # --- release ----------------------------------------------------------------------------------
    page.goto(f"/admin/calls/{call['id']}/anonymise")
    row = page.locator("table tbody tr").filter(has_text=accepted["code"])
    expect(row).to_contain_text("公開できます")
    page.get_by_label(f"{accepted['code']}を公開する").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="選んだ提案を審査委員に公開する").click()
    expect(page.locator(".flashes")).to_contain_text(f"1件の提案（{accepted['code']}）を審査委員に公開しました")
    expect(row.locator(".badge")).to_have_text("審査中")
    expect(row).to_contain_text("公開済み")
    a11y.check(page, "anonymisation list (released)")
    page.goto(f"/admin/calls/{call['id']}/intake/{accepted['proposal_id']}")
    expect(page.locator("#proposal-status")).to_have_text("審査中")

    # The released copy is frozen: the proposal page shows the record, with no scan button.
    page.goto(f"/admin/calls/{call['id']}/anonymise/{accepted['proposal_id']}")
    expect(page.locator("main")).to_contain_text("審査委員に公開済みです")
    expect(page.get_by_role("button", name="スキャンする（再スキャン）")).to_have_count(0)
    a11y.check(page, "anonymisation proposal (released)")
    a11y.assert_clean()


def test_secretariat_pages_of_a_call_in_scoring(new_page, a11y, live_server):
    """The other staff pages of a call whose scoring is open, each checked by axe,
    and the call list on a phone."""
    seed = live_server.seed
    call = seed["calls"]["scoring"]
    page = new_page()
    staff_log_in(page, seed["staff"])
    pseudonyms = [r["pseudonym"] for r in call["reviewers"].values()]
    codes = [g["code"] for g in call["groups"].values()]
    for path, name, shown in (
        ("/admin/calls", "call list", [call["title"]]),
        ("/admin/users", "accounts", [r["email"] for r in call["reviewers"].values()]),
        (f"/admin/calls/{call['id']}/panel", "panel", pseudonyms),
        (f"/admin/calls/{call['id']}/progress", "scoring progress", pseudonyms + codes),
        (f"/admin/calls/{call['id']}/results", "results before the scoring closes", ["採点期間中です"]),
        # The long-list pages of issue 12: filtered, with their bulk forms.
        (f"/admin/calls/{call['id']}/anonymise?status=released&sort=receipt", "anonymisation list, filtered",
         ["条件に合う提案"] + codes),
        (f"/admin/calls/{call['id']}/reminders", "reminders to chosen members", pseudonyms),
        (f"/admin/calls/{call['id']}/panel?q=zzz", "panel list with nothing found", pseudonyms[:1]),
        (f"/admin/calls/{seed['calls']['intake']['id']}/intake", "intake list with the bulk accept",
         ["選んだ提案をまとめて受理する"]),
    ):
        response = page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        for text in shown:
            expect(page.locator("main")).to_contain_text(text)
        a11y.check(page, name)

    phone = new_page(phone=True)
    staff_log_in(phone, seed["staff"])
    phone.goto("/admin/calls")
    a11y.check(phone, "call list on a phone")
    a11y.assert_clean()


def test_staff_login_with_an_authenticator_code(new_page, a11y, live_server):
    """Without the waiver, the password alone is not enough: a wrong code is
    refused, the current one (computed here as an app would) lets the staff in."""
    me = live_server.seed["totp"]
    page = new_page()
    page.goto("/admin/")
    page.wait_for_url(re.compile(r".*/login\?next="))
    page.get_by_label("メールアドレス").fill(me["email"])
    page.get_by_label("パスワード").fill(me["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/login/code")
    expect(page.get_by_role("heading", level=1)).to_have_text("確認コードの入力")
    a11y.check(page, "second factor")
    page.goto("/admin/")  # no session yet: still outside
    page.wait_for_url(re.compile(r".*/login"))

    page.get_by_label("メールアドレス").fill(me["email"])
    page.get_by_label("パスワード").fill(me["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/login/code")
    code_box = page.get_by_role("textbox", name=re.compile("確認コード"))
    code_box.fill(f"{(int(totp.code_at(me['secret'], time.time())) + 500_000) % 1_000_000:06d}")
    page.get_by_role("button", name="確認する").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(code_box).to_have_attribute("aria-invalid", "true")
    a11y.check(page, "second factor with a wrong code")

    code_box.fill(totp.code_at(me["secret"], time.time()))
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url("**/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("事務局の画面")
    a11y.assert_clean()


def test_first_staff_login_enrols_an_authenticator(new_page, a11y, live_server):
    """A staff account without a second factor enrols at its first login: the
    key shown on the page gives the code (as an app would), then recovery codes."""
    me = live_server.seed["enrol"]
    page = new_page()
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(me["email"])
    page.get_by_label("パスワード").fill(me["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/login/enrol")
    expect(page.get_by_role("heading", level=1)).to_have_text("二段階認証の登録")
    a11y.check(page, "enrolment")
    secret = page.locator(".totp-secret code").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.get_by_role("textbox", name=re.compile("確認コード")).fill(totp.code_at(secret, time.time()))
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("回復用コード")
    a11y.check(page, "recovery codes")
    page.get_by_role("link", name="控えました。続ける").click()
    page.wait_for_url("**/admin/")
    a11y.assert_clean()
