"""Names as people write them: one comparison form ("fold"), and the variants
of a group's or a person's name that anonymisation and the conflict check
look for.

Pure Python, no Flask and no database: shared by anonymise.py and conflicts.py.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .romaji import spellings

Span = tuple[int, int]

HIGH = "high"
LOW = "low"

# Minimum length (in folded characters) of any name variant we search for:
# two characters match everywhere in Japanese prose.
MIN_VARIANT = 3
# Derived short forms ("みなと見守り" from "みなと見守りの会") must be longer:
# a three-character stem is often just the place name everyone shares.
MIN_SHORT = 4
# A name in Latin letters (romaji.py) needs more letters than kana to be a
# name and not a word or a place: "minato" alone is the ward everyone shares.
ROMAJI_MIN = 8
ROMAJI_MIN_SHORT = 9
ROMAJI_HIGH = 12
ROMAJI_MIN_FAMILY = 6
_KANA_ONLY_RE = re.compile(r"[ぁ-ゖー]+")

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_DOTS = frozenset("\u30fb\u00b7\u2022\u2027\u22c5")  # ・ · • ‧ ⋅ (･ is ・ after NFKC)
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")
_CHOON = "\u30fc"  # ー (ｰ is ー after NFKC)
# Marks that belong to the character before them; a cluster is folded as one.
_VOICING = frozenset("\uff9e\uff9f\u3099\u309a")

# 異体字 that people and forms use interchangeably in names and place names.
_KANJI_VARIANTS = {
    "髙": "高", "﨑": "崎", "嵜": "崎", "㟢": "崎", "齋": "斎", "齊": "斉", "邊": "辺", "邉": "辺",
    "濵": "浜", "濱": "浜", "澤": "沢", "櫻": "桜", "廣": "広", "國": "国", "會": "会", "團": "団",
    "德": "徳", "槇": "槙", "﨔": "欅", "冨": "富", "峯": "峰", "嶋": "島", "嶌": "島",
    "籠": "篭", "龍": "竜", "藏": "蔵", "眞": "真", "惠": "恵", "榮": "栄", "顯": "顕",
}


def _fold_char(ch: str) -> str:
    """One character after NFKC, lower case, katakana -> hiragana, 異体字."""
    out = []
    for c in ch:
        code = ord(c)
        if 0x30A1 <= code <= 0x30F4:  # ァ..ヴ
            c = chr(code - 0x60)
        elif c in "ヵゕ":
            c = "か"
        elif c in "ヶゖ":  # 霞ヶ関 / 霞ケ関: both fold to け
            c = "け"
        elif c in "ヽヾ":
            c = chr(code - 0x60)
        else:
            c = _KANJI_VARIANTS.get(c, c)
        out.append(c)
    return "".join(out)


_PIECE_CACHE: dict[str, str] = {}


def _fold_piece(cluster: str) -> str:
    folded = _PIECE_CACHE.get(cluster)
    if folded is None:
        folded = _fold_char(unicodedata.normalize("NFKC", cluster).lower())
        if len(_PIECE_CACHE) < 20000:
            _PIECE_CACHE[cluster] = folded
    return folded


def fold_with_map(text: str, *, keep_layout: bool = False) -> tuple[str, list[Span]]:
    """The comparison form of `text` and, for each of its characters, the span
    of the original characters it came from.

    Default (names): NFKC (全角英数 -> 半角, 半角カナ -> 全角), lower case,
    katakana -> hiragana, common 異体字 unified; spaces (also 全角スペース and
    newlines), middle dots, hyphens/dashes and zero-width characters removed;
    ー after a digit is a dash and removed too.

    keep_layout=True (phone numbers, addresses, URLs): the same, but every
    whitespace character becomes one " ", every dash (and ー after a digit)
    becomes "-", and middle dots stay.

    A folded substring [a, b) came from text[spans[a][0]:spans[b - 1][1]]
    (see original_span).
    """
    out: list[str] = []
    spans: list[Span] = []
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        ch = text[i]
        if ch.isascii():
            piece = ch.lower()
        else:
            while j < n and (text[j] in _VOICING or unicodedata.combining(text[j])):
                j += 1
            piece = _fold_piece(text[i:j])
        for c in piece:
            if c.isspace():
                if keep_layout:
                    out.append(" ")
                    spans.append((i, j))
                continue
            if c in _ZERO_WIDTH:
                continue
            if c in _DASHES or (c == _CHOON and out and out[-1].isdigit() and out[-1].isascii()):
                if keep_layout:
                    out.append("-")
                    spans.append((i, j))
                continue
            if c in _DOTS and not keep_layout:
                continue
            out.append(c)
            spans.append((i, j))
        i = j
    return "".join(out), spans


def fold(text: str) -> str:
    """The comparison form of a name (see fold_with_map)."""
    return fold_with_map(text)[0]


def original_span(spans: list[Span], start: int, end: int) -> Span:
    """The span in the original text of the folded substring [start, end)."""
    return spans[start][0], spans[end - 1][1]


# --- 法人格 ----------------------------------------------------------------

@dataclass(frozen=True)
class LegalForm:
    full: str
    kana: str
    abbreviations: tuple[str, ...] = ()

    @property
    def writings(self) -> tuple[str, ...]:
        return (self.full, *self.abbreviations)


LEGAL_FORMS: tuple[LegalForm, ...] = (
    LegalForm("特定非営利活動法人", "とくていひえいりかつどうほうじん", ("NPO法人", "(特非)")),
    LegalForm("一般社団法人", "いっぱんしゃだんほうじん", ("(一社)",)),
    LegalForm("公益社団法人", "こうえきしゃだんほうじん", ("(公社)",)),
    LegalForm("一般財団法人", "いっぱんざいだんほうじん", ("(一財)",)),
    LegalForm("公益財団法人", "こうえきざいだんほうじん", ("(公財)",)),
    LegalForm("社会福祉法人", "しゃかいふくしほうじん", ("(福)", "(社福)")),
    LegalForm("株式会社", "かぶしきがいしゃ", ("(株)",)),
    LegalForm("有限会社", "ゆうげんがいしゃ", ("(有)",)),
    LegalForm("合同会社", "ごうどうがいしゃ", ("(同)",)),
    LegalForm("合資会社", "ごうしがいしゃ", ("(資)",)),
    LegalForm("合名会社", "ごうめいがいしゃ", ("(名)",)),
    LegalForm("医療法人", "いりょうほうじん", ("(医)",)),
    LegalForm("学校法人", "がっこうほうじん", ("(学)",)),
    LegalForm("社団法人", "しゃだんほうじん", ("(社)",)),
    LegalForm("財団法人", "ざいだんほうじん", ("(財)",)),
)

_FOLDED_FORMS = sorted(
    {fold(w) for form in LEGAL_FORMS for w in form.writings} | {"株式会社", "有限会社"},
    key=len, reverse=True,
)
_FORM_ALT = "|".join(re.escape(w) for w in _FOLDED_FORMS)
_KANA_FORM_ALT = "|".join(re.escape(f.kana) for f in LEGAL_FORMS) + "|かぶしきかいしゃ|えぬぴーおーほうじん"
# On folded text: a legal form (optionally 認定) right before or after a name.
LEGAL_BEFORE_RE = re.compile(rf"(?:認定)?(?:{_FORM_ALT})\Z")
LEGAL_AFTER_RE = re.compile(rf"(?:{_FORM_ALT})")
_LEGAL_PREFIX_RE = re.compile(rf"^(?:認定)?(?:{_FORM_ALT})")
_LEGAL_SUFFIX_RE = re.compile(rf"(?:{_FORM_ALT})$")
_KANA_LEGAL_RE = re.compile(rf"^(?:にんてい)?(?:{_KANA_FORM_ALT})|(?:{_KANA_FORM_ALT})$")


def split_legal_form(name: str) -> tuple[str, LegalForm | None]:
    """'ＮＰＯ法人　みなと見守りの会' -> ('みなと見守りの会', <特定非営利活動法人>).
    The name is returned NFKC-normalised and stripped; the form may be a
    prefix or a suffix ('ABC株式会社')."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    folded, spans = fold_with_map(text)
    found: LegalForm | None = None
    start, end = 0, len(text)
    match = _LEGAL_PREFIX_RE.match(folded)
    if match and match.end() < len(folded):
        start = spans[match.end()][0]
        found = _form_for(match.group(0))
    match = _LEGAL_SUFFIX_RE.search(folded)
    if match and match.start() > 0 and spans[match.start()][0] >= start:
        end = spans[match.start()][0]
        found = found or _form_for(match.group(0))
    core = text[start:end].strip(" \u3000・")
    return (core, found) if fold(core) else (text, None)


