from flask import Blueprint
from flask_login import login_required

bp = Blueprint("applicant", __name__)


@bp.before_request
@login_required
def require_login():
    """Every applicant page needs a login."""


from . import attachments, editor, profile, proposals, receipts  # noqa: E402,F401
from . import consent, feedback, reuse  # noqa: E402,F401
from . import continuation  # noqa: E402,F401  (継続: portal/applicant/continuation.py)
from . import notices  # noqa: E402,F401  (通知書: portal/applicant/notices.py)
