"""The secretariat's pages added for a real year (issue 12), in a browser:
the staff ranking keeps 推薦 and 決定 on a 1,366 px screen without
scrolling sideways, and axe finds nothing on the to-do list, the close
page with the proposals short of the minimum, the export links and the
decision page with the reviewers' comments beside the 講評. Read only:
nothing here changes the seeded calls."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def staff_log_in(page, account: dict) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")


def test_the_staff_ranking_fits_a_1366_screen_and_the_new_pages_pass_axe(browser, live_server, a11y):
    seed = live_server.seed
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900},
                                  locale="ja-JP")
    page = context.new_page()
    try:
        staff_log_in(page, seed["staff"])
        expect(page.get_by_role("heading", name="やること（すべての募集）")).to_be_visible()
        a11y.check(page, "admin home with the to-do list")

        results_call = seed["calls"]["results"]
        page.goto(f"/admin/calls/{results_call['id']}/results")
        table = page.locator("table.results-table")
        expect(table).to_be_visible()
        for name in ("推薦", "決定"):
            header = table.get_by_role("columnheader", name=name, exact=True)
            box = header.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1366, (name, box)
        region = page.locator(".table-scroll.staff-ranking")
        assert region.evaluate("el => el.scrollLeft") == 0
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
        expect(page.get_by_role("link", name=re.compile("採点票と順位（Excel形式"))).to_be_visible()
        a11y.check(page, "results with the export links")

        code = next(iter(results_call["groups"].values()))["code"]
        page.get_by_role("link", name=re.compile(rf"（{code}）$")).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{code}の決定")
        expect(page.get_by_label("講評（公表します）")).to_have_value("")
        expect(page.locator("aside.reviewer-comments")).to_contain_text("の講評です。")
        a11y.check(page, "decision with the reviewers' comments beside the 講評")

        intake_call = seed["calls"]["intake"]
        page.goto(f"/admin/calls/{intake_call['id']}/intake")
        page.get_by_label("状況").select_option("waiting")
        page.get_by_role("button", name="表示する").click()
        expect(page.locator("#intake-count")).to_contain_text("条件に合う提案")
        a11y.check(page, "intake list filtered")
        page.goto(f"/admin/calls/{results_call['id']}/results?status=recommended")
        expect(page.locator("#results-count")).to_contain_text("条件に合う提案")
        a11y.check(page, "results filtered")

        scoring_call = seed["calls"]["scoring"]
        page.goto(f"/admin/calls/{scoring_call['id']}/progress/close")
        expect(page.get_by_role("heading", level=1)).to_have_text("採点を締め切る")
        a11y.check(page, "closing the scoring")
        page.goto(f"/admin/calls/{scoring_call['id']}/results")
        a11y.check(page, "results while scoring (proposals short of the minimum)")
    finally:
        context.close()
    a11y.assert_clean()
