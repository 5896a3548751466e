"""審査委員 (external reviewers): only the anonymised copies of the proposals
assigned to them. Every page needs a reviewer login."""
from flask import Blueprint
from flask_login import login_required

from ..policy import require_reviewer

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.before_request
@login_required
def require_reviewer_login():
    require_reviewer()


from . import assignments, home, sheets  # noqa: E402,F401
from . import papers  # noqa: E402,F401  (a member's packet; the chair's meeting view)
