"""事務局 (the city's 市民協働課): calls, intake, anonymisation, the panel,
progress, decisions and publication. Every page needs a staff login."""
from flask import Blueprint
from flask_login import login_required

from ..policy import require_staff

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_staff_login():
    require_staff()


from . import anonymisation, calls, exports, home, intake, panel, progress, results, users  # noqa: E402,F401
from . import comment_checks  # noqa: E402,F401  (reviewer comments before they reach a group)
from . import meeting  # noqa: E402,F401  (the 審査会's papers, minutes and 二次審査 schedule)
from . import bulk, notices  # noqa: E402,F401  (通知書 downloads; bulk actions on the work lists)
