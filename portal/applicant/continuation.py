"""継続: while a proposal is a draft, its group may mark it as continuing
one of the group's earlier adopted projects (every agreement ends; going on
needs a new proposal). Staff then see the earlier project's evaluation;
reviewers only that it continues one (docs/anonymisation.md)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import continuation as continuations
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..models import ProposalStatus
from ..policy import load_own_proposal
from . import bp


def _page(proposal, *, problems=None, message=None, status=200):
    row = continuations.continuation_of(db_session, proposal)
    return render_template("adoption/evaluation_continuation.html", proposal=proposal,
                           projects=continuations.continuable_projects(db_session, proposal),
                           chosen=row.earlier_proposal_id if row else None, problems=problems or {},
                           message=message, editable=proposal.status == ProposalStatus.DRAFT,
                           form=EmptyForm()), status


@bp.get("/proposals/<int:proposal_id>/continuation")
def continuation(proposal_id: int):
    return _page(load_own_proposal(proposal_id))


@bp.post("/proposals/<int:proposal_id>/continuation")
def save_continuation(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    if not EmptyForm().validate_on_submit():
        return _page(proposal, message="画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。",
                     status=400)
    raw = request.form.get("earlier", "")
    earlier = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    if raw not in ("", "none") and earlier is None:
        return _page(proposal, problems={"earlier": "継続元の事業を選んでください。"}, status=422)
    try:
        continuations.mark_continuation(db_session, proposal, earlier, now=now_utc())
    except continuations.ContinuationInvalid as refusal:
        return _page(proposal, problems=refusal.problems, message=refusal.message, status=422)
    except WrongState as refusal:
        return _page(proposal, message=refusal.message, status=409)
    flash("継続の指定を保存しました。" if earlier else "継続の指定を外しました。", "success")
    return redirect(url_for("applicant.continuation", proposal_id=proposal.id))
