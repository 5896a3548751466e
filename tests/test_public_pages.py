"""The site's own pages (contact, privacy, accessibility): each answers
anyone, and every page's footer links to all three in a named navigation."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.test_public_results import Published

PAGES = {
    "/contact": "お問い合わせ",
    "/privacy": "プライバシーポリシー",
    "/accessibility": "ウェブアクセシビリティ方針",
}


class FooterLinks(HTMLParser):
    """The links inside the footer's <nav>, and the nav's name."""

    def __init__(self, html: str):
        super().__init__()
        self.in_footer = self.in_nav = False
        self.nav_label = None
        self.links: dict[str, str] = {}
        self._href = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "footer":
            self.in_footer = True
        elif tag == "nav" and self.in_footer:
            self.in_nav, self.nav_label = True, attrs.get("aria-label")
        elif tag == "a" and self.in_nav:
            self._href = attrs.get("href")
            self.links[self._href] = ""

    def handle_endtag(self, tag):
        if tag == "footer":
            self.in_footer = False
        elif tag == "nav":
            self.in_nav = False
        elif tag == "a":
            self._href = None

    def handle_data(self, data):
        if self._href is not None:
            self.links[self._href] += data.strip()


def h1_of(html: str) -> str:
    start = html.index("<h1>") + len("<h1>")
    return html[start:html.index("</h1>", start)].strip()


@pytest.mark.parametrize("path", PAGES)
def test_each_page_answers_anyone_with_its_heading(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert h1_of(html) == PAGES[path]
    assert "市民協働課" in html


def test_the_contact_shows_the_configured_details_or_says_they_are_to_come(app, client, monkeypatch):
    html = client.get("/contact").get_data(as_text=True)
    assert f"{app.config['CITY_NAME']} 市民協働課" in html
    assert "準備中" in html  # no phone or mail configured in the tests
    monkeypatch.setitem(app.config, "CONTACT_DEPARTMENT", "協働推進課")
    monkeypatch.setitem(app.config, "CONTACT_PHONE", "0123-45-6789")
    monkeypatch.setitem(app.config, "CONTACT_EMAIL", "kyodo@city.example.jp")
    html = client.get("/contact").get_data(as_text=True)
    assert "協働推進課" in html
    assert 'href="tel:0123456789"' in html and 'href="mailto:kyodo@city.example.jp"' in html
    assert "準備中" not in html


def test_the_privacy_policy_says_what_reviewers_and_the_public_see(client):
    html = client.get("/privacy").get_data(as_text=True)
    for words in ("団体名・代表者名・連絡先などを伏せた", "公表に同意した場合だけ", "ログインした日時",
                  "開示・訂正・利用停止", "保存期間"):
        assert words in html, words


def test_the_accessibility_statement_names_the_standard_level_and_checks(client):
    html = client.get("/accessibility").get_data(as_text=True)
    for words in ("JIS X 8341-3:2016", "AA", "axe-core", "現在わかっている課題", "自動検査を行った日"):
        assert words in html, words


def assert_footer_links(html: str) -> None:
    footer = FooterLinks(html)
    assert footer.nav_label, "the footer's navigation has no name"
    assert footer.links == {path: heading for path, heading in PAGES.items()}


def test_the_footer_of_the_home_page_links_to_the_three_pages(client):
    assert_footer_links(client.get("/").get_data(as_text=True))


def test_the_footer_of_a_results_page_links_to_the_three_pages(client, factory):
    published = Published(factory)
    response = client.get(f"/calls/{published.call.slug}/results")
    assert response.status_code == 200
    assert_footer_links(response.get_data(as_text=True))


def test_the_current_page_is_marked_in_the_footer(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert 'href="/privacy" aria-current="page"' in html
