"""「この提案をもとに新しく作成」: a new draft from a withdrawn proposal, in
the same call while it is open or in another open call of the group's
choice."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.proposals import reuse
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..models import Call
from ..policy import load_own_proposal, require_applicant
from . import bp


def _choices(group, now) -> list[tuple[Call, str | None]]:
    """Every open call, each with the reason it cannot be chosen (or None)."""
    return [(call, reuse.copy_refusal(db_session, group, call, now)) for call in reuse.open_calls(db_session, now)]


@bp.route("/proposals/<int:proposal_id>/reuse", methods=["GET", "POST"])
def reuse_proposal(proposal_id: int):
    source = load_own_proposal(proposal_id)
    user = require_applicant()
    if refusal := reuse.reuse_refusal(source):
        raise WrongState(refusal)
    now = now_utc()
    form = EmptyForm()
    choices = _choices(user.group, now)
    error = None
    chosen_id = request.form.get("call_id", "")
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        call = db_session.get(Call, int(chosen_id)) if chosen_id.isascii() and chosen_id.isdigit() and len(chosen_id) < 10 else None
        error = reuse.copy_refusal(db_session, user.group, call, now)
        if error is None:
            draft = reuse.start_from_withdrawn(db_session, source, call, user, now)
            flash("取り下げた提案の内容をもとに、新しい下書きを作成しました。添付資料は引き継がれないため、"
                  "必要なものを添付し直してください。", "success")
            return redirect(url_for("applicant.edit_proposal", proposal_id=draft.id))
    else:
        selectable = [call for call, refusal in choices if refusal is None]
        same = next((call for call in selectable if call.id == source.call_id), None)
        chosen = same or (selectable[0] if len(selectable) == 1 else None)
        chosen_id = str(chosen.id) if chosen else ""
    return render_template("applicant/reuse.html", source=source, choices=choices, form=form, error=error,
                           chosen_id=chosen_id), 422 if error else 200
