"""The words a reader would recognise a group by, beyond its registered
name: the distinctive core of the name, its 通称, its bases and the place
names around them, and its people written in another order or with a title.

Each term comes with how sure it is and why, in Japanese, for staff:
``HIGH`` terms are redacted by default, ``LOW`` ones are pointers the
official decides. Pure Python; terms are in the fold of identity.py.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .identity import (
    _BRACKETS_RE,
    GENERIC_TERMS,
    HIGH,
    LOW,
    ROMAJI_MIN_SHORT,
    fold,
    fold_with_map,
    group_name_terms,
    person_name_terms,
    strip_legal_form,
)
from .kinds import GROUP_NAME, PERSON, PLACE, GroupIdentity
from .romaji import spellings


@dataclass(frozen=True)
class PointerTerm:
    folded: str
    kind: str
    confidence: str
    reason: str


# Generic parts of a group's name: what is left after them is its core.
_NAME_SUFFIXES = sorted({fold(w) for w in (
    "を守る会", "守る会", "をまもる会", "を育てる会", "運営委員会", "実行委員会", "推進委員会", "委員会",
    "連絡協議会", "協議会", "連絡会", "研究会", "同好会", "愛好会", "友の会", "の会", "会",
    "連合会", "自治会", "町内会", "ネットワーク", "ネット", "クラブ", "倶楽部", "くらぶ", "プロジェクト", "サークル", "グループ",
    "センター", "隊", "団", "組", "部", "塾", "教室", "広場", "ひろば", "サロン", "カフェ", "食堂",
)}, key=len, reverse=True)
# Never a core alone: words every applicant uses.
_GENERIC_CORES = GENERIC_TERMS | {fold(w) for w in (
    "子育て", "子ども", "こども", "子供", "高齢者", "福祉", "環境", "防災", "交流", "支援", "学習", "文化",
    "健康", "食育", "読み聞かせ", "おはなし", "パトロール", "防犯", "清掃", "花いっぱい", "緑化",
)}
# A place name ends with one of these; its stem is what points to the place.
_PLACE_SUFFIXES = sorted({fold(w) for w in (
    "町", "村", "丁目", "地区", "地域", "区", "公民館", "地区公民館", "集会所", "集会場", "会館", "コミュニティセンター",
    "コミセン", "センター", "小学校", "中学校", "学校", "保育園", "幼稚園", "公園", "海岸", "浜", "神社", "寺",
    "図書館", "駅", "商店街", "団地", "自治会館", "児童館", "福祉センター", "交流センター", "ホール", "広場",
)}, key=len, reverse=True)
_CITY_RE = re.compile(r"(?:東京都|北海道|(?:京都|大阪)府|.{2,3}?県)?(.{1,6}?)[市町村](?!場)")
_TITLES = ("さん", "氏", "様", "さま", "先生", "代表", "会長", "理事長", "代表理事", "事務局長", "隊長", "委員長", "くん", "君")
_GIVEN_TITLES = ("さん", "様", "さま", "ちゃん", "くん", "君")


def city_stems(address: str) -> list[str]:
    """'新潟県みなと市中央…' -> ['みなと']: the city's name, shared by every applicant."""
    text = unicodedata.normalize("NFKC", address or "").strip()
    text = re.sub(r"^〒?\s*[0-9]{3}-?[0-9]{4}\s*", "", text)
    match = _CITY_RE.match(text)
    stem = fold(match.group(1)) if match else ""
    return [stem] if len(stem) >= 2 else []


def _strip_suffix(folded: str, suffixes: list[str]) -> str:
    for suffix in suffixes:
        if folded.endswith(suffix) and len(folded) > len(suffix):
            return folded[: -len(suffix)]
    return folded


