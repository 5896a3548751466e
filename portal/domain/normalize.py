"""Normalising what people type: 全角/半角, postal codes, phone numbers."""
from __future__ import annotations

import re
import unicodedata

_DIGITS_AND_DASHES = str.maketrans(
    "０１２３４５６７８９－ー―‐−‑–—",
    "0123456789--------",
)


ASCII_DIGITS_RE = re.compile(r"[0-9]+")


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


# ASCII digits only: Python's \d also matches ١٢٣ and other scripts' digits,
# which must not end up in an address.
POSTAL_RE = re.compile(r"([0-9]{3})-?([0-9]{4})")


def normalize_postal_code(value: str) -> str | None:
    """'１２３ー４５６７', '1234567', '〒123-4567' -> '123-4567'; None if invalid."""
    cleaned = ascii_digits(value).replace("〒", "").replace(" ", "")
    match = POSTAL_RE.fullmatch(cleaned)
    if not match:
        return None
    return f"{match.group(1)}-{match.group(2)}"


PHONE_RE = re.compile(r"0[0-9]{1,4}-?[0-9]{1,4}-?[0-9]{3,4}")


def normalize_phone(value: str) -> str | None:
    """Japanese phone numbers, 10 or 11 digits starting with 0; keeps the
    caller's hyphens (they carry the area-code split)."""
    cleaned = ascii_digits(value).replace(" ", "").replace("(", "-").replace(")", "-").strip("-")
    cleaned = re.sub("-+", "-", cleaned)
    digits = cleaned.replace("-", "")
    if not ASCII_DIGITS_RE.fullmatch(digits) or len(digits) not in (10, 11) or not PHONE_RE.fullmatch(cleaned):
        return None
    return cleaned


def normalize_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


_KANA_RE = re.compile(r"^[\u3041-\u3096\u30A1-\u30FAー・\s　A-Za-z0-9０-９]+$")


def is_furigana(value: str) -> bool:
    return bool(_KANA_RE.match(value))


# Amounts are stored in 32-bit integer columns; no proposal comes near 10億円.
MAX_YEN = 999_999_999


def parse_yen(value: str | int | None) -> int | None:
    """'１２，０００円' -> 12000; None if not a whole amount from 0 to MAX_YEN."""
    if value is None:
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_YEN else None
    cleaned = ascii_digits(value).replace(",", "").replace("，", "").replace("円", "").replace("¥", "").strip()
    # str.isdigit() is true for digits int() cannot read (e.g. U+10A40), so match ASCII.
    if not ASCII_DIGITS_RE.fullmatch(cleaned) or len(cleaned) > 12:
        return None
    amount = int(cleaned)
    return amount if amount <= MAX_YEN else None
