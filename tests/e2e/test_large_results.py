"""Results day for a large call, in a real browser (issue 17): the public
results page of 300 proposals (15 reviewers, 7 criteria) is under 300 KB,
never scrolls sideways at 1,280 px or 390 px, shows 推薦 and 決定 on a
desktop without scrolling the table sideways, and axe finds nothing.

The published call is written straight into the live server's database
(``python -m tests.e2e.test_large_results``) with the same document the
unit test of the page's size uses (tests/test_results_page_size.py).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import DESKTOP, PHONE, ROOT
from .test_overflow import CLIPPED_TABLES, SIDEWAYS

pytestmark = pytest.mark.e2e

SLUG = "e2e-large-results"
LIMIT = 300 * 1024

# Where a column header ends, relative to the visible width of the window.
HEADER_RIGHT = """name => {
  const th = [...document.querySelectorAll('table.ranking thead th')].find(h => h.textContent.trim() === name);
  if (!th) return null;
  return {right: th.getBoundingClientRect().right, width: document.documentElement.clientWidth};
}"""


def seed_large_published_call() -> dict:
    from flask import current_app

    from portal import create_app
    from portal.db import db_session
    from tests.factories import Factory
    from tests.test_public_results import publish_document
    from tests.test_results_page_size import PROPOSALS, _big_document

    app = create_app()
    with app.app_context():
        factory = Factory(db_session, current_app)
        call = factory.scoring_call(slug=SLUG, title="令和8年度 市民提案型協働モデル事業（大規模）")
        publish_document(factory, call, _big_document(factory, call))
        return {"slug": call.slug, "proposals": PROPOSALS}


@pytest.fixture(scope="module")
def large_call(live_server) -> dict:
    run = subprocess.run([sys.executable, "-m", "tests.e2e.test_large_results"], cwd=ROOT, env=live_server.env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_the_results_page_of_300_proposals_fits_and_is_small(screen, browser, live_server, large_call, a11y):
    options = DESKTOP if screen == "desktop" else PHONE
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", timezone_id="Asia/Tokyo", **options)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        response = page.goto(f"/calls/{large_call['slug']}/results")
        assert response is not None and response.ok
        assert len(response.body()) < LIMIT, f"{len(response.body()):,} bytes"
        page.wait_for_load_state("load")
        assert page.evaluate(SIDEWAYS) <= 0
        assert page.evaluate(CLIPPED_TABLES) == []
        if screen == "desktop":
            assert page.locator("table.ranking tbody tr").count() == large_call["proposals"]
            for name in ("得点", "推薦", "決定"):
                place = page.evaluate(HEADER_RIGHT, name)
                assert place is not None, name
                assert place["right"] <= place["width"], (name, place)
        else:
            # A phone reads the ranking as cards, each with its score and decision.
            cards = page.locator("li.ranking-card")
            assert cards.count() == large_call["proposals"]
            first = cards.first
            assert first.is_visible() and "得点" in first.inner_text() and "決定" in first.inner_text()
        a11y.check(page, f"{screen} large results")
    finally:
        context.close()
    a11y.assert_clean()


if __name__ == "__main__":
    print(json.dumps(seed_large_published_call()))
