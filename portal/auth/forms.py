from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from wtforms import BooleanField, EmailField, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length

from ..domain.normalize import normalize_email
from ..forms import REQUIRED, BaseForm

PASSWORD_MIN = 10


def email_format(form, field):
    try:
        validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("メールアドレスの形式が正しくありません（例: info@example.jp）。") from None


def password_problem(value: str | None) -> str | None:
    """Why a password is refused, or None. One rule set for the registration
    form, invitations and the ``create-user`` command."""
    value = value or ""
    if len(value) < PASSWORD_MIN:
        return f"パスワードは{PASSWORD_MIN}文字以上にしてください。"
    if len(value) > 128:
        return "パスワードは128文字以内にしてください。"
    if value.isdigit() or len(set(value)) < 4:
        return "推測されやすいパスワードです。文字の種類を増やしてください。"
    return None


def password_strength(form, field):
    problem = password_problem(field.data)
    if problem:
        raise ValidationError(problem)


class EmailMixin:
    email = EmailField(
        "メールアドレス",
        validators=[DataRequired(REQUIRED), Length(max=254, message="254文字以内で入力してください。"), email_format],
        filters=[lambda v: normalize_email(v) if isinstance(v, str) else v],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


def new_password_fields(label: str) -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation, with the registration rules."""
    return (
        PasswordField(
            f"{label}（10文字以上）",
            validators=[DataRequired(REQUIRED), password_strength],
            render_kw={"autocomplete": "new-password"},
        ),
        PasswordField(
            f"{label}（確認）",
            validators=[DataRequired(REQUIRED), EqualTo("password", message="パスワードが一致しません。")],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class RegisterForm(EmailMixin, BaseForm):
    password, password_confirm = new_password_fields("パスワード")
    privacy = BooleanField(
        "個人情報の取扱い（利用目的）に同意します",
        validators=[DataRequired("同意いただけない場合は登録できません。")],
    )


class LoginForm(EmailMixin, BaseForm):
    password = PasswordField(
        "パスワード", validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )


class ForgotPasswordForm(EmailMixin, BaseForm):
    pass


class ResetPasswordForm(BaseForm):
    password, password_confirm = new_password_fields("新しいパスワード")


class SetPasswordForm(BaseForm):
    """Accepting an invitation: the same rules as registration."""

    password, password_confirm = new_password_fields("パスワード")


class CodeForm(BaseForm):
    code = StringField(
        "確認コード",
        validators=[DataRequired(REQUIRED), Length(max=40, message="確認コードが長すぎます。")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off",
                   "spellcheck": "false"},
    )


class EnrolForm(BaseForm):
    code = StringField(
        "認証アプリに表示された6桁の確認コード",
        validators=[DataRequired(REQUIRED), Length(max=20, message="6桁の数字を入力してください。")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmPasswordForm(BaseForm):
    password = PasswordField(
        "現在のパスワード", validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )


class EmptyForm(BaseForm):
    """Just the CSRF token, for buttons such as ログアウト."""
