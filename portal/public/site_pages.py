"""The site's own pages, linked from every page's footer: how to contact the
secretariat, the privacy policy and the accessibility statement."""
from __future__ import annotations

from flask import current_app, render_template

from . import bp

def contact_details() -> dict:
    """The secretariat's contact as the city configured it (config.py holds
    the defaults); phone and mail stay empty, and the page says so, until
    the city sets them."""
    config = current_app.config
    return {"department": config["CONTACT_DEPARTMENT"], "phone": config["CONTACT_PHONE"],
            "email": config["CONTACT_EMAIL"], "hours": config["CONTACT_HOURS"]}


@bp.get("/contact")
def contact():
    return render_template("public/contact.html", contact=contact_details())


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", contact=contact_details())


@bp.get("/accessibility")
def accessibility():
    return render_template("public/accessibility.html", contact=contact_details(),
                           checked_on=current_app.config["ACCESSIBILITY_CHECKED_ON"])
