"""The department's pages. Every page but the invitation needs a department
login; a proposal not assigned to the department is a 404."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from ..admin.intake_forms import DepartmentOpinionForm
from ..auth.forms import SetPasswordForm
from ..auth.sessions import hash_password
from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption import departments
from ..domain.adoption import reports
from ..domain.intake import intake
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..models import FEASIBILITY_LABELS, Department
from ..policy import department_id_of, load_department_proposal, require_department
from . import bp


def _department() -> Department:
    user = require_department()
    department = db_session.get(Department, department_id_of(user) or 0)
    if department is None:  # an account whose department was removed
        abort(403)
    return department


@bp.route("/department/")
@login_required
def index():
    department = _department()
    proposals = departments.assigned_proposals(db_session, department.id)
    return render_template("department/index.html", department=department, proposals=proposals,
                           adopted={p.id for p in proposals if agreements.is_adopted(db_session, p)},
                           running={p.id for p in proposals if reports.concluded_agreement(db_session, p) is not None})


def _proposal_page(proposal, form=None, status=200):
    department = _department()
    opinion = intake.department_opinion_of(db_session, proposal)
    if form is None:
        form = DepartmentOpinionForm(formdata=None, obj=opinion)
        form.department.data = department.name
    return render_template(
        "department/proposal.html", department=department, proposal=proposal, opinion=opinion, form=form,
        feasibility_labels=FEASIBILITY_LABELS, editable=proposal.released_at is None,
        adopted=agreements.is_adopted(db_session, proposal),
    ), status


@bp.route("/department/proposals/<int:proposal_id>")
@login_required
def proposal(proposal_id: int):
    return _proposal_page(load_department_proposal(proposal_id))


@bp.post("/department/proposals/<int:proposal_id>/opinion")
@login_required
def opinion(proposal_id: int):
    proposal = load_department_proposal(proposal_id)
    department = _department()
    form = DepartmentOpinionForm()
    # The department writes under its own name, whatever the field says.
    form.department.data = department.name
    if not form.validate_on_submit():
        return _proposal_page(proposal, form, 422)
    try:
        intake.save_department_opinion(db_session, proposal, department=department.name,
                                       feasibility=form.feasibility.data, opinion=form.opinion.data,
                                       staff=current_user, now=now_utc())
    except WrongState as refusal:
        form.form_errors.append(refusal.message)
        return _proposal_page(proposal, form, 409)
    flash("担当課の所見を保存しました。市民協働課の受付画面にも表示されます。", "success")
    return redirect(url_for("department.proposal", proposal_id=proposal.id))


@bp.route("/invite/department/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = departments.find_invitation(db_session, token)
    if invitation is None:
        return render_template("auth/invitation_invalid.html", message=departments.UNKNOWN_LINK), 404
    now = now_utc()
    state = departments.invitation_state(invitation, now)
    if state != "pending":
        return render_template("auth/invitation_invalid.html",
                               message=departments.INVITATION_REFUSALS[state]), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            departments.accept_invitation(db_session, invitation, password_hash=hash_password(form.password.data),
                                          now=now)
            db_session.flush()
        except (WrongState, IntegrityError) as refusal:
            db_session.rollback()
            message = refusal.message if isinstance(refusal, WrongState) else departments.ACCOUNT_EXISTS
            return render_template("auth/invitation_invalid.html", message=message), 409
        flash("パスワードを設定しました。ログインしてください。", "success")
        return redirect(url_for("auth.login"))
    return render_template("department/accept_invitation.html", form=form, invitation=invitation,
                           signed_in=current_user.is_authenticated), 422 if form.errors else 200
