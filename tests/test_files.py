"""Uploads: content checks, metadata removal, limits, access and deletion.

Every file here is made in the test: a PDF with DocInfo and XMP built by
pikepdf, a JPEG with EXIF and a PNG with text chunks made by Pillow.
"""
from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import timedelta

import pikepdf
import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from portal.applicant.attachments import file_size
from portal.auth.sessions import hash_password
from portal.domain.timeutil import now_utc
from portal.files import storage
from portal.files.objectstore import store_of
from portal.files.sanitize import RejectedFile, clean_filename, sanitize
from portal.models import FilePurpose, Proposal, Role, StoredFile, User

from .conftest import csrf_token_from
from .factories import Factory

AUTHOR = "山田花子"
XMP_AUTHOR = "Hanako Yamada"


# --- files made in the test ------------------------------------------------------

def pdf_with_metadata(pages: int = 1, padding: int = 0) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Creator"] = "Microsoft Word"
    pdf.docinfo["/Producer"] = "Secret Producer 1.0"
    pdf.docinfo["/Title"] = "内部資料"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [XMP_AUTHOR]
        meta["xmp:CreatorTool"] = "Secret Tool"
    if padding:
        pdf.Root["/Padding"] = pdf.make_stream(b"x" * padding)
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def jpeg_with_exif(size=(40, 20), orientation: int = 6) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = XMP_AUTHOR  # Artist
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = orientation  # Orientation: 6 = rotate 90° clockwise to display
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", XMP_AUTHOR)
    info.add_itxt("Description", "個人の情報")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 128, 0, 200)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims huge dimensions over a tiny body."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def pdf_with_a_photo() -> bytes:
    """A one-page PDF showing a JPEG that still has its EXIF, with XMP on the image."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    image = pikepdf.Stream(pdf, jpeg_with_exif(size=(40, 20)))
    image.Type, image.Subtype, image.Filter = pikepdf.Name.XObject, pikepdf.Name.Image, pikepdf.Name.DCTDecode
    image.Width, image.Height, image.BitsPerComponent = 40, 20, 8
    image.ColorSpace = pikepdf.Name.DeviceRGB
    image.Metadata = pikepdf.Stream(pdf, f"<x:xmpmeta>{XMP_AUTHOR}</x:xmpmeta>".encode())
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pikepdf.Stream(pdf, b"q 40 0 0 20 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def pdf_protected() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="user"))
    return out.getvalue()


def assert_clean_pdf(data: bytes) -> None:
    assert AUTHOR.encode("utf-16-be") not in data and XMP_AUTHOR.encode() not in data
    assert b"Secret" not in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1


# --- sanitising, without Flask ------------------------------------------------------

def test_pdf_loses_docinfo_and_xmp():
    original = pdf_with_metadata()
    assert XMP_AUTHOR.encode() in original
    clean = sanitize(original, "提案書.pdf")
    assert clean.content_type == "application/pdf"
    assert clean.data.startswith(b"%PDF-")
    assert_clean_pdf(clean.data)


def test_an_embedded_file_reachable_only_through_af_is_dropped():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.attachments["source.docx"] = pikepdf.AttachedFileSpec(pdf, b"Secret source document", filename="source.docx")
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    original = out.getvalue()
    assert b"Secret source document" in original and b"/AF" in original
    clean = sanitize(original, "提案書.pdf")
    assert b"Secret" not in clean.data and b"/AF" not in clean.data


def test_photo_inside_a_pdf_loses_its_exif_and_xmp():
    original = pdf_with_a_photo()
    assert b"SecretCam" in original and XMP_AUTHOR.encode() in original
    clean = sanitize(original, "写真入り.pdf")
    assert b"SecretCam" not in clean.data and b"secret comment" not in clean.data
    assert XMP_AUTHOR.encode() not in clean.data
    with pikepdf.open(io.BytesIO(clean.data)) as pdf:
        image = pikepdf.PdfImage(pdf.pages[0].Resources.XObject.Im0).as_pil_image()
        assert image.size == (40, 20)  # the picture itself is untouched
        assert image.getpixel((5, 5))[0] > 150


def test_jpeg_loses_exif_and_is_turned_upright():
    clean = sanitize(jpeg_with_exif(size=(40, 20), orientation=6), "photo.JPG")
    assert clean.content_type == "image/jpeg"
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (20, 40)  # the orientation was applied to the pixels
        assert not image.getexif()
        assert "exif" not in image.info and "comment" not in image.info
    assert b"SecretCam" not in clean.data and b"secret comment" not in clean.data


def test_png_loses_text_chunks_and_keeps_transparency():
    clean = sanitize(png_with_text(), "figure.png")
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.format == "PNG" and image.mode == "RGBA"
        assert image.getpixel((0, 0)) == (0, 128, 0, 200)
        assert not image.info.get("Author") and not image.text
    assert XMP_AUTHOR.encode() not in clean.data


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"", "empty.pdf", "ファイルが空です"),
        (b"%PDF-1.7\n1 0 obj <</Type /Catalog>> broken", "broken.pdf", "PDFファイルを読み取れませんでした"),
        (png_with_text(), "renamed.pdf", "中身はPNG画像です"),
        (b"<!doctype html><script>alert(1)</script>", "page.jpg", "PDF、JPEG、PNG 形式のファイルだけ"),
        (b"PK\x03\x04 zip archive", "archive.pdf", "PDF、JPEG、PNG 形式のファイルだけ"),
        (jpeg_with_exif()[:60], "cut.jpg", "JPEG画像を読み取れませんでした"),
        (png_header_only(100_000, 100_000), "bomb.png", "画素数が大きすぎます"),
        (png_header_only(7_000, 7_000), "large.png", "画素数が大きすぎます"),
        (pdf_protected(), "locked.pdf", "パスワードで保護されたPDF"),
    ],
)
def test_bad_files_are_refused_in_japanese(data, name, expected):
    with pytest.raises(RejectedFile) as refused:
        sanitize(data, name)
    assert expected in refused.value.message


def test_the_name_never_decides_the_type():
    # A real JPEG without an extension is a JPEG; the name gets the right one.
    clean = sanitize(jpeg_with_exif(), "scan")
    assert clean.content_type == "image/jpeg"
    assert clean_filename("scan", clean.content_type) == "scan.jpg"


def test_sizes_read_like_the_limits():
    assert file_size(10 * 1024 * 1024) == "10MB"
    assert file_size(1536) == "1.5KB"
    assert file_size(12) == "12バイト"


def test_file_names_are_made_safe():
    assert clean_filename("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert clean_filename("C:\\Users\\hanako\\報告書.PDF", "application/pdf") == "報告書.pdf"
    assert clean_filename("a\x00b\r\n.png", "image/png") == "ab.png"
    assert clean_filename("", "image/jpeg") == "添付資料.jpg"
    assert len(clean_filename("あ" * 400 + ".pdf", "application/pdf")) == 255


# --- through the app --------------------------------------------------------------

@pytest.fixture()
def applicant_with_draft(client, factory, login):
    user = factory.applicant()
    call = factory.call()
    proposal = factory.proposal(user, call)
    login(user)
    return user, call, proposal


def upload(client, proposal_id: int, data: bytes, name: str, token: str | None = None):
    token = token or csrf_token_from(client.get(f"/proposals/{proposal_id}/edit").text)
    return client.post(f"/proposals/{proposal_id}/attachments",
                       data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def attachments_of(db, proposal_id: int) -> list[StoredFile]:
    db.expire_all()
    return list(db.scalars(select(StoredFile).where(StoredFile.proposal_id == proposal_id).order_by(StoredFile.id)))


def stored_bytes(app, stored: StoredFile) -> bytes | None:
    return store_of(app).get(stored.storage_name)


def is_stored(app, stored: StoredFile) -> bool:
    return store_of(app).exists(stored.storage_name)


def make_staff(factory) -> User:
    staff = User(email="staff@city.example.jp", password_hash=hash_password(Factory.PASSWORD), role=Role.STAFF,
                 email_confirmed_at=now_utc(), second_factor_waived=True)  # as factory.staff()
    factory.session.add(staff)
    factory.session.commit()
    return staff


def logout(client) -> None:
    response = client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/calls").text)})
    assert response.status_code == 302


def test_edit_page_has_an_accessible_upload_form(client, applicant_with_draft):
    _user, _call, proposal = applicant_with_draft
    html = client.get(f"/proposals/{proposal.id}/edit/attachments").text
    section = html[html.index('id="attachments"'):html.index("</section>", html.index('id="attachments"'))]
    assert 'enctype="multipart/form-data"' in section
    assert '<label for="attachment-file">' in section
    assert 'aria-describedby="attachment-file-help"' in section
    assert 'name="csrf_token"' in section
    assert "添付資料はまだありません" in section
    assert "<script" not in section and "style=" not in section


def test_uploaded_pdf_is_stored_clean_under_a_generated_name(client, applicant_with_draft, db, app):
    user, _call, proposal = applicant_with_draft
    response = upload(client, proposal.id, pdf_with_metadata(), "事業計画.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/proposals/{proposal.id}/edit/attachments")
    [stored] = attachments_of(db, proposal.id)
    assert stored.original_name == "事業計画.pdf"
    assert stored.content_type == "application/pdf"
    assert stored.purpose == FilePurpose.ATTACHMENT
    assert stored.group_id == user.group.id and stored.uploaded_by_id == user.id
    assert len(stored.storage_name) == 32 and int(stored.storage_name, 16) >= 0
    kept = stored_bytes(app, stored)
    assert stored.size == len(kept)
    assert stored.sha256 == hashlib.sha256(kept).hexdigest()
    assert_clean_pdf(kept)
    page = client.get(f"/proposals/{proposal.id}/edit/attachments").text
    assert "事業計画.pdf" in page and f"/files/{stored.id}/delete" in page


def test_uploaded_jpeg_loses_exif(client, applicant_with_draft, db, app):
    _user, _call, proposal = applicant_with_draft
    assert upload(client, proposal.id, jpeg_with_exif(), "現地写真.jpg").status_code == 302
    [stored] = attachments_of(db, proposal.id)
    with Image.open(io.BytesIO(stored_bytes(app, stored))) as image:
        assert image.format == "JPEG" and not image.getexif()
    assert b"SecretCam" not in stored_bytes(app, stored)


def test_fake_pdf_is_refused_next_to_the_field_and_nothing_is_kept(client, applicant_with_draft, db, app):
    _user, _call, proposal = applicant_with_draft
    before = set(store_of(app).names())
    response = upload(client, proposal.id, b"<html><body>not a pdf</body></html>", "申請書.pdf")
    assert response.status_code == 422
    html = response.text
    assert 'id="attachment-file-error"' in html
    assert "添付できるのは PDF、JPEG、PNG 形式のファイルだけです" in html
    assert 'aria-describedby="attachment-file-help attachment-file-error"' in html
    assert "提案書の作成・編集" in html  # the editor, with what was saved, is still there
    assert attachments_of(db, proposal.id) == []
    assert set(store_of(app).names()) == before


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"", "empty.pdf", "ファイルを選んでください"),  # the browser sends an empty part with no content
        (png_with_text(), "renamed.pdf", "中身はPNG画像です"),
        (b"%PDF-1.4\n%broken", "broken.pdf", "PDFファイルを読み取れませんでした"),
        (png_header_only(100_000, 100_000), "bomb.png", "画素数が大きすぎます"),
    ],
)
def test_bad_uploads_never_make_a_500(client, applicant_with_draft, db, data, name, expected):
    _user, _call, proposal = applicant_with_draft
    if not data:
        token = csrf_token_from(client.get(f"/proposals/{proposal.id}/edit").text)
        response = client.post(f"/proposals/{proposal.id}/attachments", data={"csrf_token": token},
                               content_type="multipart/form-data")
    else:
        response = upload(client, proposal.id, data, name)
    assert response.status_code == 422
    assert expected in response.text
    assert attachments_of(db, proposal.id) == []


def test_empty_file_is_refused(client, applicant_with_draft, db):
    _user, _call, proposal = applicant_with_draft
    response = upload(client, proposal.id, b"", "empty.pdf")
    assert response.status_code == 422
    assert "ファイルが空です" in response.text


def test_upload_needs_the_csrf_token(client, applicant_with_draft, db):
    _user, _call, proposal = applicant_with_draft
    response = client.post(f"/proposals/{proposal.id}/attachments",
                           data={"file": (io.BytesIO(pdf_with_metadata()), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert attachments_of(db, proposal.id) == []


def test_download_is_an_attachment_with_safe_headers(client, applicant_with_draft, db, app):
    _user, _call, proposal = applicant_with_draft
    upload(client, proposal.id, pdf_with_metadata(), "事業計画.pdf")
    [stored] = attachments_of(db, proposal.id)
    response = client.get(f"/files/{stored.id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E4%BA%8B%E6%A5%AD%E8%A8%88%E7%94%BB.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data == stored_bytes(app, stored)


def test_other_groups_get_404_and_staff_may_read_but_not_delete(client, applicant_with_draft, factory, login, db):
    _user, _call, proposal = applicant_with_draft
    upload(client, proposal.id, jpeg_with_exif(), "写真.jpg")
    [stored] = attachments_of(db, proposal.id)

    other = factory.applicant()
    logout(client)
    login(other)
    token = csrf_token_from(client.get("/mypage").text)
    assert client.get(f"/files/{stored.id}/download").status_code == 404
    assert client.post(f"/files/{stored.id}/delete", data={"csrf_token": token}).status_code == 404
    assert client.get("/files/999999/download").status_code == 404
    assert client.get(f"/files/{2**31}/download").status_code == 404
    assert client.get(f"/files/{2**70}/download").status_code == 404
    other_upload = client.post(f"/proposals/{proposal.id}/attachments",
                               data={"csrf_token": token, "file": (io.BytesIO(jpeg_with_exif()), "x.jpg")},
                               content_type="multipart/form-data")
    assert other_upload.status_code == 404

    staff = make_staff(factory)
    logout(client)
    login(staff)
    response = client.get(f"/files/{stored.id}/download")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    token = csrf_token_from(client.get("/calls").text)
    assert client.post(f"/files/{stored.id}/delete", data={"csrf_token": token}).status_code == 403
    assert len(attachments_of(db, proposal.id)) == 1


def test_anonymous_download_goes_to_login(client, applicant_with_draft, db):
    _user, _call, proposal = applicant_with_draft
    upload(client, proposal.id, jpeg_with_exif(), "写真.jpg")
    [stored] = attachments_of(db, proposal.id)
    logout(client)
    response = client.get(f"/files/{stored.id}/download")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_delete_removes_the_row_and_the_stored_file(client, applicant_with_draft, db, app):
    _user, _call, proposal = applicant_with_draft
    upload(client, proposal.id, pdf_with_metadata(), "不要.pdf")
    [stored] = attachments_of(db, proposal.id)
    assert is_stored(app, stored)
    token = csrf_token_from(client.get(f"/proposals/{proposal.id}/edit").text)
    assert client.post(f"/files/{stored.id}/delete", data={}).status_code == 400  # no CSRF token
    assert is_stored(app, stored)
    response = client.post(f"/files/{stored.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert attachments_of(db, proposal.id) == []
    assert not is_stored(app, stored)


def test_nothing_changes_after_the_deadline(client, applicant_with_draft, db, app, factory):
    _user, call, proposal = applicant_with_draft
    token = csrf_token_from(client.get(f"/proposals/{proposal.id}/edit").text)
    upload(client, proposal.id, pdf_with_metadata(), "締切前.pdf", token)
    [stored] = attachments_of(db, proposal.id)
    call.closes_at = now_utc() - timedelta(minutes=1)
    factory.session.add(call)
    factory.session.commit()

    late = upload(client, proposal.id, jpeg_with_exif(), "締切後.jpg", token)
    assert late.status_code == 403
    assert "締切" in late.text and "過ぎたため" in late.text
    delete = client.post(f"/files/{stored.id}/delete", data={"csrf_token": token})
    assert delete.status_code == 403
    assert [f.id for f in attachments_of(db, proposal.id)] == [stored.id]
    assert is_stored(app, stored)
    assert client.get(f"/files/{stored.id}/download").status_code == 200  # still readable


def test_per_file_limit_below_the_request_limit_gets_a_message(client, applicant_with_draft, db, app):
    _user, _call, proposal = applicant_with_draft
    limit = app.config["UPLOAD_MAX_FILE_BYTES"]
    assert limit < app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, proposal.id, b"%PDF-1.4\n" + b"0" * limit, "大きい.pdf")
    assert response.status_code == 422
    assert 'id="attachment-file-error"' in response.text
    assert f"ファイルが大きすぎます（1ファイル{file_size(limit)}まで）" in response.text
    assert attachments_of(db, proposal.id) == []


def test_per_proposal_total_and_count_limits(client, applicant_with_draft, db, app, monkeypatch):
    _user, _call, proposal = applicant_with_draft
    token = csrf_token_from(client.get(f"/proposals/{proposal.id}/edit").text)
    assert upload(client, proposal.id, pdf_with_metadata(), "1.pdf", token).status_code == 302
    [first] = attachments_of(db, proposal.id)

    monkeypatch.setitem(app.config, "UPLOAD_MAX_PROPOSAL_BYTES", first.size + 100)
    response = upload(client, proposal.id, pdf_with_metadata(padding=5000), "2.pdf", token)
    assert response.status_code == 422
    assert "添付資料の合計は" in response.text and 'id="attachment-file-error"' in response.text

    monkeypatch.setitem(app.config, "UPLOAD_MAX_PROPOSAL_BYTES", 10 * 1024 * 1024)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_FILES_PER_PROPOSAL", 1)
    response = upload(client, proposal.id, pdf_with_metadata(), "3.pdf", token)
    assert response.status_code == 422
    assert "添付できるファイルは1件までです" in response.text
    assert len(attachments_of(db, proposal.id)) == 1


def test_request_over_max_content_length_gets_the_japanese_413_page(client, applicant_with_draft, db, app):
    _user, _call, proposal = applicant_with_draft
    token = csrf_token_from(client.get(f"/proposals/{proposal.id}/edit").text)
    body = b"%PDF-1.4\n" + b"0" * app.config["MAX_CONTENT_LENGTH"]
    response = client.post(f"/proposals/{proposal.id}/attachments",
                           data={"csrf_token": token, "file": (io.BytesIO(body), "huge.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "ファイルが大きすぎます" in response.text
    assert "ファイルを小さくするか、分けて送ってください" in response.text
    assert attachments_of(db, proposal.id) == []


# --- group documents ------------------------------------------------------------------

def upload_document(client, purpose: str, data: bytes, name: str):
    token = csrf_token_from(client.get("/profile").text)
    return client.post("/profile/documents", data={"csrf_token": token, "purpose": purpose,
                                                   "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_group_documents_are_stored_on_the_group(client, factory, login, db, app):
    user = factory.applicant(complete_profile=False)
    login(user)
    html = client.get("/profile").text
    for purpose in ("rules", "officers", "annual_report"):
        assert f'<label for="document-{purpose}">' in html
    response = upload_document(client, "rules", pdf_with_metadata(), "会則.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile#documents")
    db.expire_all()
    [stored] = user.group.documents
    assert stored.purpose == FilePurpose.RULES and stored.proposal_id is None
    assert_clean_pdf(stored_bytes(app, stored))
    html = client.get("/profile").text
    assert "会則.pdf" in html and f"/files/{stored.id}/download" in html

    token = csrf_token_from(html)
    assert client.post(f"/files/{stored.id}/delete", data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert user.group.documents == []
    assert not is_stored(app, stored)


def test_bad_group_document_keeps_the_profile_form(client, factory, login, db):
    user = factory.applicant(name="みなと子ども食堂")
    login(user)
    response = upload_document(client, "officers", b"GIF89a not allowed", "名簿.pdf")
    assert response.status_code == 422
    assert 'id="document-officers-error"' in response.text
    assert "添付できるのは PDF、JPEG、PNG 形式のファイルだけです" in response.text
    assert 'value="みなと子ども食堂"' in response.text  # the profile form is still filled in
    assert upload_document(client, "attachment", pdf_with_metadata(), "a.pdf").status_code == 400
    assert upload_document(client, "nonsense", pdf_with_metadata(), "a.pdf").status_code == 400


# --- the object store follows the database ---------------------------------------------

def test_a_rolled_back_upload_leaves_no_file(factory, db, app):
    user = factory.applicant()
    clean = sanitize(jpeg_with_exif(), "a.jpg")
    stored = storage.store_file(db, store_of(app), clean, original_name="a.jpg",
                                purpose=FilePurpose.RULES, group_id=user.group.id)
    assert is_stored(app, stored)
    db.rollback()
    assert not is_stored(app, stored)


def test_delete_files_of_proposal_removes_stored_files_after_commit(client, applicant_with_draft, db, app):
    _user, _call, proposal = applicant_with_draft
    upload(client, proposal.id, pdf_with_metadata(), "a.pdf")
    upload(client, proposal.id, jpeg_with_exif(), "b.jpg")
    store = store_of(app)
    names = [f.storage_name for f in attachments_of(db, proposal.id)]
    assert len(names) == 2 and all(store.exists(name) for name in names)
    proposal = db.get(Proposal, proposal.id)
    storage.delete_files_of_proposal(db, store, proposal)
    assert all(store.exists(name) for name in names)  # nothing is removed before the commit
    db.delete(proposal)
    db.commit()
    assert attachments_of(db, proposal.id) == []
    assert not any(store.exists(name) for name in names)
