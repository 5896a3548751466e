"""Forms of the adoption pages: departments, their accounts, the agreement draft."""
from __future__ import annotations

from wtforms import DateField, EmailField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from ..auth.forms import email_format
from ..domain.adoption.agreement import TEXT_MAX, TITLE_MAX
from ..domain.normalize import normalize_email, parse_yen
from ..forms import REQUIRED, BaseForm, max_chars


class DepartmentForm(BaseForm):
    name = StringField("担当課の名前", validators=[DataRequired(REQUIRED), max_chars(100)],
                       render_kw={"autocomplete": "off"})


class DepartmentInviteForm(BaseForm):
    display_name = StringField("お名前", validators=[DataRequired(REQUIRED), max_chars(100)],
                               render_kw={"autocomplete": "off"})
    email = EmailField(
        "メールアドレス",
        validators=[DataRequired(REQUIRED), Length(max=254, message="254文字以内で入力してください。"), email_format],
        filters=[lambda v: normalize_email(v) if isinstance(v, str) else v],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )


def _text(label: str, limit: int = TEXT_MAX, rows: int = 4) -> TextAreaField:
    return TextAreaField(label, validators=[max_chars(limit)], render_kw={"rows": rows})


class AgreementForm(BaseForm):
    """Every field is checked by the domain too (``problems_of``); the form
    keeps what was typed, a bad date or amount included."""

    title = StringField("事業名", validators=[max_chars(TITLE_MAX)])
    purpose = _text("目的")
    period_start = DateField("協定期間の開始日", validators=[Optional()], render_kw={"placeholder": "2027-04-01"})
    period_end = DateField("協定期間の終了日", validators=[Optional()], render_kw={"placeholder": "2028-03-31"})
    city_roles = _text("市（甲）の役割", rows=6)
    group_roles = _text("団体（乙）の役割", rows=6)
    city_amount = StringField("市の負担額（円）", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    cost_sharing = _text("経費の負担")
    conditions = _text("採択の条件（条件付き採択の場合）")
    information_sharing = _text("情報の共有")
    publicity = _text("公開の原則")
    changes = _text("変更及び解除")

    def validate_city_amount(self, field):
        value = parse_yen(field.data)
        if value is None or value < 0:
            raise ValidationError("市の負担額を0円以上の金額で入力してください（例: 300000）。")
        self.amount_yen = value