def _form_for(folded_writing: str) -> LegalForm | None:
    folded_writing = folded_writing.removeprefix("認定")
    for form in LEGAL_FORMS:
        if any(fold(w) == folded_writing for w in form.writings):
            return form
    return None


def strip_legal_form(name: str) -> str:
    return split_legal_form(name)[0]


# --- generic words ---------------------------------------------------------

GENERIC_TERMS = frozenset(fold(word) for word in (
    "自治会", "町内会", "町会", "区会", "協議会", "ボランティア", "ボランティア団体", "ボランティアグループ",
    "子ども会", "子供会", "こども会", "老人クラブ", "シニアクラブ", "婦人会", "女性会", "青年団", "青年会",
    "商店会", "商店街", "商店街振興組合", "商工会", "商工会議所", "実行委員会", "委員会", "運営委員会",
    "地域", "市民", "住民", "まちづくり", "まちづくり協議会", "地区社会福祉協議会", "社会福祉協議会", "社協",
    "子ども食堂", "こども食堂", "子供食堂", "見守り", "見守り隊", "防犯パトロール", "サロン", "地域の茶の間",
    "茶の間", "地域包括支援センター", "公民館", "コミュニティ", "コミュニティセンター", "NPO", "NPO法人",
    "団体", "市民団体", "任意団体", "事務局", "保護者会", "PTA", "育成会", "交流会", "勉強会", "研究会",
    "サークル", "クラブ", "ネットワーク", "プロジェクト", "振興会", "体育協会", "スポーツ少年団", "消防団",
    "自主防災会", "自主防災組織", "民生委員", "児童委員", "民生委員児童委員協議会", "友の会", "子育てサロン",
    "子育て支援", "居場所", "学習支援", "フードバンク", "フードドライブ", "市民活動センター", "ボランティアセンター",
    "地域の会", "親の会", "家族会", "連合会", "連絡会", "協会", "センター", "グループ",
))
# A bare place name ("みなと市", "中央町") is shared by every applicant.
_PLACE_ONLY_RE = re.compile(r"^.{1,6}[都道府県市区町村郡]$")


