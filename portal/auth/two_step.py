"""Second-factor pages: enrolment at first login, the code page, the QR code,
and regenerating recovery codes. Only after a correct code does a staff
member or reviewer get a login session (``start_login``)."""
from __future__ import annotations

import io

import segno
from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..db import db_session
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..security import safe_next
from . import bp, recovery, second_factor, throttle, totp
from .forms import CodeForm, ConfirmPasswordForm, EnrolForm
from .routes import home_for
from .sessions import start_login, verify_password

EXPIRED = "確認の有効時間（5分）が過ぎたか、ログインの手続きが見つかりません。もう一度ログインしてください。"
WRONG_CODE = "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください。"


def _throttled_page(template: str, form, **context):
    minutes = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"] // 60
    form.form_errors.append(
        f"確認コードの誤りが続いたため、このアカウントの確認を一時的に止めています。{minutes}分ほど待ってから、もう一度お試しください。"
    )
    return render_template(template, form=form, **context), 429, {
        "Retry-After": str(current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    }


def _restart():
    second_factor.clear()
    flash(EXPIRED, "info")
    return redirect(url_for("auth.login"))


def _finish(user, reservation):
    """Turn the pending note into a real login."""
    next_path = second_factor.pending_next()
    second_factor.clear()
    throttle.succeeded(reservation)
    start_login(user)
    return safe_next(next_path, home_for(user))


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor_code():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    user = second_factor.pending_user()
    if user is None:
        return _restart()
    if not second_factor.is_enrolled(user):
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        # Counted before the check, committed at once: concurrent guesses see it (throttle.py).
        reservation = throttle.reserve(second_factor.failure_key(user))
        if reservation is None:
            return _throttled_page("auth/second_factor.html", form)
        kind = second_factor.check_code(user, form.code.data, now_utc())
        if kind is not None:
            target = _finish(user, reservation)
            if kind == "recovery":
                left = recovery.remaining(db_session, user)
                flash(f"回復用コードでログインしました。使ったコードは二度と使えません（残り{left}個）。"
                      "認証アプリを確認し、必要なら「アカウントの安全設定」で回復用コードを作り直してください。", "info")
            return redirect(target)
        # The reservation, already committed, stays as the failure.
        form.code.errors.append(WRONG_CODE if totp.clean_code(form.code.data).isdigit()
                                else "確認コードまたは回復用コードが正しくありません。")
        status = 401
    elif form.errors:
        status = 422
    return render_template("auth/second_factor.html", form=form), status


def _enrol_context(user):
    secret = second_factor.enrolment_secret(user)
    return {"user": user, "secret": totp.grouped(secret), "qr_url": url_for("auth.enrol_qr")}


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    user = second_factor.pending_user()
    if user is None:
        return _restart()
    if second_factor.is_enrolled(user):
        # An enrolled account never re-enrols on a password alone.
        return redirect(url_for("auth.second_factor_code"))
    form = EnrolForm()
    status = 200
    if form.validate_on_submit():
        reservation = throttle.reserve(second_factor.failure_key(user))
        if reservation is None:
            return _throttled_page("auth/enrol.html", form, **_enrol_context(user))
        secret = second_factor.enrolment_secret(user)
        codes = second_factor.confirm_enrolment(user, secret, form.code.data, now_utc())
        if codes is not None:
            target = _finish(user, reservation)
            # Shown once, in this answer; only their hashes are stored.
            return render_template("auth/recovery_codes.html", codes=codes, continue_url=target, first_time=True)
        form.code.errors.append(WRONG_CODE)
        status = 401
    elif form.errors:
        status = 422
    return render_template("auth/enrol.html", form=form, **_enrol_context(user)), status


@bp.get("/login/enrol/qr.svg")
def enrol_qr():
    """The otpauth:// URI as an SVG image: no script, nothing from elsewhere."""
    user = second_factor.pending_user()
    if user is None or second_factor.is_enrolled(user):
        refuse(404, EXPIRED)
    secret = second_factor.enrolment_secret(user)
    uri = totp.provisioning_uri(secret, user.email, f"{current_app.config['CITY_NAME']} 協働事業ポータル")
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, border=4, xmldecl=False, light="#fff",
                                    title="二段階認証の登録用QRコード")
    return Response(buffer.getvalue(), mimetype="image/svg+xml")


@bp.route("/account/security", methods=["GET", "POST"])
@login_required
def account_security():
    """Staff and reviewers: the state of their second factor and new
    recovery codes (the old ones stop working). The password is asked
    again, so an unattended open session cannot print fresh codes."""
    user = current_user
    if not user.has_staff_role and not user.has_reviewer_role:
        refuse(404, "このページは事務局と審査委員のアカウント用です。")
    enrolled = second_factor.is_enrolled(user)
    form = ConfirmPasswordForm()
    status = 200
    if enrolled and form.validate_on_submit():
        reservation = throttle.reserve(user.email)
        if reservation is None:
            form.password.errors.append("失敗が続いたため、15分ほど時間をおいてからお試しください。")
            status = 429
        elif verify_password(user, form.password.data):
            throttle.succeeded(reservation)
            codes = recovery.regenerate(db_session, user)
            return render_template("auth/recovery_codes.html", codes=codes,
                                   continue_url=url_for("auth.account_security"), first_time=False)
        else:
            form.password.errors.append("パスワードが正しくありません。")
            status = 401
    elif form.errors:
        status = 422
    remaining = recovery.remaining(db_session, user) if enrolled else None
    return render_template("auth/account_security.html", form=form, enrolled=enrolled, remaining=remaining,
                           waived=not second_factor.required_for(user)), status
