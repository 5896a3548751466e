"""During the work in the browser: the group files a budget change, the
department comments, staff approve it and register the grant (概算払); the
group writes its 実績報告 (an error first, nothing typed lost), uploads a
receipt and submits; staff accept it; the public page lists both published
documents and serves the PDF whose hash the process log holds. axe checks
every page."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import urllib.request

import pytest
from PIL import Image

from .conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running(live_server):
    run = subprocess.run([sys.executable, "-m", "tests.e2e.project_work_seed"], cwd=ROOT, env=live_server.env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def log_in(page, account: dict, lands_on: str) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lands_on)


def test_group_department_and_staff_run_the_project_and_the_public_sees_the_report(new_page, a11y, running,
                                                                                    live_server, tmp_path):
    pid = running["proposal_id"]
    group = new_page()
    log_in(group, running["group"], "**/mypage")
    group.goto(f"/projects/{pid}/work")
    a11y.check(group, "work (group)")
    group.get_by_role("link", name="変更申請をする").click()
    group.get_by_label("予算").check()
    group.get_by_label("変更の内容").fill("苗の購入費を増やし、印刷費を設ける")
    group.get_by_label("1行目の金額", exact=True).fill("200000")
    group.get_by_label("2行目の費目", exact=True).fill("印刷製本費")
    group.get_by_label("2行目の金額", exact=True).fill("5万")
    group.get_by_role("button", name="変更を申請する").click()
    assert "変更の理由を入力してください" in group.content() and "2行目" in group.content()
    assert group.get_by_label("2行目の金額", exact=True).input_value() == "5万"  # nothing typed is lost
    a11y.check(group, "change with errors")
    group.get_by_label("変更の理由").fill("参加者が増え、チラシで募集するため")
    group.get_by_label("2行目の金額", exact=True).fill("50000")
    group.get_by_role("button", name="変更を申請する").click()
    group.wait_for_url(f"**/projects/{pid}/changes/*")
    change_url = group.url

    department = new_page()
    log_in(department, running["department"], "**/department/")
    department.get_by_role("link", name="実施と精算（変更申請・報告）").click()
    a11y.check(department, "work (department)")
    department.goto(change_url)
    department.get_by_label("所見を書く・直す").fill("参加者の増加に合う変更です。")
    department.get_by_role("button", name="所見を保存する").click()
    a11y.check(department, "change (department)")

    staff = new_page()
    log_in(staff, running["staff"], "**/admin/")
    staff.goto(change_url)
    staff.get_by_label("承認する").check()
    staff.get_by_label("決定の理由").fill("総額の範囲内で事業目的に沿うため")
    staff.get_by_role("button", name="決定する").click()
    assert staff.locator("#change-status").inner_text() == "承認"
    a11y.check(staff, "change decided")
    staff.goto(f"/admin/adoption/proposals/{pid}/funding")
    staff.get_by_label("概算払（前払い）").check()
    staff.get_by_label("概算払の支払額").fill("200000")
    staff.get_by_role("button", name="保存する").click()
    staff.wait_for_url(f"**/projects/{pid}/work")
    a11y.check(staff, "work (staff)")

    group.goto(f"/projects/{pid}/reports/final")
    group.get_by_role("button", name="実績報告の作成を始める").click()
    group.get_by_label("実施した活動").fill("駅前と公園に花壇を3か所つくり、毎月の手入れ会を開いた。")
    group.get_by_label("実績（人）").fill("七十")
    group.get_by_label("消耗品費の決算額").fill("190000")
    group.get_by_label("印刷製本費の決算額").fill("60000")
    group.get_by_label("自己資金の決算額").fill("20000")
    group.get_by_role("button", name="実績報告を提出する").click()
    assert "0以上の数で入力してください" in group.content() and "領収書を添付してください" in group.content()
    assert group.get_by_label("実績（人）").input_value() == "七十"
    a11y.check(group, "final report with errors")
    group.get_by_label("実績（人）").fill("70")
    group.get_by_role("button", name="下書きを保存する").click()
    image = io.BytesIO()
    Image.new("RGB", (60, 30), (255, 255, 255)).save(image, format="PNG")
    receipt = tmp_path / "receipt.png"
    receipt.write_bytes(image.getvalue())
    group.get_by_label("領収書を添付する（PDF・JPEG・PNG、10MBまで）").set_input_files(str(receipt))
    group.get_by_role("button", name="添付する", exact=True).click()
    assert "receipt.png" in group.content()
    group.get_by_role("button", name="実績報告を提出する").click()
    assert group.locator("#report-status").inner_text() == "提出済み（確認待ち）"
    a11y.check(group, "final report submitted")

    staff.goto(f"/projects/{pid}/reports/final")
    # eligible 190,000 + 50,000 = 240,000 (印刷製本費 over by 10,000); share 240,000 × 200,000 / 250,000 = 192,000;
    # deficit 240,000 − 20,000 = 220,000; granted 200,000 -> 192,000; paid 200,000 -> 8,000 returned
    assert staff.locator("#settled").inner_text().startswith("192,000円")
    assert staff.locator("#to-return").inner_text() == "8,000円"
    a11y.check(staff, "final report (staff)")
    staff.get_by_role("button", name="実績報告を受理する（報告書を公開します）").click()
    assert staff.locator("#report-status").inner_text() == "受理"

    citizen = new_page()
    citizen.goto(f"/calls/e2e-work/projects/{running['code']}")
    a11y.check(citizen, "public project with documents")
    documents = citizen.locator("#project-documents")
    assert "変更申請（予算）の承認" in documents.inner_text() and "実績報告" in documents.inner_text()
    link = documents.get_by_role("link", name="実績報告（PDF）")
    href = link.get_attribute("href")
    data = urllib.request.urlopen(live_server.url + href, timeout=30).read()
    digest = href.rsplit("/", 1)[-1].removesuffix(".pdf")
    assert hashlib.sha256(data).hexdigest() == digest
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout.replace(" ", "")
    for expected in ("実績報告書", "花と緑の会", "70人", "192,000円", "8,000円"):
        assert expected in text, expected
    a11y.assert_clean()
