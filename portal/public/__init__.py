from flask import Blueprint

bp = Blueprint("public", __name__)

from . import results, routes  # noqa: E402,F401
