"""Japanese broken by phrase (issue 17): BudouX's phrases, with a break
opportunity only between them, on pages (<wbr> in an element styled
keep-all) and in PDFs (each phrase an inline block), so a line never ends
in 「くださ/い」."""
from __future__ import annotations

import re
import subprocess

import budoux
from markupsafe import Markup

from portal.pdf import render_pdf
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
    html = client.get(f"/calls/{call.slug}").get_data(as_text=True)
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
    html = client.get(f"/proposals/{proposal.id}/edit/content").get_data(as_text=True)
    help_text = _wbr_text(html, '<p class="help phrases" id="background-help">')
    assert "書いてください。" in help_text and "くださ<wbr>い" not in help_text
    assert help_text.split("<wbr>")[:-1] == \
        PARSER.parse("どのような地域の課題があり、なぜ今取り組むのかを書いてください。")
    assert ".phrases { word-break: keep-all; overflow-wrap: anywhere; }" in \
        client.get("/static/css/app.css").get_data(as_text=True)


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
