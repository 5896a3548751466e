"""Text boxes read on the server: whole numbers, decimals, yen and Tokyo
wall-clock times typed the way people type them (全角 digits, commas, 円,
年月日), each keeping what was typed and giving one message when it cannot
be read; and checkboxes for a multiple choice.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from wtforms import SelectMultipleField, StringField
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain.calls.call_settings import number_text
from ..domain.normalize import ascii_digits, parse_yen
from ..domain.timeutil import JST, to_jst
from ..forms import REQUIRED


def present(form, field):
    if field.data is None or field.data == "":
        raise StopValidation(REQUIRED)


class ParsedField(StringField):
    """A text box read on the server; a value that cannot be read keeps
    what was typed and gets one message."""

    def parse(self, text: str):
        """The value of ``text``, or None when it cannot be read. Abstract:
        IntText, DecimalText, YenText and JstDateTimeField define it."""
        raise NotImplementedError

    def format(self, value) -> str:
        return str(value)

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        raw = valuelist[0] if isinstance(valuelist[0], str) else ""
        text = ascii_digits(raw).replace(" ", "").replace("\u3000", "")
        if text:
            self.data = self.parse(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.format(self.data)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


_INT_RE = re.compile(r"-?[0-9]{1,9}")
_DECIMAL_RE = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,6})?")


class IntText(ParsedField):
    def parse(self, text):
        text = text.replace(",", "").rstrip("人日年字桁")
        if not _INT_RE.fullmatch(text):
            raise ValueError("半角の整数で入力してください（例: 5）。")
        return int(text)


class DecimalText(ParsedField):
    def parse(self, text):
        text = text.replace(",", "").rstrip("%点")
        if not _DECIMAL_RE.fullmatch(text):
            raise ValueError("数で入力してください（例: 2、1.5）。")
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern already refuses these
            raise ValueError("数で入力してください（例: 2、1.5）。") from None

    def format(self, value):
        return number_text(value)


class YenText(ParsedField):
    def parse(self, text):
        amount = parse_yen(text)
        if amount is None:
            raise ValueError("金額は0以上の整数（円）で入力してください（例: 300000）。")
        return amount


_DATETIME_RE = re.compile(
    r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?(?:T|\s)*(?:([0-9]{1,2})[:時]([0-9]{1,2})分?(?::[0-9]{1,2})?)?"
)


class JstDateTimeField(ParsedField):
    """A Tokyo wall-clock time (2026-06-30 17:00), stored as UTC."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "datetime-local", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def parse(self, text):
        match = _DATETIME_RE.fullmatch(text)
        if not match:
            raise ValueError("日時を「2026-06-30 17:00」の形で入力してください（日本時間）。")
        year, month, day, hour, minute = match.groups()
        if hour is None:
            raise ValueError("時刻も入力してください（例: 2026-06-30 17:00）。")
        try:
            local = datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=JST)
        except ValueError:
            raise ValueError("存在しない日時です。日付と時刻を確認してください。") from None
        if not 2000 <= local.year <= 2100:
            raise ValueError("2000年から2100年までの日時を入力してください。")
        return local.astimezone(UTC)

    def format(self, value):
        return to_jst(value).strftime("%Y-%m-%dT%H:%M")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
