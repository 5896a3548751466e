"""The applicant's whole journey in a real browser, on a phone-sized screen:
register, confirm the address, write the group profile, write a proposal
(autosaved), submit, download the receipt, withdraw. axe checks every page."""
from __future__ import annotations

import re
import subprocess
import uuid

import pytest

from portal.files.samples import sample_pdf
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "minato-mimamori-2026"
TITLE = "見守りカフェで地域の孤立をなくす事業"


def test_register_propose_submit_and_withdraw(new_page, a11y, live_server, tmp_path):
    page = new_page(phone=True)
    call = live_server.seed["call"]
    email = f"kai-{uuid.uuid4().hex[:8]}@example.jp"

    # --- public pages -------------------------------------------------------
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("市民提案型協働モデル事業")
    a11y.check(page, "home")
    page.get_by_role("link", name=call["title"]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(call["title"])
    expect(page.get_by_role("cell", name="公益性")).to_be_visible()
    a11y.check(page, "call page")

    page.goto("/calls")
    a11y.check(page, "call list")

    page.goto("/login")
    a11y.check(page, "login")
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator(".error-summary")).to_be_visible()
    a11y.check(page, "login with errors")

    # --- register ---------------------------------------------------------------
    page.goto("/register")
    a11y.check(page, "register")
    page.get_by_role("button", name="登録する").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("入力内容を確認してください")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("^パスワード（10文字以上）")).click()
    expect(page.locator("#password")).to_be_focused()
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    a11y.check(page, "register with errors")

    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード（10文字以上）").fill(PASSWORD)
    page.get_by_label("パスワード（確認）").fill(PASSWORD)
    page.get_by_label("個人情報の取扱い（利用目的）に同意します").check()
    page.get_by_role("button", name="登録する").click()
    # The same answer as for a registered address: no login yet.
    page.wait_for_url("**/register/sent")
    expect(page.get_by_role("heading", level=1)).to_have_text("確認メールを送りました")
    a11y.check(page, "register sent")

    # --- confirm the address through the mail in the dev outbox, then log in ----
    page.goto("/dev/outbox")  # development only: no axe check
    mail = page.locator("article.mail").filter(has_text=email).first
    expect(mail).to_contain_text("メールアドレスの確認")
    mail.locator("a[href*='/confirm/']").click()
    expect(page.locator(".flashes")).to_contain_text("メールアドレスを確認しました")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")
    a11y.check(page, "dashboard (new account)")

    # --- group profile ------------------------------------------------------------
    page.get_by_role("link", name="団体概要を編集する").click()
    a11y.check(page, "profile (empty)")
    page.locator("#name").fill("みなと見守りの会")
    page.locator("#name_kana").fill("見守りの会")  # kanji, not kana: refused
    page.locator("#postal_code").fill("１２３ー４５６７")
    page.get_by_role("button", name="保存する").click()
    expect(page.locator("#error-summary")).to_contain_text("ひらがな又はカタカナ")
    expect(page.locator("#name_kana")).to_have_attribute("aria-invalid", "true")
    a11y.check(page, "profile with errors")

    page.locator("#name_kana").fill("みなとみまもりのかい")
    page.locator("#kind").select_option(label="市民活動組織（ボランティア団体など）")
    page.locator("#representative_title").fill("会長")
    page.locator("#representative_name").fill("山田 花子")
    page.locator("#contact_name").fill("佐藤 太郎")
    page.locator("#address").fill("みなと市中央１丁目２番３号")
    page.locator("#phone").fill("０１２３－４５－６７８９")
    page.locator("#founded_on").fill("2015-04-01")
    page.locator("#member_count").fill("１２")
    page.get_by_label("まちづくり").check()
    page.locator("#activity_record").fill("2015年から毎週、地域の高齢者の見守り訪問を続けています。")
    page.get_by_role("button", name="保存する").click()
    expect(page.locator(".flashes")).to_contain_text("団体概要を保存しました")
    expect(page.locator("#postal_code")).to_have_value("123-4567")
    expect(page.locator("#phone")).to_have_value("0123-45-6789")
    expect(page.locator("#member_count")).to_have_value("12")

    # The three documents every application needs, through the real upload forms.
    for purpose, label in (("rules", "規約・会則"), ("officers", "役員名簿"), ("annual_report", "直近の事業報告・決算書")):
        page.locator(f"#document-{purpose}").set_input_files(
            {"name": f"{purpose}.pdf", "mimeType": "application/pdf", "buffer": sample_pdf(label)})
        page.get_by_role("button", name=f"登録する （{label}）").click()
        expect(page.locator(f"#document-{purpose}-heading + ul")).to_contain_text(f"{purpose}.pdf")
    a11y.check(page, "profile with documents")

    # --- start a proposal ----------------------------------------------------------
    page.goto(f"/calls/{call['slug']}")
    page.get_by_role("link", name="この募集に提案する").click()
    a11y.check(page, "new proposal")
    page.get_by_role("button", name="提案書の作成を始める").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("提案書の作成・編集")
    editor_url = page.url
    a11y.check(page, "editor (empty)")

    # Type, wait for the autosave (no save button), reload: the text is there.
    status = page.locator("#save-status")
    page.get_by_label("事業名").fill(TITLE)
    page.get_by_label("目的").fill("誰もが気軽に立ち寄れる居場所をつくります。")
    expect(status).to_contain_text("自動保存しました", timeout=15_000)
    page.reload()
    expect(page.get_by_label("事業名")).to_have_value(TITLE)
    expect(page.get_by_label("目的")).to_have_value("誰もが気軽に立ち寄れる居場所をつくります。")

    # Everything else, step by step: 「次へ」 saves the step and opens the next.
    steps = page.get_by_role("navigation", name="提案書の入力の手順")
    expect(steps.locator("[aria-current=step]")).to_contain_text("概要")
    page.get_by_label("開始日").fill("2026-07-01")
    page.get_by_label("終了日").fill("2027-02-28")
    page.get_by_label("共催").check()
    page.get_by_label("関係する市の担当課（わかれば）").fill("高齢福祉課")
    page.get_by_role("button", name="次へ：内容").click()
    expect(steps.locator("[aria-current=step]")).to_contain_text("内容")
    expect(steps.get_by_role("button", name=re.compile("概要"))).to_contain_text("入力済み")
    a11y.check(page, "editor, step 内容")
    page.get_by_label("背景と地域課題").fill("一人暮らしの高齢者が増え、\n地域で孤立する人が増えています。")
    page.get_by_label("事業内容").fill("月2回、公民館で見守りカフェを開きます。")
    page.get_by_label("実施場所・対象者").fill("みなと公民館。地域の高齢者とその家族。")
    page.get_by_label("期待される効果").fill("孤立の予防と早期の相談につながります。")
    page.get_by_label("協働の必要性").fill("市の相談窓口と団体の見守り網をつなぐためです。")
    expect(steps.locator("[aria-current=step]")).to_contain_text("要確認")
    page.get_by_label("団体の実績・事業遂行能力").fill("10年の見守り訪問の実績があります。")
    # The autosave brings the step's count up to date: nothing is missing here any more.
    expect(page.locator("#save-status")).to_contain_text("自動保存しました", timeout=15_000)
    expect(steps.locator("[aria-current=step]")).to_contain_text("入力済み")
    page.get_by_role("button", name="次へ：役割分担").click()
    expect(steps.locator("[aria-current=step]")).to_contain_text("役割分担")
    page.get_by_label("項目（1行目）").fill("広報")
    page.get_by_label("団体が行うこと（1行目）").fill("チラシの作成と配布")
    page.get_by_label("市が行うこと（1行目）").fill("市報への掲載")
    page.get_by_role("button", name="次へ：予算").click()
    expect(steps.locator("[aria-current=step]")).to_contain_text("予算")
    page.go_back()  # back to 役割分担: what was typed there was saved
    expect(page.get_by_label("団体が行うこと（1行目）")).to_have_value("チラシの作成と配布")
    page.go_forward()
    status = page.locator("#save-status")
    page.get_by_label("収入の区分（1行目）").select_option("市への要望額（協働事業負担金）")
    page.get_by_label("収入の金額（1行目）").fill("２００，０００")
    page.get_by_label("収入の区分（2行目）").select_option("自己資金")
    page.get_by_label("収入の金額（2行目）").fill("50000")
    page.get_by_label("支出の区分（1行目）").select_option("消耗品費")
    page.get_by_label("支出の金額（1行目）").fill("200000")
    page.get_by_label("支出の内訳（1行目）").fill("茶菓・紙コップ")
    # A third row, added in place (row 2 stays empty and is ignored).
    page.get_by_role("button", name="支出の行を追加").click()
    expect(page.get_by_label("支出の区分（3行目）")).to_be_focused()
    page.get_by_label("支出の区分（3行目）").select_option("印刷製本費")
    page.get_by_label("支出の金額（3行目）").fill("50,000円")
    expect(status).to_contain_text("自動保存しました", timeout=15_000)
    expect(page.locator("#total-income")).to_have_text("250,000円")
    expect(page.locator("#total-expense")).to_have_text("250,000円")
    expect(page.locator("#total-requested")).to_have_text("200,000円")
    a11y.check(page, "editor (filled)")
    page.get_by_role("button", name="次へ：添付").click()
    expect(steps.locator("[aria-current=step]")).to_contain_text("添付")
    for name in ("概要", "内容", "役割分担", "予算"):
        expect(steps.get_by_role("link", name=re.compile(name)).first).to_contain_text("入力済み")
    a11y.check(page, "editor, step 添付")

    # --- confirm and submit ----------------------------------------------------------
    page.get_by_role("link", name="次へ：提出前の確認").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("提出前の確認")
    expect(page.locator(".summary").first).to_contain_text(TITLE)
    # What the receipt will print: the group's details and the attachments.
    expect(page.locator("#confirm-group")).to_be_visible()
    a11y.check(page, "confirm")

    declarations = page.locator("input[name=declarations]")
    assert declarations.count() == 7
    declarations.first.check()
    page.get_by_role("button", name="この内容で提出する").click()
    expect(page.locator("#declarations-error")).to_contain_text("同意されていない誓約事項が6件")
    expect(page.locator("#declarations-error")).to_be_focused()
    expect(page).to_have_title(re.compile("^要確認：提出前の確認"))
    expect(declarations.first).to_be_checked()
    a11y.check(page, "confirm with missing declarations")

    for i in range(declarations.count()):
        declarations.nth(i).check()
    page.get_by_role("button", name="この内容で提出する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("提案を受け付けました")
    receipt_number = page.locator("#receipt-number").inner_text().strip()
    assert re.fullmatch(r"R8-\d{2}-\d{4}", receipt_number), receipt_number
    expect(page.locator("main")).to_contain_text("受付番号")
    a11y.check(page, "receipt")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="受付票（PDF）をダウンロード").click()
    download = download_info.value
    pdf_path = tmp_path / "receipt.pdf"
    download.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["/usr/bin/pdftotext", "-enc", "UTF-8", str(pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert receipt_number in flat, text[:1000]
    assert re.sub(r"\s+", "", TITLE) in flat, text[:1000]

    # --- the proposal page, then withdraw ---------------------------------------------
    page.get_by_role("link", name="提案の状況と履歴を見る").click()
    expect(page.locator("#proposal-status")).to_have_text("提出済")
    a11y.check(page, "detail (submitted)")
    page.goto(editor_url)  # a submitted proposal cannot be edited: back to its page
    expect(page.locator("#proposal-status")).to_have_text("提出済")

    page.get_by_role("link", name="提案を取り下げる").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("提案の取下げ")
    a11y.check(page, "withdraw")
    page.get_by_label("取下げの理由（任意）").fill("代表者の体調不良のため")
    page.get_by_role("button", name="取り下げる").click()
    expect(page.locator(".flashes")).to_contain_text("提案を取り下げました")
    expect(page.locator("#proposal-status")).to_have_text("取下げ")
    expect(page.locator(".timeline")).to_contain_text("代表者の体調不良のため")
    a11y.check(page, "detail (withdrawn)")

    page.get_by_role("link", name="マイページ").click()
    expect(page.locator("main")).to_contain_text("取下げ")
    a11y.check(page, "dashboard (withdrawn)")

    # --- error pages -----------------------------------------------------------------
    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
    a11y.check(page, "404")
    response = page.goto("/proposals/999999")
    assert response.status == 404
    a11y.check(page, "404 (someone else's or no proposal)")

    a11y.assert_clean()
