"""The agreement in the browser: staff draft it from the adopted proposal,
the group proposes its goals, the department confirms them and agrees, the
group agrees, and the concluded PDF is downloaded. axe checks every page."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def adopted(live_server):
    run = subprocess.run([sys.executable, "-m", "tests.e2e.adoption_seed"], cwd=ROOT, env=live_server.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def log_in(page, account: dict, lands_on: str) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lands_on)


def test_staff_draft_the_group_and_the_department_agree_and_the_pdf_downloads(new_page, a11y, adopted,
                                                                               tmp_path):
    pid = adopted["proposal_id"]
    staff = new_page()
    log_in(staff, adopted["staff"], "**/admin/")
    staff.goto("/admin/adoption/")
    a11y.check(staff, "adopted projects")
    row = staff.get_by_role("row").filter(has_text="川沿い見守りカフェ事業")
    row.get_by_role("button", name="協定書案を作成する").click()
    staff.wait_for_url(f"**/admin/adoption/proposals/{pid}/agreement/edit")
    assert staff.get_by_label("市（甲）の役割").input_value() == "・広報：市報掲載"
    assert staff.get_by_label("採択の条件（条件付き採択の場合）").input_value() == "活動保険に加入すること。"
    a11y.check(staff, "agreement draft")
    staff.get_by_label("採択の条件（条件付き採択の場合）").fill("")
    staff.get_by_label("協定期間の終了日").fill("2026-01-01")
    staff.get_by_role("button", name="保存する").click()
    assert staff.get_by_role("alert").first.is_visible()
    assert "条件付き採択です" in staff.content() and "終了日は開始日より後の日付にしてください" in staff.content()
    a11y.check(staff, "agreement draft with errors")
    staff.get_by_label("採択の条件（条件付き採択の場合）").fill("活動保険に加入し、写しを提出すること。")
    staff.get_by_label("協定期間の終了日").fill("2027-03-31")
    staff.get_by_role("button", name="保存する").click()
    staff.wait_for_url(f"**/projects/{pid}/agreement")
    a11y.check(staff, "agreement (staff)")

    group = new_page()
    log_in(group, adopted["group"], "**/mypage")
    group.goto(f"/projects/{pid}/goals")
    group.get_by_label("目標の内容").fill("見守り訪問を受ける高齢者世帯")
    group.get_by_label("目標値（数値）").fill("１２０")
    group.get_by_role("button", name="追加する").click()
    assert "数値の単位を入力してください" in group.content()
    assert group.get_by_label("目標値（数値）").input_value() == "１２０"  # nothing typed is lost
    a11y.check(group, "goals with an error")
    group.get_by_label("単位").fill("世帯")
    group.get_by_role("button", name="追加する").click()
    group.wait_for_url(f"**/projects/{pid}/goals")
    a11y.check(group, "goals (group)")

    department = new_page()
    log_in(department, adopted["department"], "**/department/")
    a11y.check(department, "department index")
    department.get_by_role("link", name="川沿い見守りカフェ事業").click()
    a11y.check(department, "department proposal")
    department.goto(f"/projects/{pid}/goals")
    department.get_by_role("button", name="この目標（1件）を確認する").click()
    department.goto(f"/projects/{pid}/agreement")
    department.get_by_role("button", name="市（甲）として").click()
    assert "相手方の合意を待っています" in department.content()

    group.goto(f"/projects/{pid}/agreement")
    a11y.check(group, "agreement (group)")
    group.get_by_role("button", name="団体（乙）として").click()
    assert group.locator("#agreement-status").inner_text() == "協定締結"
    with group.expect_download() as info:
        group.get_by_role("link", name="協定書（PDF）をダウンロード").click()
    path = tmp_path / "agreement.pdf"
    info.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    flat = text.replace(" ", "").replace("\n", "")
    for expected in ("川沿い見守りカフェ事業に関する協定書", "みなと見守りの会", "活動保険に加入し、写しを提出すること。",
                     "見守り訪問を受ける高齢者世帯", "120世帯"):
        assert expected in flat, text

    citizen = new_page()
    citizen.goto("/calls/e2e-adoption/projects")
    a11y.check(citizen, "public adopted projects")
    citizen.get_by_role("link", name="川沿い見守りカフェ事業").click()
    assert citizen.locator("#project-status").inner_text() in ("協定締結", "実施中", "協定期間終了")
    assert "見守り訪問を受ける高齢者世帯" in citizen.content()
    a11y.check(citizen, "public project")
    a11y.assert_clean()
