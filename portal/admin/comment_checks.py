"""委員の講評の確認: before a reviewer's comment reaches the group, staff
look at the names of people and organisations the scan flagged in it (the
reviewer's own affiliation included) and confirm it as written or edit it."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.anonymity import comment_check
from ..domain.refusals import Invalid
from ..domain.results import results
from ..domain.timeutil import now_utc
from ..policy import load_released_proposal, load_staff_call, require_staff
from . import bp


def _items(call, proposal):
    return comment_check.comment_items(db_session, results.gather(db_session, call), proposal)


def _page(call, proposal, items, *, errors=None, typed=None, status=200):
    return render_template("admin/anonymise/comments.html", call=call, proposal=proposal, items=items,
                           form=EmptyForm(), errors=errors or {}, typed=typed or {}), status


@bp.route("/calls/<int:call_id>/results/<int:proposal_id>/comments", methods=["GET", "POST"])
def comment_checks(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    proposal = load_released_proposal(call, proposal_id)
    staff = require_staff()
    items = _items(call, proposal)
    if request.method == "GET":
        return _page(call, proposal, items)
    if not EmptyForm().validate_on_submit():
        abort(400)
    item = next((i for i in items if i.source == request.form.get("source", "")), None)
    if item is None:
        return _page(call, proposal, items, status=404)
    edit = request.form.get("action") == "edit"
    typed = request.form.get("edited_text", "")
    try:
        comment_check.check_comment(db_session, proposal, item, edited_text=typed if edit else None, staff=staff,
                                    now=now_utc())
    except Invalid as refused:
        return _page(call, proposal, items, errors={item.source: refused.message}, typed={item.source: typed},
                     status=422)
    flash(f"{item.pseudonym}の講評を{'編集して' if edit else 'そのまま'}団体に伝えることにしました。", "success")
    return redirect(url_for("admin.comment_checks", call_id=call.id, proposal_id=proposal.id))
