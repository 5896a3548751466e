"""事務局: staff and reviewer accounts, invitations, deactivation and
second-factor resets. (The blueprint already requires a staff login.)"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import EmailField, RadioField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from ..auth import invitations, second_factor
from ..auth.accounts import ROLE_LABELS, AccountError, account_exists, deactivate_account
from ..auth.forms import EmptyForm, email_format
from ..auth.invite import invitation_mail
from ..db import db_session
from ..domain.normalize import normalize_email
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..forms import REQUIRED, BaseForm, choice
from ..mail import send_mail
from ..models import Call, Invitation, Role, User
from . import bp

NO_CALL = ""


def _optional_int(value):
    if value in (None, "", NO_CALL):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: "一覧から選んでください。"


class InviteForm(BaseForm):
    role = RadioField("役割", choices=[choice("staff", "事務局（市民協働課の職員）"), choice("reviewer", "審査委員")],
                      validators=[DataRequired("役割を選んでください。")])
    display_name = StringField("お名前", validators=[DataRequired(REQUIRED),
                                                  Length(max=100, message="100字以内で入力してください。")],
                               render_kw={"autocomplete": "off"})
    email = EmailField(
        "メールアドレス",
        validators=[DataRequired(REQUIRED), Length(max=254, message="254文字以内で入力してください。"), email_format],
        filters=[lambda v: normalize_email(v) if isinstance(v, str) else v],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )
    call_id = SelectField("審査会に加える募集（審査委員のみ・任意）", coerce=_optional_int, validate_choice=False)
    affiliations = TextAreaField(
        "所属・関係している団体（審査委員のみ・任意）",
        validators=[Length(max=4000, message="4000字以内で入力してください。")],
        render_kw={"rows": 4},
    )

    def __init__(self, calls, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.call_id.choices = [choice(NO_CALL, "指定しない")] + [choice(str(c.id), c.title) for c in calls]
        self._call_ids = {c.id for c in calls}

    def validate_call_id(self, field):
        if field.data is None:
            return
        if field.data not in self._call_ids:
            raise ValidationError("一覧から選んでください。")
        if self.role.data != "reviewer":
            raise ValidationError("募集を指定できるのは審査委員の招待だけです。")

    def validate_affiliations(self, field):
        if field.data and self.role.data != "reviewer":
            raise ValidationError("所属団体を入力できるのは審査委員の招待だけです。")
        if any(len(line.strip()) > 200 for line in (field.data or "").splitlines()):
            raise ValidationError("1行200字以内で入力してください。")
        if len(invitations.parse_affiliations(field.data)) > invitations.MAX_AFFILIATIONS:
            raise ValidationError(f"{invitations.MAX_AFFILIATIONS}団体までにしてください。")


def _calls():
    return db_session.scalars(select(Call).order_by(Call.fiscal_year.desc(), Call.opens_at.desc(), Call.id)).all()


def _page(form: InviteForm, status: int = 200):
    now = now_utc()
    accounts = db_session.scalars(
        select(User).where(User.role.in_([Role.STAFF, Role.REVIEWER])).order_by(User.role, User.email)
    ).all()
    open_invitations = [
        inv for inv in db_session.scalars(
            select(Invitation).where(Invitation.accepted_at.is_(None))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
        if invitations.state_of(inv, now) == invitations.InvitationState.PENDING
    ]
    call_titles = {c.id: c.title for c in _calls()}
    return render_template(
        "admin/users/index.html", form=form, accounts=accounts, invitations=open_invitations,
        call_titles=call_titles, role_labels=ROLE_LABELS, action_form=EmptyForm(),
        second_factor_state=_second_factor_state,
    ), status


def _second_factor_state(user: User) -> str:
    if second_factor.is_enrolled(user):
        return "登録済み"
    if not second_factor.required_for(user):
        return "免除（この環境のみ）"
    return "未登録（次回ログイン時に登録）"


@bp.route("/users")
def users():
    return _page(InviteForm(_calls()))


@bp.post("/users/invite")
def invite_user():
    calls = _calls()
    form = InviteForm(calls)
    if not form.validate_on_submit():
        return _page(form, 422)
    if account_exists(db_session, form.email.data):
        form.email.errors.append("このメールアドレスのアカウントはすでにあります。招待は不要です。")
        return _page(form, 422)
    role = Role.REVIEWER if form.role.data == "reviewer" else Role.STAFF
    call = db_session.get(Call, form.call_id.data) if form.call_id.data else None
    try:
        invitation, token = invitations.invite(
            db_session, email=form.email.data, role=role, display_name=form.display_name.data, now=now_utc(),
            invited_by=current_user, call=call, affiliations=invitations.parse_affiliations(form.affiliations.data),
        )
    except AccountError as refusal:
        form.form_errors.append(str(refusal))
        return _page(form, 422)
    subject, body = invitation_mail(invitation, token, call)
    send_mail(invitation.email, subject, body)
    flash(f"{invitation.email} に招待メールを送りました（{ROLE_LABELS[role]}・7日間有効）。", "success")
    return redirect(url_for("admin.users"))


def _checked_action():
    if not EmptyForm().validate_on_submit():
        refuse(400, "画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。")


@bp.post("/users/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id: int):
    invitation = db_session.get(Invitation, invitation_id)
    if invitation is None:
        refuse(404, "招待が見つかりません。")
    _checked_action()
    if invitations.state_of(invitation, now_utc()) != invitations.InvitationState.PENDING:
        flash("この招待は承諾済みか、期限切れ・取消し済みのため、取り消せません。", "error")
        return redirect(url_for("admin.users"))
    invitations.revoke(invitation)
    flash(f"{invitation.email} への招待を取り消しました。メールのリンクは使えなくなりました。", "success")
    return redirect(url_for("admin.users"))


def _load_account(user_id: int) -> User:
    user = db_session.get(User, user_id)
    if user is None or user.role not in (Role.STAFF, Role.REVIEWER):
        refuse(404, "アカウントが見つかりません。")
    return user


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int):
    user = _load_account(user_id)
    _checked_action()
    if user.id == current_user.id:
        refuse(409, "自分のアカウントは停止できません。別の事務局アカウントから操作してください。")
    if user.is_active_account:
        deactivate_account(db_session, user, now_utc())
        flash(f"{user.email} の利用を停止しました。ログイン中のセッションも終了しました。", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-second-factor")
def reset_second_factor(user_id: int):
    """For a member who lost both the authenticator and the recovery codes:
    they enrol again at their next login (after the password)."""
    user = _load_account(user_id)
    _checked_action()
    if user.id == current_user.id:
        refuse(409, "自分の二段階認証はリセットできません。別の事務局アカウントから操作してください。")
    second_factor.reset(user, now_utc())
    flash(f"{user.email} の二段階認証をリセットしました。次回ログイン時に登録し直します。", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id: int):
    user = _load_account(user_id)
    _checked_action()
    if not user.is_active_account:
        user.is_active_account = True
        flash(f"{user.email} の利用を再開しました。", "success")
    return redirect(url_for("admin.users"))
