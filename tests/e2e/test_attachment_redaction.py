"""Issue 14 in a real browser: the official decides an attachment's image
page with a QR code and masks the sign in a photo, the release waits for
it, and the reviewer downloads the redacted files (the group's name gone
from the PDF's text, the QR code and the sign painted out). axe checks
every page.

The proposal is written into the live server's database by this module's
``main()`` (run as ``python -m tests.e2e.test_attachment_redaction`` with
the server's environment): submitted with its attachments, accepted,
scanned and every text finding redacted, so only the attachments are left.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import ROOT

pytestmark = pytest.mark.e2e

GROUP = "みなと松風クラブ"
REPRESENTATIVE = "高橋 陽一"


def main() -> None:
    from flask import current_app
    from sqlalchemy import select

    from portal import create_app
    from portal.db import db_session
    from portal.demo.attachments import leaflet_pdf, sign_photo
    from portal.domain.anonymity import redaction, review_copy
    from portal.domain.intake import intake
    from portal.domain.proposals import workflow
    from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY, TEXT_FIELDS
    from portal.files.samples import attach_sample_documents
    from portal.domain.panel import panel
    from portal.domain.timeutil import now_utc
    from portal.files.objectstore import store_of
    from portal.files.sanitize import sanitize
    from portal.files.storage import store_file
    from portal.models import (BudgetKind, BudgetLine, Declaration, FilePurpose, FindingStatus, Group, GroupKind,
                               IntakeOutcome, Proposal, ProposalStatus, Role, RoleShare, StatusEvent, User)
    from tests.e2e.seed import PASSWORD, STAFF_EMAIL, staff_call, user

    app = create_app()
    with app.app_context():
        now = now_utc()
        store = store_of(current_app)
        call = staff_call("e2e-attachments", "令和8年度 協働事業提案（E2E添付資料）", opens=timedelta(days=-40),
                          closes=timedelta(days=-5), scoring=(timedelta(days=-1), timedelta(days=20)),
                          results=timedelta(days=30))
        reviewer = user("e2e-attachments-panel@example.jp", Role.REVIEWER, "委員 添付")
        panel.add_member(db_session, call, reviewer, ["みなと大学"], now=now - timedelta(days=4))
        at = now - timedelta(days=9)
        account = user("e2e-attachments@example.jp", Role.APPLICANT)
        group = Group(account_id=account.id, contact_email=account.email, name=GROUP, name_kana="みなとまつかぜくらぶ",
                      kind=GroupKind.SHIMIN_KATSUDO, representative_name=REPRESENTATIVE, contact_name=REPRESENTATIVE,
                      postal_code="950-0001", address="みなと市松風町4番2号", phone="025-333-4455",
                      founded_on=date(2016, 4, 1), member_count=10, activity_record="2016年から活動しています。")
        db_session.add(group)
        db_session.flush()
        attach_sample_documents(db_session, store, group, account.id)
        proposal = Proposal(call=call, group=group, status=ProposalStatus.DRAFT, created_at=at, updated_at=at)
        for f in TEXT_FIELDS:
            setattr(proposal, f.key, f"{f.label}を書きます。")
        proposal.title = "松林の保全と観察会の事業"
        proposal.capability = f"{GROUP}は、代表の{REPRESENTATIVE}を中心に活動してきました。"
        proposal.period_start, proposal.period_end = date(2026, 7, 1), date(2027, 2, 28)
        proposal.desired_forms = ["kyosai"]
        proposal.role_shares = [RoleShare(position=0, item="広報", group_role="チラシ作成", city_role="市報掲載")]
        proposal.budget_lines = [
            BudgetLine(position=0, kind=BudgetKind.INCOME, category=REQUEST_CATEGORY, amount=200_000),
            BudgetLine(position=1, kind=BudgetKind.EXPENSE, category="消耗品費", amount=200_000),
        ]
        proposal.requested_amount = 200_000
        proposal.declarations = [Declaration(key=k, accepted_at=at, accepted_by_id=account.id)
                                 for k in DECLARATION_KEYS]
        db_session.add(proposal)
        db_session.flush()
        db_session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                                   created_at=at, actor_id=account.id))
        # What the group attaches: its leaflet (QR code, photo) and a photo of its sign.
        for data, name in ((leaflet_pdf(GROUP, REPRESENTATIVE, group.address, group.phone,
                                        "https://matsukaze.example.jp/", photo=sign_photo("　")), "活動案内.pdf"),
                           (sign_photo(GROUP), "活動写真.jpg")):
            store_file(db_session, store, sanitize(data, name), original_name=name, purpose=FilePurpose.ATTACHMENT,
                       group_id=group.id, proposal_id=proposal.id, uploaded_by_id=account.id)
        db_session.flush()
        db_session.expire(proposal, ["attachments"])
        workflow.submit_proposal(db_session, proposal, account, proposal.version, at)
        staff = db_session.scalars(select(User).where(User.email == STAFF_EMAIL)).one()
        intake.decide_intake(db_session, proposal, IntakeOutcome.ACCEPT, "", staff, now - timedelta(days=3))
        redaction.scan(db_session, proposal, staff, now - timedelta(days=2), store=store)
        for finding in review_copy.findings_of(db_session, proposal):
            redaction.decide_finding(db_session, finding, FindingStatus.REDACT, staff, now - timedelta(days=2))
        db_session.commit()
        print(json.dumps({"call_id": call.id, "proposal_id": proposal.id, "code": proposal.anonymous_code,
                          "staff": {"email": STAFF_EMAIL, "password": PASSWORD},
                          "reviewer": {"email": reviewer.email, "password": PASSWORD}}, ensure_ascii=False))


@pytest.fixture(scope="module")
def case(live_server):
    done = subprocess.run([sys.executable, "-m", "tests.e2e.test_attachment_redaction"], cwd=ROOT,
                          env=live_server.env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def log_in(page, account: dict, landing: str) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(account["email"])
    page.get_by_label("パスワード").fill(account["password"])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(landing)


def test_the_official_decides_the_attachments_and_the_reviewer_gets_redacted_files(new_page, a11y, case):
    from PIL import Image

    from portal.demo.attachments import SIGN_BOX
    from portal.files.redact_pages import Mask

    page = new_page()
    log_in(page, case["staff"], "**/admin/")
    base = f"/admin/calls/{case['call_id']}/anonymise"
    page.goto(f"{base}/{case['proposal_id']}")
    problems = page.locator("#release-problems")
    expect(problems).to_contain_text("添付資料1の1ページ目（QRコードあり）")
    expect(problems).to_contain_text("添付資料2の画像")
    a11y.check(page, "anonymisation: attachments undecided")

    # The leaflet's page: the QR code cannot be waved through; painted out.
    page.get_by_role("link", name=re.compile(r"^1ページ目（QRコードあり）")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("添付資料1：1ページ目（QRコードあり）の確認")
    expect(page.locator("main")).to_contain_text("QRコードが1個見つかりました")
    expect(page.get_by_role("button", name="問題なし（目視で確認済み）")).to_have_count(0)
    preview = page.get_by_role("img", name=re.compile("添付資料1の1ページ目"))
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.naturalWidth") > 300
    a11y.check(page, "attachment page with a QR code")
    page.get_by_label("塗りつぶす範囲").fill("0,0,abc")
    page.get_by_role("button", name="範囲を塗りつぶす", exact=True).click()
    expect(page.locator("#page-error")).to_contain_text("読み取れません")
    expect(page.get_by_label("塗りつぶす範囲")).to_have_value("0,0,abc")
    a11y.check(page, "attachment page: bad rectangle")
    page.get_by_role("button", name="QRコードの範囲を塗りつぶす").click()
    expect(page.locator(".flashes")).to_contain_text("「範囲を塗りつぶす」にしました")

    # The photo: the sign masked by typing its rectangle.
    page.goto(f"{base}/{case['proposal_id']}")
    page.get_by_role("link", name=re.compile(r"^画像（添付資料2）|^画像")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("添付資料2：画像の確認")
    # Dragging over the picture adds a rectangle to the field (the script is an enhancement only).
    # The picture's box is read once it has loaded: before, the figure is smaller.
    page.wait_for_function("() => [...document.querySelectorAll('.page-figure img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    figure = page.locator(".page-figure").bounding_box()
    page.mouse.move(figure["x"] + figure["width"] * 0.1, figure["y"] + figure["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(figure["x"] + figure["width"] * 0.5, figure["y"] + figure["height"] * 0.3, steps=5)
    page.mouse.up()
    drawn = page.get_by_label("塗りつぶす範囲").input_value().split(",")
    assert len(drawn) == 4 and 8 < float(drawn[0]) < 12 and 38 < float(drawn[2]) < 42, drawn
    page.get_by_label("塗りつぶす範囲").fill(",".join(f"{v:g}" for v in SIGN_BOX))
    page.get_by_role("button", name="範囲を塗りつぶす", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("「範囲を塗りつぶす」にしました")
    expect(page.locator("main")).to_contain_text("公開できます。")
    a11y.check(page, "anonymisation: attachments decided")

    page.goto(base)
    page.get_by_label(f"{case['code']}を公開する").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="選んだ提案を審査委員に公開する").click()
    expect(page.locator(".flashes")).to_contain_text(f"1件の提案（{case['code']}）を審査委員に公開しました")

    # The reviewer reads and downloads both files.
    reader = new_page()
    log_in(reader, case["reviewer"], "**/review/")
    reader.get_by_role("link", name=f"{case['code']}の利害関係を確認する").click()
    reader.get_by_role("button", name="利害関係がないことを確認して読む").click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text(case["code"])
    a11y.check(reader, "reviewer: proposal with attachments")
    # The files as the reviewer's browser fetches them (its session, its links).
    first = reader.request.get(reader.locator(".file-list a").filter(has_text="添付資料1").get_attribute("href"))
    assert first.ok and first.headers["content-type"] == "application/pdf"
    assert GROUP not in first.headers.get("content-disposition", "")
    pdf = first.body()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert GROUP not in text and "高橋" not in text
    second = reader.request.get(reader.locator(".file-list a").filter(has_text="添付資料2").get_attribute("href"))
    assert second.ok and second.headers["content-type"] == "image/jpeg"
    photo = Image.open(io.BytesIO(second.body())).convert("L")
    box = Mask(*SIGN_BOX).pixels(*photo.size)
    assert photo.crop((box[0] + 4, box[1] + 4, box[2] - 4, box[3] - 4)).getextrema()[1] < 40
    a11y.assert_clean()


if __name__ == "__main__":
    main()
