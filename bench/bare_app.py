"""The yardstick for results day: a bare Flask app that returns one fixed
page, run under the same gunicorn settings as the portal.

The page is the portal's own published results page, fetched once by the
harness (BENCH_FIXED_PAGE names the file), so both servers send the same
bytes and the ratio measures only what the portal does per request.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

app = Flask(__name__)
_PAGE = Path(os.environ["BENCH_FIXED_PAGE"]).read_bytes()


@app.get("/fixed")
def fixed() -> Response:
    return Response(_PAGE, mimetype="text/html")
