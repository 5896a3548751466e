"""An adopted project's agreement as the city (staff or its department) and
the group see it: the current text, who agreed to it and when, each side's
合意, and the concluded PDF."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption import goals
from ..domain.adoption.departments import department_of
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..files.objectstore import current_store
from ..models import AgreementSide
from ..policy import is_staff, load_project, project_side
from . import bp, mails
from .documents import render_agreement


def _load(proposal_id: int):
    proposal = load_project(proposal_id)
    if not agreements.is_adopted(db_session, proposal):
        abort(404)
    return proposal, agreements.agreement_of(db_session, proposal)


@bp.route("/<int:proposal_id>/agreement")
def agreement(proposal_id: int):
    proposal, row = _load(proposal_id)
    side = project_side(current_user, proposal)
    confirmations = agreements.current_confirmations(row) if row is not None else {}
    sheet = goals.goals_of(db_session, proposal)
    return render_template(
        "adoption/agreement.html", proposal=proposal, agreement=row, side=side,
        decision=agreements.decision_of(db_session, proposal), department=department_of(db_session, proposal),
        confirmations=confirmations, earlier=[c for c in (row.confirmations if row else [])
                                              if c.revision != row.revision],
        form=EmptyForm(), can_edit=is_staff(current_user), goals=[g for g in sheet if g.confirmed_at],
        goals_waiting=goals.waiting_for_city(sheet),
    )


@bp.post("/<int:proposal_id>/agreement/confirm")
def confirm(proposal_id: int):
    proposal, row = _load(proposal_id)
    if row is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        flash("画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。", "error")
        return redirect(url_for("adoption.agreement", proposal_id=proposal.id))
    raw = request.form.get("revision", "")
    side = project_side(current_user, proposal)
    already = side in agreements.current_confirmations(row)
    try:
        concluded = agreements.confirm(
            db_session, row, side, user=current_user,
            revision_seen=int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1, now=now_utc(), render=render_agreement,
            store=current_store())
    except WrongState as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("adoption.agreement", proposal_id=proposal.id))
    if concluded or not already:  # a second click sends nothing again
        mails.agreement_confirmed(proposal, row, AgreementSide(side), concluded=concluded)
    flash("両者の合意により協定を締結しました。協定書（PDF）をダウンロードできます。" if concluded
          else "協定書案に合意しました。相手方の合意を待っています。", "success")
    return redirect(url_for("adoption.agreement", proposal_id=proposal.id))


@bp.get("/<int:proposal_id>/agreement.pdf")
def agreement_pdf(proposal_id: int):
    proposal, row = _load(proposal_id)
    if row is None or row.pdf_name is None:
        abort(404)
    data = agreements.concluded_pdf(row, current_store())
    if data is None:
        # The stored file is missing or no longer matches the logged hash:
        # never hand out a document other than the one agreed.
        refuse(409, "保存された協定書が見つからないか、記録されたハッシュと一致しません。市民協働課にお問い合わせください。")
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"agreement-{proposal.anonymous_code or proposal.id}.pdf")
