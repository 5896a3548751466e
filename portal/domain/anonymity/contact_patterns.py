"""Patterns that identify anyone, whoever the group: e-mail addresses, URLs
and bare domains, SNS handles, Japanese phone numbers and postal codes.

They run on the ``keep_layout`` fold of identity.py (half-width, lower
case, one space for any whitespace, "-" for any dash); anonymise.py maps
what they match back to the original text. Pure Python.
"""
from __future__ import annotations

import re

from .identity import HIGH, LOW

EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+\-])[a-z0-9._%+\-]+ ?(?:@|\[at\]|\(at\)|<at>|★|☆) ?[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"
)
# 'info at example dot jp', 'info あっと example どっと jp' (folded: katakana as hiragana).
SPELLED_EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+\-])[a-z0-9._%+\-]{2,} ?(?:\(at\)|\[at\]|<at>| at |あっと|@) ?[a-z0-9\-]+"
    r"(?: ?(?:\.|\(dot\)|\[dot\]| dot |どっと) ?[a-z0-9\-]+)*(?: ?(?:\(dot\)|\[dot\]| dot |どっと) ?[a-z]{2,6})"
)
URL_RE = re.compile(r"(?:https?://|www\.)[a-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_TLDS = ("jp|com|net|org|info|biz|io|me|co|tokyo|osaka|nagoya|yokohama|kyoto|okinawa|app|dev|"
         "page|site|online|blog|link|xyz|shop|work|club|love|world|media|asia|fun|jpn")
DOMAIN_RE = re.compile(
    rf"(?<![a-z0-9@._%+\-/])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![a-z0-9\-])"
    r"(?:/[a-z0-9\-._~/?#%=&+]*)?"
)
HANDLE_RE = re.compile(r"(?<![a-z0-9._%+\-])@[a-z0-9_][a-z0-9_.]{1,28}[a-z0-9_](?![a-z0-9_@\-])")
# A run that may be a phone number; phone_confidence() decides.
PHONE_RE = re.compile(
    r"(?<![0-9.,+/\-])"
    r"(\+81[ \-]?(?:\(0\)[ \-]?)?|\(0|0)"
    r"([0-9]{1,4}(?:(?:[ \-.・]|\)[ \-]?|[ \-]?\()?[0-9]{1,4}){1,3})"
    r"(?![0-9])(?!-[0-9])"
)
_DIGIT_RUN_RE = re.compile(r"[0-9]+")
POSTAL_MARK_RE = re.compile(r"〒 ?[0-9]{3}-?[0-9]{4}(?![0-9])")
POSTAL_LABEL_RE = re.compile(r"郵便番号 ?:? ?([0-9]{3}-?[0-9]{4})(?![0-9])")
POSTAL_BEFORE_ADDRESS_RE = re.compile(
    r"(?<![0-9\-])([0-9]{3}-[0-9]{4})(?![0-9\-])(?= {0,2}[^ 0-9]{1,12}?[都道府県市区町村郡])"
)


def phone_confidence(lead: str, body: str) -> str | None:
    groups = _DIGIT_RUN_RE.findall(body)
    first = "0" + groups[0]
    digits = first + "".join(groups[1:])
    if len(digits) not in (10, 11) or digits[1] == "0":
        return None
    if len(digits) == 11 and not (digits[1] in "23456789" and digits[2] == "0"):
        return None  # 11 digits: 050, 070, 080, 090, 0800 ...
    if len(groups) == 1:
        return LOW  # a bare run of digits may also be a document number
    if len(groups) > 3 or not 2 <= len(first) <= 5 or len(groups[-1]) < 3:
        return None
    return HIGH


def trim_url(text: str) -> str:
    while text and (text[-1] in ".,;:!?'" or (text[-1] == ")" and text.count("(") < text.count(")"))
                    or (text[-1] == "]" and text.count("[") < text.count("]"))):
        text = text[:-1]
    return text
