"""Accepting an invitation: the one-time link from the mail, a password, and
then the usual login, where the second factor is enrolled."""
from __future__ import annotations

from flask import current_app, flash, has_request_context, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..db import db_session
from ..domain.timeutil import now_utc
from ..links import external_url
from ..models import Call, Invitation, Role
from . import bp, invitations
from .accounts import ROLE_LABELS, AccountError
from .forms import SetPasswordForm
from .sessions import hash_password


def invitation_link(token: str) -> str:
    """The absolute link for a mail or the terminal. Outside a request (the
    ``create-user`` command) the configured public address is used."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return external_url("auth.accept_invitation", token=token)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/invite/{token}"


def invitation_mail(invitation: Invitation, token: str, call: Call | None) -> tuple[str, str]:
    city = current_app.config["CITY_NAME"]
    role = ROLE_LABELS[invitation.role]
    subject = f"【{city}】協働事業ポータルへのご招待（{role}）"
    lines = [
        f"{invitation.display_name} 様" if invitation.display_name else "",
        "",
        f"{city} 市民協働課です。市民提案型協働モデル事業のポータルに、{role}としてご招待します。",
    ]
    if call is not None:
        lines.append(f"審査していただく募集: {call.title}")
    lines += [
        "",
        "次のリンクを開いて、パスワードを設定してください（7日間有効・1回限り）。",
        "",
        invitation_link(token),
        "",
        "初回ログインの際に、スマートフォンの認証アプリ（二段階認証）の登録をお願いします。",
        "お心当たりのない場合は、このメールを破棄してください。",
    ]
    return subject, "\n".join(lines).lstrip("\n") + "\n"


def _refusal(message: str, status: int):
    return render_template("auth/invitation_invalid.html", message=message), status


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = invitations.find(db_session, token)
    if invitation is None:
        return _refusal(invitations.UNKNOWN_LINK, 404)
    now = now_utc()
    state = invitations.state_of(invitation, now)
    if state != invitations.InvitationState.PENDING:
        return _refusal(invitations.REFUSALS[state], 410)
    call = db_session.get(Call, invitation.call_id) if invitation.call_id else None
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            invitations.accept(db_session, invitation, password_hash=hash_password(form.password.data), now=now)
            db_session.flush()
        except AccountError as refusal:
            db_session.rollback()
            return _refusal(str(refusal), 409)
        except IntegrityError:  # the same address registered at this very moment
            db_session.rollback()
            return _refusal("このメールアドレスのアカウントはすでにあります。事務局にお問い合わせください。", 409)
        flash("パスワードを設定しました。ログインすると、続けて二段階認証（認証アプリ）の登録に進みます。", "success")
        return redirect(url_for("auth.login"))
    elif form.errors:
        status = 422
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation, call=call,
                           role_label=ROLE_LABELS[invitation.role], signed_in=current_user.is_authenticated,
                           is_reviewer=invitation.role == Role.REVIEWER), status
