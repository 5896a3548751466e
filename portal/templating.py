from __future__ import annotations

import hashlib
import os
import stat

from flask import Flask, request
from werkzeug.security import safe_join

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


def init_templating(app: Flask) -> None:
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
