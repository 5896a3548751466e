"""The text layer of a PDF, for the anonymisation scan.

poppler's ``pdftotext`` (reading from stdin, so no file name reaches it)
when it is installed, else pypdf when that is. Neither: None, and the
attachment is treated like an image (staff look at it or leave it out).
Images have no text; a scanned PDF may have none either.
"""
from __future__ import annotations

import io
import logging
import shutil
import subprocess
import unicodedata

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
MAX_CHARS = 200_000  # a proposal attachment; more than this is not prose to scan by hand anyway


def _normalise(text: str) -> str:
    # Page breaks become blank lines; the same text always hashes the same.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")[:MAX_CHARS]


def _pdftotext(data: bytes) -> str | None:
    binary = shutil.which("pdftotext")
    if binary is None:
        return None
    try:
        result = subprocess.run([binary, "-layout", "-enc", "UTF-8", "-q", "-", "-"], input=data,
                                capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        log.warning("pdftotext failed", exc_info=True)
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode("utf-8", "replace")


def _pypdf(data: bytes) -> str | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\f".join(page.extract_text() or "" for page in reader.pages)
    except Exception:  # a parser failing on a strange file is not a 500
        log.warning("pypdf could not read a PDF", exc_info=True)
        return None


def extract_pdf_text(data: bytes) -> str | None:
    """The PDF's text, normalised; "" when it has none; None when no tool could read it."""
    for extractor in (_pdftotext, _pypdf):
        text = extractor(data)
        if text is not None:
            return _normalise(text)
    return None
