from __future__ import annotations

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
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.forms import email_format
from ..domain.normalize import is_furigana, normalize_email, normalize_phone, normalize_postal_code
from ..forms import BaseForm, max_chars
from ..models import ACTIVITY_FIELDS, GROUP_KIND_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = {value for value, _ in self.choices}
        self.data = [value for value in (self.data or []) if value in allowed]


def furigana(form, field):
    if field.data and not is_furigana(field.data):
        raise ValidationError("ひらがな又はカタカナで入力してください。")


def postal_code(form, field):
    if field.data:
        normalised = normalize_postal_code(field.data)
        if normalised is None:
            raise ValidationError("郵便番号は7桁の数字で入力してください（例: 123-4567）。")
        field.data = normalised


def phone(form, field):
    if field.data:
        normalised = normalize_phone(field.data)
        if normalised is None:
            raise ValidationError("電話番号は0から始まる10桁又は11桁で入力してください（例: 0123-45-6789）。")
        field.data = normalised


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


class JaDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(DATE_MESSAGE) from None


class JaIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].replace(",", "").replace("人", "").strip()]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("半角数字で入力してください。") from None
        if self.data is not None and abs(self.data) > 10**9:
            self.data = None
            raise ValueError("数が大きすぎます。")


class GroupProfileForm(BaseForm):
    name = StringField("団体名", validators=[max_chars(120)])
    name_kana = StringField("団体名（ふりがな）", validators=[max_chars(200), furigana])
    kind = SelectField(
        "団体の種類",
        choices=[("", "選んでください")] + [(k.value, label) for k, label in GROUP_KIND_LABELS.items()],
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
        render_kw={"inputmode": "numeric"},
    )
    activity_fields = MultiCheckboxField("活動分野（複数選択可）", choices=[(f, f) for f in ACTIVITY_FIELDS])
    activity_record = TextAreaField("活動実績", validators=[max_chars(2000)])
    website = StringField("ウェブサイト", validators=[max_chars(300), website], render_kw={"inputmode": "url"})
    based_in_city = BooleanField("市内に活動拠点があります")
