"""Finding what identifies an applicant group in text that reviewers will see.

find_identifiers() proposes findings, staff confirm or dismiss each one, and
apply_redactions() replaces the confirmed ones with a neutral mark. Two kinds
of search run over every field:

* the group's own identity (name and its variants, people, address, postal
  code, phone, website, staff's extra terms), matched in the folded form of
  identity.py, so 全角/半角, katakana/hiragana and spacing do not matter;
* patterns that identify anyone: e-mail addresses, URLs and bare domains,
  Japanese phone numbers and postal codes (``contact_patterns.py``).

The group's address is read by ``addresses.py``, so that it is found
however it is written.

Offsets are Python string indexes (code points) into the original text.
Pure Python: no Flask, no database.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass

from ..refusals import WrongState
from . import contact_patterns
from .addresses import address_regex, parse_address
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

GROUP_NAME = "group_name"
PERSON = "person"
ADDRESS = "address"
POSTAL_CODE = "postal_code"
PHONE = "phone"
EMAIL = "email"
URL = "url"
EXTRA_TERM = "extra_term"

REPLACEMENTS = {
    GROUP_NAME: "＜団体名＞",
    PERSON: "＜氏名＞",
    ADDRESS: "＜住所＞",
    POSTAL_CODE: "＜郵便番号＞",
    PHONE: "＜電話番号＞",
    EMAIL: "＜メールアドレス＞",
    URL: "＜URL＞",
    EXTRA_TERM: "＜伏字＞",
}
KIND_LABELS = {
    GROUP_NAME: "団体名", PERSON: "氏名", ADDRESS: "住所", POSTAL_CODE: "郵便番号",
    PHONE: "電話番号", EMAIL: "メールアドレス", URL: "URL", EXTRA_TERM: "追加語句",
}
# Ties between overlapping findings (after confidence and length).
_KIND_RANK = {GROUP_NAME: 0, PERSON: 1, EMAIL: 2, URL: 3, PHONE: 4, POSTAL_CODE: 5, ADDRESS: 6, EXTRA_TERM: 7}
_CONFIDENCE_RANK = {HIGH: 1, LOW: 0}


@dataclass
class GroupIdentity:
    """What identifies one applicant group (from 団体概要, 役員名簿 and staff)."""
    name: str = ""
    name_kana: str = ""
    representative_name: str = ""
    contact_name: str = ""
    officer_names: list[str] = dataclasses.field(default_factory=list)
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    emails: list[str] = dataclasses.field(default_factory=list)
    website: str = ""
    extra_terms: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    field: str  # which field (or attachment) of the proposal
    start: int  # offsets in the ORIGINAL text of that field
    end: int
    text: str  # == original[start:end]
    kind: str  # GROUP_NAME, PERSON, ADDRESS, POSTAL_CODE, PHONE, EMAIL, URL, EXTRA_TERM
    replacement: str  # e.g. ＜団体名＞
    confidence: str  # "high" or "low"


class StaleFindingError(WrongState):
    """A finding no longer matches the text it is applied to (the text changed)."""


# --- matching ---------------------------------------------------------------

def _trie_pattern(words: list[str]) -> str:
    """One regex for many words that prefers the longest at each position,
    without trying every word at every position."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alternatives = []
        for ch, child in sorted(node.items()):
            if not ch:
                continue
            chain = re.escape(ch)
            while len(child) == 1 and "" not in child:  # collapse chains: recursion stays shallow
                (ch, child), = child.items()
                chain += re.escape(ch)
            alternatives.append(chain + build(child))
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


# Hosts many groups share: there the path, not the host, identifies a group.
_SHARED_HOSTS = frozenset((
    "facebook.com", "instagram.com", "x.com", "twitter.com", "note.com", "ameblo.jp", "youtube.com",
    "line.me", "hatenablog.com", "blogspot.com", "wixsite.com", "jimdofree.com", "fc2.com", "goo.ne.jp",
    "livedoor.blog", "peraichi.com", "studio.site", "canpan.info", "gmail.com", "yahoo.co.jp",
    "ymail.ne.jp", "outlook.jp", "outlook.com", "hotmail.com", "hotmail.co.jp", "icloud.com", "me.com",
    "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com",
    "biglobe.ne.jp", "ocn.ne.jp", "so-net.ne.jp",
))