def is_generic(text: str) -> bool:
    folded = fold(text)
    return folded in GENERIC_TERMS or bool(_PLACE_ONLY_RE.match(folded))


# --- group names -----------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """One way of writing a name that we search for."""
    text: str
    folded: str
    confidence: str  # HIGH or LOW
    source: str  # name, legal, alias, kana, short, person, family


# Trailing words a group drops in running text, with their readings.
_SHORTENABLE = (
    ("実行委員会", "じっこういいんかい"), ("委員会", "いいんかい"), ("協議会", "きょうぎかい"),
    ("連絡会", "れんらくかい"), ("研究会", "けんきゅうかい"), ("連合会", "れんごうかい"),
    ("推進会議", "すいしんかいぎ"), ("の会", "のかい"), ("会", "かい"), ("協会", "きょうかい"),
    ("ネットワーク", ""), ("ネット", ""), ("クラブ", ""), ("倶楽部", "くらぶ"), ("プロジェクト", ""),
    ("サークル", ""), ("グループ", ""), ("センター", ""), ("隊", "たい"), ("団", "だん"),
)
_SHORTENABLE_FOLDED = sorted(
    ((fold(s), fold(r or s)) for s, r in _SHORTENABLE), key=lambda pair: len(pair[0]), reverse=True
)
_GENERIC_KAI = tuple(g for g in GENERIC_TERMS if g.endswith("会") and len(g) >= 3)
_BRACKETS_RE = re.compile(r"[(（「『【\[]([^)）」』】\]]+)[)）」』】\]]")


def _usable(folded: str, minimum: int = MIN_VARIANT) -> bool:
    return len(folded) >= minimum and folded not in GENERIC_TERMS and not _PLACE_ONLY_RE.match(folded)


