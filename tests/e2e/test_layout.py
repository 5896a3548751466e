"""The public pages fit the screen: on a phone (390 px) and a desktop
(1,280 px) nothing scrolls the page sideways, nothing is wider than the box
that clips it unless that box is a scroll region a keyboard can reach
(tabindex="0", role="region", a name), and axe finds nothing.

The results page is a published version of its own call, written straight
into the live server's database (``python -m tests.e2e.test_layout``), so
test_results.py keeps its unpublished call; its names and criteria are long
on purpose.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, ROOT

pytestmark = pytest.mark.e2e

LAYOUT_SLUG = "e2e-layout"
LAYOUT_TITLE = "令和8年度 市民提案型協働モデル事業（E2E表示確認）"
LONG_GROUP = "特定非営利活動法人 みなと川の自然と子どもたちの未来を守る市民ネットワーク"
PROPOSALS = 8

# Every element wider than the box that clips it, unless that box is a
# focusable, named scroll region; and the page's own sideways overflow.
FIND_OVERFLOW = """() => {
  const doc = document.documentElement;
  const problems = [];
  if (doc.scrollWidth > window.innerWidth) {
    problems.push(`page: scrollWidth ${doc.scrollWidth} > innerWidth ${window.innerWidth}`);
  }
  const clips = el => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX);
  };
  const isRegion = el => el.tabIndex >= 0 && el.getAttribute('role') === 'region'
    && (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby'));
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  for (const el of document.body.querySelectorAll('*')) {
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1 || rect.right <= 0) continue;  // hidden, or off-screen by design
    let box = el.parentElement;
    while (box && box !== document.body && !clips(box)) box = box.parentElement;
    const limit = box && box !== document.body ? box.getBoundingClientRect()
      : {left: 0, right: doc.clientWidth};
    if (rect.right <= limit.right + 1 && rect.left >= limit.left - 1) continue;
    if (box && box !== document.body && isRegion(box)) continue;
    if (box && box !== document.body && getComputedStyle(box).overflowX === 'hidden'
        && box.closest('.visually-hidden')) continue;
    problems.push(`${describe(el)} (${Math.round(rect.left)}–${Math.round(rect.right)}) outside `
      + `${box && box !== document.body ? describe(box) : 'the viewport'} `
      + `(${Math.round(limit.left)}–${Math.round(limit.right)}): ${(el.textContent || '').trim().slice(0, 40)}`);
  }
  return problems;
}"""

TABLE_WIDTHS = """() => [...document.querySelectorAll('main table')].map(t => ({
  caption: (t.caption ? t.caption.textContent : '').trim(), width: Math.round(t.getBoundingClientRect().width),
  box: Math.round((t.closest('.table-scroll') || t.parentElement).clientWidth),
  shown: t.getClientRects().length > 0}))"""


def seed_published_call() -> dict:
    """A call with long names and a published results document, in the
    database of the environment this runs in; returns its slug and title."""
    from flask import current_app

    from portal import create_app
    from portal.db import db_session
    from portal.domain.log import chain, process_log, signing
    from portal.domain.timeutil import now_utc
    from portal.files.objectstore import store_of
    from portal.models import Publication
    from tests.e2e.seed import staff_call

    app = create_app()
    with app.app_context():
        call = staff_call(LAYOUT_SLUG, LAYOUT_TITLE, opens=timedelta(days=-90),
                          closes=timedelta(days=-60), scoring=(timedelta(days=-40), timedelta(days=-20)),
                          results=timedelta(days=-1))
        criteria = [{"key": str(c.position), "name": c.name, "description": c.description,
                     "weight": str(int(c.weight)), "min": c.scale_min, "max": c.scale_max} for c in call.criteria]
        maximum = sum(Decimal(c["weight"]) * c["max"] for c in criteria)
        labels = {"adopted": "採択", "conditional": "条件付き採択", "not_adopted": "不採択"}
        proposals = []
        for index in range(PROPOSALS):
            sheets = [{c["key"]: 5 - (index + r + int(c["key"])) % 4 for c in criteria} for r in range(5)]
            reviewers = [{"reviewer": f"委員{'ABCDE'[r]}", "scores": s, "dropped": False,
                          "total": str(sum(Decimal(c["weight"]) * s[c["key"]] for c in criteria))}
                         for r, s in enumerate(sheets)]
            score = (sum(Decimal(r["total"]) for r in reviewers) / len(reviewers)).quantize(Decimal("0.01"))
            outcome = "adopted" if index < 2 else "conditional" if index == 2 else "not_adopted"
            named = index < 3 or index == 4
            proposals.append({
                "code": f"提案{index + 1:02d}", "rank": index + 1, "recommended": index < 4,
                "decision": {"outcome": outcome, "label": labels[outcome],
                             "reason": "予算の範囲を超えるため。" if index == 3 else "",
                             "conditions": "報告書を提出すること" if outcome == "conditional" else ""},
                "departs": index == 3, "group_name": LONG_GROUP if named else None,
                "title": "川辺の自然観察と清掃を子どもと一緒に続ける事業" if index < 3 else None,
                "summary": "地域の見守りを市と協働で行います。" if index < 3 else None,
                "requested_amount": 300_000, "scorer_count": len(reviewers),
                "criterion_means": {c["key"]: str((Decimal(sum(s[c["key"]] for s in sheets)) / len(sheets))
                                                  .quantize(Decimal("0.01"))) for c in criteria},
                "score": str(score), "share_of_max": str((score / maximum).quantize(Decimal("0.0001"))),
                "review_comment": "地域への波及効果が期待できる。", "reviewers": reviewers,
            })
        head = process_log.head(db_session, call)
        document = {
            "format": "kyodo-portal/results/v1", "version": 1,
            "call": {"ref": call.slug, "title": call.title, "fiscal_year": call.fiscal_year},
            "published_at": chain.utc_timestamp(now_utc()),
            "rules": {"method": "mean", "decimals": 2, "formula": "得点＝各委員の重み付き合計の平均",
                      "max_possible": str(maximum), "budget_total": 1_500_000},
            "criteria": criteria,
            "counts": {"received": PROPOSALS, "accepted": PROPOSALS, "released": PROPOSALS, "adopted": 3},
            "budget_used": 900_000, "general_comment": "いずれも地域に根ざした提案でした。",
            "roster": [{"name": "協働 太郎", "title": "みなと大学 地域連携センター 教授", "chair": True}],
            "proposals": proposals,
            "log_head": {"seq": head.seq, "hash": head.hash, "signature": "c2lnbmF0dXJl"},
            "public_key_pem": signing.public_key_pem(signing.key_for_app(current_app)),
            "verification": {},
        }
        store = store_of(current_app)
        names = []
        for _ in ("results", "log"):
            name = uuid.uuid4().hex
            store.put(name, b"%PDF-1.4\n%%EOF\n")
            names.append(name)
        db_session.add(Publication(
            call_id=call.id, version=1, published_at=now_utc(), reason="", results=document,
            results_sha256=chain.sha256_hex(chain.canonical_json(document)), results_pdf_name=names[0],
            log_pdf_name=names[1], head_seq=head.seq, head_hash=head.hash, head_signature="c2lnbmF0dXJl"))
        call.results_published_at = now_utc()
        db_session.commit()
        return {"slug": call.slug, "title": call.title}


@pytest.fixture(scope="module")
def layout_call(live_server) -> dict:
    """The published call, seeded once per server (test_overflow.py reads it too)."""
    try:
        urllib.request.urlopen(f"{live_server.url}/calls/{LAYOUT_SLUG}/results", timeout=30)
        return {"slug": LAYOUT_SLUG, "title": LAYOUT_TITLE}
    except urllib.error.HTTPError:
        pass
    run = subprocess.run([sys.executable, "-m", "tests.e2e.test_layout"], cwd=ROOT, env=live_server.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def public_pages(live_server, layout_call) -> list[tuple[str, str, str]]:
    """(name, path, the h1) of every page a visitor reads without logging in."""
    call = live_server.seed["call"]
    return [
        ("home", "/", ""),
        ("calls", "/calls", "募集一覧"),
        ("call", f"/calls/{call['slug']}", call["title"]),
        ("results", f"/calls/{layout_call['slug']}/results", f"{layout_call['title']}　審査結果"),
        ("contact", "/contact", "お問い合わせ"),
        ("privacy", "/privacy", "プライバシーポリシー"),
        ("accessibility", "/accessibility", "ウェブアクセシビリティ方針"),
    ]


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_public_pages_fit_the_screen(screen, browser, live_server, layout_call, a11y, capsys):
    options = PHONE if screen == "phone" else DESKTOP
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", timezone_id="Asia/Tokyo", **options)
    context.set_default_timeout(10_000)
    problems = []
    try:
        page = context.new_page()
        for name, path, heading in public_pages(live_server, layout_call):
            response = page.goto(path)
            assert response is not None and response.ok, (path, response and response.status)
            if heading:
                expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            found = page.evaluate(FIND_OVERFLOW)
            problems += [f"{screen} {name}: {item}" for item in found]
            with capsys.disabled():
                widths = page.evaluate(TABLE_WIDTHS)
                print(f"\n{screen} {name}: page {page.evaluate('document.documentElement.scrollWidth')}px, tables",
                      [(w["caption"][:20], w["width"], w["box"]) for w in widths if w["shown"]])
            a11y.check(page, f"{screen} {name}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    a11y.assert_clean()


def test_the_results_ranking_and_the_criteria_read_as_cards_on_a_phone(new_page, live_server, layout_call):
    """On a phone each proposal of the ranking is a card whose values carry
    their names; the call's criteria list their levels once, not per row."""
    page = new_page(phone=True)
    page.goto(f"/calls/{layout_call['slug']}/results")
    cards = page.locator(".ranking-cards > li")
    expect(cards).to_have_count(PROPOSALS)
    first = cards.first
    for label in ("得点", "満点比", "採点者数", "推薦", "決定"):
        expect(first.locator("dt", has_text=label)).to_be_visible()
    expect(page.locator("table.ranking")).to_be_hidden()

    page.goto(f"/calls/{live_server.seed['call']['slug']}")
    expect(page.locator(".scale-levels")).to_have_count(1)
    expect(page.locator(".scale-levels")).to_be_visible()
    for name in ("審査項目", "重み"):
        lines = page.get_by_role("columnheader", name=name).evaluate(
            "th => { const r = document.createRange(); r.selectNodeContents(th); return r.getClientRects().length; }")
        assert lines == 1, f"{name} breaks over {lines} lines"


def test_wide_tables_that_scroll_are_keyboard_regions(new_page, layout_call):
    page = new_page()
    page.goto(f"/calls/{layout_call['slug']}/results")
    for region in page.locator(".table-scroll").all():
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("role") == "region"
        assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")


if __name__ == "__main__":
    print(json.dumps(seed_published_call(), ensure_ascii=False))
