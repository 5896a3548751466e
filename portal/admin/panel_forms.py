"""Forms of the panel (審査委員会) and progress pages. Choices are filled by
the route from the call's own members and proposals, so an id from another
call is refused as "not in the list"."""
from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired

from ..domain.panel import panel
from ..domain.panel.conflict_check import NOTE_LIMIT, REASON_LIMIT
from ..domain.scoring.scoring import REOPEN_REASON_MAX
from ..forms import REQUIRED, BaseForm, max_chars


def _required(form, field):
    if not (field.data or "").strip():
        raise ValidationError(REQUIRED)


def _affiliations(form, field):
    lines = panel.clean_affiliations((field.data or "").splitlines())
    problem = panel.affiliation_problem(lines)
    if problem:
        raise ValidationError(problem)


class MemberFields(BaseForm):
    affiliations = TextAreaField(
        "所属団体・役職（1行に1団体）", validators=[_affiliations],
        render_kw={"rows": 4})
    public_title = StringField("公表用の肩書（任意）", validators=[max_chars(panel.PUBLIC_TITLE_LIMIT)],
                               render_kw={"maxlength": panel.PUBLIC_TITLE_LIMIT})

    def affiliation_list(self) -> list[str]:
        return panel.clean_affiliations((self.affiliations.data or "").splitlines())


class AddMemberForm(MemberFields):
    user_id = SelectField("審査委員のアカウント", choices=[], validators=[InputRequired(REQUIRED)])


class EditMemberForm(MemberFields):
    pass


class DismissForm(BaseForm):
    note = StringField("却下の理由（短く）", validators=[_required, max_chars(NOTE_LIMIT)],
                       render_kw={"maxlength": NOTE_LIMIT})


class StaffConflictForm(BaseForm):
    member_id = SelectField("審査委員", choices=[], validators=[InputRequired(REQUIRED)])
    proposal_id = SelectField("提案", choices=[], validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("利害関係の内容", validators=[_required, max_chars(REASON_LIMIT)],
                           render_kw={"rows": 3})


class ReminderForm(BaseForm):
    stage = SelectField("審査段階", choices=[], validators=[InputRequired(REQUIRED)])


class ReopenForm(BaseForm):
    reason = TextAreaField("再開の理由（公開の記録に載ります）",
                           validators=[_required, max_chars(REOPEN_REASON_MAX)], render_kw={"rows": 3})


class CloseScoringForm(BaseForm):
    early = BooleanField("採点期間の終了前に締め切ることを確認しました")
