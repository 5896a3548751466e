"""The site's own pages, linked from every page's footer: how to contact the
secretariat, the privacy policy and the accessibility statement."""
from __future__ import annotations

from flask import current_app, render_template

from . import bp

# Used until the city sets CONTACT_* in its configuration.
DEFAULT_DEPARTMENT = "市民協働課"


def contact_details() -> dict:
    """The secretariat's contact as the city configured it; phone and mail
    stay empty (and the page says so) until the city sets them."""
    config = current_app.config
    return {
        "department": config.get("CONTACT_DEPARTMENT") or DEFAULT_DEPARTMENT,
        "phone": config.get("CONTACT_PHONE") or "",
        "email": config.get("CONTACT_EMAIL") or "",
        "hours": config.get("CONTACT_HOURS") or "平日 8時30分～17時15分（土日祝日・年末年始を除く）",
    }


@bp.get("/contact")
def contact():
    return render_template("public/contact.html", contact=contact_details())


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", contact=contact_details())


@bp.get("/accessibility")
def accessibility():
    return render_template("public/accessibility.html", contact=contact_details(),
                           checked_on=current_app.config.get("ACCESSIBILITY_CHECKED_ON") or "")
