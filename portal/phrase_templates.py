"""Japanese phrase breaks in the pages' own prose, added once when a
template is compiled.

The ``phrases`` filter marks what a page fills in (titles, criteria, short
notices). The sentences written in the templates themselves (help texts,
explanations, notices) are fixed, so their phrase boundaries are found when
Jinja loads the template, not on every request: each run of Japanese text
between tags gets a ``<wbr>`` between BudouX's phrases, and the page's CSS
(``word-break: keep-all`` with ``overflow-wrap: anywhere``) lets a line
break only there, so a line never ends in 「くださ/い」.

Only text content is touched. Tags and their attributes (``aria-label``,
``placeholder``, ``title``), Jinja's ``{{ }}``/``{% %}``/``{# #}``, comments,
raw-text elements (``<script>``, ``<style>``, ``<textarea>``, ``<title>``),
elements where a ``<wbr>`` would be wrong (``<option>``, ``<svg>``,
``<pre>``, ``<code>``) and the short texts of controls, which are often flex
boxes (``<a>``, ``<button>``, ``<summary>``, ``<label>``) are copied as they are, and so are
``{% block title %}`` (it lands inside ``<title>``) and ``{% set %}``
blocks (their text may end up in an attribute).

WeasyPrint ignores ``keep-all`` for Japanese, so in the PDF templates each
phrase becomes an inline block instead (``<span class="ph">``, as the
``pdf_phrases`` filter does for what the PDF fills in), which a line does not
break inside unless the phrase alone is wider than it.
"""
from __future__ import annotations

import re
from functools import lru_cache

from jinja2.ext import Extension

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff01-\uff5e]")
_JINJA_OPEN = re.compile(r"\{[{%#]")
_JINJA_CLOSE = {"{{": "}}", "{%": "%}", "{#": "#}"}
# Elements whose content is copied untouched, up to their end tag. Links,
# buttons, summaries and labels are short, and often styled as flex boxes
# (44 px touch targets): a <wbr> in a flex box becomes a box of its own,
# which splits the text and its accessible name (「審査結果 （PDF）」).
_SKIPPED_ELEMENTS = ("script", "style", "textarea", "title", "option", "svg", "pre", "code",
                     "a", "button", "summary", "label")
# Jinja blocks whose content is copied untouched, up to their end tag.
_SKIPPED_BLOCKS = (
    (re.compile(r"\{%-?\s*block\s+title\s*-?%\}"), re.compile(r"\{%-?\s*endblock\b[^%]*%\}")),
    (re.compile(r"\{%-?\s*set\s+[\w, ]+\s*-?%\}"), re.compile(r"\{%-?\s*endset\s*-?%\}")),
)
_TAG_START = re.compile(r"<(/?)([A-Za-z][\w-]*)")
# The smallest run worth parsing: a phrase boundary needs text on both sides.
_MIN_RUN = 4


@lru_cache(maxsize=1)
def _parser():
    import budoux

    return budoux.load_default_japanese_parser()


# Phrases up to this long are kept on one line in a PDF (as the pdf_phrases filter).
PDF_PHRASE_MAX_CHARS = 16


def _pdf_phrase(chunk: str) -> str:
    return f'<span class="ph">{chunk}</span>' if len(chunk) <= PDF_PHRASE_MAX_CHARS else chunk


def break_text(text: str, *, pdf: bool = False) -> str:
    """``<wbr>`` between BudouX's phrases of one run of template text, or
    each phrase an inline block for a PDF (the text is already HTML:
    entities such as ``&amp;`` stay whole)."""
    if len(text) < _MIN_RUN or not _JAPANESE.search(text):
        return text
    pieces = []
    for part in re.split(r"(&[#\w]+;|\s+)", text):
        if not part or part.isspace() or part.startswith("&") or not _JAPANESE.search(part):
            pieces.append(part)
            continue
        phrases = _parser().parse(part)
        if pdf:
            pieces.append("".join(map(_pdf_phrase, phrases)) if len(phrases) > 1 else part)
        else:
            pieces.append("<wbr>".join(phrases))
    return "".join(pieces)


def _skip_jinja(source: str, at: int) -> int:
    """The index just after the Jinja construct starting at ``at``."""
    close = source.find(_JINJA_CLOSE[source[at:at + 2]], at + 2)
    return len(source) if close < 0 else close + 2


def _skip_tag(source: str, at: int) -> int:
    """The index just after the tag starting at ``at`` (quotes and Jinja
    inside it respected)."""
    index, quote = at + 1, None
    while index < len(source):
        if source.startswith(("{{", "{%", "{#"), index):
            index = _skip_jinja(source, index)
            continue
        char = source[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == ">":
            return index + 1
        index += 1
    return index


def add_phrase_breaks(source: str, *, pdf: bool = False) -> str:
    out: list[str] = []
    index, text_start = 0, 0

    def flush(until: int) -> None:
        if until > text_start:
            out.append(break_text(source[text_start:until], pdf=pdf))

    while index < len(source):
        char = source[index]
        if char == "{" and source.startswith(("{{", "{%", "{#"), index):
            flush(index)
            end = _skip_jinja(source, index)
            for opening, closing in _SKIPPED_BLOCKS:
                if opening.match(source, index):
                    found = closing.search(source, end)
                    end = len(source) if found is None else found.end()
                    break
            out.append(source[index:end])
            index = text_start = end
        elif char == "<" and source.startswith("<!--", index):
            flush(index)
            close = source.find("-->", index + 4)
            end = len(source) if close < 0 else close + 3
            out.append(source[index:end])
            index = text_start = end
        elif char == "<" and (tag := _TAG_START.match(source, index)):
            flush(index)
            end = _skip_tag(source, index)
            name = tag.group(2).lower()
            if not tag.group(1) and name in _SKIPPED_ELEMENTS:
                close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(source, end)
                end = len(source) if close is None else close.end()
            out.append(source[index:end])
            index = text_start = end
        else:
            index += 1
    flush(len(source))
    return "".join(out)


def wants_phrase_breaks(name: str | None) -> bool:
    return bool(name) and name.endswith(".html")


class PhraseBreaks(Extension):
    """Marks the phrases in the static text of page and PDF templates."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if not wants_phrase_breaks(name):
            return source
        return add_phrase_breaks(source, pdf=name.startswith("pdf/"))
