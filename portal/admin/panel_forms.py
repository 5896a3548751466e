"""Forms of the panel (審査委員会) and progress pages. Choices are filled by
the route from the call's own members and proposals, so an id from another
call is refused as "not in the list"."""
from __future__ import annotations

import unicodedata

from wtforms import BooleanField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired

from ..domain.panel import panel
from ..domain.panel.assignment import WITHDRAWAL_REASON_LIMIT
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


def _digits(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _whole_number(form, field):
    """k as typed (全角 digits too); checked against the panel size by the
    domain, which knows it."""
    text = _digits(field.data)
    if text and not (text.isascii() and text.isdigit() and len(text) < 4):
        raise ValidationError("人数は半角または全角の数字（整数）で入力してください。")


class AssignmentModeForm(BaseForm):
    mode = SelectField("割当の方法", choices=[], validators=[InputRequired(REQUIRED)])
    k = StringField("提案ごとの委員の人数（k人のとき）", validators=[_whole_number],
                    render_kw={"inputmode": "numeric", "maxlength": 3})

    def k_value(self) -> int | None:
        text = _digits(self.k.data)
        return int(text) if text else None


class SwapForm(BaseForm):
    proposal_id = SelectField("提案", choices=[], validators=[InputRequired(REQUIRED)])
    from_member_id = SelectField("いまの担当委員", choices=[], validators=[InputRequired(REQUIRED)])
    to_member_id = SelectField("新しい担当委員", choices=[], validators=[InputRequired(REQUIRED)])


class WithdrawForm(BaseForm):
    reason = TextAreaField("辞退の理由（任意・事務局の記録のみ。公開しません）",
                           validators=[max_chars(WITHDRAWAL_REASON_LIMIT)], render_kw={"rows": 3})
    confirm = BooleanField("この委員の辞退を記録し、未了の提案をほかの委員に割り当てなおすことを確認しました")
