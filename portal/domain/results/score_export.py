"""The secretariat's papers for the 審査会 before publication: every
submitted score sheet (by pseudonym and anonymous code only) and the
computed ranking, as an ``.xlsx`` workbook (one worksheet per stage, values
and never formulas) and as CSV.

A text cell that a spreadsheet would run (``= + - @``, a tab or a carriage
return first) is neutralised with the results CSV's own
``spreadsheet_text``; figures stay numbers. Group names and titles are left
out: the committee judges the anonymous proposals. Plain Python over the
models: no Flask; a fixed number of queries whatever the size of the call.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Assignment, Call, PanelMember, Proposal, ReviewScore, ReviewSheet, SheetStatus
from ..scoring.stages import stages_of
from ..timeutil import format_jst
from . import results
from .aggregation import AggregationError, code_order
from .results_document import spreadsheet_text

SHEET_HEADER = ["段階", "委員", "提案コード", "審査項目番号", "審査項目", "点数", "段階の説明", "理由", "提出日時", "集計"]
RANKING_TITLE = "順位"
COUNTED = "集計に使用"
NOT_COUNTED = "集計に使わない"


@dataclass(frozen=True)
class SheetLine:
    """One criterion of one submitted sheet."""

    stage_label: str
    pseudonym: str
    code: str
    position: int  # 1-based, as people count
    criterion: str
    score: int
    descriptor: str
    reason: str
    submitted_at: datetime | None
    counted: bool

    def values(self) -> list:
        return [self.stage_label, self.pseudonym, self.code, self.position, self.criterion, self.score,
                self.descriptor, self.reason, format_jst(self.submitted_at) if self.submitted_at else "",
                COUNTED if self.counted else NOT_COUNTED]


@dataclass
class Export:
    call: Call
    stages: list[tuple[str, list[SheetLine]]]  # (stage label, lines), in the call's stage order
    ranking_header: list[str]
    ranking: list[list]
    ranking_error: str | None


def build(session: Session, call: Call) -> Export:
    """Every submitted sheet of the call, by stage, and the ranking."""
    criteria = {c.id: c for c in call.criteria}
    rows = session.execute(
        select(ReviewSheet, PanelMember.pseudonym, Proposal.anonymous_code)
        .join(Assignment, Assignment.id == ReviewSheet.assignment_id)
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(Proposal.call_id == call.id, ReviewSheet.status == SheetStatus.SUBMITTED)
        .order_by(ReviewSheet.id)).all()
    scores: dict[int, list[ReviewScore]] = {}
    if rows:
        for score in session.scalars(
                select(ReviewScore).join(ReviewSheet, ReviewSheet.id == ReviewScore.sheet_id)
                .join(Assignment, Assignment.id == ReviewSheet.assignment_id)
                .join(Proposal, Proposal.id == Assignment.proposal_id)
                .where(Proposal.call_id == call.id, ReviewSheet.status == SheetStatus.SUBMITTED)
                .order_by(ReviewScore.id)):
            scores.setdefault(score.sheet_id, []).append(score)
    try:
        computed = results.compute_all(session, call)
        error = None
    except AggregationError as refused:
        computed, error = None, refused.message
    counted_ids = {sheet.id for sheet in computed.inputs.sheet_rows.values()} if computed else set()

    by_stage: dict = {stage: [] for stage in stages_of(call)}
    for sheet, pseudonym, code in rows:
        lines = by_stage.setdefault(sheet.stage, [])
        for score in sorted(scores.get(sheet.id, []), key=lambda s: criteria[s.criterion_id].position):
            criterion = criteria[score.criterion_id]
            lines.append(SheetLine(
                sheet.stage.label, pseudonym, code or "", criterion.position + 1, criterion.name, score.score,
                (criterion.level_descriptors or {}).get(str(score.score), ""), score.reason or "",
                sheet.submitted_at, sheet.id in counted_ids))
    stages = []
    for stage, lines in by_stage.items():
        lines.sort(key=lambda line: (code_order(line.code), line.pseudonym, line.position))
        stages.append((stage.label, lines))
    header, ranking = _ranking(call, computed)
    return Export(call, stages, header, ranking, error)


def _ranking(call: Call, computed: results.CallResults | None) -> tuple[list[str], list[list]]:
    names = [c.name for c in call.criteria]
    header = ["順位", "提案コード", *[f"{name}（平均）" for name in names], "得点", "満点に対する割合",
              "採点した委員", "必要な採点票", "利害関係で除いた委員", "要望額（円）", "推薦", "推薦しない理由"]
    if computed is None:
        return header, []
    rows = []
    for row in computed.result.proposals:
        means = [row.criterion_means.get(c.key) for c in computed.result.criteria]
        rows.append([row.rank, row.code, *means, row.score, row.share_of_max, row.scorer_count, row.min_scorers,
                     row.conflicted_count, row.requested_amount, "推薦" if row.recommended else "推薦なし",
                     "、".join(results.reason_labels(row.reasons))])
    return header, rows


# ---------------------------------------------------------------- files

def _cell(value):
    """Numbers stay numbers; text is neutralised; nothing is a formula."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int | Decimal):
        return value
    return spreadsheet_text(value)


def _sheet_title(label: str, used: set[str]) -> str:
    # Excel's limits: 31 characters, none of []:*?/\ ; unique in the workbook.
    title = "".join("・" if ch in "[]:*?/\\" else ch for ch in label)[:31]
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}({n})"
        n += 1
    used.add(title)
    return title


def xlsx_bytes(export: Export) -> bytes:
    book = Workbook()
    used: set[str] = set()
    first = True
    for label, lines in export.stages:
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = _sheet_title(label, used)
        _write(sheet, SHEET_HEADER, [line.values() for line in lines])
    ranking = book.create_sheet()
    ranking.title = _sheet_title(RANKING_TITLE, used)
    body = export.ranking if export.ranking_error is None else [[f"集計できません：{export.ranking_error}"]]
    _write(ranking, export.ranking_header, body)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write(sheet, header: list[str], rows: list[list]) -> None:
    sheet.append([_cell(v) for v in header])
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # stored as text, never read as a formula
    sheet.freeze_panes = "A2"


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(v) for v in header])
    for row in rows:
        writer.writerow(["" if v is None else (format(v, "f") if isinstance(v, Decimal) else _cell(v))
                         for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheets_csv(export: Export) -> bytes:
    """Every stage's lines in one table (UTF-8 with a BOM, as Excel opens it)."""
    return _csv(SHEET_HEADER, [line.values() for _label, lines in export.stages for line in lines])


def ranking_csv(export: Export) -> bytes:
    if export.ranking_error is not None:
        return _csv(["集計できません"], [[export.ranking_error]])
    return _csv(export.ranking_header, export.ranking)
