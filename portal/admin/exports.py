"""The secretariat's export of the score sheets and the ranking for the
審査会, before publication: ``.xlsx`` (one worksheet per stage and the
ranking) and CSV. Staff only (the blueprint's rule); the files carry
pseudonyms and anonymous codes, never a group's name. The content is
``domain/results/score_export.py``."""
from __future__ import annotations

from flask import Response

from ..db import db_session
from ..domain.results import score_export
from ..domain.timeutil import now_utc, to_jst
from ..policy import load_staff_call
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, mimetype: str, call, name: str, suffix: str) -> Response:
    stamp = f"{to_jst(now_utc()):%Y%m%d-%H%M}"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{call.slug}-{name}-{stamp}.{suffix}"'
    # Scores before publication: never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/calls/<int:call_id>/exports/scores.xlsx")
def export_scores_xlsx(call_id: int):
    call = load_staff_call(call_id)
    export = score_export.build(db_session, call)
    return _download(score_export.xlsx_bytes(export), XLSX, call, "scores", "xlsx")


@bp.get("/calls/<int:call_id>/exports/sheets.csv")
def export_sheets_csv(call_id: int):
    call = load_staff_call(call_id)
    export = score_export.build(db_session, call)
    return _download(score_export.sheets_csv(export), "text/csv; charset=utf-8", call, "sheets", "csv")


@bp.get("/calls/<int:call_id>/exports/ranking.csv")
def export_ranking_csv(call_id: int):
    call = load_staff_call(call_id)
    export = score_export.build(db_session, call)
    return _download(score_export.ranking_csv(export), "text/csv; charset=utf-8", call, "ranking", "csv")
