"""The browser verifier (static/js/verify-*.js) in Chromium, on the same
files as the script (tests/verify_cases.py): every genuine published call
verifies with all its files, every tampered copy is rejected and the first
problem is named; the log page's button verifies the live call's log; the
verification page and the log page pass axe."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..verify_cases import CASES, generate

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-cases")
    return out, generate(out)


def outcome(page, files) -> str:
    page.goto("/transparency/verify")
    page.get_by_label("確かめるファイル（複数選べます）").set_input_files([str(f) for f in files])
    result = page.locator("[data-verify-result][data-outcome]")
    expect(result).to_have_count(1, timeout=30_000)
    return result.get_attribute("data-outcome")


def test_the_browser_accepts_every_genuine_call_and_rejects_every_tampered_copy(new_page, a11y, cases):
    out, manifest = cases
    page = new_page()
    key = out / manifest["key"]
    for slug, files in manifest["genuine"].items():
        assert outcome(page, [out / "genuine" / slug / name for name in files] + [key]) == "verified", \
            page.locator("[data-verify-result]").inner_text()
        result = page.locator("[data-verify-result]")
        expect(result).to_contain_text("検証成功")
        expect(result).to_contain_text("結果のPDF（第1版）")
        expect(result).to_contain_text(re.compile(r"results-v1\.csv（結果のCSV（第1版）"))
        a11y.check(page, f"verify page, {slug} verified")
    for name in sorted(CASES):
        case = manifest["cases"][name]
        files = [out / "cases" / name / file for file in case["files"]] + [key]
        got = outcome(page, files)
        assert got == "failed", f"{name} ({case['what']}) was accepted"
        expect(page.locator(".verify-headline")).to_contain_text("検証失敗：")
    a11y.check(page, "verify page, a tampered copy")
    a11y.assert_clean()


def test_the_first_failing_entry_is_named_in_words(new_page, cases):
    out, manifest = cases
    page = new_page()
    case = manifest["cases"]["revealed-score"]
    outcome(page, [out / "cases" / "revealed-score" / f for f in case["files"]] + [out / manifest["key"]])
    headline = page.locator(".verify-headline")
    expect(headline).to_contain_text("番「委員")
    expect(headline).to_contain_text("の採点（一次審査）を封印しました」で問題が見つかりました。")
    expect(headline).to_contain_text("公開された点数が封印と一致しません")


def test_a_foreign_key_is_refused_even_when_the_document_is_consistent(new_page, cases):
    out, manifest = cases
    page = new_page()
    case = manifest["cases"]["replaced-key"]
    outcome(page, [out / "cases" / "replaced-key" / f for f in case["files"]] + [out / manifest["key"]])
    expect(page.locator("[data-verify-result]")).to_contain_text("文書の公開鍵が市の公開鍵と違います")


def test_the_log_page_button_verifies_the_live_log(new_page, a11y, live_server):
    slug = live_server.seed["calls"]["results"]["slug"]
    page = new_page()
    page.goto(f"/calls/{slug}/log")
    a11y.check(page, "log page")
    page.get_by_role("button", name="ブラウザで検証する").click()
    result = page.locator("[data-verify-result][data-outcome]")
    expect(result).to_have_count(1, timeout=30_000)
    assert result.get_attribute("data-outcome") == "verified", result.inner_text()
    expect(result).to_contain_text("このサイトの公開鍵")
    a11y.check(page, "log page, verified")

    # A person reads it: sentences, Japanese times, weights as published, a filter, the JSON a click away.
    page.get_by_label("記録の種類", exact=True).select_option(label="採点の封印")
    page.get_by_role("button", name="絞り込む").click()
    entries = page.locator("li.log-entry")
    expect(entries.first).to_contain_text("の採点（一次審査）を封印しました。")
    assert all("採点の封印" in text for text in entries.locator("h3").all_inner_texts())
    expect(entries.first).to_contain_text("（日本時間）")
    expect(entries.first).to_contain_text("令和")
    a11y.check(page, "log page, filtered")
    page.get_by_label("記録の種類", exact=True).select_option(label="募集の開始")
    page.get_by_role("button", name="絞り込む").click()
    first = page.locator("li.log-entry").first
    criteria = first.locator("dd").filter(has_text="公益性（重み×")
    expect(criteria).to_contain_text("公益性（重み×2、1〜5点）")
    expect(criteria).not_to_contain_text("×200")
    expect(first.locator("dd").filter(has_text="丸め方")).to_contain_text("四捨五入")
    first.get_by_text("記録1番のJSON").click()
    expect(first.locator("pre")).to_contain_text('"kind": "call_published"')
    a11y.check(page, "log page, raw JSON open")
    a11y.assert_clean()


RECOMPUTE = """docs => docs.map(doc => {
  const r = window.KyodoVerify.recompute(doc), rows = {};
  for (const code of Object.keys(r.rows)) {
    const row = r.rows[code];
    rows[code] = {scorer_count: row.scorer_count, trimmed: row.trimmed, score: row.score,
      share_of_max: row.share_of_max, criterion_means: row.criterion_means, passes_threshold: row.passes_threshold,
      vetoed: row.vetoed, rank: row.rank, tied_with: row.tied_with, tie_break_used: row.tie_break_used,
      recommended: row.recommended, reasons: row.reasons, totals: row.totals};
  }
  return {rows: rows, used: r.used};
})"""
FIGURES = ("scorer_count", "trimmed", "score", "share_of_max", "criterion_means", "passes_threshold", "vetoed",
           "rank", "tied_with", "tie_break_used", "recommended", "reasons")


def test_the_browser_recomputes_what_the_portal_computed(new_page):
    """The same random documents as tests/test_verify_recompute.py: every
    figure the browser recomputes is the portal's."""
    from ..verify_cases import random_documents

    documents = random_documents(seed=15, count=300)
    page = new_page()
    page.goto("/transparency/verify")
    page.wait_for_function("() => window.KyodoVerify !== undefined")
    computed = page.evaluate(RECOMPUTE, documents)
    for index, (document, mine) in enumerate(zip(documents, computed, strict=True)):
        assert mine["used"] == document["budget_used"], index
        for p in document["proposals"]:
            row = mine["rows"][p["code"]]
            assert {name: row[name] for name in FIGURES} == {name: p[name] for name in FIGURES}, (index, p["code"])
            assert row["totals"] == {r["reviewer"]: r["total"] for r in p["reviewers"]}, (index, p["code"])
