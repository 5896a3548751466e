"""Every public and applicant page at 390 px and 1,280 px: the page never
scrolls sideways, no table is wider than its box unless that box is a
scroll region a keyboard can reach (scrollable, tabindex="0", role="region"
and a name), and axe finds nothing.

The applicant's submitted and withdrawn proposals are written straight into
the live server's database (``python -m tests.e2e.test_overflow``); the
form's steps are read on the seeded "phone" draft, whose texts are filled.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import DESKTOP, PHONE, ROOT, log_in
from .test_layout import FIND_OVERFLOW, layout_call  # noqa: F401  (a fixture, seeded once per server)

pytestmark = pytest.mark.e2e

EMAIL = "e2e-overflow@example.jp"
LONG_GROUP = "特定非営利活動法人 みなと川の自然と子どもたちの未来を守る市民ネットワーク"

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

# A table wider than the box that holds it, where that box does not scroll
# or cannot be reached and named by a keyboard and screen-reader user.
CLIPPED_TABLES = """() => [...document.querySelectorAll('table')].filter(t => t.getClientRects().length).map(t => {
  let box = t.parentElement;
  while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
  const width = t.getBoundingClientRect().width;
  const room = box && box !== document.body ? box.clientWidth : document.documentElement.clientWidth;
  if (width <= room + 1) return null;
  const scrolls = box && box !== document.body && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
  const reachable = scrolls && box.tabIndex >= 0 && box.getAttribute('role') === 'region'
    && (box.hasAttribute('aria-label') || box.hasAttribute('aria-labelledby'));
  if (reachable) return null;
  return `${(t.caption ? t.caption.textContent : '').trim().slice(0, 30) || 'table'}: ${Math.round(width)}px in ${room}px`
    + (scrolls ? ' (scrolls, but not focusable and named)' : ' (clipped)');
}).filter(Boolean)"""


def seed_overflow_account() -> dict:
    """An applicant with a long group name, a submitted proposal and a
    withdrawn one in the seeded open call; returns their ids."""
    from flask import current_app
    from sqlalchemy import select

    from portal import create_app
    from portal.db import db_session
    from portal.domain.proposals import workflow
    from portal.domain.timeutil import now_utc
    from portal.models import Call
    from tests.factories import Factory

    app = create_app()
    with app.app_context():
        factory = Factory(db_session, current_app)
        call = db_session.scalars(select(Call).where(Call.slug == "e2e-kyodo")).one()
        user = factory.applicant(email=EMAIL, name=LONG_GROUP)
        withdrawn = factory.proposal(user, call, declarations=True)
        withdrawn.title = "川辺の自然観察と清掃を子どもたちと一緒に続ける事業（取り下げたもの）"
        now = now_utc()
        workflow.submit_proposal(db_session, withdrawn, user, withdrawn.version, now)
        workflow.withdraw_proposal(db_session, withdrawn, user, "内容を見直すため", now)
        submitted = factory.proposal(user, call, declarations=True)
        submitted.title = "川辺の自然観察と清掃を子どもたちと一緒に続ける事業"
        workflow.submit_proposal(db_session, submitted, user, submitted.version, now)
        db_session.commit()
        return {"email": EMAIL, "password": Factory.PASSWORD, "submitted": submitted.id, "withdrawn": withdrawn.id}


@pytest.fixture(scope="module")
def overflow_account(live_server) -> dict:
    run = subprocess.run([sys.executable, "-m", "tests.e2e.test_overflow"], cwd=ROOT, env=live_server.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def public_paths(live_server, layout_call) -> list[str]:
    call, results = live_server.seed["call"]["slug"], layout_call["slug"]
    return ["/", "/calls", f"/calls/{call}", f"/calls/{results}", f"/calls/{results}/results",
            f"/calls/{results}/results/p/提案01", f"/calls/{results}/results/p/提案05", f"/calls/{results}/log",
            "/contact", "/privacy", "/accessibility"]


def applicant_paths(account: dict) -> list[str]:
    submitted, withdrawn = account["submitted"], account["withdrawn"]
    return ["/mypage", "/profile", f"/proposals/{submitted}", f"/proposals/{submitted}/withdraw",
            f"/proposals/{withdrawn}", f"/proposals/{withdrawn}/reuse"]


def form_paths(draft_id: int) -> list[str]:
    return [f"/proposals/{draft_id}/edit", f"/proposals/{draft_id}/edit/content", f"/proposals/{draft_id}/edit/roles",
            f"/proposals/{draft_id}/edit/budget", f"/proposals/{draft_id}/edit/attachments",
            f"/proposals/{draft_id}/confirm"]


def check_pages(browser, live_server, a11y, screen: str, paths: list[str], login: dict | None) -> list[str]:
    options = PHONE if screen == "phone" else DESKTOP
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", timezone_id="Asia/Tokyo", **options)
    context.set_default_timeout(10_000)
    problems = []
    try:
        page = context.new_page()
        if login:
            log_in(page, login["email"], login["password"])
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.ok, (path, response and response.status)
            page.wait_for_load_state("load")
            sideways = page.evaluate(SIDEWAYS)
            if sideways > 0:
                problems.append(f"{screen} {path}: the page scrolls sideways by {sideways}px")
            problems += [f"{screen} {path}: table {item}" for item in page.evaluate(CLIPPED_TABLES)]
            problems += [f"{screen} {path}: {item}" for item in page.evaluate(FIND_OVERFLOW)]
            a11y.check(page, f"{screen} {path}")
    finally:
        context.close()
    return problems


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_public_pages_neither_overflow_nor_clip(screen, browser, live_server, layout_call, a11y):
    problems = check_pages(browser, live_server, a11y, screen, public_paths(live_server, layout_call), None)
    assert not problems, "\n".join(problems)
    a11y.assert_clean()


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_applicant_pages_neither_overflow_nor_clip(screen, browser, live_server, overflow_account, account, a11y):
    problems = check_pages(browser, live_server, a11y, screen, applicant_paths(overflow_account), overflow_account)
    draft = account("phone")
    problems += check_pages(browser, live_server, a11y, screen, form_paths(draft["proposal_id"]), draft)
    assert not problems, "\n".join(problems)
    a11y.assert_clean()


def test_the_checks_catch_a_clipped_table_and_a_page_that_scrolls_sideways(browser):
    """The checks above can fail: a table cut off by its box, one in a box
    that scrolls but cannot be focused, and a page wider than the screen."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        wide = '<table><caption>{0}</caption><tr><td><div style="width:900px">x</div></td></tr></table>'
        meta = '<meta name="viewport" content="width=device-width, initial-scale=1">'
        page.set_content(
            meta + '<div style="overflow:hidden">' + wide.format("cut") + "</div>"
            + '<div style="overflow-x:auto">' + wide.format("unreachable") + "</div>"
            + '<div style="overflow-x:auto" tabindex="0" role="region" aria-label="ok">' + wide.format("fine") + "</div>")
        found = page.evaluate(CLIPPED_TABLES)
        assert [item.split(":")[0] for item in found] == ["cut", "unreachable"], found
        assert page.evaluate(SIDEWAYS) <= 0
        page.set_content(meta + wide.format("loose"))
        assert page.evaluate(SIDEWAYS) > 0
        assert [item.split(":")[0] for item in page.evaluate(CLIPPED_TABLES)] == ["loose"]
    finally:
        context.close()


if __name__ == "__main__":
    print(json.dumps(seed_overflow_account(), ensure_ascii=False))
