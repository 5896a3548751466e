"""A reviewer's scoring session in a real browser: proposals by code only,
利害関係なし before reading, a draft that survives a reload, scores by
keyboard, submission with its confirmation and the locked sheet; a second
reviewer's declared conflict. No page of the panel shows a group's name.
axe checks every page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

def reviewer_log_in(page, account: dict) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/review/")


def assert_anonymous(page, groups: dict) -> None:
    """Neither a group's name nor its representative's anywhere in the page."""
    html = page.content()
    for group in groups.values():
        for secret in (group["group"], group["representative"], group["representative"].replace(" ", ""),
                       group["email"]):
            assert secret not in html, f"{page.url} shows {secret!r}"


def criterion(page, name: str):
    return page.get_by_role("group", name=re.compile(f"^{name}"))


def test_reviewer_confirms_reads_scores_and_submits(new_page, a11y, live_server):
    call = live_server.seed["calls"]["scoring"]
    groups = call["groups"]
    mine = groups["scoring-1"]
    page = new_page()
    reviewer_log_in(page, call["reviewers"]["reviewer-a"])

    # --- the list: codes only ----------------------------------------------------------------
    expect(page.get_by_role("heading", level=1)).to_have_text("審査委員の画面")
    panel = page.locator("section.card").filter(has_text=call["title"])
    expect(panel).to_contain_text(f"あなたの仮名：{call['reviewers']['reviewer-a']['pseudonym']}")
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(2)
    codes = sorted(g["code"] for g in groups.values())
    expect(rows.locator("th")).to_have_text(codes)
    for group in groups.values():
        expect(panel).not_to_contain_text(group["title"])
    assert_anonymous(page, groups)
    a11y.check(page, "review home")

    # --- 利害関係なし before reading --------------------------------------------------------------
    rows.filter(has_text=mine["code"]).get_by_role("link", name=f"{mine['code']}の利害関係を確認する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{mine['code']}：利害関係の確認")
    expect(page.locator("main")).not_to_contain_text(mine["title"])
    assignment_url = re.sub(r"/confirm$", "", page.url)
    a11y.check(page, "conflict check before reading")
    page.goto(assignment_url)  # straight to the proposal: sent back to the check
    page.wait_for_url("**/confirm")
    page.get_by_role("button", name="利害関係がないことを確認して読む").click()
    page.wait_for_url(assignment_url)

    # --- the anonymised proposal -----------------------------------------------------------------
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{mine['code']} {mine['title']}")
    capability = page.locator("section[aria-labelledby=field-capability]")
    expect(capability).to_contain_text("＜団体名＞は、代表の＜氏名＞を中心に")
    assert_anonymous(page, groups)
    a11y.check(page, "proposal for the reviewer")

    page.get_by_role("link", name="一次審査（書類）の採点票").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"一次審査（書類）の採点：{mine['code']}")
    sheet_url = page.url
    assert_anonymous(page, groups)
    a11y.check(page, "score sheet (empty)")

    # --- a draft: one score by keyboard, two by pointer, reasons ----------------------------------
    first = criterion(page, "公益性")
    first.get_by_label("5点：優れている").focus()
    page.keyboard.press("Space")
    expect(first.get_by_label("5点：優れている")).to_be_checked()
    page.keyboard.press("ArrowDown")  # the next level in the group, as a screen reader user would
    expect(first.get_by_label("4点：やや優れている")).to_be_checked()
    expect(first.get_by_label("4点：やや優れている")).to_be_focused()
    criterion(page, "必要性").get_by_label("5点：優れている").check()
    criterion(page, "協働の効果").get_by_label("3点：普通").check()
    page.get_by_label("公益性の点数の理由").fill("地域の子どもの安全に直結する提案です。")
    page.get_by_label("必要性の点数の理由").fill("避難訓練の参加者が減っている課題に応えます。")
    expect(page.locator("#" + page.get_by_label("必要性の点数の理由").get_attribute("id") + "-counter")).to_have_text(
        "22／400字")
    page.get_by_role("button", name="下書き保存").click()
    expect(page.locator(".flashes")).to_contain_text("下書きを保存しました")

    page.reload()
    expect(criterion(page, "公益性").get_by_label("4点：やや優れている")).to_be_checked()
    expect(criterion(page, "必要性").get_by_label("5点：優れている")).to_be_checked()
    expect(criterion(page, "協働の効果").get_by_label("3点：普通")).to_be_checked()
    expect(criterion(page, "実現可能性").locator("input:checked")).to_have_count(0)
    expect(page.get_by_label("公益性の点数の理由")).to_have_value("地域の子どもの安全に直結する提案です。")
    expect(page.locator(".save-status")).to_contain_text("下書き：")
    a11y.check(page, "score sheet (draft)")

    # An incomplete sheet cannot be submitted: the confirmation lists what is missing.
    page.get_by_role("button", name="提出（確認画面へ）").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("提出するには、次の")
    expect(summary).to_contain_text("実現可能性：点数を選んでください。")
    expect(page.get_by_role("button", name="この内容で提出する")).to_have_count(0)
    a11y.check(page, "submission check with missing items")
    summary.get_by_role("link", name="実現可能性：点数を選んでください。").click()
    page.wait_for_url(re.compile(r".*/score/document#score-\d+$"))

    # --- complete, confirm, submit ------------------------------------------------------------------
    criterion(page, "協働の効果").get_by_label("4点：やや優れている").check()
    criterion(page, "実現可能性").get_by_label("4点：やや優れている").check()
    criterion(page, "予算の妥当性").get_by_label("3点：普通").check()
    page.get_by_label("協働の効果の点数の理由").fill("市の防災担当との役割分担が明確です。")
    page.get_by_label("実現可能性の点数の理由").fill("実施体制と日程が具体的です。")
    page.get_by_label("予算の妥当性の点数の理由").fill("消耗品費の内訳がやや粗いです。")
    page.get_by_label("講評の候補（団体に伝える講評の案）").fill("地域に根ざした防災の取り組みとして期待します。")
    stale = new_page(context=page.context)  # another tab, left open on the draft
    stale.goto(sheet_url)
    page.get_by_role("button", name="提出（確認画面へ）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"提出前の確認：一次審査（書類）・{mine['code']}")
    expected_total = 4 * 2 + 5 * 2 + 4 * 2 + 4 * 2 + 3 * 1
    expect(page.locator("tfoot")).to_contain_text(f"{expected_total}／45点")
    assert_anonymous(page, groups)
    a11y.check(page, "submission confirmation")
    page.get_by_role("button", name="この内容で提出する").click()
    expect(page.locator(".flashes")).to_contain_text("一次審査（書類）の採点を提出しました")

    # --- locked: shown, never offered as a form ----------------------------------------------------
    expect(page.locator("main .notice").first).to_contain_text("提出済み")
    expect(page.locator("main input[type=radio], main textarea")).to_have_count(0)
    expect(page.get_by_role("button", name="下書き保存")).to_have_count(0)
    scores = page.locator("table tbody tr")
    expect(scores.filter(has_text="公益性")).to_contain_text("4点")
    expect(scores.filter(has_text="予算の妥当性")).to_contain_text("3点")
    assert_anonymous(page, groups)
    a11y.check(page, "score sheet (submitted)")

    # The tab left open on the draft cannot change the sealed sheet either.
    criterion(stale, "公益性").get_by_label("1点：劣る").check()
    stale.get_by_role("button", name="下書き保存").click()
    expect(stale.locator("main")).to_contain_text("この採点は提出済みのため変更できません")
    a11y.check(stale, "save refused after submission")
    page.reload()
    expect(scores.filter(has_text="公益性")).to_contain_text("4点")

    page.goto("/review/")
    mine_row = page.locator("section.card").filter(has_text=call["title"]).locator("tbody tr").filter(
        has_text=mine["code"])
    expect(mine_row).to_contain_text("提出済み")
    a11y.assert_clean()


def test_second_reviewer_declares_a_conflict_on_a_phone(new_page, a11y, live_server):
    call = live_server.seed["calls"]["scoring"]
    groups = call["groups"]
    theirs = groups["scoring-2"]
    page = new_page(phone=True)
    reviewer_log_in(page, call["reviewers"]["reviewer-b"])
    rows = page.locator("section.card").filter(has_text=call["title"]).locator("tbody tr")
    expect(rows).to_have_count(2)
    assert_anonymous(page, groups)
    assert no_overflow(page) <= 0, "the reviewer's list scrolls sideways on a phone"
    a11y.check(page, "review home on a phone")

    rows.filter(has_text=theirs["code"]).get_by_role("link", name=f"{theirs['code']}の利害関係を確認する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{theirs['code']}：利害関係の確認")
    assignment_url = re.sub(r"/confirm$", "", page.url)
    assert no_overflow(page) <= 0, "the conflict check scrolls sideways on a phone"
    page.get_by_label("申告の内容（任意）").fill("提案団体の役員に親族がいます。")
    page.get_by_role("button", name="利害関係を申告する").click()
    page.wait_for_url("**/review/")
    expect(page.locator(".flashes")).to_contain_text(f"{theirs['code']}について利害関係の申告を受け付けました")
    expect(rows).to_have_count(1)
    expect(rows.locator("th")).to_have_text([groups["scoring-1"]["code"]])
    expect(page.locator("section.card table")).not_to_contain_text(theirs["code"])
    a11y.check(page, "review home after declaring a conflict")

    # The proposal is gone for them, even by its address.
    response = page.goto(assignment_url)
    assert response.status == 404
    a11y.check(page, "the recused proposal (404)")
    response = page.goto(assignment_url + "/score/document")
    assert response.status == 404
    a11y.assert_clean()


def no_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
