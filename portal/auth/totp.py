"""Time-based one-time passwords (RFC 6238 over RFC 4226), standard library only.

SHA-1, 30-second steps, 6 digits: what every authenticator app (Google
Authenticator, Microsoft Authenticator, IIJ SmartKey, ...) assumes from an
otpauth:// URI without further parameters.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import unicodedata
from datetime import datetime
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# One step either side: a phone clock a little off, or a code typed just as it changed.
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits (RFC 4226 recommends the HMAC-SHA-1 output size), base32 without padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def _key(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    """RFC 4226 section 5.3: HMAC, dynamic truncation, modulo 10^digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def step_at(moment: datetime | float) -> int:
    seconds = moment.timestamp() if isinstance(moment, datetime) else moment
    return int(seconds // STEP_SECONDS)


def code_at(secret_b32: str, moment: datetime | float) -> str:
    return hotp(_key(secret_b32), step_at(moment))


def clean_code(value: str | None) -> str:
    """'１２３ ４５６' or '123-456' -> '123456': what people paste from apps."""
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in text if ch not in " -\u3000\t")


def matching_step(secret_b32: str, code: str, moment: datetime | float, last_step: int | None) -> int | None:
    """The time step the code belongs to, or None.

    Steps at or before ``last_step`` never match, so a code (or an older one)
    seen once cannot be replayed within its window.
    """
    code = clean_code(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    try:
        key = _key(secret_b32)
    except (ValueError, TypeError):
        return None
    now_step = step_at(moment)
    found = None
    # Compare every candidate (constant work per call), keep the newest match.
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(key, step), code) and (last_step is None or step > last_step):
            found = step
    return found


def provisioning_uri(secret_b32: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def grouped(secret_b32: str) -> str:
    """'JBSWY3DPEHPK3PXP' -> 'JBSW Y3DP EHPK 3PXP', easier to type by hand."""
    return " ".join(secret_b32[i:i + 4] for i in range(0, len(secret_b32), 4))
