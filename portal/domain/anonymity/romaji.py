"""A group's name written in Latin letters, from its registered reading
(団体名のふりがな): 「みなと見守りの会」 read みなとみまもりのかい may be
written Minato Mimamori no Kai, MINATO-MIMAMORI, minatomimamori...

Names are folded before matching (identity.fold: lower case, spaces and
hyphens removed), so a spelling here is one run of letters. People write
romaji in more than one system, so each reading gives a few spellings: the
Hepburn and the kunrei systems (shi/si, chi/ti, tsu/tu, fu/hu, ji/zi),
long vowels written out, dropped or with h (ou, o, oh), and ん before b, m
or p as n or m. A kanji name without a registered reading cannot be
spelled: readings are not guessed.
"""
from __future__ import annotations

from itertools import product

# Hepburn, with the kunrei spelling where it differs.
_MORAE: dict[str, tuple[str, str]] = {}


def _table(rows: str) -> None:
    for row in rows.split():
        kana, hepburn, *kunrei = row.split(":")
        _MORAE[kana] = (hepburn, kunrei[0] if kunrei else hepburn)


_table("""
あ:a い:i う:u え:e お:o か:ka き:ki く:ku け:ke こ:ko さ:sa し:shi:si す:su せ:se そ:so
た:ta ち:chi:ti つ:tsu:tu て:te と:to な:na に:ni ぬ:nu ね:ne の:no は:ha ひ:hi ふ:fu:hu へ:he ほ:ho
ま:ma み:mi む:mu め:me も:mo や:ya ゆ:yu よ:yo ら:ra り:ri る:ru れ:re ろ:ro わ:wa ゐ:i ゑ:e を:o ん:n
が:ga ぎ:gi ぐ:gu げ:ge ご:go ざ:za じ:ji:zi ず:zu ぜ:ze ぞ:zo だ:da ぢ:ji:zi づ:zu で:de ど:do
ば:ba び:bi ぶ:bu べ:be ぼ:bo ぱ:pa ぴ:pi ぷ:pu ぺ:pe ぽ:po ゔ:vu
きゃ:kya きゅ:kyu きょ:kyo しゃ:sha:sya しゅ:shu:syu しょ:sho:syo ちゃ:cha:tya ちゅ:chu:tyu ちょ:cho:tyo
にゃ:nya にゅ:nyu にょ:nyo ひゃ:hya ひゅ:hyu ひょ:hyo みゃ:mya みゅ:myu みょ:myo りゃ:rya りゅ:ryu りょ:ryo
ぎゃ:gya ぎゅ:gyu ぎょ:gyo じゃ:ja:zya じゅ:ju:zyu じょ:jo:zyo びゃ:bya びゅ:byu びょ:byo ぴゃ:pya ぴゅ:pyu ぴょ:pyo
ふぁ:fa ふぃ:fi ふぇ:fe ふぉ:fo てぃ:ti でぃ:di とぅ:tu どぅ:du うぃ:wi うぇ:we うぉ:wo しぇ:she ちぇ:che じぇ:je
ぁ:a ぃ:i ぅ:u ぇ:e ぉ:o ゃ:ya ゅ:yu ょ:yo
""")

_VOWELS = "aiueo"
# How a long vowel is written: out (ou, uu), dropped (o, u) or with h (oh).
_LONG_STYLES = ("out", "dropped", "h")


def _syllables(kana: str, system: int) -> list[str] | None:
    """The reading split into spellings, ``っ`` as "*" and ``ー`` as "-"
    (resolved by spell()); None when a character is not kana."""
    out: list[str] = []
    index = 0
    while index < len(kana):
        pair = kana[index:index + 2]
        if len(pair) == 2 and pair in _MORAE:
            out.append(_MORAE[pair][system])
            index += 2
            continue
        char = kana[index]
        if char == "っ":
            out.append("*")
        elif char == "ー":
            out.append("-")
        elif char in _MORAE:
            out.append(_MORAE[char][system])
        else:
            return None
        index += 1
    return out


def spell(kana: str, *, system: int = 0, long_style: str = "out", n_before_labial: str = "n") -> str | None:
    """One romaji spelling of a hiragana reading (folded: no spaces)."""
    parts = _syllables(kana, system)
    if parts is None:
        return None
    letters = ""
    for position, part in enumerate(parts):
        following = next((p for p in parts[position + 1:] if p not in "*-"), "")
        if part == "*":  # small っ doubles the next consonant (tch for ch)
            if following.startswith("ch"):
                letters += "t"
            elif following and following[0] not in _VOWELS:
                letters += following[0]
            continue
        if part == "-":  # ー lengthens the vowel before it
            if letters and letters[-1] in _VOWELS:
                letters += {"out": letters[-1], "dropped": "", "h": "h"}[long_style]
            continue
        if part == "n" and following and following[0] in "bmp":
            part = n_before_labial
        elif part == "n" and following and (following[0] in _VOWELS or following[0] == "y"):
            part = "n"  # 「きんえん」 kin'en: written without the apostrophe in names
        if long_style != "out" and letters and part in ("u", "o") and letters[-1] == "o":
            letters += "" if long_style == "dropped" else "h"  # おう・おお -> o / oh
            continue
        if long_style != "out" and letters and part == "u" and letters[-1] == "u":
            letters += "" if long_style == "dropped" else "h"  # うう -> u
            continue
        letters += part
    return letters


def spellings(kana: str) -> list[str]:
    """The distinct spellings of a folded hiragana reading, Hepburn first."""
    found: list[str] = []
    for system, long_style, labial in product((0, 1), _LONG_STYLES, ("n", "m")):
        spelled = spell(kana, system=system, long_style=long_style, n_before_labial=labial)
        if spelled and spelled not in found:
            found.append(spelled)
    return found
