"""Issue 14: attachments redacted in place (the redacted words gone from the
file, the rest and its images kept), image pages and QR codes decided by the
official, masks burnt in, and nothing released while a page is undecided."""
from __future__ import annotations

import io
import shutil
import subprocess

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from portal.demo.attachments import SIGN_BOX, leaflet_pdf, qr_png, sign_photo
from portal.domain.anonymity import redaction, review_copy
from portal.domain.anonymity.release import ReleaseRefused, bare_pdf, release_for_review
from portal.domain.timeutil import now_utc
from portal.files import storage
from portal.files.objectstore import store_of
from portal.files.redact_pages import Mask, analyse, mask_image, redact_pdf
from portal.files.sanitize import sanitize
from portal.models import FilePurpose, FindingStatus, Proposal, ProposalStatus, ReviewAttachment

from .conftest import csrf_token_from
from .test_anonymisation_flow import GROUP, World, base

PDFTOTEXT = shutil.which("pdftotext")
pytestmark = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is needed")

NAME = "白浜の松林を守る会"


def pdftotext(data: bytes) -> str:
    return subprocess.run([PDFTOTEXT, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def images_in(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def leaflet() -> bytes:
    return leaflet_pdf(NAME, "小林 誠", "みなと市白浜町三丁目5番8号", "025-271-3344", "https://shirahama.example.jp/",
                       photo=sign_photo("　"))


def _fonts(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return sum(1 for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font")


def test_redacted_words_are_removed_from_the_pdf_and_the_pages_stay(leaflet):
    before = pdftotext(leaflet)
    assert NAME in before and "小林" in before and images_in(leaflet) >= 2 and _fonts(leaflet) > 0
    data, report = redact_pdf(leaflet, [(NAME, "＜団体名＞"), ("小林 誠", "＜氏名＞"), ("025-271-3344", "＜電話番号＞")])
    data = bare_pdf(data)
    text = pdftotext(data)
    for gone in (NAME, "松林", "小林", "271-3344"):
        assert gone not in text
    # Text was redacted, so every page is a picture of itself (labels and photo included): the
    # embedded fonts, which keep every character they were made for, are gone with the text layer.
    assert report["removed_objects"] >= 2 and report["rasterised"] == [0]
    assert _fonts(data) == 0 and text.strip() == ""
    original, copy = PdfReader(io.BytesIO(leaflet)).pages, PdfReader(io.BytesIO(data)).pages
    assert len(copy) == len(original) and images_in(data) == len(copy)
    assert abs(float(copy[0].mediabox.width) - float(original[0].mediabox.width)) < 1  # the same page
    assert NAME.encode("utf-16-be") not in data and "白浜の松林".encode() not in data


def test_the_qr_code_and_the_image_pages_are_flagged(leaflet):
    found = analyse(leaflet, "application/pdf")
    assert found["page_count"] == 1
    [page] = found["pages"]
    assert page["images"] >= 2 and len(page["qr"]) == 1
    photo = analyse(qr_png("https://example.jp/"), "image/png")
    assert photo["pages"][0]["qr"]
    assert analyse(sign_photo(NAME), "image/jpeg")["pages"] == [{"page": 0, "images": 1, "qr": []}]


def test_a_masked_pdf_page_is_rasterised_with_nothing_under_the_mask(leaflet):
    [page] = analyse(leaflet, "application/pdf")["pages"]
    data, report = redact_pdf(leaflet, [(NAME, "＜団体名＞")], {0: [Mask(*page["qr"][0])]}, [])
    data = bare_pdf(data)
    assert report["rasterised"] == [0]
    assert pdftotext(data).strip() == ""  # the page is a picture now: its text went with it
    assert analyse(data, "application/pdf")["pages"][0]["qr"] == []  # the QR code is painted out
    excluded, _ = redact_pdf(leaflet, [], {}, [0])
    assert NAME not in pdftotext(bare_pdf(excluded)) and analyse(excluded, "application/pdf")["pages"][0]["qr"] == []


def test_a_masked_image_keeps_no_pixel_of_the_sign():
    photo = sanitize(sign_photo(NAME), "p.jpg").data
    masked = mask_image(photo, "image/jpeg", [Mask(*SIGN_BOX)])
    image = Image.open(io.BytesIO(masked)).convert("L")
    width, height = image.size
    box = Mask(*SIGN_BOX).pixels(width, height)
    inside = image.crop((box[0] + 4, box[1] + 4, box[2] - 4, box[3] - 4))
    assert inside.getextrema()[1] < 40  # all dark: the sign's white and its letters are gone
    assert image.getpixel((width // 2, height - 20)) > 60  # the rest of the photo stays


# --- the official's screen and the release --------------------------------------------

def qr_world(seed, db) -> World:
    """make_world()'s proposal with a leaflet (QR code, photo) and a photo of the group's sign."""
    from portal.domain.intake import intake
    from portal.domain.proposals import workflow

    from .test_anonymisation_flow import BUDGET_NOTE, ROLE_GROUP, TEXTS

    with seed() as f:
        call = f.call()
        user = f.applicant()
        for key, value in GROUP.items():
            setattr(user.group, key, value)
        db.commit()
        proposal = f.proposal(user, call, declarations=True)
        for key, value in TEXTS.items():
            setattr(proposal, key, value)
        proposal.role_shares[0].group_role = ROLE_GROUP
        proposal.budget_lines[2].note = BUDGET_NOTE
        db.commit()
        store = store_of(f.app)
        for data, name in ((leaflet_pdf(GROUP["name"], "山田 花子", "みなと市", "025-223-4567", "https://x.example.jp/",
                                        photo=sign_photo("　")), "案内.pdf"),
                           (sign_photo(GROUP["name"], fmt="PNG"), "写真.png")):
            storage.store_file(db, store, sanitize(data, name), original_name=name, purpose=FilePurpose.ATTACHMENT,
                               group_id=user.group.id, proposal_id=proposal.id, uploaded_by_id=user.id)
        db.commit()
        workflow.submit_proposal(db, proposal, user, proposal.version, now_utc())
        staff = f.staff()
        intake.decide_intake(db, proposal, "accept", "", staff, now_utc())
        reviewer = f.reviewer()
        f.panel_member(call, reviewer)
        db.commit()
        return World(call.id, proposal.id, proposal.anonymous_code, staff, user, reviewer, user.email)


def resolve_findings(db, app, world):
    proposal = db.get(Proposal, world.proposal_id)
    redaction.scan(db, proposal, None, now_utc(), store=store_of(app))
    for row in review_copy.findings_of(db, proposal):
        redaction.decide_finding(db, row, FindingStatus.REDACT, None, now_utc())
    db.commit()
    return proposal


def attachments_of(db, world) -> list[ReviewAttachment]:
    db.expire_all()
    return db.scalars(select(ReviewAttachment).where(ReviewAttachment.proposal_id == world.proposal_id)
                      .order_by(ReviewAttachment.position)).all()


def test_the_official_decides_each_image_page_and_the_server_refuses_a_forced_release(client, login, app, db, seed):
    world = qr_world(seed, db)
    resolve_findings(db, app, world)
    pdf, photo = attachments_of(db, world)
    assert redaction.visual_pages(pdf)[0]["qr"] and redaction.visual_pages(photo)[0]["page"] == 0
    login(world.staff)
    screen = client.get(base(world))
    assert screen.status_code == 200 and "1ページ目（QRコードあり）" in screen.text and "未判断" in screen.text

    # A release forced past the screen is refused while the pages are undecided.
    token = csrf_token_from(screen.text)
    forced = client.post(f"/admin/calls/{world.call_id}/anonymise/release",
                         data={"csrf_token": token, "proposal_id": str(world.proposal_id)})
    assert forced.status_code == 409 and "QRコードあり" in forced.text and "添付資料2の画像" in forced.text
    assert db.get(Proposal, world.proposal_id).status == ProposalStatus.ACCEPTED

    pdf_page = f"{base(world)}/attachments/{pdf.id}/pages/0"
    page = client.get(pdf_page)
    assert page.status_code == 200 and "QRコードが1個見つかりました" in page.text
    image = client.get(pdf_page + "/image")
    assert image.status_code == 200 and image.mimetype == "image/png" and "no-store" in image.headers["Cache-Control"]
    assert Image.open(io.BytesIO(image.data)).size[1] > 500
    token = csrf_token_from(page.text)
    # A QR code cannot be waved through, a bad rectangle gets a message and keeps the input, a mask must cover it.
    refused = client.post(pdf_page, data={"csrf_token": token, "decision": "confirm"})
    assert refused.status_code == 422 and "QRコード" in refused.text
    bad = client.post(pdf_page, data={"csrf_token": token, "decision": "mask", "masks": "10,20,abc"})
    assert bad.status_code == 422 and "読み取れません" in bad.text and "10,20,abc" in bad.text
    small = client.post(pdf_page, data={"csrf_token": token, "decision": "mask", "masks": "0,0,5,5"})
    assert small.status_code == 422 and "覆っていません" in small.text
    assert client.post(pdf_page, data={"csrf_token": token, "decision": "mask_qr"}).status_code == 302
    assert client.get(f"{base(world)}/attachments/{pdf.id}/pages/7").status_code == 404

    photo_page = f"{base(world)}/attachments/{photo.id}/pages/0"
    sign = ",".join(f"{v:g}" for v in SIGN_BOX)
    assert client.post(photo_page, data={"csrf_token": token, "decision": "mask", "masks": sign}).status_code == 302
    assert redaction.release_problems(db, db.get(Proposal, world.proposal_id)) == []

    released = client.post(f"/admin/calls/{world.call_id}/anonymise/release",
                           data={"csrf_token": token, "proposal_id": str(world.proposal_id)})
    assert released.status_code == 302, released.text[:1000]
    pdf, photo = attachments_of(db, world)
    copy = store_of(app).get(pdf.storage_name)
    assert GROUP["name"] not in pdftotext(copy)
    assert analyse(copy, "application/pdf")["pages"][0]["qr"] == []
    picture = Image.open(io.BytesIO(store_of(app).get(photo.storage_name))).convert("L")
    box = Mask(*SIGN_BOX).pixels(*picture.size)
    assert picture.crop((box[0] + 4, box[1] + 4, box[2] - 4, box[3] - 4)).getextrema()[1] < 40
    # After release nothing changes.
    assert client.post(photo_page, data={"csrf_token": token, "decision": "confirm"}).status_code == 409


def test_a_forced_release_in_the_domain_is_refused_too(app, db, seed):
    world = qr_world(seed, db)
    proposal = resolve_findings(db, app, world)
    with pytest.raises(ReleaseRefused) as refused:
        release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    assert "QRコードあり" in refused.value.message
    pdf, photo = attachments_of(db, world)
    redaction.decide_page(db, pdf, 0, redaction.EXCLUDE, [], None, now_utc())
    redaction.decide_page(db, photo, 0, redaction.EXCLUDE, [], None, now_utc())
    assert photo.excluded and redaction.release_problems(db, proposal) == []