def _strip_name(core: str, cities: list[str]) -> str:
    """Strip the city's name and the generic suffixes, but never down to a
    generic word: 子育てひろばみなと -> 子育てひろば, not 子育て."""
    for _ in range(4):
        before = core
        for city in cities:
            for writing in (city + "市", city):
                if core.startswith(writing) and len(core) > len(writing):
                    core = core[len(writing):]
                if core.endswith(writing) and len(core) > len(writing):
                    core = core[: -len(writing)]
        stripped = _strip_suffix(core, _NAME_SUFFIXES).strip("のをと")
        if stripped in _GENERIC_CORES or len(stripped) < 2:
            break
        core = stripped
        if core == before:
            break
    return core


def _registered(name: str) -> str:
    return _BRACKETS_RE.sub("", strip_legal_form(name))


def name_core(name: str, cities: list[str]) -> str:
    """'わんわんパトロール隊みなと' -> 'わんわんぱとろーる'; '白浜の松林を守る会' -> '白浜の松林'."""
    return _strip_name(fold(_registered(name)), cities)


def _core_confidence(core: str) -> str:
    has_katakana_word = bool(re.search(r"[ぁ-ゖー]{4,}", core)) and not re.search(r"[一-龥]", core)
    if len(core) >= 7 or (len(core) >= 5 and (has_katakana_word or "ー" in core)):
        return HIGH
    return LOW


def _nouns(name: str, cities: list[str]) -> list[str]:
    """The content words of a name, split at the particles as written
    (hiragana の/を/と/や between words, not the katakana ト of パトロール)."""
    words: list[str] = []
    # A particle splits only between words ('白浜の松林'), not inside kana ('みなと').
    for part in re.split(r"(?<=[一-龥々ァ-ヴー])[のをとや](?=[^ぁ-ゖ])|[・\s]+",
                         unicodedata.normalize("NFKC", _registered(name))):
        folded = fold(part)
        if not folded or folded in _NAME_SUFFIXES:
            continue
        words.append(_strip_name(folded, cities))
        # Kanji words inside the part, not a stem before its okurigana (子育て).
        words.extend(m.group(0) for m in re.finditer(r"[一-龥々]{2,}", folded)
                     if m.end() == len(folded) or not re.match(r"[ぁ-ゖ]", folded[m.end()])
                     or folded[m.end()] == "の")
    return list(dict.fromkeys(w for w in words if len(w) >= 2))


def place_stem(folded: str) -> str:
    stem = _strip_suffix(folded, _PLACE_SUFFIXES)
    stem = re.sub(r"[0-9〇一二三四五六七八九十]+$", "", stem)
    return stem if stem != folded or len(stem) <= 4 else ""


def _as_written(name: str, folded_part: str) -> str:
    """The part of the name as the group wrote it ('わんわんパトロール'), for staff."""
    registered = unicodedata.normalize("NFKC", _registered(name))
    folded, spans = fold_with_map(registered)
    at = folded.find(folded_part)
    if at < 0 or not folded_part:
        return folded_part
    return registered[spans[at][0]:spans[at + len(folded_part) - 1][1]]


def name_terms(identity: GroupIdentity, cities: list[str]) -> list[PointerTerm]:
    terms: list[PointerTerm] = []
    core = name_core(identity.name, cities)
    if len(core) >= 3 and core not in _GENERIC_CORES:
        confidence = _core_confidence(core)
        terms.append(PointerTerm(core, GROUP_NAME, confidence,
                                 f"団体名の固有部分「{_as_written(identity.name, core)}」"))
        # A core written in kana is also written in Latin letters ("Wanwan Patororu").
        for spelled in spellings(core):
            if len(spelled) >= ROMAJI_MIN_SHORT:
                terms.append(PointerTerm(spelled, GROUP_NAME, LOW,
                                         f"団体名の固有部分「{_as_written(identity.name, core)}」のローマ字表記"))
    if core and core not in _GENERIC_CORES:
        for noun in _nouns(identity.name, cities):
            if noun != core and noun not in _GENERIC_CORES and noun not in cities:
                terms.append(PointerTerm(noun, GROUP_NAME, LOW,
                                         f"団体名と共通の語「{_as_written(identity.name, noun)}」"))
    elif core in _GENERIC_CORES and len(core) >= 3 and core not in GENERIC_TERMS:
        terms.append(PointerTerm(core, GROUP_NAME, LOW, f"団体名と共通の語「{_as_written(identity.name, core)}」"))
    for alias in identity.aliases:
        for term in group_name_terms(alias):
            terms.append(PointerTerm(term.folded, GROUP_NAME, HIGH, "団体の通称・略称"))
        alias_core = name_core(alias, cities)
        if len(alias_core) >= 3 and alias_core not in _GENERIC_CORES:
            terms.append(PointerTerm(alias_core, GROUP_NAME, HIGH, "団体の通称・略称"))
        elif len(fold(alias)) >= 2 and fold(alias) not in GENERIC_TERMS:
            terms.append(PointerTerm(fold(alias), GROUP_NAME, HIGH, "団体の通称・略称"))
    return terms


