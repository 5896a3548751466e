"""Adopted projects: the secretariat's pages (departments, the agreement
draft) under /admin/adoption, and the pages the city and the group share
(the agreement, both sides' 合意, the PDF) under /projects."""
from flask import Blueprint
from flask_login import login_required

from ..policy import require_staff

admin_bp = Blueprint("adoption_admin", __name__, url_prefix="/admin/adoption")
bp = Blueprint("adoption", __name__, url_prefix="/projects")
public_bp = Blueprint("adoption_public", __name__)  # no account: /calls/<slug>/projects


@admin_bp.before_request
@login_required
def require_staff_login():
    require_staff()


@bp.before_request
@login_required
def require_login():
    """Who may see which project is ``policy.load_project``, per route."""


from . import departments_pages, agreement_staff, goals_pages, projects, public_pages  # noqa: E402,F401
from . import money_pages, changes_pages, reports_pages  # noqa: E402,F401  (during the work and the money)
from . import evaluation_pages  # noqa: E402,F401  (事業評価 and its publication)
