"""Images are bounded by what their decode would cost, from the header,
before a pixel is decoded; a phone photo still passes; a large JPEG is
decoded at a smaller scale; a process decodes only a few images at once,
and an upload that cannot get a turn is refused with a message, never a
500. (tests/test_image_memory.py measures a real server.)"""
from __future__ import annotations

import io
import subprocess
import sys
import threading
import time

import pytest
from PIL import Image, ImageCms, ImageFile

from portal.domain.anonymity import release
from portal.domain.anonymity.release import ReleaseRefused, release_for_review
from portal.domain.timeutil import now_utc
from portal.files import decode_budget, sanitize
from portal.files.decode_budget import MAX_DECODE_BYTES, plan_decode
from portal.files.objectstore import store_of
from portal.files.sanitize import RejectedFile
from portal.models import ProposalStatus

from .conftest import csrf_token_from
from .test_anonymisation_flow import World, make_world
from .test_files import attachments_of, png_header_only, upload
from .test_release import proposal_of, resolve_everything


def photo(size=(4000, 3000), *, orientation: int | None = 6, progressive=False, profile=True) -> bytes:
    """A phone photo as phones write it: EXIF orientation, a colour profile."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    options = {"quality": 85, "progressive": progressive}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    if profile:
        options["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def plan_for(data: bytes, fmt: str, max_bytes: int = MAX_DECODE_BYTES):
    with Image.open(io.BytesIO(data)) as image:
        return plan_decode(image, fmt, max_pixels=sanitize.MAX_IMAGE_PIXELS, max_bytes=max_bytes)


@pytest.fixture()
def draft(client, factory, login):
    """A signed-in applicant's draft proposal."""
    user = factory.applicant()
    proposal = factory.proposal(user, factory.call())
    login(user)
    return proposal


@pytest.fixture()
def world(seed, db) -> World:
    with seed() as f:
        return make_world(f, db)


