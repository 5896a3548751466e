"""From the close of scoring to an anonymous visitor, in a real browser: staff
record the decisions (one departing from the recommendation, with its
reason), finalise and publish; a visitor with no login finds the results,
and the page, the PDF and the JSON carry the same figures; the process log
shows its entries and head and verifies with the citizen's script. axe
checks every page."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CRITERIA = ("公益性", "必要性", "協働の効果", "実現可能性", "予算の妥当性")
DEPARTURE_REASON = "同種の事業を市がすでに実施しているため、今回は採択しないこととしました。"
GENERAL_COMMENT = "地域に根ざした提案が多く、審査委員会として心強く感じました。"
# The seed's sheets (tests/e2e/seed.py RESULT_SCORES): each total is the mean of
# the three reviewers' weighted totals, rounded once to two decimals.
EXPECTED_SCORES = {"results-high": "39.67", "results-mid": "31.33", "results-low": "20.33"}


def staff_log_in(page, account: dict) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/admin/")


def decide_as_recommended(page, a11y, code: str) -> None:
    """Open the proposal's decision page and save the outcome it offers (the recommendation)."""
    page.get_by_role("link", name=re.compile(rf"^入力する\s*（{code}）$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{code}の決定")
    a11y.check(page, f"decision {code}")
    page.get_by_role("button", name="決定を保存する").click()


def page_figures(page) -> dict[str, dict]:
    """code -> {"score", "means": [..]}: the score from the public ranking
    table, the means per criterion from each proposal's own page (linked
    from its code in the ranking)."""
    return page.evaluate("""async () => {
        const figures = {};
        for (const tr of document.querySelectorAll('table.ranking tbody tr')) {
            const link = tr.querySelector('th a');
            const cells = [...tr.querySelectorAll('td')].map(td => td.textContent.trim());
            const detail = new DOMParser().parseFromString(await (await fetch(link.href)).text(), 'text/html');
            const means = [...detail.querySelectorAll('table.criterion-means tbody tr')]
                .map(row => row.querySelectorAll('td')[1].textContent.trim());
            figures[link.textContent.trim()] = {score: cells[1], means};
        }
        return figures;
    }""")


def pdf_figures(text: str) -> dict[str, dict]:
    """code -> {"score", "means", "summary_score"} read from ``pdftotext -layout``:
    the summary table, the table of each criterion (its last column is the
    mean) and the 得点 line of each proposal's section."""
    figures: dict[str, dict] = {}
    criterion = None
    section_code = None
    for line in text.splitlines():
        if caption := re.match(r"\s*「(.+?)」（重み", line):
            criterion = caption.group(1)
            continue
        if "各提案の決定と講評" in line:
            criterion = None
        if summary := re.match(r"\s*(?:\d+|－)\s+(提案\d+)\s.*?\s(\d+\.\d+)\s+\d+\.\d+%", line):
            figures.setdefault(summary.group(1), {"means": {}})["summary_score"] = summary.group(2)
            continue
        if criterion and (row := re.match(r"\s*(提案\d+)\s+(?:[\d－]+\s+)*?(\d+\.\d+)\s*$", line)):
            figures.setdefault(row.group(1), {"means": {}})["means"][criterion] = row.group(2)
            continue
        if criterion is None and (heading := re.match(r"\s*(提案\d+)(\s|$)", line)):
            section_code = heading.group(1)
        if section_code and (score := re.match(r"\s*得点\s+(\d+\.\d+)点", line)):
            figures[section_code]["score"] = score.group(1)
    return {code: {**f, "means": [f["means"].get(name) for name in CRITERIA]} for code, f in figures.items()}


def test_decisions_publication_and_what_a_visitor_can_check(new_page, a11y, live_server, tmp_path):
    seed = live_server.seed
    call = seed["calls"]["results"]
    groups = call["groups"]
    high, mid, low = (groups[k] for k in ("results-high", "results-mid", "results-low"))
    page = new_page()
    staff_log_in(page, seed["staff"])

    # --- the figures after scoring ------------------------------------------------------------
    page.goto(f"/admin/calls/{call['id']}/results")
    expect(page.get_by_role("heading", level=1)).to_have_text("集計・決定・公表")
    expect(page.locator("dl.facts")).to_contain_text("すべての採点期間が終了しました")
    ranking = page.locator("table.results-table tbody tr")
    expect(ranking).to_have_count(3)
    for key, group in groups.items():
        expect(ranking.filter(has_text=group["code"])).to_contain_text(EXPECTED_SCORES[key])
    expect(ranking.filter(has_text=low["code"])).to_contain_text("合格基準点に達していません")
    expect(page.get_by_role("button", name="いま公表する")).to_be_disabled()
    a11y.check(page, "results (scored, undecided)")

    # --- decisions: as recommended, one departure with its reason, as recommended ------------------
    decide_as_recommended(page, a11y, high["code"])  # 採択
    expect(page.locator(".flashes")).to_contain_text(f"{high['code']} を「採択」としました")

    page.get_by_role("link", name=re.compile(rf"^入力する\s*（{mid['code']}）$")).click()
    expect(page.locator("#recommendation")).to_have_text("推薦")
    # The 講評 is the committee's: it starts empty, the reviewers' comments beside it.
    expect(page.get_by_label("講評（公表します）")).to_have_value("")
    expect(page.locator("aside.reviewer-comments")).to_contain_text("委員Aの講評です。")
    a11y.check(page, "decision")
    page.get_by_label("不採択", exact=True).check()
    page.get_by_role("button", name="決定を保存する").click()
    expect(page.locator("#error-summary")).to_contain_text("集計結果（推薦）と異なる決定には、公表する理由が必要です。")
    expect(page.get_by_label("不採択", exact=True)).to_be_checked()
    a11y.check(page, "departing decision without a reason")
    page.get_by_label("決定の理由（公表します）").fill(DEPARTURE_REASON)
    page.get_by_role("button", name="決定を保存する").click()
    expect(page.locator(".flashes")).to_contain_text("集計による推薦と異なる決定です。理由を公表します")

    decide_as_recommended(page, a11y, low["code"])  # 不採択
    expect(page.locator(".flashes")).to_contain_text(f"{low['code']} を「不採択」としました")
    decisions = page.locator("#decisions tbody tr")
    expect(decisions.filter(has_text=mid["code"])).to_contain_text("不採択（推薦と異なる）")
    expect(decisions.filter(has_text=mid["code"])).to_contain_text(DEPARTURE_REASON)

    # --- finalise, 総評, publish -----------------------------------------------------------------------
    page.get_by_role("button", name="決定を確定する").click()
    expect(page.locator(".flashes")).to_contain_text("決定を確定し、公開の審査記録に記録しました")
    page.get_by_label("総評（公表します）").fill(GENERAL_COMMENT)
    page.get_by_role("button", name="総評を保存する").click()
    expect(page.locator(".flashes")).to_contain_text("総評を保存しました")
    a11y.check(page, "results (finalised)")
    page.get_by_role("button", name="いま公表する").click()
    # The request returns at once; the worker renders the PDFs and the page
    # follows its progress (role="status"), then shows the published version.
    expect(page.locator(".flashes")).to_contain_text("公表の処理を進めています")
    a11y.check(page, "results (publishing)")
    expect(page.locator("#publish-job")).to_contain_text("第1版を公表し、各団体にメールで知らせました", timeout=60_000)
    expect(page.locator("#publish table")).to_contain_text("第1版")
    a11y.check(page, "results (published)")

    # --- an anonymous visitor, on a phone ---------------------------------------------------------------
    visitor = new_page(phone=True)
    visitor.goto("/calls")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("募集一覧")
    card = visitor.locator("article.card").filter(has_text=call["title"])
    expect(card).to_contain_text("結果公表済み")
    a11y.check(visitor, "public call list")
    card.get_by_role("link", name=re.compile("^審査結果")).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(f"{call['title']}　審査結果")
    overflow = visitor.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the results page scrolls sideways by {overflow}px on a phone"
    main = visitor.locator("main")
    expect(main).to_contain_text(GENERAL_COMMENT)
    expect(main).to_contain_text(DEPARTURE_REASON)
    expect(main).to_contain_text(high["group"])  # adopted: named
    expect(main).not_to_contain_text(low["group"])  # not adopted, no consent: code only
    for group in groups.values():
        expect(main).not_to_contain_text(group["representative"])
    on_page = page_figures(visitor)
    assert {g["code"]: on_page[g["code"]]["score"] for g in groups.values()} == \
        {g["code"]: EXPECTED_SCORES[k] for k, g in groups.items()}
    a11y.check(visitor, "public results")

    # The PDF, saved from its link and read back with pdftotext. The page links it
    # to open in the browser's viewer; saving it is the visitor's "save link as",
    # hence the download attribute set here.
    link = visitor.get_by_role("link", name="審査結果（PDF）")
    link.evaluate("a => a.setAttribute('download', '')")
    with visitor.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == f"{call['slug']}-results-v1.pdf"
    pdf_path = tmp_path / "results.pdf"
    download_info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["/usr/bin/pdftotext", "-layout", "-enc", "UTF-8", str(pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout
    in_pdf = pdf_figures(text)
    assert set(in_pdf) == set(on_page), text[:2000]
    for code, figures in on_page.items():
        assert in_pdf[code]["summary_score"] == figures["score"], (code, in_pdf[code])
        assert in_pdf[code]["score"] == figures["score"], (code, in_pdf[code])
        assert in_pdf[code]["means"] == figures["means"], (code, in_pdf[code], figures)
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", DEPARTURE_REASON) in flat
    assert high["group"] in flat and low["group"] not in flat

    # The JSON twin: the same numbers, from the same document.
    response = visitor.context.request.get(f"/calls/{call['slug']}/results.json")
    assert response.ok and response.headers["content-type"].startswith("application/json")
    document = response.json()
    keys = [c["key"] for c in document["criteria"]]
    assert [c["name"] for c in document["criteria"]] == list(CRITERIA)
    for p in document["proposals"]:
        assert p["score"] == on_page[p["code"]]["score"]
        assert [p["criterion_means"][k] for k in keys] == on_page[p["code"]]["means"]
        # Each mean is the mean of the reviewers' scores, rounded once.
        for k, shown in zip(keys, on_page[p["code"]]["means"], strict=True):
            exact = Decimal(sum(r["scores"][k] for r in p["reviewers"])) / len(p["reviewers"])
            assert exact.quantize(Decimal("0.01")) == Decimal(shown)
    mid_row = next(p for p in document["proposals"] if p["code"] == mid["code"])
    assert mid_row["departs"] is True and mid_row["decision"]["reason"] == DEPARTURE_REASON

    # --- the process log: entries, head, and the citizen's verification --------------------------------------
    visitor.get_by_role("link", name="審査プロセスの記録", exact=True).first.click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(f"{call['title']}　審査プロセスの記録")
    entries = visitor.locator("ol.log-entries > li")
    log = visitor.context.request.get(f"/calls/{call['slug']}/log.json").json()
    expect(entries).to_have_count(len(log["entries"]))
    kinds = [e["kind"] for e in log["entries"]]
    for kind in ("call_published", "intake_decided", "released_to_reviewers", "score_sealed", "decision_recorded",
                 "scores_revealed", "results_published"):
        assert kind in kinds, kinds
    head = visitor.locator("section[aria-labelledby=head-heading]")
    expect(head).to_contain_text(log["head"]["hash"])
    expect(head).to_contain_text(f"先頭の番号{log['head']['seq']}")
    # The head the results were computed from is an entry of this log.
    expect(visitor.locator(f"#seq-{document['log_head']['seq']}")).to_contain_text(document["log_head"]["hash"])
    a11y.check(visitor, "public process log")

    log_file = tmp_path / f"{call['slug']}-log.json"
    log_file.write_text(json.dumps(log, ensure_ascii=False), encoding="utf-8")
    key_file = tmp_path / "public-key.pem"
    key_file.write_bytes(visitor.context.request.get("/transparency/public-key.pem").body())
    script = tmp_path / "verify_log.py"
    script.write_bytes(visitor.context.request.get("/transparency/verify_log.py").body())
    verified = subprocess.run([sys.executable, str(script), str(log_file), "--public-key", str(key_file)],
                              capture_output=True, text=True, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip().splitlines()[-1].endswith("VERIFIED"), verified.stdout
    a11y.assert_clean()
