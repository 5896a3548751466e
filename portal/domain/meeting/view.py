"""The meeting view: the ranking with each member's total by pseudonym, the
spread of the totals and the proposals where the members disagree widely.

Figures come from ``domain.results`` (the same counted sheets and totals as
the ranking and the published results). The spread is max − min of the
members' totals; the standard deviation is the population one, computed with
Decimal (exact until it is rounded, once, for display) and never a float.

The disagreement rule (shown on the page and in the packet):

- the spread is 30% of the maximum total or more, or
- on some criterion a member's level is 2 or more levels away from the
  median of the members' levels on that criterion.

Shown only after scoring is over (``Call.scoring_over``, which respects the
secretariat's early close): before then the totals would tell members how
the others scored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Call, ChairNote
from ..results import results
from ..results.aggregation import AggregationError

SPREAD_SHARE = Decimal("0.30")  # of the maximum total
LEVEL_GAP = 2  # levels from the median on one criterion
RULE_TEXT = ("委員の合計点の差（最高－最低）が満点の30%以上、または、いずれかの審査項目で"
             "ある委員の評価段階がその項目の委員の中央値から2段階以上離れているとき、"
             "「意見の相違」として表示します。")
NOTE_MAX = 2000


@dataclass
class Row:
    proposal_id: int
    code: str
    rank: int | None
    score: Decimal | None
    scorer_count: int
    totals: list[tuple[str, Decimal | None]]  # (pseudonym, total) for every member, None: no counted sheet
    spread: Decimal | None
    stdev: Decimal | None
    flags: list[str] = field(default_factory=list)
    note: str = ""
    # (criterion name, [level per member in ``totals`` order, None: no counted sheet])
    levels: list[tuple[str, list[int | None]]] = field(default_factory=list)

    @property
    def disagreement(self) -> bool:
        return bool(self.flags)


@dataclass
class MeetingView:
    call: Call
    ready: bool  # scoring over and the aggregation ran
    message: str | None  # why nothing is shown
    max_total: Decimal | None = None
    pseudonyms: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    rule_text: str = RULE_TEXT

    @property
    def flagged(self) -> list[Row]:
        return [row for row in self.rows if row.disagreement]


def stdev(values: list[Decimal]) -> Decimal | None:
    """Population standard deviation, to two decimals (half up). The
    variance is an exact fraction; its square root is taken with 40 digits."""
    if len(values) < 2:
        return None
    mean = sum((Fraction(v) for v in values), Fraction(0)) / len(values)
    variance = sum(((Fraction(v) - mean) ** 2 for v in values), Fraction(0)) / len(values)
    with localcontext() as context:
        context.prec = 40
        root = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
        return root.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> Decimal:
    """2.00 -> 2, 1.50 -> 1.5 (the figures read the same on every database)."""
    return Decimal(results.plain_decimal(value) or "0")


def notes_of(session: Session, call: Call) -> dict[int, str]:
    return {note.proposal_id: note.note for note in session.scalars(
        select(ChairNote).where(ChairNote.call_id == call.id).order_by(ChairNote.id))}


def build(session: Session, call: Call, now: datetime) -> MeetingView:
    if not call.scoring_over(now):
        return MeetingView(call, False, "採点期間が終わるまで、審査会の資料は表示しません。")
    try:
        computed = results.compute_all(session, call)
    except AggregationError as refused:
        return MeetingView(call, False, f"集計できません：{refused.message}")
    inputs, result = computed.inputs, computed.result
    members = list(inputs.members.values())
    criteria = {c.key: c.name for c in inputs.criteria}
    max_total = _plain(result.max_possible)
    notes = notes_of(session, call)
    rows = []
    for row in result.proposals:
        totals = [(m.pseudonym, _plain(row.reviewer_totals[m.id]) if m.id in row.reviewer_totals else None)
                  for m in members]
        values = [total for _p, total in totals if total is not None]
        spread = (max(values) - min(values)) if values else None
        flags = []
        if spread is not None and len(values) >= 2 and max_total and spread >= max_total * SPREAD_SHARE:
            flags.append(f"合計点の差が{spread}点（満点{max_total}点の30%以上）")
        sheets = [(m, inputs.sheet(m.id, row.key)) for m in members if m.id in row.reviewer_totals]
        if len(sheets) >= 2:
            for key, name in criteria.items():
                levels = [sheet.scores[key] for _m, sheet in sheets if key in sheet.scores]
                if len(levels) < 2:
                    continue
                middle = Fraction(median(sorted(levels))) if len(levels) % 2 else \
                    Fraction(sorted(levels)[len(levels) // 2 - 1] + sorted(levels)[len(levels) // 2], 2)
                far = [m.pseudonym for m, sheet in sheets
                       if key in sheet.scores and abs(sheet.scores[key] - middle) >= LEVEL_GAP]
                if far:
                    flags.append(f"「{name}」で{'・'.join(far)}が中央値から{LEVEL_GAP}段階以上離れています")
        counted = dict(sheets)
        levels = [(name, [counted[m].scores.get(key) if m in counted else None for m in members])
                  for key, name in criteria.items()]
        rows.append(Row(row.key, row.code, row.rank, row.score, row.scorer_count, totals, spread,
                        stdev(values), flags, notes.get(row.key, ""), levels))
    return MeetingView(call, True, None, max_total, [m.pseudonym for m in members], rows)


def save_note(session: Session, call: Call, proposal_id: int, text: str, *, user_id: int | None,
              now: datetime) -> ChairNote:
    note = session.scalar(select(ChairNote).where(ChairNote.proposal_id == proposal_id))
    if note is None:
        note = ChairNote(call_id=call.id, proposal_id=proposal_id, note="")
        session.add(note)
    note.note = text
    note.updated_at = now
    note.updated_by_id = user_id
    session.flush()
    return note