def place_terms(identity: GroupIdentity, towns: list[str], cities: list[str]) -> list[PointerTerm]:
    """The bases (sure) and the place names they share with their
    surroundings (pointers)."""
    terms: list[PointerTerm] = []
    stems: dict[str, str] = {}
    for base in identity.bases:
        folded = fold(base)
        if len(folded) < 2:
            continue
        terms.append(PointerTerm(folded, PLACE, HIGH, "団体の活動拠点（施設名）"))
        for city in cities:  # 'みなと市立中央図書館' is also written '中央図書館'
            for prefix in (city + "市立", city + "市", city):
                if folded.startswith(prefix) and len(folded) - len(prefix) >= 3:
                    terms.append(PointerTerm(folded[len(prefix):], PLACE, HIGH, "団体の活動拠点（施設名）"))
                    break
        stem = place_stem(folded)
        for city in cities:
            stem = stem.removeprefix(city + "市立").removeprefix(city + "市")
        if stem:
            stems.setdefault(stem, f"活動拠点「{base}」")
    for town in towns:
        stem = place_stem(town)
        stem = stem if len(stem) >= 2 else town  # 本町 stays 本町, not 本
        stems.setdefault(stem, f"所在地の町名「{town}」")
    for stem, where in stems.items():
        if len(stem) >= 2 and stem not in GENERIC_TERMS and stem not in cities:
            terms.append(PointerTerm(stem, PLACE, LOW, f"団体の{where}と同じ地名"))
    return terms


def person_terms(people: list[str]) -> list[PointerTerm]:
    """People in the other order, with or without a title, and in their reading."""
    terms: list[PointerTerm] = []
    for person in people:
        name = unicodedata.normalize("NFKC", person or "").strip()
        readings = [m.group(1) for m in _BRACKETS_RE.finditer(name)]
        for written in [_BRACKETS_RE.sub("", name).strip(), *readings]:
            parts = [p for p in re.split(r"[\s・]+", written) if p]
            if len(parts) != 2:
                continue
            family, given = fold(parts[0]), fold(parts[1])
            if len(family + given) >= 3:
                terms.append(PointerTerm(given + family, PERSON, HIGH, "役員・連絡先の氏名（姓名の順が逆）"))
            if len(family) >= 2:
                for title in _TITLES:
                    terms.append(PointerTerm(family + fold(title), PERSON, HIGH, "役員・連絡先の姓と敬称・役職"))
            if given:  # 誠さん: even one character names someone with an honorific
                for title in _GIVEN_TITLES:
                    terms.append(PointerTerm(given + fold(title), PERSON, HIGH, "役員・連絡先の名と敬称"))
            if len(given) >= 2:
                terms.append(PointerTerm(given, PERSON, LOW, "役員・連絡先の名"))
        for term in person_name_terms(name):
            if term.source == "person" and len(term.folded) >= 3:
                terms.append(PointerTerm(term.folded, PERSON, HIGH, "役員・連絡先の氏名"))
    return terms