def _url_key(url: str) -> str:
    """'https://www.Minato-NPO.org/about/' -> 'minato-npo.org/about'."""
    key = unicodedata.normalize("NFKC", url or "").strip().lower()
    key = re.sub(r"^[a-z]+://", "", key).removeprefix("www.")
    return key.split("?")[0].split("#")[0].rstrip("/")


def _own_url_keys(identity: GroupIdentity) -> list[str]:
    """The group's own web addresses: its website's host (or, on a shared
    platform, host and path) and its own mail domains."""
    keys = []
    website = _url_key(identity.website)
    if website:
        host = website.split("/")[0]
        keys.append(website if host in _SHARED_HOSTS else host)
    for email in identity.emails:
        domain = _url_key(email).rpartition("@")[2]
        if "." in domain and domain not in _SHARED_HOSTS:
            keys.append(domain)
    return [key for key in keys if len(key) >= 4 and "." in key]


class _Matcher:
    """The identity compiled once; then applied to every field."""

    def __init__(self, identity: GroupIdentity, family_names: bool) -> None:
        self.terms: dict[str, tuple[str, str]] = {}  # folded -> (kind, confidence)
        for term in group_name_terms(identity.name, identity.name_kana):
            self._add(term.folded, GROUP_NAME, term.confidence)
        people = [identity.representative_name, identity.contact_name, *identity.officer_names]
        for person in people:
            for term in person_name_terms(person, include_family=family_names):
                self._add(term.folded, PERSON, term.confidence)
        for extra in identity.extra_terms:
            folded = fold(extra or "")
            if len(folded) >= 2:
                self._add(folded, EXTRA_TERM, HIGH)
        for email in identity.emails:  # also when written 'info @ ...' or in 全角
            if len(fold(email or "")) >= 6 and "@" in fold(email):
                self._add(fold(email), EMAIL, HIGH)
        self.own_urls = _own_url_keys(identity)
        for key in self.own_urls:
            self._add(fold(key), URL, HIGH)
        parsed = parse_address(identity.address)
        self.address_re = address_regex(parsed) if parsed else None
        if parsed and parsed.building and not is_generic(parsed.building):
            if len(fold(parsed.building)) >= 3:
                self._add(fold(parsed.building), ADDRESS, LOW)
        self.term_re = (
            re.compile("(?=(" + _trie_pattern(list(self.terms)) + "))") if self.terms else None
        )
        postal = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", identity.postal_code or ""))
        self.postal_re = (
            re.compile(rf"(?<![0-9\-])(?:〒 ?)?{postal[:3]}-?{postal[3:]}(?![0-9])")
            if len(postal) == 7 else None
        )
        phone = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", identity.phone or ""))
        self.phone_re = (
            re.compile(r"(?<![0-9])(?<![0-9]-)" + r"[ \-().]{0,2}".join(phone) + r"(?!-?[0-9])")
            if len(phone) >= 10 else None
        )

    def _add(self, folded: str, kind: str, confidence: str) -> None:
        existing = self.terms.get(folded)
        if existing is None or (existing[1] == LOW and confidence == HIGH):
            self.terms[folded] = (kind, confidence)

    def find(self, field_name: str, text: str) -> list[Finding]:
        raw: list[tuple[int, int, str, str]] = []  # original start, end, kind, confidence
        self._find_terms(text, raw)
        self._find_patterns(text, raw)
        return _merge(field_name, text, raw)

    def _find_terms(self, text: str, raw: list) -> None:
        if self.term_re is None:
            return
        folded, spans = fold_with_map(text)
        for match in self.term_re.finditer(folded):
            term = match.group(1)
            start, end = match.start(), match.start() + len(term)
            if not _ascii_boundaries(folded, start, end):
                continue
            kind, confidence = self.terms[term]
            if kind == GROUP_NAME:  # take 'NPO法人' / '（株）' around the name too
                before = LEGAL_BEFORE_RE.search(folded, max(0, start - 16), start)
                if before:
                    start = before.start()
                after = LEGAL_AFTER_RE.match(folded, end)
                if after:
                    end = after.end()
            raw.append((*original_span(spans, start, end), kind, confidence))

    def _find_patterns(self, text: str, raw: list) -> None:
        folded, spans = fold_with_map(text, keep_layout=True)

        def add(start: int, end: int, kind: str, confidence: str) -> None:
            if end > start:
                raw.append((*original_span(spans, start, end), kind, confidence))

        for m in contact_patterns.EMAIL_RE.finditer(folded):
            add(m.start(), m.end(), EMAIL, HIGH)
        for regex in (contact_patterns.URL_RE, contact_patterns.DOMAIN_RE):
            for m in regex.finditer(folded):
                url = contact_patterns.trim_url(m.group(0))
                add(m.start(), m.start() + len(url), URL, self._url_confidence(url))
        for m in contact_patterns.HANDLE_RE.finditer(folded):
            add(m.start(), m.end(), URL, LOW)
        for m in contact_patterns.PHONE_RE.finditer(folded):
            confidence = contact_patterns.phone_confidence(m.group(1), m.group(2))
            if confidence:  # '（025-226-1234）': that '(' opens the text's own bracket
                unclosed = m.group(1) == "(0" and ")" not in m.group(2)
                add(m.start() + unclosed, m.end(), PHONE, confidence)
        for m in contact_patterns.POSTAL_MARK_RE.finditer(folded):
            add(m.start(), m.end(), POSTAL_CODE, HIGH)
        for regex in (contact_patterns.POSTAL_LABEL_RE, contact_patterns.POSTAL_BEFORE_ADDRESS_RE):
            for m in regex.finditer(folded):
                add(m.start(1), m.end(1), POSTAL_CODE, HIGH)
        for regex, kind in ((self.postal_re, POSTAL_CODE), (self.phone_re, PHONE), (self.address_re, ADDRESS)):
            if regex is not None:
                for m in regex.finditer(folded):
                    add(m.start(), m.end(), kind, HIGH)

    def _url_confidence(self, url: str) -> str:
        key = _url_key(url)
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