def group_name_terms(name: str, kana: str = "") -> list[Term]:
    """Every way of writing the group's name we look for, most specific first."""
    terms: dict[str, Term] = {}

    def add(text: str, confidence: str, source: str, minimum: int = MIN_VARIANT) -> None:
        folded = fold(text)
        if folded and folded not in terms and _usable(folded, minimum):
            terms[folded] = Term(text, folded, confidence, source)

    full, form = split_legal_form(name)
    aliases = [m.group(1).strip() for m in _BRACKETS_RE.finditer(full)]
    core = _BRACKETS_RE.sub("", full).strip() or full
    add(core, HIGH, "name")
    if form is not None:
        for writing in form.writings:
            add(writing + core, HIGH, "legal")
            add(core + writing, HIGH, "legal")
            if form.full == "特定非営利活動法人":
                add("認定" + writing + core, HIGH, "legal")
    for alias in aliases:  # 'みなと子ども食堂ネットワーク（みなこネット）'
        add(strip_legal_form(alias), HIGH, "alias")

    folded_kana = _KANA_LEGAL_RE.sub("", fold(kana or ""))
    if folded_kana:
        add(folded_kana, HIGH if len(folded_kana) >= 5 else LOW, "kana", minimum=4)

    # Short forms: drop one trailing word, then a dangling の.
    folded_core = fold(core)
    for suffix, reading in _SHORTENABLE_FOLDED:
        if folded_core.endswith(suffix) and len(folded_core) > len(suffix):
            if suffix == "会" and any(folded_core.endswith(g) for g in _GENERIC_KAI):
                break  # 中央地区自治会 -> 中央地区自治 is no name anyone writes
            stem = core[: _cut_index(core, len(folded_core) - len(suffix))]
            stem = stem.rstrip(" \u3000").removesuffix("の")
            add(stem, HIGH if len(fold(stem)) >= 6 else LOW, "short", minimum=MIN_SHORT)
            if folded_kana.endswith(reading) and len(folded_kana) > len(reading):
                kana_stem = folded_kana[: -len(reading)].removesuffix("の")
                add(kana_stem, LOW, "short", minimum=5)
                for spelled in spellings(kana_stem):  # "Minato Mimamori"
                    add(spelled, LOW, "romaji", minimum=ROMAJI_MIN_SHORT)
            break
    if folded_kana:
        for spelled in spellings(folded_kana):  # "Minato Mimamori no Kai", "MINATO-MIMAMORINOKAI"
            add(spelled, HIGH if len(spelled) >= ROMAJI_HIGH else LOW, "romaji", minimum=ROMAJI_MIN)
    return list(terms.values())


def _cut_index(text: str, folded_length: int) -> int:
    """The index in `text` where its first `folded_length` folded characters end."""
    folded, spans = fold_with_map(text)
    return spans[folded_length - 1][1] if folded_length else 0


def name_variants(name: str, kana: str = "") -> set[str]:
    """The group's name with and without its 法人格 (full or abbreviated, before
    or after), its reading, bracketed aliases and safe short forms. Nothing
    shorter than MIN_VARIANT characters and no generic word on its own."""
    return {term.text for term in group_name_terms(name, kana)}


# --- people ----------------------------------------------------------------

_NAME_SPLIT_RE = re.compile(r"[\s\u3000・]+")


def person_name_terms(name: str, *, include_family: bool = False) -> list[Term]:
    """'山田 花子' -> 山田花子 (however spaced); with include_family also 山田
    on its own, at low confidence (family names alone cause false positives)."""
    name = unicodedata.normalize("NFKC", name or "").strip()
    terms: dict[str, Term] = {}
    reading = [m.group(1) for m in _BRACKETS_RE.finditer(name)]
    bare = _BRACKETS_RE.sub("", name).strip()
    for text, source in [(bare, "person"), *((r, "person") for r in reading)]:
        folded = fold(text)
        if len(folded) >= 2 and folded not in terms:
            terms[folded] = Term(text, folded, HIGH if len(folded) >= 3 else LOW, source)
    parts = [p for p in _NAME_SPLIT_RE.split(bare) if p]
    if include_family and len(parts) >= 2:
        family = fold(parts[0])
        if len(family) >= 2 and family not in terms:
            terms[family] = Term(parts[0], family, LOW, "family")
    # In Latin letters, from the reading written with the name ('小林 誠（こばやし まこと）'),
    # in either order: "Kobayashi Makoto", "Makoto Kobayashi".
    for written in reading + ([bare] if fold(bare) and _KANA_ONLY_RE.fullmatch(fold(bare)) else []):
        kana_parts = [fold(p) for p in _NAME_SPLIT_RE.split(written) if fold(p)]
        orders = {"".join(kana_parts), "".join(reversed(kana_parts))}
        for order in sorted(orders):
            for spelled in spellings(order):
                if len(spelled) >= ROMAJI_MIN and spelled not in terms:
                    terms[spelled] = Term(spelled, spelled, HIGH, "romaji")
        if include_family and len(kana_parts) >= 2:  # "Kobayashi-san"
            for spelled in spellings(kana_parts[0]):
                if len(spelled) >= ROMAJI_MIN_FAMILY and spelled not in terms:
                    terms[spelled] = Term(spelled, spelled, LOW, "family")
    return list(terms.values())


def person_variants(name: str, *, include_family: bool = False) -> set[str]:
    """'山田 花子' -> {'山田花子', '山田 花子', '山田\u3000花子'} (+ '山田' if asked)."""
    variants: set[str] = set()
    name = unicodedata.normalize("NFKC", name or "").strip()
    parts = [p for p in _NAME_SPLIT_RE.split(_BRACKETS_RE.sub("", name)) if p]
    if parts:
        variants |= {"".join(parts), " ".join(parts), "\u3000".join(parts)}
    variants |= {t.text for t in person_name_terms(name, include_family=include_family)}
    return {v for v in variants if len(fold(v)) >= 2}
