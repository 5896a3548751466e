"""The 受付票 PDF: A4, the Japanese font embedded, the right text, and
rendering that fetches nothing, whatever an applicant writes."""
from __future__ import annotations

import io
import shutil
import socket
import subprocess

import pikepdf
import pytest
from pypdf import PdfReader

import portal.pdf
from portal.domain.timeutil import wareki_date
from portal.pdf import RefusingURLFetcher, render_pdf

from .journey import Journey

A4_POINTS = (595.28, 841.89)
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"


def pdf_text(data: bytes) -> str:
    result = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, timeout=60,
                            check=True)
    return result.stdout.decode("utf-8")


def embedded_fonts(data: bytes) -> list[tuple[str, str]]:
    """(FontName, FontFile key) for every font descriptor with an embedded file."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == pikepdf.Name.FontDescriptor:
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in obj and isinstance(obj[key], pikepdf.Stream):
                        found.append((str(obj.FontName), key))
    return found


def base_fonts(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [str(obj.BaseFont) for obj in pdf.objects
                if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == pikepdf.Name.Font]


@pytest.fixture()
def listener():
    """A local port nobody should ever connect to while a PDF is rendered."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.setblocking(False)

    def connections() -> int:
        n = 0
        while True:
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                return n
            conn.close()
            n += 1

    yield sock.getsockname()[1], connections
    sock.close()


@pytest.fixture()
def fetchers(monkeypatch):
    """Every RefusingURLFetcher render_pdf makes, to see what was asked for."""
    made: list[RefusingURLFetcher] = []

    class Recording(RefusingURLFetcher):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(portal.pdf, "RefusingURLFetcher", Recording)
    return made


def submitted_receipt(client, db, seed, **texts):
    with seed() as f:
        slug = f.call(title="令和8年度 市民提案型協働モデル事業（受付票）").slug
    walk = Journey(client, db, email="pdf@example.jp")
    walk.register_and_confirm()
    walk.fill_profile()
    proposal_id = walk.write_proposal(slug, **texts)
    proposal = walk.submit(proposal_id)
    response = walk.receipt_pdf(proposal_id)
    assert response.mimetype == "application/pdf"
    return proposal, response.data


def test_receipt_is_a4_with_the_japanese_font_embedded_and_the_right_text(client, db, seed, fetchers):
    proposal, data = submitted_receipt(client, db, seed)
    assert data.startswith(b"%PDF")

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width, 0), round(height, 0)) == (round(A4_POINTS[0]), round(A4_POINTS[1]))

    fonts = embedded_fonts(data)
    assert any("IPAex" in name for name, _ in fonts), fonts
    assert all(key in ("/FontFile2", "/FontFile3") for name, key in fonts if "IPAex" in name)
    assert any("IPAex" in name for name in base_fonts(data))

    text = pdf_text(data)
    assert "受付票" in text
    assert proposal.receipt_number in text
    assert "事業名" in text and "地域の茶の間づくり" in text
    assert "みなと見守りの会" in text
    assert "200,000円" in text  # 市への要望額
    # The running header and footer print on every page, with the page number.
    for number, page in enumerate(reader.pages, start=1):
        page_text = "".join(page.extract_text().split())
        assert "受付票" in page_text and f"受付番号{proposal.receipt_number}" in page_text, page_text[:200]
        assert f"{number}/{len(reader.pages)}" in page_text
    # Nothing was fetched while rendering (the stylesheet is read from disk).
    assert fetchers and all(f.refused == [] for f in fetchers)


def test_the_receipt_is_rendered_once_and_kept(client, db, seed):
    proposal, first = submitted_receipt(client, db, seed)
    second = client.get(f"/proposals/{proposal.id}/receipt/1.pdf")
    assert second.data == first


