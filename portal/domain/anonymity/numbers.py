"""Numbers as applicants write them, for the contact patterns: 〇二五 and
二十三 (漢数字), a number split by a line break after its dash, and the
group's own phone number or its local part written with any separators.

:func:`digit_view` turns the ``keep_layout`` fold of identity.py into a
text where every number is in ASCII digits, keeping for each character
the span of the original it came from, so the patterns of
contact_patterns.py run on it unchanged. Pure Python.
"""
from __future__ import annotations

import re

from .identity import Span

_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9, "壱": 1, "弐": 2, "参": 3}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERALS = frozenset(_DIGITS) | frozenset(_UNITS)


def kanji_number(run: str) -> str:
    """'〇二五' -> '025' (digit by digit); '二十三' -> '23', '百五' -> '105'."""
    if not any(c in _UNITS for c in run):
        return "".join(str(_DIGITS[c]) for c in run)
    total, current = 0, 0
    for c in run:
        if c in _DIGITS:
            current = current * 10 + _DIGITS[c] if current else _DIGITS[c]
        else:
            total += (current or 1) * _UNITS[c]
            current = 0
    return str(total + current)


def _is_digit(ch: str) -> bool:
    return ch.isascii() and ch.isdigit()


def digit_view(folded: str, spans: list[Span]) -> tuple[str, list[Span]]:
    """``folded`` (keep_layout) with 漢数字 as ASCII digits and spaces next to
    a dash between numbers dropped ('025-223-\\n4567' -> '025-223-4567').

    A single 漢数字 is converted only next to a digit or a dash, so that words
    such as 一緒 or 統一 stay words; runs of two or more always convert."""
    out: list[str] = []
    out_spans: list[Span] = []
    i, n = 0, len(folded)
    while i < n:
        ch = folded[i]
        if ch in _NUMERALS:
            j = i
            while j < n and folded[j] in _NUMERALS:
                j += 1
            run = folded[i:j]
            near_number = (i > 0 and (_is_digit(folded[i - 1]) or folded[i - 1] == "-")) or \
                          (j < n and (_is_digit(folded[j]) or folded[j] in "-ー"))
            if len(run) >= 2 or near_number:
                try:
                    digits = kanji_number(run)
                except KeyError:
                    digits = ""
                if digits:
                    whole = (spans[i][0], spans[j - 1][1])
                    out.extend(digits)
                    out_spans.extend([whole] * len(digits))
                    i = j
                    continue
        if ch == "ー" and out and _is_digit(out[-1]):  # 〇二五ー二二三: the long mark is a dash
            ch = "-"
        if ch == " " and out and (out[-1] == "-" or (i + 1 < n and folded[i + 1] == "-")):
            i += 1
            continue
        out.append(ch)
        out_spans.append(spans[i])
        i += 1
    return "".join(out), out_spans


_SEP = r"[ \-().・]{0,3}"


def spaced_digits_regex(digits: str) -> re.Pattern[str] | None:
    """Exactly these digits, with up to three separators (space, dash,
    brackets, dot) between any two, and no digit around them."""
    if not digits:
        return None
    return re.compile(r"(?<![0-9])(?<![0-9]-)" + _SEP.join(digits) + r"(?![0-9])(?!-[0-9])")


def phone_parts(phone: str) -> tuple[str, str]:
    """(all digits, local part without the area code). The local part comes
    from the separators the group typed ('025-223-4567' -> '2234567'); a
    landline typed without them keeps its last seven digits; a mobile
    number (11 digits) has no local part anyone writes alone."""
    groups = re.findall(r"[0-9]+", phone)
    digits = "".join(groups)
    if len(digits) != 10:
        return digits, ""
    if len(groups) >= 3:
        return digits, "".join(groups[1:])
    return digits, digits[-7:] if len(groups) == 1 else groups[-1] if len(groups[-1]) >= 6 else ""


# A phone number after its label, however its digits are spaced:
# '電話 0 2 5 - 2 2 3 …', 'TEL：223-4567' (no area code).
# In the fold of identity.py: lower case, katakana as hiragana, ℡ as 'tel'.
PHONE_LABEL = r"(?:電話番号|電話|tel|fax|携帯|☎|連絡先|問い合わせ|問合せ|ふぁっくす|ふぁくす)"
LABELLED_PHONE_RE = re.compile(
    PHONE_LABEL + r"[^0-9\n]{0,6}?((?:[0-9][ \-().]{0,2}){6,11}[0-9])(?![0-9])"
)
