"""One group's identity compiled once, then applied to every field.

Two kinds of search run over every field:

* the group's own identity (name, its core and 通称, people in any order,
  address at every grain, bases and the place names near them, postal code,
  phone and its local part, website, staff's extra terms), matched in the
  folded form of identity.py, so 全角/半角, katakana/hiragana and spacing do
  not matter;
* patterns that identify anyone: e-mail addresses, URLs and bare domains,
  SNS handles and LINE IDs, phone numbers and postal codes, also written in
  漢数字 (numbers.py), and landmarks such as bus stops.

Each hit carries how sure it is and why; a name or place hit then widens
to the proper noun around it (widen.py). Pure Python.
"""
from __future__ import annotations

import re
import unicodedata

from . import contact_patterns
from .addresses import address_regex, parse_address, town_block_regex
from .identity import (
    HIGH,
    LEGAL_AFTER_RE,
    LEGAL_BEFORE_RE,
    LOW,
    fold,
    fold_with_map,
    group_name_terms,
    is_generic,
    original_span,
    person_name_terms,
)
from .kinds import (
    ADDRESS, EMAIL, EXTRA_TERM, GROUP_NAME, PERSON, PHONE, PLACE, POSTAL_CODE, SNS, URL, GroupIdentity,
)
from .numbers import LABELLED_PHONE_RE, digit_view, phone_parts, spaced_digits_regex
from .pointers import city_stems, name_terms, person_terms, place_terms
from .urls import own_url_keys, trie_pattern, url_key
from .widen import widen

Raw = tuple[int, int, str, str, str]  # original start, end, kind, confidence, reason
_WIDENED = frozenset((GROUP_NAME, EXTRA_TERM, PLACE))
_REASONS = {
    EMAIL: "メールアドレス", PHONE: "電話番号", POSTAL_CODE: "郵便番号", ADDRESS: "団体の所在地",
}
# A bus stop, station or crossing names a spot: it may point to the group's base.
_LANDMARK_RE = re.compile(r"[一-龥々ぁ-ゖー0-9]{0,10}?[一-龥々ー0-9]{1,10}(?:前)?(?:ばす停|停留所|交差点|駅前|踏切)")
_LINE_ID_RE = re.compile(
    r"(?:line|らいん)(?: ?id)? ?[:：]? ?(@?[a-z0-9][a-z0-9._\-]{3,19})(?![a-z0-9._\-])")
_SNS_ID_RE = re.compile(
    r"(?:instagram|いんすたぐらむ|いんすた|twitter|x|facebook|ふぇいすぶっく|tiktok|youtube|note|threads)"
    r" ?(?:id|あかうんと|のあかうんと)? ?[:：] ?(@?[a-z0-9][a-z0-9._]{2,29})(?![a-z0-9._])")


