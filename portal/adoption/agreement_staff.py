"""事務局: the adopted projects, and drafting and editing their agreements."""
from __future__ import annotations

from dataclasses import fields

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption.departments import department_of
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..models import Agreement, Decision, DecisionOutcome, Proposal, ProposalStatus
from ..policy import load_staff_proposal
from . import admin_bp
from .forms import AgreementForm


@admin_bp.route("/")
def index():
    """Every adopted project, newest call first, with its agreement's state."""
    rows = db_session.execute(
        select(Proposal, Decision, Agreement)
        .join(Decision, Decision.proposal_id == Proposal.id)
        .outerjoin(Agreement, Agreement.proposal_id == Proposal.id)
        .where(Proposal.status == ProposalStatus.RESULTS,
               Decision.outcome.in_([DecisionOutcome.ADOPTED, DecisionOutcome.CONDITIONAL]))
        .options(joinedload(Proposal.group, innerjoin=True), joinedload(Proposal.call, innerjoin=True))
        .order_by(Proposal.call_id.desc(), Proposal.anonymous_code)
    ).all()
    return render_template("adoption/index.html", rows=rows, action_form=EmptyForm())


def _adopted(proposal_id: int) -> Proposal:
    proposal = load_staff_proposal(proposal_id)
    if not agreements.is_adopted(db_session, proposal):
        abort(404)
    return proposal


@admin_bp.post("/proposals/<int:proposal_id>/agreement")
def start_agreement(proposal_id: int):
    proposal = _adopted(proposal_id)
    if not EmptyForm().validate_on_submit():
        flash("画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。", "error")
        return redirect(url_for("adoption_admin.index"))
    if agreements.agreement_of(db_session, proposal) is None:
        agreements.start_draft(db_session, proposal, staff=current_user, now=now_utc())
        flash("提案書の内容から協定書案を作成しました。内容を確認し、必要なところを直してください。", "success")
    return redirect(url_for("adoption_admin.edit_agreement", proposal_id=proposal.id))


def _edit_page(proposal, agreement, form, status=200):
    decision = agreements.decision_of(db_session, proposal)
    return render_template(
        "adoption/agreement_edit.html", proposal=proposal, agreement=agreement, form=form, decision=decision,
        department=department_of(db_session, proposal),
        confirmations=agreements.current_confirmations(agreement),
    ), status


@admin_bp.route("/proposals/<int:proposal_id>/agreement/edit", methods=["GET", "POST"])
def edit_agreement(proposal_id: int):
    proposal = _adopted(proposal_id)
    agreement = agreements.agreement_of(db_session, proposal)
    if agreement is None:
        abort(404)
    if agreement.status != agreement.status.DRAFT:
        return redirect(url_for("adoption.agreement", proposal_id=proposal.id))
    form = AgreementForm()
    if not form.is_submitted():
        form = AgreementForm(formdata=None, obj=agreement)
        form.city_amount.data = str(agreement.city_amount)
        return _edit_page(proposal, agreement, form)
    if not form.validate():
        return _edit_page(proposal, agreement, form, 422)
    text = agreements.AgreementText(**{f.name: getattr(form, f.name).data for f in fields(agreements.AgreementText)
                                       if f.name != "city_amount"}, city_amount=form.amount_yen)
    for name in ("title", "purpose", "city_roles", "group_roles", "cost_sharing", "conditions",
                 "information_sharing", "publicity", "changes"):
        setattr(text, name, getattr(text, name) or "")
    seen = _revision_seen()
    try:
        changed = agreements.update_draft(db_session, agreement, text, revision_seen=seen, staff=current_user,
                                          now=now_utc())
    except agreements.AgreementInvalid as refusal:
        for name, message in refusal.problems.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        return _edit_page(proposal, agreement, form, 422)
    except WrongState as refusal:
        form.form_errors.append(refusal.message)
        return _edit_page(proposal, agreement, form, 409)
    if changed:
        flash("協定書案を保存しました。内容が変わったため、両者の合意はあらためて必要です。", "success")
    else:
        flash("変更はありませんでした。", "success")
    return redirect(url_for("adoption.agreement", proposal_id=proposal.id))


def _revision_seen() -> int:
    raw = request.form.get("revision", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1
