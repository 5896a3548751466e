"""Demo attachments (issue 14): what real groups attach, made in code so the
demo carries no binary blobs. A leaflet PDF whose header names the group,
with a map-like drawing, an embedded photo and a QR code to the group's
site; and a photo of the group's sign. They go through the upload path
(sanitize, storage) before the proposal is submitted, through the scan and
the official's page decisions, so demo reviewers open real redacted copies.
"""
from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta
from html import escape

from PIL import Image, ImageDraw, ImageFont

from ..files.sanitize import sanitize
from ..files.storage import store_file
from ..models import FilePurpose, Proposal

# The groups whose proposals carry attachments in the demo.
WITH_ATTACHMENTS = ("matsu", "wanwan", "mori")
FONT_PATHS = ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
# Where the sign is on the photo (percent: left, top, width, height): the
# demo's official masks it.
SIGN_BOX = [8.0, 8.0, 84.0, 30.0]


def _font(size: int):
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default()


def sign_photo(group_name: str, *, fmt: str = "JPEG") -> bytes:
    """A photo-like picture of an activity with the group's name on a sign."""
    width, height = 800, 600
    image = Image.new("RGB", (width, height), (150, 190, 225))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 380, width, height), fill=(110, 160, 90))  # grass
    for i in range(7):  # trees
        x = 60 + i * 110
        draw.rectangle((x + 18, 300, x + 32, 400), fill=(100, 70, 40))
        draw.ellipse((x - 10, 230, x + 60, 320), fill=(40, 110 + i * 5, 50))
    for i in range(4):  # people
        x = 150 + i * 150
        draw.ellipse((x, 400, x + 30, 430), fill=(240, 200, 170))
        draw.rectangle((x - 5, 430, x + 35, 510), fill=(60 + i * 40, 80, 160))
    box = [int(SIGN_BOX[0] * width / 100), int(SIGN_BOX[1] * height / 100),
           int((SIGN_BOX[0] + SIGN_BOX[2]) * width / 100), int((SIGN_BOX[1] + SIGN_BOX[3]) * height / 100)]
    draw.rectangle(box, fill=(250, 250, 240), outline=(90, 60, 30), width=8)
    font = _font(44)
    text = group_name if len(group_name) <= 14 else group_name[:14]
    draw.text(((box[0] + box[2]) // 2, (box[1] + box[3]) // 2), text, fill=(20, 20, 20), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    return out.getvalue()


def qr_png(url: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=4)
    return out.getvalue()


def _data_url(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def leaflet_pdf(group_name: str, representative: str, address: str, phone: str, site: str, *,
                photo: bytes | None = None, qr: bool = True, two_pages: bool = False) -> bytes:
    """A one-page activity leaflet as groups write them: the header names the
    group, then a map-like drawing of the area, a photo and a QR code
    (``two_pages``: the photo and the QR code on a second page, so the first
    keeps its text layer when the second is masked)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    class DataOnly(URLFetcher):
        """Only the data: URLs built here; nothing is fetched from outside."""

        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                raise ValueError("only data: URLs")
            return super().fetch(url, headers)

    fetcher = DataOnly()
    photo = photo if photo is not None else sign_photo(group_name)
    qr_block = (f'　<img src="{_data_url(qr_png(site), "image/png")}" alt="QR" class="qr">'
                "活動のようすはこちら") if qr else ""
    html = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8"></head><body>
<header><p class="group">{escape(group_name)}</p><p>代表 {escape(representative)}　電話 {escape(phone)}</p></header>
<h1>活動のご案内と年間計画</h1>
<p>わたしたちは地域の身近な環境を守るため、毎月の清掃と観察会を続けています。参加は自由です。</p>
<h2>活動する場所</h2>
<svg width="420" height="160" viewBox="0 0 420 220" role="img" aria-label="地図">
  <rect x="0" y="0" width="420" height="220" fill="#eef4e8" stroke="#777"/>
  <path d="M0 150 C 120 120, 260 190, 420 140" stroke="#6aa6d8" stroke-width="18" fill="none"/>
  <line x1="60" y1="0" x2="60" y2="220" stroke="#bbb" stroke-width="10"/>
  <line x1="0" y1="70" x2="420" y2="70" stroke="#bbb" stroke-width="10"/>
  <circle cx="250" cy="95" r="12" fill="#d33"/>
  <text x="268" y="100" font-size="14">活動拠点</text>
</svg>
<p>所在地：{escape(address)}</p>
<h2{' class="next-page"' if two_pages else ''}>活動のようす</h2>
<p class="pictures"><img src="{_data_url(photo, "image/jpeg")}" alt="活動の写真" width="200"></p>
{qr_block}</p>
</body></html>"""
    css = ("@page{size:A4;margin:12mm}body{font-family:'IPAexGothic',sans-serif;font-size:11pt}"
           ".pictures img{width:70mm;vertical-align:bottom}.pictures img.qr{width:28mm}"
           ".next-page{break-before:page}header{border-bottom:2px solid #333}.group{font-size:18pt;font-weight:bold;margin:0}")
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[CSS(string=css, url_fetcher=fetcher)])


def attach(session, store, proposal: Proposal, user, group_key: str, at: datetime) -> None:
    """The group's leaflet and photo, uploaded before it submits."""
    if group_key not in WITH_ATTACHMENTS or store is None:
        return
    group = proposal.group
    site = group.website or "https://example.jp/"
    files = (
        # The leaflet's photo shows a blank sign: the named one is the separate photo.
        (leaflet_pdf(group.name, group.representative_name or "", group.address or "", group.phone or "", site,
                     photo=sign_photo("　"), two_pages=True), "活動案内.pdf"),
        (sign_photo(group.name), "活動写真.jpg"),
    )
    for data, name in files:
        stored = store_file(session, store, sanitize(data, name), original_name=name,
                            purpose=FilePurpose.ATTACHMENT, group_id=group.id, proposal_id=proposal.id,
                            uploaded_by_id=user.id)
        stored.uploaded_at = at - timedelta(minutes=20)
    session.flush()


def decide_pages(session, proposal: Proposal, staff, at: datetime) -> None:
    """What the demo's official decides on each image page: QR codes and the
    sign are painted out; other pictures were looked at and kept."""
    from ..domain.anonymity import redaction
    from ..domain.anonymity.review_copy import review_attachments

    for attachment in review_attachments(session, proposal):
        for page in redaction.undecided_pages(attachment):
            if attachment.content_type != "application/pdf":
                masks = [SIGN_BOX] + [box for box in page.get("qr") or []]
                redaction.decide_page(session, attachment, page["page"], redaction.MASK, masks, staff, at)
            elif page.get("qr"):
                redaction.decide_page(session, attachment, page["page"], redaction.MASK, list(page["qr"]), staff, at)
            else:
                redaction.decide_page(session, attachment, page["page"], redaction.CONFIRM, [], staff, at)
