"""The proposal editor in a browser: two tabs, live counters, the list of
what is missing before submission, and the phone layout."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.domain.proposals.proposal_fields import REQUEST_CATEGORY

from .conftest import log_in

pytestmark = pytest.mark.e2e


def open_editor(page, proposal_id: int, step: str = ""):
    """The editor at one of its steps (概要 when none is named)."""
    page.goto(f"/proposals/{proposal_id}/edit" + (f"/{step}" if step else ""))
    expect(page.get_by_role("heading", level=1)).to_have_text("提案書の作成・編集")


def test_second_tab_with_stale_content_is_told_about_the_conflict(new_page, account):
    me = account("conflict")
    first = new_page()
    log_in(first, me["email"], me["password"])
    second = new_page(context=first.context)  # same login, another tab
    open_editor(first, me["proposal_id"])
    open_editor(second, me["proposal_id"])

    first.get_by_label("事業名").fill("一つ目のタブで書いた事業名")
    expect(first.locator("#save-status")).to_contain_text("自動保存しました", timeout=15_000)

    second.get_by_label("目的").fill("二つ目のタブで書いた目的")
    status = second.locator("#save-status")
    expect(status).to_contain_text("別のタブや端末でこの提案が更新されています", timeout=15_000)
    expect(status).to_have_class("save-status error")
    expect(status).to_have_attribute("role", "status")
    reload = second.get_by_role("button", name="最新の内容を読み込む")
    expect(reload).to_be_visible()

    # Nothing is saved from the stale tab, even after more typing.
    second.get_by_label("目的").fill("二つ目のタブでさらに書いた目的")
    second.wait_for_timeout(2500)
    expect(status).to_contain_text("別のタブや端末でこの提案が更新されています")

    reload.click()
    expect(second.get_by_label("事業名")).to_have_value("一つ目のタブで書いた事業名")
    expect(second.get_by_label("目的")).to_have_value("")
    # What the stale tab could not save is kept in this browser and offered back.
    expect(second.get_by_text("保存できなかった入力内容がこの端末に残っています")).to_be_visible()
    second.get_by_role("button", name="破棄する").click()
    expect(second.get_by_text("保存できなかった入力内容がこの端末に残っています")).to_have_count(0)


def test_leaving_right_after_typing_keeps_the_text_without_a_false_conflict(new_page, account):
    """The save sent as the page closes races the next page load; the editor
    must neither show the old text nor later report a conflict with itself."""
    me = account("reload")
    page = new_page()
    log_in(page, me["email"], me["password"])
    for round_ in range(3):
        open_editor(page, me["proposal_id"])
        page.get_by_label("目的").fill(f"すぐに再読み込みする{round_}回目")
        page.reload()  # well before the 2-second autosave
        expect(page.get_by_label("目的")).to_have_value(f"すぐに再読み込みする{round_}回目", timeout=10_000)
        expect(page.locator("#save-status")).not_to_have_text("直前の保存を確認しています…")
        expect(page.get_by_text("保存できなかった入力内容")).to_have_count(0)
        page.get_by_label("事業名").fill(f"続けて書いた事業名{round_}")
        expect(page.locator("#save-status")).to_contain_text("自動保存しました", timeout=15_000)


def test_text_typed_offline_is_kept_in_the_browser_and_restored(new_page, account):
    me = account("offline")
    page = new_page()
    log_in(page, me["email"], me["password"])
    open_editor(page, me["proposal_id"], "roles")
    page.context.set_offline(True)
    page.get_by_label("市が行うこと（1行目）").fill("電波の届かない公民館で書いた役割")
    page.get_by_role("button", name="役割分担の行を追加").click()
    page.get_by_label("項目（3行目）").fill("会場")
    page.get_by_label("団体が行うこと（3行目）").fill("会場の予約")
    status = page.locator("#save-status")
    expect(status).to_contain_text("通信できないため保存できませんでした", timeout=15_000)
    page.close()
    page.context.set_offline(False)

    page = new_page(context=page.context)
    open_editor(page, me["proposal_id"], "roles")
    expect(page.get_by_label("市が行うこと（1行目）")).to_have_value("")
    expect(page.get_by_text("保存できなかった入力内容がこの端末に残っています")).to_be_visible()
    page.get_by_role("button", name="復元する").click()
    expect(page.get_by_label("市が行うこと（1行目）")).to_have_value("電波の届かない公民館で書いた役割")
    expect(page.get_by_label("項目（3行目）")).to_have_value("会場")
    expect(page.get_by_label("団体が行うこと（3行目）")).to_have_value("会場の予約")
    expect(page.locator("#save-status")).to_contain_text("自動保存しました", timeout=15_000)
    page.reload()
    expect(page.get_by_label("市が行うこと（1行目）")).to_have_value("電波の届かない公民館で書いた役割")
    expect(page.get_by_label("項目（2行目）")).to_have_value("会場")  # the server keeps rows in order, without gaps
    expect(page.get_by_text("保存できなかった入力内容がこの端末に残っています")).to_have_count(0)


def test_live_counter_updates_and_flags_over_limit_text(new_page, account, a11y):
    me = account("counter")
    page = new_page()
    log_in(page, me["email"], me["password"])
    open_editor(page, me["proposal_id"])

    title = page.get_by_label("事業名")
    counter = page.locator("#title-counter")
    expect(counter).to_have_text("7／40字")  # 見守りの下書き
    expect(title).to_have_attribute("aria-describedby", "title-help title-counter")

    title.fill("")
    title.press_sequentially("見守り")
    expect(counter).to_have_text("3／40字")
    title.fill("𠮷" * 10 + "あ" * 30)  # a surrogate pair counts as one character
    expect(counter).to_have_text("40／40字")
    expect(counter).not_to_have_class("counter over")
    expect(title).not_to_have_attribute("aria-invalid", "true")

    title.press("End")
    title.press_sequentially("超過分")
    expect(counter).to_have_text("43／40字（3字超過）")
    expect(counter).to_have_class("counter over")
    expect(title).to_have_attribute("aria-invalid", "true")
    # Screen readers hear it once, when the limit is crossed, from one live region.
    expect(page.locator("#proposal-form [aria-live=polite]")).to_contain_text("事業名：40字を超えています（41字）")

    # The draft is still saved (nothing typed is lost), with a warning.
    status = page.locator("#save-status")
    expect(status).to_contain_text("確認が必要な項目が1件あります", timeout=15_000)

    page.get_by_label("目的").fill("一行目\n二行目")
    expect(page.locator("#purpose-counter")).to_have_text("7／400字")
    expect(status).to_contain_text("自動保存しました", timeout=15_000)

    # After a reload the server flags the field too, and its summary names it.
    page.reload()
    expect(counter).to_have_text("43／40字（3字超過）")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("事業名：40字以内にしてください（現在43字）")
    expect(page.locator("#title-error")).to_contain_text("40字以内")
    a11y.check(page, "editor with an over-limit field")

    title.press("End")
    for _ in range(3):
        title.press("Backspace")
    expect(counter).to_have_text("40／40字")
    expect(counter).not_to_have_class("counter over")
    expect(title).not_to_have_attribute("aria-invalid", "true")
    # Once saved, the server's message for the field and its summary go away.
    expect(page.locator("#save-status")).to_have_text(re.compile("^自動保存しました（.+）$"), timeout=15_000)
    expect(page.locator("#title-error")).to_have_count(0)
    expect(page.locator("#error-summary")).to_have_count(0)
    expect(title).to_have_attribute("aria-describedby", "title-help title-counter")
    a11y.check(page, "editor after fixing the field")

    # Other problems found by the autosave appear under their field too.
    page.get_by_role("button", name=re.compile("予算")).click()  # the steps' list saves and moves on
    expect(page.get_by_role("heading", level=2, name=re.compile("^収支予算書"))).to_be_visible()
    status = page.locator("#save-status")
    page.get_by_label("収入の区分（1行目）").select_option("自己資金")
    amount = page.get_by_label("収入の金額（1行目）")
    amount.fill("五万円")
    expect(page.locator("#income-0-amount-error")).to_have_text("金額は0以上の整数（円）で入力してください。",
                                                               timeout=15_000)
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_attribute("aria-describedby", "income-0-amount-error")
    a11y.check(page, "editor with an amount error from the autosave")
    amount.fill("５０，０００")
    expect(page.locator("#income-0-amount-error")).to_have_count(0, timeout=15_000)
    expect(amount).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#total-income")).to_have_text("50,000円")
    a11y.assert_clean()


EXPECTED_PROBLEMS = [
    ("背景と地域課題", "background"),
    ("目的", "purpose"),
    ("事業内容", "description"),
    ("実施場所・対象者", "place_and_target"),
    ("期待される効果", "expected_effects"),
    ("協働の必要性", "necessity"),
    ("団体の実績・事業遂行能力", "capability"),
    ("実施期間（開始）", "period_start"),
    ("実施期間（終了）", "period_end"),
    ("希望する協働の形態", "form-itaku"),  # the group's first box
    ("役割分担", "role-0-group"),
    ("収支予算書（収入）", "income-0-category"),
    ("収支予算書（支出）", "expense-0-category"),
]


def test_missing_items_are_all_listed_with_links_that_focus_the_field(new_page, account, a11y):
    me = account("missing")
    page = new_page()
    log_in(page, me["email"], me["password"])
    open_editor(page, me["proposal_id"])
    page.get_by_role("button", name="提出前の確認へ進む").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("提出前の確認")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(f"提出するには、次の{len(EXPECTED_PROBLEMS)}件を直してください")
    links = summary.get_by_role("link")
    expect(links).to_have_count(len(EXPECTED_PROBLEMS))
    for i, (label, _field) in enumerate(EXPECTED_PROBLEMS):
        expect(links.nth(i)).to_contain_text(label)
    # Without every item, there is nothing to submit.
    expect(page.get_by_role("button", name="この内容で提出する")).to_have_count(0)
    a11y.check(page, "confirm with missing items")
    confirm_url = page.url

    for i, (label, field_id) in enumerate(EXPECTED_PROBLEMS):
        if i:
            page.goto(confirm_url)
        links.nth(i).click()
        page.wait_for_url(re.compile(r"/edit(/[a-z]+)?#"))
        focused = page.locator(f"#{field_id}")
        expect(focused).to_be_focused()
        expect(focused).to_be_in_viewport()

    # On the editor, the summary links focus their field without leaving the page.
    open_editor(page, me["proposal_id"])
    page.get_by_label("事業名").fill("あ" * 41)
    page.get_by_role("button", name="下書き保存").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="事業名：40字以内にしてください（現在41字）").click()
    expect(page.get_by_label("事業名")).to_be_focused()
    a11y.check(page, "editor after saving with errors")
    a11y.assert_clean()


@pytest.mark.parametrize("path", ["/mypage", "/proposals/{id}/edit", "/proposals/{id}/edit/content",
                                  "/proposals/{id}/edit/roles", "/proposals/{id}/edit/budget",
                                  "/proposals/{id}/edit/attachments", "/proposals/{id}/confirm", "/proposals/{id}",
                                  "/profile", "/calls/e2e-kyodo", "/"])
def test_pages_fit_a_phone_screen(new_page, account, a11y, path):
    me = account("phone")
    page = new_page(phone=True)
    log_in(page, me["email"], me["password"])
    page.goto(path.format(id=me["proposal_id"]))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    if "/edit" in path:  # the form in steps: no step is the 8,700 px page the whole form was
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 4500, f"{path} is {height}px tall on a phone"
    # Every box in the budget and role tables shows its own label on a phone.
    for label in page.locator("label.cell-label").all():
        expect(label).to_be_visible()
    small = page.evaluate("""() => [...document.querySelectorAll('main button, main .button, main input, main select')]
        .filter(el => el.offsetParent !== null && el.type !== 'checkbox' && el.type !== 'file')
        .filter(el => el.getBoundingClientRect().height < 40)
        .map(el => el.outerHTML.slice(0, 80))""")
    assert not small, f"controls too small to tap on {path}: {small}"
    a11y.check(page, f"{path} on a phone")
    a11y.assert_clean()


def test_deleting_a_draft_asks_first(new_page, account):
    me = account("delete")
    page = new_page()
    log_in(page, me["email"], me["password"])
    page.goto(f"/proposals/{me['proposal_id']}")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="下書きを削除する").click()
    expect(page.get_by_role("button", name="下書きを削除する")).to_be_enabled()
    assert page.url.endswith(f"/proposals/{me['proposal_id']}")
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="下書きを削除する").click()
    expect(page.locator(".flashes")).to_contain_text("下書きを削除しました")
    assert len(questions) == 2 and "元に戻せません" in questions[0]


def test_autosave_keeps_a_budget_row_that_cannot_be_read_yet(new_page, account):
    """With JavaScript on, an amount that is not a number of yen used to be
    acknowledged by the autosave and then lost with its whole row."""
    me = account("budget")
    page = new_page()
    log_in(page, me["email"], me["password"])
    open_editor(page, me["proposal_id"], "budget")
    page.get_by_label("収入の区分（1行目）").select_option("自己資金")
    page.get_by_label("収入の金額（1行目）").fill("-30000")
    page.get_by_label("収入の内訳（1行目）").fill("会費")
    page.get_by_label("支出の金額（1行目）").fill("1e5")
    page.get_by_label("支出の内訳（1行目）").fill("チラシ印刷")
    expect(page.locator("#save-status")).to_contain_text("自動保存しました", timeout=15_000)

    page.reload()
    expect(page.get_by_label("収入の区分（1行目）")).to_have_value("自己資金")
    expect(page.get_by_label("収入の金額（1行目）")).to_have_value("-30000")
    expect(page.get_by_label("収入の内訳（1行目）")).to_have_value("会費")
    expect(page.get_by_label("支出の金額（1行目）")).to_have_value("1e5")
    expect(page.get_by_label("支出の内訳（1行目）")).to_have_value("チラシ印刷")
    expect(page.get_by_label("収入の金額（1行目）")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#income-0-amount-error")).to_contain_text("0以上の整数")
    expect(page.locator("#expense-0-category-error")).to_contain_text("区分を一覧から選んでください")


# The budget's rows and totals, and the profile's postcode lookup. The
# "reload" and "phone" drafts are used because no other test looks at their
# budget or their address; each test types every row it checks.

def fill_row(page, kind: str, row: int, category: str, amount: str, note: str) -> None:
    title = {"income": "収入", "expense": "支出"}[kind]
    page.get_by_label(f"{title}の区分（{row}行目）").select_option(category)
    page.get_by_label(f"{title}の金額（{row}行目）").fill(amount)
    page.get_by_label(f"{title}の内訳（{row}行目）").fill(note)


def test_deleting_a_budget_row_is_at_once_and_stays_deleted(new_page, account, a11y):
    me = account("reload")
    page = new_page()
    log_in(page, me["email"], me["password"])
    open_editor(page, me["proposal_id"], "budget")
    if page.get_by_label("支出の区分（3行目）").count() == 0:
        page.get_by_role("button", name="支出の行を追加").click()
    fill_row(page, "expense", 1, "消耗品費", "10000", "お茶")
    fill_row(page, "expense", 2, "旅費・交通費", "20000", "バス代")
    fill_row(page, "expense", 3, "印刷製本費", "30000", "チラシ")
    status = page.locator("#save-status")
    expect(status).to_contain_text("自動保存しました", timeout=15_000)
    expect(page.locator("#total-expense")).to_have_text("60,000円")
    a11y.check(page, "editor with delete buttons on the budget rows")

    page.get_by_role("button", name="支出 2行目を削除").click()
    # Gone at once; the row below takes its place and its number, and has the focus.
    expect(page.get_by_label("支出の内訳（2行目）")).to_have_value("チラシ")
    expect(page.get_by_label("支出の区分（2行目）")).to_be_focused()
    expect(page.get_by_role("button", name="支出 2行目を削除")).to_be_visible()
    expect(page.locator("#proposal-form [aria-live=polite]")).to_have_text("行を削除しました")
    expect(page.locator("#total-expense")).to_have_text("40,000円")
    expect(status).to_have_text(re.compile("^自動保存しました"), timeout=15_000)

    page.reload()
    expect(page.get_by_label("支出の内訳（1行目）")).to_have_value("お茶")
    expect(page.get_by_label("支出の内訳（2行目）")).to_have_value("チラシ")
    expect(page.get_by_label("支出の内訳（3行目）")).to_have_value("")
    expect(page.locator("#total-expense")).to_have_text("40,000円")

    # The last row: the focus goes to the button that adds a row.
    rows = page.locator("#expense-rows tr")
    last = rows.count()
    page.get_by_role("button", name=f"支出 {last}行目を削除").click()
    expect(rows).to_have_count(last - 1)
    expect(page.get_by_role("button", name="支出の行を追加")).to_be_focused()
    a11y.assert_clean()


def test_totals_follow_the_typing_and_amounts_get_separators_on_leaving_the_box(new_page, account):
    me = account("reload")
    page = new_page()
    log_in(page, me["email"], me["password"])
    open_editor(page, me["proposal_id"], "budget")
    page.context.set_offline(True)  # so every figure below comes from the browser, not a save
    total_income, total_expense = page.locator("#total-income"), page.locator("#total-expense")

    page.get_by_label("収入の区分（1行目）").select_option(REQUEST_CATEGORY)
    amount = page.get_by_label("収入の金額（1行目）")
    amount.fill("")
    amount.press_sequentially("２４００００")
    expect(total_income).to_have_text("240,000円")
    expect(page.locator("#total-requested")).to_have_text("240,000円")
    expect(amount).to_have_value("２４００００")  # as typed while the box has the focus
    page.get_by_label("収入の内訳（1行目）").fill("市の負担金")
    expect(amount).to_have_value("240,000")

    fill_row(page, "income", 2, "自己資金", "1,000", "会費")
    fill_row(page, "expense", 1, "消耗品費", "250000", "お茶")
    fill_row(page, "expense", 2, "旅費・交通費", "五万", "読めない金額")
    expect(total_income).to_have_text("241,000円")
    expect(page.locator("#total-requested")).to_have_text("240,000円")  # 自己資金 is not asked of the city
    expect(total_expense).to_have_text("250,000円")  # 五万 is not an amount (yet)
    expect(page.locator("#total-balance")).to_have_text("-9,000円")
    expect(page.get_by_label("支出の金額（1行目）")).to_have_value("250,000")
    expect(page.get_by_label("支出の金額（2行目）")).to_have_value("五万")  # left exactly as typed
    expect(page.locator("#save-status")).not_to_contain_text("自動保存しました")

    page.context.set_offline(False)
    page.get_by_label("支出の金額（2行目）").fill("５０，０００")
    expect(total_expense).to_have_text("300,000円")
    expect(page.locator("#save-status")).to_contain_text("自動保存しました", timeout=20_000)
    page.reload()
    expect(page.get_by_label("支出の金額（2行目）")).to_have_value("50,000")
    expect(total_expense).to_have_text("300,000円")


def test_postcode_lookup_fills_an_empty_address_and_only_offers_over_a_typed_one(new_page, account, a11y):
    me = account("phone")
    page = new_page()
    log_in(page, me["email"], me["password"])
    page.goto("/profile")
    postcode, address = page.get_by_label("郵便番号"), page.get_by_label("所在地")
    status = page.locator("#postal_code-lookup-status")
    lookup = page.get_by_role("button", name="住所を検索")

    address.fill("")
    postcode.fill("１００－０００１")
    lookup.click()
    expect(address).to_have_value("東京都千代田区千代田")
    expect(address).to_be_focused()  # ready for the 番地
    expect(status).to_contain_text("所在地に「東京都千代田区千代田」を入れました")
    expect(status).to_have_attribute("aria-live", "polite")

    # What was typed stays until the person chooses the address found.
    address.fill("みなと市中央1-2-3")
    postcode.fill("060-0000")
    lookup.click()
    expect(status).to_contain_text("北海道札幌市中央区")
    expect(address).to_have_value("みなと市中央1-2-3")
    a11y.check(page, "profile with an address suggestion")
    page.get_by_role("button", name="所在地をこの住所に置き換える").click()
    expect(address).to_have_value("北海道札幌市中央区")
    page.get_by_role("button", name="元に戻す").click()
    expect(address).to_have_value("みなと市中央1-2-3")

    postcode.fill("000-0000")
    lookup.click()
    expect(status).to_contain_text("この郵便番号の住所は見つかりませんでした")
    postcode.fill("12345")
    lookup.click()
    expect(status).to_have_text("郵便番号は7桁の数字で入力してください（例: 123-4567）。")
    expect(address).to_have_value("みなと市中央1-2-3")
    a11y.assert_clean()


def test_the_error_summary_counts_again_when_a_budget_row_is_deleted(new_page, account, a11y):
    me = account("conflict")
    page = new_page()
    log_in(page, me["email"], me["password"])
    open_editor(page, me["proposal_id"], "budget")
    fill_row(page, "income", 1, "自己資金", "abc", "会費")
    page.get_by_label("収入の金額（2行目）").fill("xyz")
    page.get_by_label("収入の内訳（2行目）").fill("区分を選び忘れた行")
    page.get_by_role("button", name="下書き保存").click()
    summary = page.locator("#error-summary")
    expect(summary.get_by_role("heading")).to_have_text("確認が必要な項目（3件）")
    expect(summary.get_by_role("link")).to_have_count(3)

    page.get_by_role("button", name="収入 1行目を削除").click()
    expect(summary.get_by_role("heading")).to_have_text("確認が必要な項目（2件）")
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(summary.get_by_role("link").first).to_contain_text("（1行目）")
    expect(page.locator("#save-status")).to_contain_text("自動保存しました", timeout=15_000)
    expect(summary.get_by_role("heading")).to_have_text("確認が必要な項目（2件）")
    a11y.check(page, "budget step after deleting a row with errors")

    page.get_by_role("button", name="収入 1行目を削除").click()  # the last row with a problem
    expect(summary).to_have_count(0)
    a11y.assert_clean()


def test_a_postcode_with_several_towns_lets_the_person_choose_one(new_page, account, a11y):
    me = account("counter")
    page = new_page(phone=True)
    log_in(page, me["email"], me["password"])
    page.goto("/profile")
    address = page.get_by_label("所在地")
    address.fill("")
    page.get_by_label("郵便番号").fill("452-0961")
    page.get_by_role("button", name="住所を検索").click()
    towns = page.get_by_role("group", name=re.compile("町域が[0-9]+つあります"))
    expect(towns).to_be_visible()
    expect(address).to_have_value("")  # nothing is filled in until the person chooses
    choice = towns.get_by_role("button", name="愛知県清須市春日夢の森")
    expect(choice).to_be_visible()
    assert towns.get_by_role("button").count() > 1
    a11y.check(page, "profile with a choice of towns")
    choice.click()
    expect(address).to_have_value("愛知県清須市春日夢の森")
    expect(address).to_be_focused()
    expect(towns).to_have_count(0)
    expect(page.locator("#postal_code-lookup-status")).to_contain_text("所在地に「愛知県清須市春日夢の森」を入れました")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    a11y.assert_clean()
