"""Forms of the 審査会 pages: chair's notes, minutes, the 二次審査 slots."""
from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from ..domain.meeting import minutes, view
from ..forms import BaseForm, REQUIRED, max_chars
from .parsed_fields import JstDateTimeField, MultiCheckboxField, present


class NoteForm(BaseForm):
    note = TextAreaField("議長のメモ（事務局と議長だけが読みます。公開しません）",
                         validators=[max_chars(view.NOTE_MAX)])


class MeetingForm(BaseForm):
    held_at = JstDateTimeField("開催日時（日本時間）", validators=[present])
    place = StringField("場所", validators=[max_chars(minutes.PLACE_MAX)])
    attendee_ids = MultiCheckboxField("出席した委員", coerce=int, validate_choice=False)
    other_attendees = TextAreaField("その他の出席者（役職のみ。例：事務局（市民協働課））",
                                    validators=[max_chars(1000)])
    agenda = TextAreaField("議題（公開）", validators=[max_chars(minutes.TEXT_MAX)])
    discussion = TextAreaField("審議の概要（公開）", validators=[max_chars(minutes.TEXT_MAX)])
    decisions = TextAreaField("決定事項（公開）", validators=[max_chars(minutes.TEXT_MAX)])
    closed_notes = TextAreaField("非公開の記録（公開しません）", validators=[max_chars(minutes.TEXT_MAX)])

    def chosen_members(self, allowed: set[int]) -> list[int]:
        """Only members of this call's panel; anything else sent is dropped."""
        return sorted({i for i in (self.attendee_ids.data or []) if i in allowed})


class SlotForm(BaseForm):
    proposal_id = SelectField("提案コード", coerce=int, validators=[InputRequired(message=REQUIRED)])
    starts_at = JstDateTimeField("開始（日本時間）", validators=[present])
    ends_at = JstDateTimeField("終了（日本時間）", validators=[present])
    room = StringField("会場", validators=[max_chars(100)])


class SchedulePublishForm(BaseForm):
    note = TextAreaField("公開ページに載せる案内（任意。会場・傍聴の案内など）", validators=[max_chars(1000)])


class ConfirmForm(BaseForm):
    """A button that only needs its CSRF token."""
