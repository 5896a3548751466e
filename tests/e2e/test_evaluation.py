"""事業評価 in the browser: the group and the department each submit their
self-evaluation (a draft first, an error without losing what was chosen),
each then sees both; staff enter the committee's evaluation and publish it;
a citizen sees 評価済 with the grade on the public project page and the
year's evaluations. axe checks every page."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.e2e
ITEMS = 11


@pytest.fixture(scope="module")
def project(live_server):
    run = subprocess.run([sys.executable, "-m", "tests.e2e.evaluation_seed"], cwd=ROOT, env=live_server.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def log_in(page, account: dict, lands_on: str) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lands_on)


def evaluate(page, scores: list[int]) -> None:
    for i, value in enumerate(scores):
        page.locator(f"#score-{i}-{value}").check()
    page.get_by_role("button", name="提出する（提出後は変更できません）").click()
    page.get_by_text("を提出しました。").wait_for()  # the same address again: wait for the flash


def test_group_and_department_evaluate_staff_publish_and_the_citizen_sees_it(new_page, a11y, project):
    pid = project["proposal_id"]
    group = new_page()
    log_in(group, project["group"], "**/mypage")
    group.goto(f"/projects/{pid}/evaluation")
    a11y.check(group, "evaluation (group, empty)")
    group.locator("#score-0-4").check()
    group.get_by_role("button", name="提出する（提出後は変更できません）").click()
    group.locator(".error-summary").wait_for()
    assert "すべての項目に点数を付けてから提出してください" in group.content()
    assert group.locator("#score-0-4").is_checked()  # nothing chosen is lost
    a11y.check(group, "evaluation (group, error)")
    evaluate(group, [4] * ITEMS)
    assert "提出済み" in group.content()

    department = new_page()
    log_in(department, project["department"], "**/department/")
    department.goto(f"/projects/{pid}/evaluation")
    evaluate(department, [4] * ITEMS)
    assert "団体の自己評価" in department.locator("#evaluation-scores").inner_text()
    a11y.check(department, "evaluation (department, both submitted)")

    staff = new_page()
    log_in(staff, project["staff"], "**/admin/")
    staff.goto(f"/projects/{pid}/evaluation")
    evaluate(staff, [3] * ITEMS)
    # 20×44/55 + 20×44/55 + 60×33/55 = 16 + 16 + 36 = 68.0 良好
    assert "68.0（良好）" in staff.locator("#evaluation-combined").inner_text()
    a11y.check(staff, "evaluation (staff, combined)")
    staff.get_by_role("button", name="評価を公表する").click()
    staff.locator("#evaluation-published").wait_for()

    citizen = new_page()
    citizen.goto(f"/calls/{project['slug']}/projects/{project['code']}")
    assert citizen.locator("#project-status").inner_text() == "評価済"
    assert "良好" in citizen.locator("#evaluation-grade").inner_text()
    a11y.check(citizen, "public project (evaluated)")
    citizen.get_by_role("link", name="事業評価の一覧").first.click()
    assert "68.0" in citizen.locator("#evaluations").inner_text()
    a11y.check(citizen, "the year's evaluations")
    a11y.assert_clean()
