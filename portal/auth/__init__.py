from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes, two_step, invite  # noqa: E402,F401
