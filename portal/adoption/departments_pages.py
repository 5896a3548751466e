"""事務局: the city's departments (担当課), their accounts (invited by a
one-time link) and which department each submitted proposal belongs to."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import departments
from ..domain.refusals import Invalid
from ..domain.timeutil import now_utc
from ..links import external_url
from ..mail import send_mail
from ..models import Call, Department, Proposal, ProposalDepartment
from ..policy import load_child, load_staff_call, load_staff_proposal
from . import admin_bp
from .forms import DepartmentForm, DepartmentInviteForm


def _page(form=None, invite_forms=None, status=200):
    rows = departments.departments(db_session)
    now = now_utc()
    invite_forms = invite_forms or {}
    return render_template(
        "adoption/departments.html", form=form or DepartmentForm(formdata=None),
        rows=[{"department": d, "members": departments.members(db_session, d),
               "pending": departments.pending_invitations(db_session, d, now),
               "invite_form": invite_forms.get(d.id) or DepartmentInviteForm(formdata=None, prefix=f"d{d.id}")}
              for d in rows],
        calls=db_session.scalars(select(Call).order_by(Call.fiscal_year.desc(), Call.id.desc())).all(),
    ), status


@admin_bp.route("/departments")
def departments_index():
    return _page()


@admin_bp.post("/departments")
def create_department():
    form = DepartmentForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        department = departments.create_department(db_session, form.name.data, staff=current_user, now=now_utc())
    except Invalid as refusal:
        form.name.errors = [refusal.message]
        return _page(form, status=422)
    flash(f"担当課「{department.name}」を登録しました。", "success")
    return redirect(url_for("adoption_admin.departments_index"))


def invitation_mail(department: Department, display_name: str, token: str) -> tuple[str, str]:
    city = current_app.config["CITY_NAME"]
    link = external_url("department.accept_invitation", token=token)
    subject = f"【{city}】協働事業ポータルへのご招待（担当課：{department.name}）"
    body = (f"{display_name} 様\n\n{city} 市民協働課です。市民提案型協働モデル事業のポータルに、"
            f"{department.name}の担当者としてご招待します。\n"
            "担当課として、割り当てられた提案への所見の記入、協定書の確認などを行っていただきます。\n\n"
            f"次のリンクを開いて、パスワードを設定してください（7日間有効・1回限り）。\n\n{link}\n\n"
            "お心当たりのない場合は、このメールを破棄してください。\n")
    return subject, body


@admin_bp.post("/departments/<int:department_id>/invite")
def invite_department_member(department_id: int):
    department = load_child(Department, department_id)
    form = DepartmentInviteForm(prefix=f"d{department.id}")
    if not form.validate_on_submit():
        return _page(invite_forms={department.id: form}, status=422)
    try:
        invitation, token = departments.invite_member(
            db_session, department, email=form.email.data, display_name=form.display_name.data,
            staff=current_user, now=now_utc())
    except Invalid as refusal:
        form.email.errors = [refusal.message]
        return _page(invite_forms={department.id: form}, status=422)
    subject, body = invitation_mail(department, invitation.display_name, token)
    send_mail(invitation.email, subject, body)
    flash(f"{invitation.email} に招待メールを送りました（{department.name}・7日間有効）。", "success")
    return redirect(url_for("adoption_admin.departments_index"))


@admin_bp.route("/calls/<int:call_id>/departments")
def call_departments(call_id: int):
    call = load_staff_call(call_id)
    proposals = db_session.scalars(
        select(Proposal).where(Proposal.call_id == call.id, Proposal.receipt_number.is_not(None))
        .options(joinedload(Proposal.group, innerjoin=True)).order_by(Proposal.receipt_number)).all()
    assigned = {row.proposal_id: row.department_id for row in db_session.scalars(
        select(ProposalDepartment).where(ProposalDepartment.proposal_id.in_([p.id for p in proposals])))}
    return render_template("adoption/call_departments.html", call=call, proposals=proposals,
                           assigned=assigned, departments=departments.departments(db_session))


@admin_bp.post("/calls/<int:call_id>/departments/<int:proposal_id>")
def assign_department(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    proposal = load_staff_proposal(proposal_id, call)
    if not EmptyForm().validate_on_submit():  # the CSRF check; the choice is read below
        flash("画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。", "error")
        return redirect(url_for("adoption_admin.call_departments", call_id=call.id))
    raw = request.form.get("department_id", "")
    department = None
    if raw:
        department = db_session.get(Department, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
        if department is None:
            flash("担当課を一覧から選んでください。", "error")
            return redirect(url_for("adoption_admin.call_departments", call_id=call.id))
    departments.assign(db_session, proposal, department, staff=current_user, now=now_utc())
    flash(f"{proposal.receipt_number} の担当課を{'「' + department.name + '」に' if department else '未割当に'}しました。",
          "success")
    return redirect(url_for("adoption_admin.call_departments", call_id=call.id, _anchor=f"p{proposal.id}"))