def test_applicant_text_that_looks_like_html_fetches_nothing(client, db, seed, fetchers, listener):
    port, connections = listener
    payloads = {
        "title": '<img src="file:///etc/passwd">',
        "background": f'<link rel=stylesheet href="http://127.0.0.1:{port}/x.css">',
        "purpose": f"</td></tr></table><style>@import url(http://127.0.0.1:{port}/y.css);</style>",
        "description": f'<div style="background:url(file:///etc/passwd)">x</div>'
                       f'<object data="http://127.0.0.1:{port}/o"></object>',
        "place_and_target": f"url(http://127.0.0.1:{port}/z.png) @font-face {{ src: url(file:///etc/passwd) }}",
    }
    proposal, data = submitted_receipt(client, db, seed, **payloads)
    text = pdf_text(data)
    assert "root:" not in text
    assert connections() == 0
    assert fetchers, "render_pdf made its fetcher"
    assert all(f.refused == [] for f in fetchers), [f.refused for f in fetchers]
    # Escaped, so shown as the text the applicant typed, not turned into tags.
    assert '<img src="file:///etc/passwd">' in text
    assert proposal.receipt_number in text


def test_render_pdf_refuses_every_fetch_in_raw_html(listener):
    port, connections = listener
    html = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">
      <style>
        @import url("http://127.0.0.1:{port}/imported.css");
        @font-face {{ font-family: Stolen; src: url(file:///etc/passwd); }}
        body {{ background: url(file:///etc/passwd); font-family: Stolen, IPAexGothic; }}
      </style></head>
      <body><h1>受付票（検査）</h1>
      <img src="file:///etc/passwd" alt="">
      <img src="http://127.0.0.1:{port}/pixel.png" alt="">
      <div style="background-image: url('http://127.0.0.1:{port}/bg.png')">本文</div>
      <object data="file:///etc/passwd"></object>
      <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">
        <image href="file:///etc/hostname" xlink:href="file:///etc/hostname" width="10" height="10"/>
      </svg>
      </body></html>"""
    fetcher = RefusingURLFetcher()
    data = render_pdf(html, fetcher=fetcher)
    assert data.startswith(b"%PDF")
    refused = set(fetcher.refused)
    assert "file:///etc/passwd" in refused
    assert f"http://127.0.0.1:{port}/x.css" in refused
    assert f"http://127.0.0.1:{port}/pixel.png" in refused
    assert f"http://127.0.0.1:{port}/imported.css" in refused
    assert connections() == 0
    text = pdf_text(data)
    assert "受付票（検査）" in text and "本文" in text
    assert "root:" not in text


def test_the_default_fetcher_refuses_too():
    """Without a fetcher passed in, render_pdf still makes a refusing one."""
    fetcher = RefusingURLFetcher()
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
    with pytest.raises(ValueError):
        fetcher("http://127.0.0.1:9/")
    assert fetcher.refused == ["file:///etc/passwd", "http://127.0.0.1:9/"]
    data = render_pdf('<html><body><img src="file:///etc/passwd"><p>控え</p></body></html>')
    assert "root:" not in pdf_text(data) and "控え" in pdf_text(data)


def test_cached_page_references_give_the_same_tagged_pdf(monkeypatch):
    """portal.pdf replaces pydyf's quadratic ``page_references`` with a
    cached one; the tagged PDF (every /Pg of the structure tree) must be the
    same, byte for byte, as with pydyf's own property."""
    import pydyf

    from portal import pdf

    html = "<h1>記録</h1>" + "".join(f"<h2>項目{i}</h2><table><tr><th>{i}</th><td>内容{i}</td></tr></table>"
                                     for i in range(120))
    cached = pdf.render_pdf(html, title="記録", variant="pdf/ua-1")
    monkeypatch.setattr(pydyf.PDF, "page_references", property(
        lambda self: tuple(f"{number} 0 R".encode("ascii") for number in self.pages["Kids"][::3])))
    uncached = pdf.render_pdf(html, title="記録", variant="pdf/ua-1")
    assert cached == uncached
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(cached)) as document:
        assert len(document.pages) > 3  # the structure tree points into several pages
        assert "/StructTreeRoot" in document.Root


def test_the_receipt_gives_the_period_in_wareki_and_names_the_fiscal_year_once(client, db, seed):
    proposal, data = submitted_receipt(client, db, seed)
    text = "".join(pdf_text(data).split())
    start, end = proposal.period_start, proposal.period_end
    assert start.isoformat() not in text and end.isoformat() not in text
    assert f"{wareki_date(start)}～{wareki_date(end)}" in text
    assert "令和8年度令和8年度" not in text and "令和8年度市民提案型協働モデル事業（受付票）" in text