def _merge(field_name: str, text: str, raw: list[tuple[int, int, str, str]]) -> list[Finding]:
    """Overlapping findings become one over their union, named after the
    strongest: high confidence first, then the longest, then _KIND_RANK.
    Redacting the union is the safe side: both parts identified someone."""
    findings: list[Finding] = []
    raw.sort(key=lambda r: (r[0], -r[1]))
    cluster: list[tuple[int, int, str, str]] = []
    cluster_end = -1

    def flush() -> None:
        if not cluster:
            return
        best = max(cluster, key=lambda r: (_CONFIDENCE_RANK[r[3]], r[1] - r[0], -_KIND_RANK[r[2]]))
        start = min(r[0] for r in cluster)
        end = max(r[1] for r in cluster)
        findings.append(Finding(field_name, start, end, text[start:end], best[2],
                                REPLACEMENTS[best[2]], best[3]))

    for item in raw:
        if cluster and item[0] < cluster_end:
            cluster.append(item)
            cluster_end = max(cluster_end, item[1])
        else:
            flush()
            cluster = [item]
            cluster_end = item[1]
    flush()
    return findings


def find_identifiers(
    fields: dict[str, str], identity: GroupIdentity, *, family_names: bool = True
) -> list[Finding]:
    """Everything in `fields` that may identify the group, sorted by (field, start).

    `fields` maps a field key (or an attachment key such as 'file:12') to its
    text. Family names alone are reported at low confidence; pass
    family_names=False to leave them out.
    """
    matcher = _Matcher(identity, family_names)
    findings: list[Finding] = []
    for field_name, text in fields.items():
        if text:
            findings.extend(matcher.find(field_name, text))
    findings.sort(key=lambda f: (f.field, f.start))
    return findings


def apply_redactions(text: str, findings: list[Finding]) -> str:
    """`text` with each finding replaced by its mark. Pass only the confirmed
    findings of this one field. Overlapping findings are replaced as one.
    Raises StaleFindingError if a finding does not match the text."""
    spans: list[tuple[int, int, str]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if not (0 <= f.start < f.end <= len(text)) or text[f.start:f.end] != f.text:
            raise StaleFindingError(f"{f.field}: {f.start}-{f.end} no longer reads {f.text!r}")
        if spans and f.start < spans[-1][1]:
            start, end, mark = spans[-1]
            spans[-1] = (start, max(end, f.end), mark)
        else:
            spans.append((f.start, f.end, f.replacement))
    out = []
    for start, end, mark in reversed(spans):  # from the end, so offsets stay valid
        out.append(text[end:])
        out.append(mark)
        text = text[:start]
    out.append(text)
    return "".join(reversed(out))


def redact_fields(fields: dict[str, str], findings: list[Finding]) -> dict[str, str]:
    """Every field with its confirmed findings applied."""
    by_field: dict[str, list[Finding]] = {}
    for f in findings:
        by_field.setdefault(f.field, []).append(f)
    return {key: apply_redactions(text, by_field.get(key, [])) for key, text in fields.items()}
