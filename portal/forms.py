"""Form base: every string is NFC-normalised and stripped; messages in Japanese."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import ValidationError
from wtforms.i18n import get_translations

from .domain.normalize import normalize_text


try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms.fields.choices import SelectChoice

    def choice(value: str, label: str):
        return SelectChoice(value=value, label=label)
except ImportError:  # pragma: no cover - older WTForms
    def choice(value: str, label: str):
        return (value, label)


def _normalise(value):
    return normalize_text(value) if isinstance(value, str) else value


class JapaneseMessages:
    """WTForms' built-in messages in plain Japanese.

    Flask-WTF only translates through Flask-Babel, which the portal does not
    use, so without this a bad choice would say "Not a valid choice.". Our
    own wording first, then WTForms' ja catalogue for anything else.
    """

    OWN = {
        "Not a valid choice.": "一覧から選んでください。",
        "Not a valid date value.": "日付を「2015-04-01」の形で入力してください。",
        "Not a valid integer value.": "数字で入力してください（例: 12）。",
        "Not a valid decimal value.": "数字で入力してください。",
        "Not a valid float value.": "数字で入力してください。",
        "This field is required.": "必須項目です。入力してください。",
        "Invalid Choice: could not coerce.": "一覧から選んでください。",
        "Choices cannot be None.": "一覧から選んでください。",
        "'%(value)s' is not a valid choice for this field.": "一覧にない値が選ばれています。",
        "'%(value)s' are not valid choices for this field.": "一覧にない値が選ばれています。",
        "The CSRF token is missing.": "画面の有効期限が切れました。ページを再読み込みしてからもう一度送信してください。",
        "The CSRF token has expired.": "画面の有効期限が切れました。ページを再読み込みしてからもう一度送信してください。",
        "The CSRF token is invalid.": "画面の有効期限が切れました。ページを再読み込みしてからもう一度送信してください。",
        "The CSRF tokens do not match.": "画面の有効期限が切れました。ページを再読み込みしてからもう一度送信してください。",
        "Invalid CSRF token.": "画面の有効期限が切れました。ページを再読み込みしてからもう一度送信してください。",
    }

    def __init__(self):
        self._catalogue = get_translations(["ja_JP", "ja"])

    def gettext(self, string: str) -> str:
        return self.OWN.get(string) or self._catalogue.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.OWN.get(singular) or self._catalogue.ngettext(singular, plural, n)


JAPANESE_MESSAGES = JapaneseMessages()


class BaseForm(FlaskForm):
    class Meta:
        locales = ["ja_JP", "ja"]

        def get_translations(self, form):
            return JAPANESE_MESSAGES

        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            filters = [_normalise, *filters]
            return unbound_field.bind(form=form, filters=filters, **options)

    def error_list(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) for the summary at the top of a form."""
        items = []
        for field in self:
            for message in field.errors if isinstance(field.errors, list) else []:
                if isinstance(message, str):
                    items.append((field.id, field.label.text, message))
        return items


REQUIRED = "必須項目です。入力してください。"


def max_chars(limit: int):
    def check(form, field):
        if field.data and len(field.data) > limit:
            raise ValidationError(f"{limit}字以内で入力してください（現在{len(field.data)}字）。")

    return check