@pytest.fixture()
def no_decoding(monkeypatch):
    """Fails the test if any image's pixels are decoded."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(sanitize, "_decode", refuse)  # the decode that runs in a child process


# --- the header check ------------------------------------------------------------------

@pytest.mark.parametrize("size", [(6000, 6000), (5001, 5000), (20_000, 1_999)])
def test_a_png_claiming_too_many_colour_pixels_is_refused_from_its_header(size, no_decoding):
    data = png_header_only(*size)  # RGB, 8 bits; a few bytes of pixel data
    assert len(data) < 200
    with pytest.raises(RejectedFile) as refused:
        sanitize.sanitize(data, "photo.png")
    message = refused.value.message
    assert "画素数が大きすぎます" in message
    assert f"{size[0]:,}×{size[1]:,}画素" in message
    assert "約2,500万画素、たとえば5,000×5,000画素まで" in message
    assert "解像度を下げて" in message


def test_a_png_over_the_pixel_ceiling_keeps_its_message(no_decoding):
    with pytest.raises(RejectedFile, match="4,000万画素まで"):
        sanitize.sanitize(png_header_only(100_000, 100_000), "bomb.png")


def test_the_cost_counts_every_copy_the_reencode_makes():
    header = png_header_only(6000, 6000)
    plan = plan_for(header, "PNG", max_bytes=10**12)
    assert plan.scale == 1 and plan.per_pixel == 8  # RGB lives in 4 bytes; decoded + the clean copy
    assert plan.cost == 6000 * 6000 * 8 > MAX_DECODE_BYTES
    # A palette image with transparency becomes RGBA: 1 + 4, then 4 + 4.
    out = io.BytesIO()
    Image.new("P", (10, 10), 1).save(out, "PNG", transparency=1)
    assert plan_for(out.getvalue(), "PNG").per_pixel == 8
    # Grey stays grey: a 600 dpi A4 scan (4961 × 7016) costs 2 bytes a pixel.
    out = io.BytesIO()
    Image.new("L", (4961, 7016), 200).save(out, "PNG")
    grey = plan_for(out.getvalue(), "PNG")
    assert grey.per_pixel == 2 and grey.cost < MAX_DECODE_BYTES
    assert sanitize.sanitize(out.getvalue(), "scan.png").content_type == sanitize.PNG


def test_the_largest_colour_png_accepted_and_one_pixel_row_more():
    out = io.BytesIO()
    Image.new("RGB", (5000, 5000), (1, 2, 3)).save(out, "PNG")
    clean = sanitize.sanitize(out.getvalue(), "large.png")
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.size == (5000, 5000)
    with pytest.raises(RejectedFile, match="5,000×5,001画素です"):
        sanitize.sanitize(png_header_only(5000, 5001), "large.png")


# --- phone photos and large JPEGs --------------------------------------------------------

@pytest.mark.parametrize("progressive", [False, True])
def test_a_12_megapixel_phone_photo_is_accepted_at_full_size(progressive):
    data = photo((4000, 3000), progressive=progressive)
    plan = plan_for(data, "JPEG")
    assert plan.scale == 1 and plan.cost <= MAX_DECODE_BYTES
    clean = sanitize.sanitize(data, "IMG_0001.JPG")
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.format == "JPEG" and image.size == (3000, 4000)  # turned upright, not made smaller
        assert not image.getexif() and "icc_profile" not in image.info


def test_a_jpeg_over_the_budget_is_decoded_at_half_size():
    data = photo((7000, 6000), orientation=None, profile=False)  # 42 MP: over the pixel ceiling too
    plan = plan_for(data, "JPEG")
    assert plan.scale == 2
    clean = sanitize.sanitize(data, "camera.jpg")
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.size == (3500, 3000)


def test_a_progressive_jpeg_too_large_even_when_scaled_is_refused(no_decoding):
    # libjpeg keeps every coefficient of a progressive JPEG whatever the scale:
    # a header claiming 9000×9000 would need 486 MB for them alone.
    out = io.BytesIO()
    Image.new("RGB", (9000, 9000)).save(out, "JPEG", progressive=True, quality=20)
    with pytest.raises(RejectedFile, match="9,000×9,000画素です"):
        sanitize.clean_image(out.getvalue(), sanitize.JPEG)


# --- decoding a few at a time ------------------------------------------------------------------

def test_decodes_take_turns(monkeypatch, tmp_path):
    monkeypatch.setattr(decode_budget, "SLOTS_DIR", tmp_path)  # the machine's slots, this test's alone
    running, most = [0], [0]
    lock = threading.Lock()
    original = sanitize._decode

    def counted(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)
            return original(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(sanitize, "_decode", counted)
    data = photo((400, 300))
    barrier, results = threading.Barrier(6), []

    def clean():
        barrier.wait()
        results.append(sanitize.clean_image(data, sanitize.JPEG))

    threads = [threading.Thread(target=clean) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 6
    assert most[0] == decode_budget.MAX_CONCURRENT_DECODES


HOLD_A_SLOT = """
import fcntl, sys, time
handle = open(f"{sys.argv[1]}/slot-{sys.argv[2]}", "ab")
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def test_an_upload_that_cannot_get_a_turn_is_refused_in_japanese(monkeypatch, client, draft, db, tmp_path):
    proposal = draft
    monkeypatch.setattr(decode_budget, "DECODE_WAIT_SECONDS", 0.1)
    monkeypatch.setattr(decode_budget, "SLOTS_DIR", tmp_path)
    token = csrf_token_from(client.get(f"/proposals/{proposal.id}/edit").text)
    # Other uploads, in this process or any other on the machine, hold every slot.
    holders = [subprocess.Popen([sys.executable, "-c", HOLD_A_SLOT, str(tmp_path), str(number)],
                                stdout=subprocess.PIPE, text=True)
               for number in range(decode_budget.MAX_CONCURRENT_DECODES)]
    try:
        assert [holder.stdout.readline().strip() for holder in holders] == ["held"] * len(holders)
        response = upload(client, proposal.id, photo((400, 300)), "photo.jpg", token)
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()
    assert response.status_code == 422
    assert "混み合っています" in response.text and "提案書の作成・編集" in response.text
    assert attachments_of(db, proposal.id) == []
    assert upload(client, proposal.id, photo((400, 300)), "photo.jpg", token).status_code == 302


# --- through the app --------------------------------------------------------------------------

def test_an_upload_over_the_bound_keeps_the_proposal_and_says_the_limit(client, draft, db):
    proposal = draft
    out = io.BytesIO()
    Image.new("RGBA", (6000, 6000), (0, 0, 0, 0)).save(out, "PNG")
    response = upload(client, proposal.id, out.getvalue(), "ポスター.png")
    assert response.status_code == 422
    html = response.text
    assert 'id="attachment-file-error"' in html
    assert "6,000×6,000画素です" in html and "5,000×5,000画素まで" in html
    assert "提案書の作成・編集" in html and f"{proposal.title}" in html
    assert attachments_of(db, proposal.id) == []


def test_a_phone_photo_uploads(client, draft, db):
    proposal = draft
    assert upload(client, proposal.id, photo((4000, 3000)), "IMG_0001.JPG").status_code == 302
    [stored] = attachments_of(db, proposal.id)
    assert stored.content_type == "image/jpeg"


def test_an_image_that_cannot_be_copied_for_reviewers_refuses_the_release(app, db, world, monkeypatch):
    proposal = resolve_everything(db, app, world)

    def busy(*args, **kwargs):
        raise RejectedFile("ただいま画像の処理が混み合っています。少し待ってから、もう一度添付してください。")

    monkeypatch.setattr(release, "clean_image", busy)
    with pytest.raises(ReleaseRefused) as refused:
        release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    assert world.code in refused.value.message and "添付資料2：" in refused.value.message
    assert "混み合っています" in refused.value.message
    db.rollback()
    assert proposal_of(db, world).status == ProposalStatus.ACCEPTED
