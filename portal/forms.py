"""Form base: every string is NFC-normalised and stripped; messages in Japanese."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import ValidationError

from .domain.normalize import normalize_text


def _normalise(value):
    return normalize_text(value) if isinstance(value, str) else value


class BaseForm(FlaskForm):
    class Meta:
        locales = ["ja_JP", "ja"]

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
