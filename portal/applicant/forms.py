from __future__ import annotations

import re
from datetime import date

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.forms import email_format
from ..domain.normalize import (
    ascii_digits,
    is_furigana,
    normalize_email,
    normalize_phone,
    normalize_postal_code,
    normalize_text,
)
from ..forms import BaseForm, choice, max_chars
from ..models import ACTIVITY_FIELDS, GROUP_KIND_LABELS


def _choice_value(item) -> str:
    return item.value if hasattr(item, "value") else item[0]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = {_choice_value(item) for item in self.choices}
        self.data = [value for value in (self.data or []) if value in allowed]


def furigana(form, field):
    if field.data and not is_furigana(field.data):
        raise ValidationError("ひらがな又はカタカナで入力してください。")


def normalised_by(normalise, message: str):
    """A validator that stores the normalised form of what was typed, or
    refuses with ``message`` when there is none."""
    def validator(form, field):
        if field.data:
            normalised = normalise(field.data)
            if normalised is None:
                raise ValidationError(message)
            field.data = normalised
    return validator


postal_code = normalised_by(normalize_postal_code, "郵便番号は7桁の数字で入力してください（例: 123-4567）。")
phone = normalised_by(normalize_phone, "電話番号は0から始まる10桁又は11桁で入力してください（例: 0123-45-6789）。")


def optional_email(form, field):
    if field.data:
        field.data = normalize_email(field.data)
        email_format(form, field)


def website(form, field):
    if field.data and not (field.data.startswith("https://") or field.data.startswith("http://")):
        raise ValidationError("ウェブサイトは https:// から始まるURLで入力してください。")


def not_in_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError("設立年月日に未来の日付は入力できません。")


DATE_MESSAGE = "日付を「2015-04-01」の形で入力してください。"
_DATE_RE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?")
_INTEGER_RE = re.compile(r"-?[0-9]+")


class JaDateField(DateField):
    """A date typed as 2015-04-01, 2015/4/1, ２０１５－０４－０１ or 2015年4月1日."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = ascii_digits(" ".join(v for v in valuelist if isinstance(v, str)))
        self.data = None
        if not raw:
            return  # blank: Optional() decides whether that is allowed
        match = _DATE_RE.fullmatch(raw.replace(" ", ""))
        try:
            parsed = date(*(int(part) for part in match.groups())) if match else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.year < 1800:
            raise ValueError(DATE_MESSAGE)
        self.data = parsed

    def pre_validate(self, form):
        # An unreadable date has its message already; NumberRange-style
        # validators must not add a second one about the empty value.
        if self.process_errors:
            raise StopValidation()


class JaIntegerField(IntegerField):
    """Whole numbers; 全角 digits, thousands separators and a trailing 人 are accepted."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0] if isinstance(valuelist[0], str) else ""
        raw = ascii_digits(raw).replace(",", "").replace("，", "").replace("人", "").replace(" ", "")
        self.data = None
        if not raw:
            return
        if not _INTEGER_RE.fullmatch(raw) or len(raw) > 12:
            raise ValueError("数字で入力してください（例: 12）。")
        value = int(raw)
        if abs(value) > 10**9:
            raise ValueError("数が大きすぎます。")
        self.data = value

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


MAX_OFFICERS = 50
MAX_OFFICER_CHARS = 100


class LinesField(TextAreaField):
    """A list of strings typed one per line (empty lines dropped)."""

    def process_formdata(self, valuelist):
        if valuelist:
            raw = valuelist[0] if isinstance(valuelist[0], str) else ""
            self.data = [line for line in (normalize_text(part) for part in raw.splitlines()) if line]

    def process_data(self, value):
        self.data = [str(v) for v in value if v] if isinstance(value, list | tuple) else []

    def _value(self):
        return "\n".join(self.data or [])


def officer_lines(form, field):
    if len(field.data or []) > MAX_OFFICERS:
        raise ValidationError(f"役員は{MAX_OFFICERS}人まで入力できます（現在{len(field.data)}人）。")
    too_long = [name for name in field.data or [] if len(name) > MAX_OFFICER_CHARS]
    if too_long:
        raise ValidationError(f"1行に1人の氏名を入力してください（{MAX_OFFICER_CHARS}字を超える行があります）。")


def short_lines(form, field):
    if len(field.data or []) > MAX_OFFICERS:
        raise ValidationError(f"{MAX_OFFICERS}行まで入力できます（現在{len(field.data)}行）。")
    if any(len(line) > MAX_OFFICER_CHARS for line in field.data or []):
        raise ValidationError(f"1行に1つ、{MAX_OFFICER_CHARS}字以内で入力してください。")


class GroupProfileForm(BaseForm):
    name = StringField("団体名", validators=[max_chars(120)])
    name_kana = StringField("団体名（ふりがな）", validators=[max_chars(200), furigana])
    kind = SelectField(
        "団体の種類",
        choices=[choice("", "選んでください")] + [choice(k.value, label) for k, label in GROUP_KIND_LABELS.items()],
        validate_choice=True,
    )
    representative_title = StringField("代表者の役職", validators=[max_chars(50)])
    representative_name = StringField("代表者氏名", validators=[max_chars(100)], render_kw={"autocomplete": "name"})
    contact_name = StringField("連絡担当者氏名", validators=[max_chars(100)])
    contact_email = EmailField("連絡用メールアドレス", validators=[max_chars(254), optional_email],
                               render_kw={"autocomplete": "email", "inputmode": "email"})
    postal_code = StringField("郵便番号", validators=[max_chars(10), postal_code],
                              render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    address = StringField("所在地", validators=[max_chars(300)], render_kw={"autocomplete": "street-address"})
    phone = StringField("電話番号", validators=[max_chars(20), phone],
                        render_kw={"autocomplete": "tel", "inputmode": "tel", "type": "tel"})
    founded_on = JaDateField("設立年月日", validators=[Optional(), not_in_future], format="%Y-%m-%d",
                           render_kw={"type": "date"})
    member_count = JaIntegerField(
        "会員数（人）",
        validators=[Optional(), NumberRange(min=1, max=1_000_000, message="1以上の人数を入力してください。")],
        # A text box, not type=number: a number box refuses 全角 digits and
        # "12人", which the server accepts and normalises.
        render_kw={"inputmode": "numeric", "type": "text"},
    )
    activity_fields = MultiCheckboxField("活動分野（複数選択可）", choices=[choice(f, f) for f in ACTIVITY_FIELDS])
    activity_record = TextAreaField("活動実績", validators=[max_chars(2000)])
    website = StringField("ウェブサイト", validators=[max_chars(300), website], render_kw={"inputmode": "url"})
    based_in_city = BooleanField("市内に活動拠点があります")
    officer_names = LinesField("役員の氏名（1行に1人）", validators=[officer_lines])
    # Read only by the anonymisation scan (reviewers never see them).
    aliases = LinesField("通称・略称（1行に1つ）", validators=[short_lines])
    activity_bases = LinesField("活動拠点の施設名（1行に1つ）", validators=[short_lines])
