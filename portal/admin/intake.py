"""Placeholder: replaced by the module's real routes."""
from __future__ import annotations

from ..errors import refuse
from . import bp


@bp.route("/calls/<int:call_id>/intake")
def intake_list(call_id: int):
    refuse(404, "準備中です。")
