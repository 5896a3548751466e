from __future__ import annotations

import hashlib
import os
import stat

from functools import lru_cache

from flask import Flask, request
from markupsafe import Markup, escape
from werkzeug.security import safe_join

from .phrase_templates import PDF_PHRASE_MAX_CHARS, PhraseBreaks
from .domain.timeutil import fiscal_year_label, format_jst, now_utc, wareki_date

# A static file whose URL carries its content hash never changes at that URL;
# one without (an old bookmark, a hand-written link) may change on the next
# deploy, so browsers and proxies keep it only briefly.
STATIC_IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_UNVERSIONED = "public, max-age=300"
# A version that is not this file's (a page rendered by another release
# during a rolling deploy, or a made-up one): serve the file, but make every
# cache ask again, so the URL can never be pinned to the wrong bytes.
STATIC_STALE_VERSION = "no-cache"
STATIC_VERSION_LENGTH = 12


class StaticVersions:
    """Short content hashes of the files under ``static/``, for URLs that
    change when a file does (``/static/css/app.css?v=3f2a9c0b1d4e``).

    Each hash is computed once and kept with the file's size and mtime; a
    stat per lookup notices an edited file (development, a deploy without a
    restart) and hashes it again. Plain dict writes: two threads racing on a
    new file compute the same value twice, which is harmless.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = os.fspath(folder)
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def version(self, filename: str) -> str | None:
        """The file's short hash, or None for a name outside the folder or
        a file that does not exist."""
        path = safe_join(self.folder, filename) if filename else None
        if path is None:
            return None
        try:
            found = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(found.st_mode):
            return None
        signature = (found.st_mtime_ns, found.st_size)
        known = self._known.get(filename)
        if known is not None and known[0] == signature:
            return known[1]
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:STATIC_VERSION_LENGTH]
        self._known[filename] = (signature, digest)
        return digest


def init_static_versions(app: Flask) -> StaticVersions:
    """Every ``url_for('static', filename=...)`` -- templates, macros, code --
    gets ``v=<hash>`` added here, so no template can forget it; responses to
    versioned URLs are marked immutable."""
    versions = StaticVersions(app.static_folder)
    app.extensions["static_versions"] = versions

    @app.url_defaults
    def version_static_urls(endpoint, values):
        if endpoint == "static" and "v" not in values:
            version = versions.version(values.get("filename") or "")
            if version:
                values["v"] = version

    @app.after_request
    def static_cache_headers(response):
        if request.endpoint != "static" or response.status_code >= 400:
            return response
        requested = request.args.get("v")
        filename = (request.view_args or {}).get("filename") or ""
        if requested is None:
            policy = STATIC_UNVERSIONED
        elif requested == versions.version(filename):
            policy = STATIC_IMMUTABLE
        else:
            policy = STATIC_STALE_VERSION
        response.headers["Cache-Control"] = policy
        response.headers.pop("Expires", None)
        return response

    return versions


def yen(value) -> str:
    if value is None or value == "":
        return ""
    return f"{int(value):,}円"


def plain_number(value) -> str:
    """Decimal('1.50') -> '1.5', Decimal('2.00') -> '2'."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# Longer texts are left to the browser: phrase breaks matter most in
# headings, table cells and short notices, and parsing costs time per call.
PHRASE_TEXT_LIMIT = 400


@lru_cache(maxsize=1)
def _phrase_parser():
    import budoux  # BudouX: Japanese phrase boundaries, from a model shipped in the package

    return budoux.load_default_japanese_parser()


def phrase_breaks(value, separator: str = "<wbr>") -> Markup:
    """Japanese text with a break opportunity between phrases only
    (「内容を<wbr>ご確認ください」), for an element styled
    ``word-break: keep-all; overflow-wrap: anywhere`` (class ``phrases``), so
    a line never ends inside 「くださ/い」. Text already marked safe is
    returned as it is: its tags cannot be split safely."""
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    text = str(value)
    if not text or len(text) > PHRASE_TEXT_LIMIT:
        return escape(text)
    chunks = _phrase_parser().parse(text)
    return Markup(separator).join(escape(chunk) for chunk in chunks)


def pdf_phrase_breaks(value) -> Markup:
    """The same for WeasyPrint, which ignores ``word-break: keep-all`` in
    Japanese: each phrase is an inline block (class ``ph`` in pdf.css) that
    a line does not break inside unless the phrase alone is wider than it."""
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    text = str(value)
    if not text or len(text) > PHRASE_TEXT_LIMIT:
        return escape(text)
    # A long chunk (a URL, a run of symbols or Latin text) stays breakable:
    # as one inline block wider than the line it would run off the page.
    return Markup("").join(Markup('<span class="ph">%s</span>') % chunk if len(chunk) <= PDF_PHRASE_MAX_CHARS
                           else escape(chunk) for chunk in _phrase_parser().parse(text))


def init_templating(app: Flask) -> None:
    app.jinja_env.add_extension(PhraseBreaks)
    app.jinja_env.filters["phrases"] = phrase_breaks
    app.jinja_env.filters["pdf_phrases"] = pdf_phrase_breaks
    app.jinja_env.filters["jst"] = format_jst
    app.jinja_env.filters["wareki"] = wareki_date
    app.jinja_env.filters["fiscal_year"] = fiscal_year_label
    app.jinja_env.filters["yen"] = yen
    app.jinja_env.filters["plain_number"] = plain_number
    init_static_versions(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from . import policy

    @app.context_processor
    def portal_globals():
        return {"city_name": app.config["CITY_NAME"], "now_utc": now_utc, "policy": policy}
