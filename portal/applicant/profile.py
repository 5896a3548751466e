"""団体概要: the group profile and its documents."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from ..domain.timeutil import now_utc
from ..models import GroupKind
from ..policy import require_applicant
from . import bp
from .forms import GroupProfileForm

PROFILE_FIELDS = (
    "name", "name_kana", "representative_title", "representative_name", "contact_name", "contact_email",
    "postal_code", "address", "phone", "founded_on", "member_count", "activity_fields", "activity_record",
    "website", "based_in_city", "officer_names", "aliases", "activity_bases",
)


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    user = require_applicant()
    group = user.group
    form = GroupProfileForm(obj=group)
    if not form.is_submitted():
        form.kind.data = group.kind.value if group.kind else ""
    if form.validate_on_submit():
        for name in PROFILE_FIELDS:
            setattr(group, name, getattr(form, name).data if getattr(form, name).data is not None else
                    (None if name in ("founded_on", "member_count") else ""))
        group.kind = GroupKind(form.kind.data) if form.kind.data else None
        group.updated_at = now_utc()
        flash("団体概要を保存しました。", "success")
        return redirect(url_for("applicant.profile"))
    status = 422 if form.errors else 200
    return render_template("applicant/profile.html", form=form, group=group), status


from . import postcode  # noqa: F401  (its 郵便番号 → 住所 lookup serves this page)
