"""Placeholder: replaced by the public results and process log pages."""
from __future__ import annotations

from ..errors import refuse
from . import bp


@bp.get("/calls/<slug>/results")
def results(slug: str):
    refuse(404, "準備中です。")


@bp.get("/calls/<slug>/log")
def process_log(slug: str):
    refuse(404, "準備中です。")
