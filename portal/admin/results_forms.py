"""Forms of the secretariat's results page: decisions, 総評, publication."""
from __future__ import annotations

from datetime import UTC, datetime

from wtforms import DateTimeLocalField, HiddenField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Optional

from ..domain.results import decisions
from ..domain.timeutil import JST
from ..forms import BaseForm, choice, max_chars
from ..models import DecisionOutcome


class DecisionForm(BaseForm):
    outcome = RadioField(
        "決定",
        choices=[choice(o.value, o.label) for o in DecisionOutcome],
        validators=[InputRequired(message="採択・条件付き採択・不採択のいずれかを選んでください。")],
    )
    reason = TextAreaField("決定の理由（公表します）", validators=[max_chars(decisions.REASON_MAX)])
    conditions = TextAreaField("採択の条件（条件付き採択のとき）", validators=[max_chars(decisions.CONDITIONS_MAX)])
    review_comment = TextAreaField("講評（公表します）", validators=[max_chars(decisions.COMMENT_MAX)])


class FinaliseForm(BaseForm):
    basis = TextAreaField("決定の根拠（公開の記録に載ります）", default=decisions.DEFAULT_BASIS,
                          validators=[max_chars(decisions.BASIS_MAX)])


class GeneralCommentForm(BaseForm):
    general_comment = TextAreaField("総評（公表します）", validators=[max_chars(4000)])


class ScheduleForm(BaseForm):
    scheduled_at = DateTimeLocalField("公表する日時（日本時間）", format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])

    def scheduled_utc(self) -> datetime | None:
        value = self.scheduled_at.data
        return None if value is None else value.replace(tzinfo=JST).astimezone(UTC)


class PublishForm(BaseForm):
    reason = TextAreaField("訂正の理由（公開の記録に載ります）", validators=[max_chars(500)])
    # The latest version the page showed (0: not yet published), so that a
    # second click publishes nothing more (publication.publish).
    version = HiddenField()

    def expected_version(self) -> int | None:
        data = (self.version.data or "").strip()
        return int(data) if data.isascii() and data.isdigit() and len(data) < 6 else None
