"""The yardstick for results day: a bare Flask app that returns one fixed
page, run under the same gunicorn settings as the portal.

The page is the portal's own published results page, fetched once by the
harness as a browser fetches it (BENCH_FIXED_PAGE names the file; with
BENCH_FIXED_ENCODING=gzip it is the compressed form the portal sends to
browsers that accept gzip), so both servers send the same bytes and the
ratio measures only what the portal does per request.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
_PAGE = Path(os.environ["BENCH_FIXED_PAGE"]).read_bytes()
_ENCODING = os.environ.get("BENCH_FIXED_ENCODING", "")


@app.get("/fixed")
def fixed() -> Response:
    response = Response(_PAGE, mimetype="text/html")
    if _ENCODING:
        response.headers["Content-Encoding"] = _ENCODING
    return response
