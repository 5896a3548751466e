"""Japanese broken by phrase (issue 17): BudouX's phrases, with a break
opportunity only between them, on pages (<wbr> in an element styled
keep-all) and in PDFs (each phrase an inline block), so a line never ends
in 「くださ/い」."""
from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser

import budoux
from markupsafe import Markup

from portal.pdf import render_pdf
from portal.phrase_templates import add_phrase_breaks, wants_phrase_breaks
from portal.templating import pdf_phrase_breaks, phrase_breaks

PARSER = budoux.load_default_japanese_parser()
NOTICE = "提出する前に、内容をもう一度ご確認ください。"


def test_breaks_fall_only_between_phrases():
    marked = phrase_breaks(NOTICE)
    assert marked == "提出する<wbr>前に、<wbr>内容を<wbr>もう<wbr>一度<wbr>ご確認ください。"
    assert marked.split("<wbr>") == PARSER.parse(NOTICE)
    assert "くださ<wbr>い" not in marked and "ご確認ください。" in marked


def test_what_is_typed_is_escaped_and_markup_is_left_alone():
    assert phrase_breaks("<script>を実行しないでください") == \
        "&lt;script&gt;を<wbr>実行しないでください"
    already = Markup("<a href='#x'>ご確認ください</a>")
    assert phrase_breaks(already) is already
    assert phrase_breaks(None) == ""
    assert pdf_phrase_breaks("ご確認ください") == '<span class="ph">ご確認ください</span>'


def _wbr_text(html: str, open_tag: str) -> str:
    start = html.index(open_tag) + len(open_tag)
    return html[start:html.index("</", start)]


def test_the_call_page_breaks_its_title_and_criteria_by_phrase(client, factory):
    title = "令和8年度 市民提案型協働モデル事業の募集要項をご確認ください"
    call = factory.call(title=title)
    html = client.get(f"/calls/{call.slug}").data.decode()
    heading = _wbr_text(html, '<h1 class="phrases">')
    assert heading.split("<wbr>") == [str(Markup.escape(p)) for p in PARSER.parse(title)]
    assert "ご確認ください" in heading and "くださ<wbr>" not in heading
    names = re.findall(r'<th scope="row" class="short phrases">(.*?)</th>', html)
    assert [n.replace("<wbr>", "") for n in names] == [c.name for c in call.criteria]
    for name, criterion in zip(names, call.criteria):
        assert name.split("<wbr>") == PARSER.parse(criterion.name)


def test_the_editor_help_texts_break_by_phrase(client, factory, login):
    user = factory.applicant()
    proposal = factory.proposal(user, factory.call(), complete=False)
    login(user)
    html = client.get(f"/proposals/{proposal.id}/edit/content").data.decode()
    help_text = _wbr_text(html, '<p class="help phrases" id="background-help">')
    assert "書いてください。" in help_text and "くださ<wbr>い" not in help_text
    assert help_text.split("<wbr>")[:-1] == \
        PARSER.parse("どのような地域の課題があり、なぜ今取り組むのかを書いてください。")
    assert ".phrases { word-break: keep-all; overflow-wrap: anywhere; }" in \
        client.get("/static/css/app.css").data.decode()


def _pdf_lines(tmp_path, body: str) -> list[str]:
    html = f'<html><body><div class="narrow">{body}</div></body></html>'
    pdf = render_pdf(html.replace('class="narrow"', 'style="width: 9em; font-size: 12pt"'))
    path = tmp_path / "phrases.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in text.splitlines() if line.strip() and not re.fullmatch(r"\d+/\d+", line.strip())]


def _breaks(lines: list[str]) -> list[int]:
    """Where the lines break, as offsets in the text."""
    offsets, at = [], 0
    for line in lines[:-1]:
        at += len(line)
        offsets.append(at)
    return offsets


def test_a_pdf_line_ends_between_phrases(tmp_path):
    text = NOTICE  # phrases no longer than a line (a longer one must wrap inside)
    phrases = PARSER.parse(text)
    boundaries = {sum(len(p) for p in phrases[:i]) for i in range(1, len(phrases))}
    plain = _pdf_lines(tmp_path, text)
    assert "".join(plain) == text
    # WeasyPrint alone breaks anywhere (「ご確認/ください」 or worse): the check below can fail.
    assert not set(_breaks(plain)) <= boundaries, plain
    phrased = _pdf_lines(tmp_path, str(pdf_phrase_breaks(text)))
    assert "".join(phrased) == text
    assert set(_breaks(phrased)) <= boundaries, phrased
    assert "ご確認ください。" in phrased


