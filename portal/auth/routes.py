"""Register, confirm, log in and out, reset a forgotten password."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_url
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..db import db_session
from ..errors import render_error, wants_json
from ..extensions import login_manager
from ..links import external_url
from ..mail import send_mail
from ..models import Group, OutboxMessage, Role, User, utcnow
from ..security import is_safe_local_path, safe_next
from . import bp, second_factor, throttle
from .forms import EmptyForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from .sessions import end_all_logins, end_login, hash_password, start_login, verify_password
from .tokens import make_confirm_token, make_reset_token, read_confirm_token, read_reset_token


def home_for(user: User) -> str:
    if user.role == Role.STAFF:
        return url_for("admin.index")
    if user.role == Role.REVIEWER:
        return url_for("review.index")
    if user.role == Role.DEPARTMENT:
        return url_for("department.index")
    return url_for("applicant.dashboard")


def requested_next() -> str | None:
    """The local page to return to after logging in, or None. Only paths on
    this site count: '//evil.example', 'https://…' and 'javascript:' do not."""
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_local_path(target) else None


@login_manager.unauthorized_handler
def login_needed():
    """A page asks for a login. Scripts (autosave) get a 401 they can read
    instead of being redirected to an HTML login page."""
    if wants_json():
        return render_error(401)
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url("auth.login", next_url=request.url))


def send_confirmation(user: User) -> None:
    link = external_url("auth.confirm", token=make_confirm_token(user))
    send_mail(
        user.email,
        f"【{current_app.config['CITY_NAME']}】メールアドレスの確認",
        "協働事業提案ポータルへのご登録ありがとうございます。\n"
        "次のリンクを開いて、メールアドレスの確認を完了してください（7日間有効）。\n\n"
        f"{link}\n\n"
        "お心当たりのない場合は、このメールを破棄してください。\n",
    )


REGISTRATION_SUBJECT = "アカウント登録のお申し込み"


def send_registration_notice(email: str) -> None:
    """To a registered address that someone registered again: what happened
    and where to go instead. The page answered as for a new address, so only
    the owner of the address learns that it has an account."""
    if _mails_exhausted(email, REGISTRATION_SUBJECT):
        return
    send_mail(
        email,
        f"【{current_app.config['CITY_NAME']}】{REGISTRATION_SUBJECT}について",
        "このメールアドレスで、協働事業提案ポータルのアカウント登録のお申し込みがありました。\n"
        "このアドレスのアカウントはすでに登録されているため、新しいアカウントは作成していません。\n\n"
        "ご自身でお申し込みの場合は、次のページから登録済みのアカウントでログインしてください。\n"
        f"{external_url('auth.login')}\n\n"
        "パスワードをお忘れの場合は、次のページから再設定できます。\n"
        f"{external_url('auth.forgot_password')}\n\n"
        "お心当たりのない場合は、このメールを破棄してください。アカウントとパスワードは変わりません。\n",
    )


def email_taken(email: str) -> bool:
    return db_session.scalar(select(User.id).where(User.email == email)) is not None


def _add_account(email: str, password_hash: str) -> User | None:
    """The new account, or None when the address was taken meanwhile (two
    registrations at once: the unique index decides, not a 500)."""
    user = User(email=email, password_hash=password_hash, role=Role.APPLICANT)
    db_session.add(user)
    try:
        db_session.flush()
    except IntegrityError:
        db_session.rollback()  # nothing else was written in this request
        return None
    return user


@bp.route("/register", methods=["GET", "POST"])
def register():
    """A new address gets an account and the confirmation mail; a registered
    one gets a notice (send_registration_notice). The answer is the same page
    either way, and the password is hashed either way, so neither the page
    nor its timing tells who has an account (as with login and reset)."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data
        password_hash = hash_password(form.password.data)
        user = None if email_taken(email) else _add_account(email, password_hash)
        if user is None:
            send_registration_notice(email)
        else:
            db_session.add(Group(account_id=user.id, contact_email=user.email))
            db_session.flush()
            send_confirmation(user)
        return redirect(url_for("auth.register_sent"))
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.get("/register/sent")
def register_sent():
    return render_template("auth/register_sent.html")


