"""A redaction covers the whole proper noun it sits in.

'地域の茶の間「わんわん」運営委員会' with only わんわん redacted still names the
group: the quoted name and the words bound to it go together. A name
followed by more of the same noun ('わんわんパトロール隊', '白浜海岸') goes
whole as well. Pure Python, on the original text.
"""
from __future__ import annotations

import re

_OPEN, _CLOSE = "「『【〈《“", "」』】〉》”"
_REACH = 40  # how far a bracket may be from the match
_NOUN = r"[一-龥々〆ヶァ-ヴーｦ-ﾟA-Za-zＡ-Ｚａ-ｚ]"  # not digits: 中央 in 中央4-5-6 stays 中央
_NOUN_RE = re.compile(_NOUN)
# Bound on the left of a quoted name: 地域の茶の間「…」, みなと市の「…」 ('の' joins, other kana end it).
_LEFT_RE = re.compile(rf"(?:{_NOUN}+の)*{_NOUN}+\Z")
# A label before a quoted name is not part of it: 事業名「…」, 愛称「…」.
_LABELS = ("事業名", "名称", "団体名", "愛称", "通称", "略称", "タイトル", "テーマ", "題名", "活動名", "名前",
           "件名", "標語", "見出し", "キャッチコピー", "合言葉", "事業", "活動", "企画", "講座", "教室")
_RIGHT_RE = re.compile(rf"{_NOUN}{{1,12}}")
# Generic tails that begin in hiragana: 松林を守る会.
_KANA_TAIL_RE = re.compile(r"(?:を守る会|をまもる会|を育てる会|を支える会|を考える会)")


def _enclosing_brackets(text: str, start: int, end: int) -> tuple[int, int] | None:
    lo = max(0, start - _REACH)
    open_at = -1
    for i in range(start - 1, lo - 1, -1):
        if text[i] in _CLOSE or text[i] == "\n":
            return None
        if text[i] in _OPEN:
            open_at = i
            break
    if start < len(text) and text[start] in _OPEN:  # the match began with its own bracket
        open_at = start
    if open_at < 0:
        return None
    pair = _CLOSE[_OPEN.index(text[open_at])]
    for j in range(end, min(len(text), end + _REACH)):
        if text[j] in _OPEN or text[j] == "\n":
            return None
        if text[j] == pair:
            return open_at, j + 1
    if end > 0 and text[end - 1] == pair:
        return open_at, end
    return None


def widen(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the proper-noun expression around text[start:end]."""
    brackets = _enclosing_brackets(text, start, end)
    if brackets is not None:
        start, end = brackets
        left = _LEFT_RE.search(text, max(0, start - 16), start)
        if left and not left.group(0).endswith(_LABELS):
            start = left.start()
    tail = _KANA_TAIL_RE.match(text, end)
    if tail:
        end = tail.end()
    right = _RIGHT_RE.match(text, end)
    if right and end > 0 and _NOUN_RE.match(text[end - 1]):
        end = right.end()
    elif right and brackets is not None:
        end = right.end()
    return start, end
