"""Forms of the reviewer's pages.

The score sheet has one radio group and one reason per criterion of the
call, so its per-criterion fields are read by :func:`parse_sheet` (field
names ``score-<criterion id>`` and ``reason-<criterion id>``); the fixed
fields and the CSRF token go through flask-wtf forms as everywhere else.
Anything no page of ours can send (a criterion of another call, a score
that is not a number, the same field twice) is refused, never guessed at.
"""
from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from ..domain.normalize import normalize_text
from ..domain.panel.conflict_declaration import CONFLICT_NOTE_MAX
from ..domain.scoring.scoring import ScoreInput, ScoringInvalid, SheetInput
from ..forms import BaseForm
from ..models import Criterion

_SCORE_VALUE = re.compile(r"-?[0-9]{1,4}")
_FIELD = re.compile(r"(score|reason)-(.*)", re.S)


class ActionForm(BaseForm):
    """Just the CSRF token (利害関係なしの確認)."""


class ConflictForm(BaseForm):
    note = TextAreaField(
        "申告の内容（任意）",
        validators=[Length(max=CONFLICT_NOTE_MAX, message=f"{CONFLICT_NOTE_MAX}字以内で入力してください。")],
        render_kw={"rows": 4},
    )


class SheetForm(BaseForm):
    """The fixed part of a score sheet; ``sheet`` says which sheet the page
    showed ("new" before the first save)."""

    sheet = HiddenField()
    comment_for_group = TextAreaField("講評の候補（団体に伝える講評の案）")
    panel_note = TextAreaField("委員会へのメモ（委員と事務局だけが読みます）")


class SubmitForm(BaseForm):
    """The confirmation step: the sheet and the version the reviewer saw."""

    sheet = HiddenField()
    version = HiddenField()


def sheet_marker(sheet) -> str:
    return str(sheet.id) if sheet is not None else "new"


def parse_sheet(formdata: MultiDict, criteria: list[Criterion], form: SheetForm) -> SheetInput:
    """What was typed, per criterion id; raises ``ScoringInvalid`` for
    a field no form of ours sends. Scale checks are the domain's."""
    known = {c.id for c in criteria}
    for key in formdata.keys():
        match = _FIELD.fullmatch(key)
        if match is None:
            continue
        raw_id = match.group(2)
        if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10) or int(raw_id) not in known:
            raise ScoringInvalid("この募集の審査基準ではない項目が送信されました。画面を再読み込みしてから入力してください。")
        if len(formdata.getlist(key)) > 1:
            raise ScoringInvalid("同じ項目が二重に送信されました。画面を再読み込みしてから入力してください。")
    scores = {}
    for criterion in criteria:
        raw = formdata.get(f"score-{criterion.id}", "")
        score = None
        if raw != "":
            if not _SCORE_VALUE.fullmatch(raw):
                raise ScoringInvalid(f"「{criterion.name}」の点数の値が正しくありません。一覧から選んでください。")
            score = int(raw)
        scores[criterion.id] = ScoreInput(score, normalize_text(formdata.get(f"reason-{criterion.id}")))
    return SheetInput(scores=scores, comment_for_group=form.comment_for_group.data or "",
                      panel_note=form.panel_note.data or "")
