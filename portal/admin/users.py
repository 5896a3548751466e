"""Placeholder: replaced by the module's real routes."""
from __future__ import annotations

from ..errors import refuse
from . import bp


@bp.route("/users")
def users():
    refuse(404, "準備中です。")
