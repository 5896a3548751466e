"""PDF rendering with WeasyPrint, fetching nothing.

Every PDF is rendered from HTML we build ourselves, but that HTML contains
text written by applicants. The URL fetcher refuses every URL (file:, http:,
anything), so a proposal that says <img src="file:///etc/passwd"> or
url(http://…) in CSS cannot make the server read a file or call out.
Fonts come from the system (fontconfig), not through the fetcher.
"""
from __future__ import annotations

from pathlib import Path

import pydyf
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "css" / "pdf.css"


def _cached_page_references(self) -> tuple[bytes, ...]:
    """pydyf's ``PDF.page_references`` builds a tuple of every page each time
    it is read, and WeasyPrint's tagging (``pdf_tags``) reads it once per
    structure element: quadratic in the size of the document. The log PDF of
    a 300-proposal call (thousands of entries, hundreds of pages) spent many
    minutes there. Pages are only ever appended to ``Kids``, so the tuple is
    rebuilt when their number changes and is otherwise the same value."""
    kids = self.pages["Kids"]
    cached = self.__dict__.get("_page_references_cache")
    if cached is None or cached[0] != len(kids):
        cached = (len(kids), tuple(f"{number} 0 R".encode("ascii") for number in kids[::3]))
        self.__dict__["_page_references_cache"] = cached
    return cached[1]


pydyf.PDF.page_references = property(_cached_page_references)


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
