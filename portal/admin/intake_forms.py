"""Forms of the secretariat's intake, 担当課所見 and anonymisation pages."""
from __future__ import annotations

from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired

from ..domain.intake.intake import REASON_CATEGORIES
from ..forms import REQUIRED, BaseForm, choice, max_chars
from ..models import FEASIBILITY_LABELS, IntakeOutcome


class IntakeDecisionForm(BaseForm):
    outcome = RadioField(
        "受付の判断",
        choices=[choice(o.value, o.label) for o in IntakeOutcome],
        validators=[InputRequired(message="受理・差し戻し・不受理のいずれかを選んでください。")],
    )
    reason_category = SelectField(
        "公表する理由の区分",
        choices=[choice(key, label) for key, label in REASON_CATEGORIES.items()],
        default="formal",
    )
    reasons = TextAreaField("団体に伝える理由", validators=[max_chars(2000)])

    def validate_reasons(self, field):
        if self.outcome.data in (IntakeOutcome.RETURN.value, IntakeOutcome.REJECT.value) and not field.data:
            label = IntakeOutcome(self.outcome.data).label
            raise ValidationError(f"{label}の理由を入力してください。理由は団体に通知されます。")


class DepartmentOpinionForm(BaseForm):
    department = StringField("担当課", validators=[InputRequired(message=REQUIRED), max_chars(100)])
    feasibility = RadioField(
        "実施の可能性",
        choices=[choice(key, label) for key, label in FEASIBILITY_LABELS.items()],
        validators=[InputRequired(message="実施の可能性を選んでください。")],
    )
    opinion = TextAreaField("所見", validators=[max_chars(2000)])


class ExtraTermForm(BaseForm):
    term = StringField("追加で伏せる語句", validators=[InputRequired(message=REQUIRED), max_chars(100)])
    scope = RadioField(
        "対象",
        choices=[choice("proposal", "この提案だけ"), choice("call", "この募集のすべての提案")],
        default="proposal",
        validators=[InputRequired(message="対象を選んでください。")],
    )


class ManualRedactionForm(BaseForm):
    location = SelectField("伏せる箇所", choices=[], validate_choice=True)
    text = TextAreaField("伏せる文字列（本文のとおり）", validators=[InputRequired(message=REQUIRED), max_chars(500)])

    def __init__(self, *args, locations: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.location.choices = [choice(value, label) for value, label in locations]


class FindingDecisionForm(BaseForm):
    decision = HiddenField()


class AttachmentSettingForm(BaseForm):
    excluded = BooleanField("審査委員に渡さない（除外する）")
    checked_by_eye = BooleanField("目視で確認済み（団体を特定できる記載はない）")


class ReleaseForm(BaseForm):
    """Which proposals to release: the checked ``proposal_id`` values, read by the route."""