# --- the templates' own sentences (portal/phrase_templates.py) ------------------------

def test_template_text_gets_breaks_and_nothing_else_does():
    source = (
        '{% block title %}提出内容の確認をしてください{% endblock %}'
        '<p class="help" title="内容をもう一度ご確認ください" aria-label="{{ label }}を確認してください">'
        "提出する前に、内容をもう一度ご確認ください。</p>"
        '<script>const message = "内容をご確認ください";</script>'
        "<textarea>内容をもう一度ご確認ください</textarea>"
        "<select><option>もう一度ご確認ください</option></select>"
        "{{ '内容をもう一度ご確認ください' }}{# 内容をもう一度ご確認ください #}"
        "{% set note %}内容をもう一度ご確認ください{% endset %}"
        "<!-- 内容をもう一度ご確認ください -->"
        "<p>合計&nbsp;金額を確認してください</p>"
        '<a href="#">審査結果（PDF）をダウンロードしてください</a><button>内容をもう一度ご確認ください</button>'
    )
    marked = add_phrase_breaks(source)
    assert "<p class=\"help\" title=\"内容をもう一度ご確認ください\" aria-label=\"{{ label }}を確認してください\">" in marked
    assert "提出する<wbr>前に、<wbr>内容を<wbr>もう<wbr>一度<wbr>ご確認ください。</p>" in marked
    assert marked.replace("<wbr>", "") == source
    untouched = marked.replace("提出する<wbr>前に、<wbr>内容を<wbr>もう<wbr>一度<wbr>ご確認ください。", "")
    untouched = untouched.replace("<p>合計&nbsp;金額を<wbr>確認してください</p>", "")
    assert "<wbr>" not in untouched, untouched


def test_only_page_templates_are_marked():
    assert wants_phrase_breaks("public/call.html")
    assert wants_phrase_breaks("pdf/results.html")  # as inline blocks: see the next test
    assert not wants_phrase_breaks("mail/notice.txt")
    assert not wants_phrase_breaks(None)


class _WbrPlaces(HTMLParser):
    """Where a <wbr> sits in a page: it must never be inside an attribute
    value, the <title>, an <option> or a <textarea>, nor in a button,
    summary or label (often flex boxes, where it would split the name; a
    link's own text is left alone too, but a title given to the phrases
    filter may be a link inside its heading)."""

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.misplaced: list[str] = []
        self.count = 0

    def handle_starttag(self, tag, attrs):
        if tag == "wbr":
            self.count += 1
            if set(self.open) & {"title", "option", "textarea", "script", "style", "button", "summary", "label"}:
                self.misplaced.append(f"<wbr> inside <{self.open[-1]}>")
            return
        self.misplaced += [f"<{tag} {name}>" for name, value in attrs if value and "wbr" in value]
        self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]

    def handle_data(self, data):
        if "<wbr>" in data:
            self.misplaced.append(f"<wbr> as text inside <{self.open[-1] if self.open else '?'}>")


def test_pages_carry_phrase_breaks_only_in_their_text(client, factory):
    call = factory.call(title="令和8年度 市民提案型協働モデル事業")
    for path in ("/", "/calls", f"/calls/{call.slug}", "/register", "/privacy", "/accessibility"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.data.decode()
        places = _WbrPlaces()
        places.feed(page)
        assert places.count > 0, path
        assert places.misplaced == [], (path, places.misplaced)
        title = page[page.index("<title>"):page.index("</title>")]
        assert "<wbr>" not in title
    call_page = client.get(f"/calls/{call.slug}").data.decode()
    assert "提案は<wbr>団体" in call_page and "採点します。" in call_page


def test_pdf_template_text_becomes_phrase_blocks(tmp_path):
    source = f'<style>p {{ width: 9em; }}</style><p style="width: 9em; font-size: 12pt">{NOTICE}</p>'
    marked = add_phrase_breaks(source, pdf=True)
    assert marked.startswith("<style>p { width: 9em; }</style>")
    assert '<span class="ph">ご確認ください。</span>' in marked and "<wbr>" not in marked
    phrases = PARSER.parse(NOTICE)
    boundaries = {sum(len(p) for p in phrases[:i]) for i in range(1, len(phrases))}
    lines = _pdf_lines(tmp_path, marked)
    assert "".join(lines) == NOTICE and len(lines) > 1
    assert set(_breaks(lines)) <= boundaries, lines
