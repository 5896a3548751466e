from flask import Blueprint

bp = Blueprint("public", __name__)

from . import log_pages, results, routes, site_pages, verify_pages  # noqa: E402,F401
from . import meeting_pages  # noqa: E402,F401  (minutes and the 二次審査 schedule)
