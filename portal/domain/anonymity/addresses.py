"""Reading a Japanese postal address, so that the group's own address is
found however it is written: 中央一丁目2番3号, 中央1-2-3, 中央1丁目2-3.

:func:`parse_address` keeps what identifies the place (the town, the block
numbers, the building) and drops what many share (prefecture, city);
:func:`address_regex` matches that town and those numbers in the
``keep_layout`` fold of identity.py. Pure Python.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .identity import fold_with_map

_PREF_RE = re.compile(r"^(?:東京都|北海道|(?:京都|大阪)府|.{2,3}?県)")
_CITY_RE = re.compile(r"^(?:.{1,6}?郡.{1,5}?[町村]|.{1,6}?市.{1,4}?区|.{1,6}?[市区])")
_KANJI_DIGITS = "〇一二三四五六七八九"
_NUMBER_START_RE = re.compile(r"[0-9]|[一二三四五六七八九十百]+(?=丁目|番(?!町)|号)")
_NUMBER_RE = re.compile(r" ?([0-9]+|[〇一二三四五六七八九十百]+)")
_SEPARATOR = r" ?(?:丁目|番地の|番地|番の|番|号の|号|の|-) ?"
_SEPARATOR_RE = re.compile(_SEPARATOR)
_ROOM_RE = re.compile(r"[ \-]*[0-9]+(?:号室|階|f)?$")


def _kanji_to_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if all(c in _KANJI_DIGITS for c in text):  # 二〇一
        return int("".join(str(_KANJI_DIGITS.index(c)) for c in text))
    total, current = 0, 0
    for c in text:
        if c in _KANJI_DIGITS:
            current = _KANJI_DIGITS.index(c)
        elif c in "十百":
            total += (current or 1) * (10 if c == "十" else 100)
            current = 0
        else:
            return None
    return total + current


def _int_to_kanji(n: int) -> str:
    if not 0 < n < 1000:
        return ""
    out = ""
    for value, mark in ((100, "百"), (10, "十")):
        if n >= value:
            out += ("" if n // value == 1 else _KANJI_DIGITS[n // value]) + mark
            n %= value
    return out + (_KANJI_DIGITS[n] if n else "")


@dataclass(frozen=True)
class Address:
    towns: tuple[str, ...]  # in the keep_layout fold
    numbers: tuple[int, ...]
    building: str


def parse_address(address: str) -> Address | None:
    """'新潟県みなと市中央一丁目2番3号 みなとビル201' -> 中央 / (1, 2, 3) / みなとビル."""
    text = fold_with_map(unicodedata.normalize("NFKC", address or "").strip(), keep_layout=True)[0]
    text = re.sub(r"^〒? ?[0-9]{3}-?[0-9]{4} ?", "", text)
    text = _PREF_RE.sub("", text, count=1).lstrip()
    before_city = text
    text = _CITY_RE.sub("", text, count=1).lstrip()
    start = _NUMBER_START_RE.search(text)
    if not start:
        return None
    if not text[: start.start()].strip() and "郡" in before_city:
        text = before_city.split("郡", 1)[1]  # 'みなと郡桜町4-5': that 町 is the town
        start = _NUMBER_START_RE.search(text)
    town = text[: start.start()].strip()
    numbers: list[int] = []
    pos = start.start()
    while (match := _NUMBER_RE.match(text, pos)) and len(numbers) < 4:
        value = _kanji_to_int(match.group(1))
        if value is None:
            break
        numbers.append(value)
        pos = match.end()
        sep = _SEPARATOR_RE.match(text, pos)
        if not sep:
            break
        pos = sep.end()
    building = _ROOM_RE.sub("", text[pos:].strip(" -")).strip()
    base = town.removeprefix("大字").removeprefix("字")  # 大字山田字川端 -> 山田字川端, 山田川端
    towns = {town, base, base.replace("字", "")}
    towns |= {t.replace("け", "が") for t in towns} | {t.replace("が", "け") for t in towns}
    # 港南町三丁目 is also written 港南三丁目.
    towns |= {t[:-1] for t in towns if t[-1:] in ("町", "村") and len(t) >= 3}
    towns = {t for t in towns if t}
    if not towns or not numbers:
        return None
    return Address(tuple(sorted(towns, key=len, reverse=True)), tuple(numbers), building)


def address_regex(parsed: Address) -> re.Pattern[str]:
    def number(n: int) -> str:
        kanji = _int_to_kanji(n)
        return f"(?:{n}|{kanji})" if kanji else str(n)

    nums = [number(n) for n in parsed.numbers]
    required = min(2, len(nums))
    pattern = nums[0] + "".join(_SEPARATOR + n for n in nums[1:required])
    for n in nums[required:]:  # optional tail, nested: (?:-3(?:-4)?)?
        pattern += f"(?:{_SEPARATOR}{n}"
    pattern += ")?" * (len(nums) - required)
    towns = "|".join(re.escape(t) for t in parsed.towns)
    return re.compile(
        rf"(?:{towns}) ?{pattern}(?:丁目|番地|番|号)?(?![0-9〇一二三四五六七八九十])"
    )


def _number(n: int) -> str:
    kanji = _int_to_kanji(n)
    return f"(?:{n}|{kanji})" if kanji else str(n)


def town_block_regex(parsed: Address) -> re.Pattern[str] | None:
    """The coarser grains of the group's own address: the town with its
    丁目 ('中央一丁目', '中央1-…'), and the 番・号 without the town ('2番3号')."""
    if len(parsed.numbers) < 2:
        return None
    towns = "|".join(re.escape(t) for t in parsed.towns)
    block = rf"(?:{towns}) ?{_number(parsed.numbers[0])}(?: ?丁目|(?= ?-))"
    alternatives = [block]
    if len(parsed.numbers) >= 3:
        first, second = (_number(n) for n in parsed.numbers[1:3])
        alternatives.append(rf"(?<![0-9〇一二三四五六七八九十]){first} ?番地?(?:の| ?- ?)? ?{second} ?号?")
    return re.compile(rf"(?:{'|'.join(alternatives)})(?![0-9〇一二三四五六七八九十])")
