"""Response headers and safe redirects."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def init_security(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if app.config.get("HSTS"):
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint != "static":
            # Pages, autosave answers and receipt PDFs hold personal data:
            # no copies in shared or disk caches. send_file's default
            # "no-cache" still stores; a route that chose max-age keeps it.
            current = headers.get("Cache-Control", "")
            if not current or current == "no-cache":
                headers["Cache-Control"] = "no-store"
        return response


def is_safe_local_path(target: str | None) -> bool:
    """Only same-site paths like '/proposals/3'. Rejects '//evil', '/\\evil',
    'https://…', 'javascript:' and anything with a scheme or host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str) -> str:
    return target if is_safe_local_path(target) else default
