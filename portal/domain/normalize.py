"""Normalising what people type: 全角/半角, postal codes, phone numbers."""
from __future__ import annotations

import re
import unicodedata

_DIGITS_AND_DASHES = str.maketrans(
    "０１２３４５６７８９－ー―‐−‑–—",
    "0123456789--------",
)


def normalize_text(value: str | None) -> str:
    """NFC, unify newlines, strip trailing blanks. Keeps 全角 kana and kanji as typed."""
    if value is None:
        return ""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\x00", "")
    return value.strip()


def char_count(value: str) -> int:
    """Characters as the counter in the browser counts them (code points, \\n = 1)."""
    return len(normalize_text(value))


def ascii_digits(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").translate(_DIGITS_AND_DASHES).strip()


POSTAL_RE = re.compile(r"^(\d{3})-?(\d{4})$")


def normalize_postal_code(value: str) -> str | None:
    """'１２３ー４５６７', '1234567', '〒123-4567' -> '123-4567'; None if invalid."""
    cleaned = ascii_digits(value).replace("〒", "").replace(" ", "")
    match = POSTAL_RE.match(cleaned)
    if not match:
        return None
    return f"{match.group(1)}-{match.group(2)}"


PHONE_RE = re.compile(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$")


def normalize_phone(value: str) -> str | None:
    """Japanese phone numbers, 10 or 11 digits starting with 0; keeps the
    caller's hyphens (they carry the area-code split)."""
    cleaned = ascii_digits(value).replace(" ", "").replace("(", "-").replace(")", "-").strip("-")
    cleaned = re.sub("-+", "-", cleaned)
    digits = cleaned.replace("-", "")
    if not digits.isdigit() or len(digits) not in (10, 11) or not PHONE_RE.match(cleaned):
        return None
    return cleaned


def normalize_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


_KANA_RE = re.compile(r"^[\u3041-\u3096\u30A1-\u30FAー・\s　A-Za-z0-9０-９]+$")


def is_furigana(value: str) -> bool:
    return bool(_KANA_RE.match(value))


def parse_yen(value: str | int | None) -> int | None:
    """'１２，０００円' -> 12000; None if not a whole non-negative amount."""
    if value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    cleaned = ascii_digits(value).replace(",", "").replace("，", "").replace("円", "").replace("¥", "").strip()
    if not cleaned:
        return None
    if not cleaned.isdigit() or len(cleaned) > 12:
        return None
    return int(cleaned)
