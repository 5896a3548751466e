"""The 審査会's pages in a browser (issue 12 item 4): the meeting view of a
scored call for staff (axe, the disagreement rule on the page), a browser
print of a staff page without the site's navigation, footer or buttons,
and the 二次審査 sheet on a tablet (820×1180) without sideways scrolling."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from .conftest import ROOT

pytestmark = pytest.mark.e2e


def log_in(page, account: dict, landing: str) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(landing)


@pytest.fixture(scope="module")
def presentation(live_server) -> dict:
    made = subprocess.run([sys.executable, "-m", "tests.e2e.meeting_seed"], cwd=ROOT, env=live_server.env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    return json.loads(made.stdout.strip().splitlines()[-1])


def test_the_meeting_view_and_a_printed_staff_page(browser, live_server, a11y):
    seed = live_server.seed
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    try:
        log_in(page, seed["staff"], "**/admin/")
        call = seed["calls"]["results"]
        page.goto(f"/admin/calls/{call['id']}/papers")
        expect(page.get_by_role("heading", level=1)).to_have_text("審査会の資料")
        a11y.check(page, "papers of the 審査会")
        page.get_by_role("link", name="審査会の画面（順位・委員ごとの合計・ばらつき・意見の相違・メモ）").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("審査会の画面")
        expect(page.locator("#disagreement-rule")).to_contain_text("2段階以上離れているとき")
        table = page.get_by_role("table", name="順位と委員ごとの合計点")
        for name in ("委員A", "委員B", "委員C", "標準偏差"):
            expect(table.get_by_role("columnheader", name=name)).to_be_visible()
        a11y.check(page, "meeting view")

        assert page.locator(".site-header").is_visible()
        page.emulate_media(media="print")
        for selector in (".site-header", ".site-footer", "header nav", "main button"):
            for i in range(page.locator(selector).count()):
                assert not page.locator(selector).nth(i).is_visible(), f"{selector} is printed"
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(table).to_be_visible()
        page.emulate_media(media="screen")
        assert page.locator(".site-header").is_visible()

        # read only: the forms of the minutes and of the running order (not submitted)
        page.goto(f"/admin/calls/{call['id']}/minutes")
        expect(page.get_by_role("heading", level=1)).to_have_text("議事録")
        expect(page.get_by_role("group", name="出席した委員")).to_be_visible()
        a11y.check(page, "minutes")
        page.goto(f"/admin/calls/{call['id']}/presentations")
        expect(page.get_by_label("提案コード")).to_be_visible()
        a11y.check(page, "二次審査の日程")
    finally:
        context.close()
    a11y.assert_clean()


def test_the_presentation_sheet_fits_a_tablet(browser, live_server, presentation, a11y):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 820, "height": 1180},
                                  locale="ja-JP", has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, presentation["reviewer"], "**/review/")
        page.goto(f"/review/assignments/{presentation['assignment_id']}/score/presentation")
        expect(page.get_by_role("heading", level=1)).to_contain_text(presentation["code"])
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 820
        # every control can be reached without scrolling sideways
        for box in page.locator("main input, main button, main textarea").evaluate_all(
                "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().right)"):
            assert box <= 820
        a11y.check(page, "presentation sheet on a tablet")
        page.goto(f"/review/calls/{presentation['call_id']}/papers")
        expect(page.get_by_role("link", name="審査会の画面（委員長）")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 820
    finally:
        context.close()
    a11y.assert_clean()
