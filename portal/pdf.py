"""PDF rendering with WeasyPrint, fetching nothing.

Every PDF is rendered from HTML we build ourselves, but that HTML contains
text written by applicants. The URL fetcher refuses every URL (file:, http:,
anything), so a proposal that says <img src="file:///etc/passwd"> or
url(http://…) in CSS cannot make the server read a file or call out.
Fonts come from the system (fontconfig), not through the fetcher.
"""
from __future__ import annotations

from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "css" / "pdf.css"


class RefusingURLFetcher(URLFetcher):
    """Refuses every fetch and remembers what was asked, for tests and logs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        self.refused.append(url)
        raise ValueError(f"fetching is disabled for PDFs: {url[:80]}")


def render_pdf(html: str, *, title: str = "", fetcher: RefusingURLFetcher | None = None,
               variant: str | None = None) -> bytes:
    """``variant`` is WeasyPrint's ``pdf_variant`` (e.g. "pdf/ua-1" for the
    published results: tagged, titled, fonts embedded)."""
    fetcher = fetcher or RefusingURLFetcher()
    document = HTML(string=html, base_url=None, url_fetcher=fetcher)
    stylesheet = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher)
    options = {"pdf_variant": variant} if variant else {}
    return document.write_pdf(stylesheets=[stylesheet], pdf_tags=True, **options)
