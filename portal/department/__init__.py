"""担当課 (a city department's accounts): the proposals assigned to their
department, the 所見 they write at intake, and the way into the adopted
projects they co-run (the agreement pages in ``portal/adoption``)."""
from flask import Blueprint

bp = Blueprint("department", __name__)

from . import routes  # noqa: E402,F401
