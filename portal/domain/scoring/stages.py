"""A call's scoring stages and their windows: which stages it has, and
whether (and why not) a stage can be scored at a given time.

Stages (``Stage``):
- ``document``: 一次審査（書類）, in ``scoring_opens_at .. scoring_closes_at``;
- ``presentation``: 二次審査（公開プレゼンテーション）, when the call has one,
  in ``presentation_opens_at .. presentation_closes_at``;
- ``document_revised``: the submitted first-stage scores, copied so the
  reviewer may revise them after the presentation (when the call allows);
  the original ``document`` sheet stays as it was, so both are kept.
"""
from __future__ import annotations

from datetime import datetime

from ...models import Call, Stage
from ..timeutil import format_jst


def stages_of(call: Call) -> list[Stage]:
    stages = [Stage.DOCUMENT]
    if call.has_presentation:
        stages.append(Stage.PRESENTATION)
        if call.allow_revision_after_presentation:
            stages.append(Stage.DOCUMENT_REVISED)
    return stages


def window_text(call: Call, stage: Stage) -> str:
    opens, closes = call.scoring_window(stage.value)
    if opens is None or closes is None:
        return "採点期間は未定です"
    return f"{format_jst(opens)} ～ {format_jst(closes)}"


def scoring_open(call: Call, stage: Stage, now: datetime) -> bool:
    """Inside the stage's window and not yet closed by the secretariat
    (採点の締切, which may come before the window ends)."""
    closed = call.scoring_closed_at is not None and now >= call.scoring_closed_at
    return call.is_scoring_open(stage.value, now) and not closed


def window_refusal(call: Call, stage: Stage, now: datetime) -> str | None:
    if call.scoring_closed_at is not None and now >= call.scoring_closed_at:
        return f"採点は締め切られています（{format_jst(call.scoring_closed_at)}）。"
    if call.is_scoring_open(stage.value, now):
        return None
    opens, closes = call.scoring_window(stage.value)
    if opens is None or closes is None:
        return f"{stage.label}の採点期間はまだ決まっていません。"
    if now < opens:
        return f"{stage.label}の採点期間はまだ始まっていません（採点期間：{window_text(call, stage)}）。"
    return f"{stage.label}の採点期間は終了しました（採点期間：{window_text(call, stage)}）。"