class Matcher:
    def __init__(self, identity: GroupIdentity, family_names: bool) -> None:
        self.terms: dict[str, tuple[str, str, str]] = {}  # folded -> (kind, confidence, reason)
        for term in group_name_terms(identity.name, identity.name_kana):
            reason = "団体名" if term.confidence == HIGH else f"団体名の一部・読み「{term.text}」"
            self._add(term.folded, GROUP_NAME, term.confidence, reason)
        people = [identity.representative_name, identity.contact_name, *identity.officer_names]
        for person in people:
            for term in person_name_terms(person, include_family=family_names):
                reason = "代表者・連絡担当者・役員の氏名" if term.confidence == HIGH else f"役員・連絡先の姓「{term.text}」"
                self._add(term.folded, PERSON, term.confidence, reason)
        parsed = parse_address(identity.address)
        cities = city_stems(identity.address)
        towns = sorted(t for t in parsed.towns if len(t) >= 2) if parsed else []  # every spelling (緑ヶ丘, 緑が丘)
        for pointer in (*name_terms(identity, cities), *place_terms(identity, towns, cities),
                        *person_terms(people)):
            self._add(pointer.folded, pointer.kind, pointer.confidence, pointer.reason)
        for extra in identity.extra_terms:
            folded = fold(extra or "")
            if len(folded) >= 2:
                self._add(folded, EXTRA_TERM, HIGH, "事務局が追加した語句")
        for email in identity.emails:  # also when written 'info @ ...' or in 全角
            if len(fold(email or "")) >= 6 and "@" in fold(email):
                self._add(fold(email), EMAIL, HIGH, "団体のメールアドレス")
        self.own_urls = own_url_keys(identity.website, identity.emails)
        for key in self.own_urls:
            self._add(fold(key), URL, HIGH, "団体のウェブサイト・ドメイン")
        self.address_re = address_regex(parsed) if parsed else None
        self.block_re = town_block_regex(parsed) if parsed else None
        if parsed and parsed.building and not is_generic(parsed.building):
            if len(fold(parsed.building)) >= 3:
                self._add(fold(parsed.building), ADDRESS, LOW, "所在地の建物名")
        self.term_re = re.compile("(?=(" + trie_pattern(list(self.terms)) + "))") if self.terms else None
        postal = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", identity.postal_code or ""))
        self.postal_re = (
            re.compile(rf"(?<![0-9\-])(?:〒 ?)?{postal[:3]}[ \-]{{0,2}}{postal[3:]}(?![0-9])")
            if len(postal) == 7 else None
        )
        digits, local = phone_parts(re.sub(r"[^0-9\-() ]", "", unicodedata.normalize("NFKC", identity.phone or "")))
        self.phone_re = spaced_digits_regex(digits) if len(digits) >= 10 else None
        self.local_phone_re = spaced_digits_regex(local) if len(local) >= 6 else None

    def _add(self, folded: str, kind: str, confidence: str, reason: str) -> None:
        existing = self.terms.get(folded)
        if existing is None or (existing[1] == LOW and confidence == HIGH):
            self.terms[folded] = (kind, confidence, reason)

    def find(self, text: str) -> list[Raw]:
        raw: list[Raw] = []
        self._find_terms(text, raw)
        self._find_patterns(text, raw)
        return [self._widened(text, item) for item in raw]

    @staticmethod
    def _widened(text: str, item: Raw) -> Raw:
        if item[2] not in _WIDENED:
            return item
        return (*widen(text, item[0], item[1]), *item[2:])

    def _find_terms(self, text: str, raw: list[Raw]) -> None:
        if self.term_re is None:
            return
        folded, spans = fold_with_map(text)
        for match in self.term_re.finditer(folded):
            term = match.group(1)
            start, end = match.start(), match.start() + len(term)
            if not _ascii_boundaries(folded, start, end):
                continue
            kind, confidence, reason = self.terms[term]
            if kind == GROUP_NAME:  # take 'NPO法人' / '（株）' around the name too
                before = LEGAL_BEFORE_RE.search(folded, max(0, start - 16), start)
                if before:
                    start = before.start()
                after = LEGAL_AFTER_RE.match(folded, end)
                if after:
                    end = after.end()
            raw.append((*original_span(spans, start, end), kind, confidence, reason))

    def _find_patterns(self, text: str, raw: list[Raw]) -> None:
        folded, spans = digit_view(*fold_with_map(text, keep_layout=True))

        def add(start: int, end: int, kind: str, confidence: str, reason: str = "") -> None:
            if end > start:
                raw.append((*original_span(spans, start, end), kind, confidence, reason or _REASONS.get(kind, "")))

        for regex in (contact_patterns.EMAIL_RE, contact_patterns.SPELLED_EMAIL_RE):
            for m in regex.finditer(folded):
                add(m.start(), m.end(), EMAIL, HIGH, "メールアドレス")
        for regex in (contact_patterns.URL_RE, contact_patterns.DOMAIN_RE):
            for m in regex.finditer(folded):
                url = contact_patterns.trim_url(m.group(0))
                confidence = self._url_confidence(url)
                add(m.start(), m.start() + len(url), URL, confidence,
                    "団体のウェブサイト・ドメイン" if confidence == HIGH else "ウェブアドレス（団体のものか確認してください）")
        for m in contact_patterns.HANDLE_RE.finditer(folded):
            add(m.start(), m.end(), SNS, HIGH, "SNSのアカウント名（@…）")
        for regex in (_LINE_ID_RE, _SNS_ID_RE):
            for m in regex.finditer(folded):
                add(m.start(1), m.end(1), SNS, HIGH, "LINE・SNSのID")
        for m in contact_patterns.PHONE_RE.finditer(folded):
            confidence = contact_patterns.phone_confidence(m.group(1), m.group(2))
            if confidence:  # '（025-226-1234）': that '(' opens the text's own bracket
                unclosed = m.group(1) == "(0" and ")" not in m.group(2)
                add(m.start() + unclosed, m.end(), PHONE, confidence)
        for m in LABELLED_PHONE_RE.finditer(folded):
            if 7 <= len(re.sub(r"[^0-9]", "", m.group(1))) <= 11:
                add(m.start(1), m.end(1), PHONE, HIGH, "電話番号（見出しの後の数字）")
        for m in contact_patterns.POSTAL_MARK_RE.finditer(folded):
            add(m.start(), m.end(), POSTAL_CODE, HIGH)
        for regex in (contact_patterns.POSTAL_LABEL_RE, contact_patterns.POSTAL_BEFORE_ADDRESS_RE):
            for m in regex.finditer(folded):
                add(m.start(1), m.end(1), POSTAL_CODE, HIGH)
        for regex, kind, reason in (
            (self.postal_re, POSTAL_CODE, "団体の郵便番号"),
            (self.phone_re, PHONE, "団体の電話番号"),
            (self.local_phone_re, PHONE, "団体の電話番号（市外局番なし）"),
            (self.address_re, ADDRESS, "団体の所在地"),
            (self.block_re, ADDRESS, "団体の所在地（町名と丁目・番地）"),
        ):
            if regex is not None:
                for m in regex.finditer(folded):
                    add(m.start(), m.end(), kind, HIGH, reason)
        for m in _LANDMARK_RE.finditer(folded):
            add(m.start(), m.end(), PLACE, LOW, "場所の目印（バス停・交差点など）：拠点の場所を示すことがあります")

    def _url_confidence(self, url: str) -> str:
        key = url_key(url)
        host = key.split("/")[0]
        for own in self.own_urls:
            if "/" in own:
                if key == own or key.startswith(own + "/"):
                    return HIGH
            elif host == own or host.endswith("." + own):
                return HIGH
        return LOW


def _ascii_boundaries(folded: str, start: int, end: int) -> bool:
    """An ASCII term ('minato', 'abc') must not be part of a longer ASCII word."""
    if folded[start].isascii() and folded[start].isalnum() and start > 0:
        if folded[start - 1].isascii() and folded[start - 1].isalnum():
            return False
    if folded[end - 1].isascii() and folded[end - 1].isalnum() and end < len(folded):
        if folded[end].isascii() and folded[end].isalnum():
            return False
    return True