@bp.get("/confirm/<token>")
def confirm(token: str):
    user = read_confirm_token(token)
    if user is None:
        return render_template("auth/confirm_failed.html"), 400
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    if current_user.is_authenticated:
        flash("メールアドレスを確認しました。", "success")
        return redirect(home_for(current_user))
    flash("メールアドレスを確認しました。登録したメールアドレスとパスワードでログインしてください。", "success")
    return redirect(url_for("auth.login"))


@bp.post("/confirm/resend")
@login_required
def resend_confirmation():
    if EmptyForm().validate_on_submit() and not current_user.email_confirmed:
        send_confirmation(current_user)
        flash("確認メールを再送しました。", "success")
    return redirect(url_for("applicant.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_path = requested_next()
    if current_user.is_authenticated:
        return redirect(next_path or home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data
        # Counted before the check, committed at once: concurrent guesses see it (throttle.py).
        reservation = throttle.reserve(email)
        if reservation is None:
            minutes = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"] // 60
            form.form_errors.append(
                f"ログインの失敗が続いたため、この端末からのログインを一時的に止めています。{minutes}分ほど待つか、パスワードを再設定してください。"
            )
            # The page still renders; the status tells scripts to back off.
            return render_template("auth/login.html", form=form, next_path=next_path), 429, {
                "Retry-After": str(current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
            }
        user = db_session.scalar(select(User).where(User.email == email))
        if verify_password(user, form.password.data) and user.is_active_account:
            throttle.succeeded(reservation)
            if second_factor.required_for(user):
                # No login session yet: only a short-lived note that the
                # password step passed (see second_factor.py).
                second_factor.begin(user, next_path)
                if second_factor.is_enrolled(user):
                    return redirect(url_for("auth.second_factor_code"))
                return redirect(url_for("auth.enrol"))
            second_factor.clear()
            start_login(user)
            return redirect(safe_next(next_path, home_for(user)))
        # The reservation, already committed, stays as the failure.
        form.form_errors.append("メールアドレスまたはパスワードが正しくありません。")
        status = 401
    elif form.errors:
        status = 422
    return render_template("auth/login.html", form=form, next_path=next_path), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated and EmptyForm().validate_on_submit():
        end_login(current_user)
        flash("ログアウトしました。", "info")
    return redirect(url_for("public.index"))


RESET_SUBJECT = "パスワードの再設定"
MAILS_PER_HOUR = 3


def _mails_exhausted(email: str, subject: str) -> bool:
    """The reset and register forms send mail to any registered address, so
    anyone could make the city's server flood someone's inbox; a few of each
    kind per hour is plenty."""
    since = utcnow() - timedelta(hours=1)
    sent = db_session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == email,
            OutboxMessage.subject.contains(subject),
            OutboxMessage.created_at >= since,
        )
    )
    return sent >= MAILS_PER_HOUR


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = db_session.scalar(select(User).where(User.email == form.email.data))
        if user is not None and not _mails_exhausted(user.email, RESET_SUBJECT):
            link = external_url("auth.reset_password", token=make_reset_token(user))
            send_mail(
                user.email,
                f"【{current_app.config['CITY_NAME']}】{RESET_SUBJECT}",
                "パスワード再設定のご依頼を受け付けました。\n"
                f"次のリンクから2時間以内に新しいパスワードを設定してください。\n\n{link}\n\n"
                "お心当たりのない場合は、このメールを破棄してください。パスワードは変わりません。\n",
            )
        # Same answer either way, so the form does not reveal who is registered.
        flash("登録されているアドレスであれば、再設定用のメールを送りました。", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = read_reset_token(token)
    if user is None:
        return render_template("auth/reset_failed.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.password_hash = hash_password(form.password.data)
        user.password_changed_at = utcnow()
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()  # the link proves the address
        end_all_logins(user)
        throttle.forget(user.email)
        flash("パスワードを再設定しました。新しいパスワードでログインしてください。", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 422 if form.errors else 200
