"""From the database to the aggregation: which sheets count, under which
rules, and the one ``Result`` that the staff page, the PDF, the JSON and
the CSV all show.

- Criteria are the call's ``Criterion`` rows, keyed by ``str(position)``
  (the keys of the sealed commitments and of the public log).
- Sheets: the *submitted* sheets of the call's deciding stage. For
  ``document``, a submitted ``document_revised`` sheet (first-stage scores
  revised after the presentation) replaces the original ``document`` sheet
  of the same assignment; for ``presentation``, the ``presentation`` sheets.
- Reviewers are keyed by ``PanelMember.id`` and shown by pseudonym (委員A).
- A member with a flagged or confirmed conflict, or a recused assignment, is
  passed as a conflict: they do not score, and the count says so. A sheet
  such a member submitted before the conflict came to light is left out and
  listed in ``excluded`` for the secretariat, never counted quietly.
- Proposals are the released ones (status 審査中 or 結果公表).
- The valid sheets a proposal needs (``required``): the call's
  ``min_valid_sheets`` when it sets one, otherwise every member assigned to
  it less those excluded for a conflict. Under that, the proposal is
  採点不成立: no rank, no recommendation, and a decision needs a reason.

Pure domain code over SQLAlchemy: no Flask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import (
    Assignment,
    AssignmentStatus,
    Call,
    PanelMember,
    Proposal,
    ProposalStatus,
    ReviewScore,
    ReviewSheet,
    SheetStatus,
    Stage,
)
from ..panel import panel
from . import aggregation
from .aggregation import AggregationRules, CriterionRule, ProposalInfo, Result, ScoreSheet, VetoRule
from .normalised_view import NormalisedView, normalised_view

RELEASED_STATUSES = (ProposalStatus.REVIEW, ProposalStatus.RESULTS)

REASON_LABELS = {
    aggregation.NO_SCORERS: "採点した委員がいません",
    aggregation.BELOW_THRESHOLD: "合格基準点に達していません",
    aggregation.VETOED: "否決基準に該当します（過半数の委員が基準点以下）",
    aggregation.OVER_BUDGET: "予算の範囲に入りません",
    aggregation.UNDER_MINIMUM: "採点不成立（有効な採点票が必要な数に足りません）",
}
METHOD_LABELS = {"mean": "平均", "trimmed_mean": "最高点・最低点を除いた平均"}
BUDGET_POLICY_LABELS = {"skip": "入らない提案は飛ばして次の提案へ", "stop": "入らない提案でそこまで"}


@dataclass
class Inputs:
    """Everything the aggregation reads, with the names to show it by."""

    call: Call
    criteria: tuple[CriterionRule, ...]
    rules: AggregationRules
    proposals: list[Proposal]  # released, in anonymous-code order
    members: dict[int, PanelMember]  # by id, in pseudonym order
    sheets: list[ScoreSheet]
    sheet_rows: dict[tuple[int, int], ReviewSheet]  # (member id, proposal id) -> the counted sheet
    conflicts: set[tuple[int, int]]
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (pseudonym, code): sheet left out
    missing: list[tuple[str, str]] = field(default_factory=list)  # (pseudonym, code): no submitted sheet
    required: dict[int, int] = field(default_factory=dict)  # proposal id -> valid sheets required
    _proposal_index: dict | None = field(default=None, repr=False, compare=False)
    _sheet_index: dict | None = field(default=None, repr=False, compare=False)

    def pseudonym(self, member_id: int) -> str:
        return self.members[member_id].pseudonym

    def proposal(self, proposal_id: int) -> Proposal:
        return self._proposals_by_id()[proposal_id]

    def sheet(self, member_id: int, proposal_id: int) -> ScoreSheet:
        """The counted sheet of ``member_id`` for ``proposal_id``."""
        return self._sheets_by_pair()[(member_id, proposal_id)]

    # Indexes built on first use: a 300-proposal call looks up 4,500 sheets.
    def _proposals_by_id(self) -> dict[int, Proposal]:
        if self._proposal_index is None or len(self._proposal_index) != len(self.proposals):
            self._proposal_index = {p.id: p for p in self.proposals}
        return self._proposal_index

    def _sheets_by_pair(self) -> dict[tuple[int, int], ScoreSheet]:
        if self._sheet_index is None or len(self._sheet_index) != len(self.sheets):
            self._sheet_index = {(s.reviewer_key, s.proposal_key): s for s in self.sheets}
        return self._sheet_index

    def comments_for(self, proposal_id: int) -> list[tuple[str, str]]:
        """The reviewers' comments for the group (講評の候補), by pseudonym."""
        return [(self.pseudonym(m), sheet.comment_for_group.strip())
                for (m, p), sheet in sorted(self.sheet_rows.items()) if p == proposal_id
                and sheet.comment_for_group.strip()]


@dataclass
class CallResults:
    inputs: Inputs
    result: Result

    def row(self, proposal_id: int) -> aggregation.ProposalResult:
        return self.result.proposal(proposal_id)


# ---------------------------------------------------------------- rules

def _decimal(value) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def criteria_of(call: Call) -> tuple[CriterionRule, ...]:
    # Weights are normalised ("2.00" on PostgreSQL, "2" on SQLite -> 2) so
    # totals read the same whichever database holds them.
    return tuple(CriterionRule(key=str(c.position), name=c.name, weight=Decimal(plain_decimal(c.weight)),
                               scale_min=c.scale_min, scale_max=c.scale_max) for c in call.criteria)


def rules_of(call: Call) -> AggregationRules:
    """The call's columns as aggregation rules. A ``budget_total`` of 0
    means the call set no overall budget (nothing would fit in 0 yen)."""
    veto = None
    if call.veto_criterion_position is not None and call.veto_at_or_below is not None:
        veto = VetoRule(str(call.veto_criterion_position), call.veto_at_or_below)
    return AggregationRules(
        method=call.aggregation_method,
        trim_min_scorers=call.trim_min_scorers,
        threshold_points=_decimal(call.threshold_points),
        threshold_share=_decimal(call.threshold_share),
        veto=veto,
        tie_breaks=tuple(str(p) for p in (call.tie_break_positions or [])),
        budget_total=call.budget_total or None,
        budget_policy=call.budget_policy,
        decimals=call.score_decimals,
        min_valid_sheets=call.min_valid_sheets,
    )


def deciding_stages(call: Call) -> tuple[Stage, ...]:
    """The stages whose sheets count, the preferred one first."""
    if call.deciding_stage == Stage.PRESENTATION.value and call.has_presentation:
        return (Stage.PRESENTATION,)
    return (Stage.DOCUMENT_REVISED, Stage.DOCUMENT)


# ---------------------------------------------------------------- loading

def released_proposals(session: Session, call: Call) -> list[Proposal]:
    proposals = session.scalars(
        select(Proposal).where(Proposal.call_id == call.id, Proposal.status.in_(RELEASED_STATUSES))
        .options(selectinload(Proposal.group))
    ).all()
    return sorted(proposals, key=lambda p: aggregation.code_order(p.anonymous_code or ""))


def gather(session: Session, call: Call) -> Inputs:
    """Load the sheets, conflicts and proposals in a fixed number of queries."""
    proposals = released_proposals(session, call)
    ids = [p.id for p in proposals]
    members = {m.id: m for m in panel.members(session, call)}
    assignments = list(session.scalars(select(Assignment).where(Assignment.proposal_id.in_(ids)))) if ids else []
    conflicts = {pair for pair in panel.blocked_pairs(session, call) if pair[1] in ids}
    conflicts |= {(a.panel_member_id, a.proposal_id) for a in assignments if a.status == AssignmentStatus.RECUSED}
    conflicts = {pair for pair in conflicts if pair[0] in members}

    stages = deciding_stages(call)
    by_assignment: dict[int, dict[Stage, ReviewSheet]] = {}
    scores_by_sheet: dict[int, dict[int, int]] = {}
    if assignments:
        counted = (ReviewSheet.status == SheetStatus.SUBMITTED, ReviewSheet.stage.in_(stages),
                   Assignment.proposal_id.in_(ids))
        for sheet in session.scalars(select(ReviewSheet).join(Assignment).where(*counted)):
            by_assignment.setdefault(sheet.assignment_id, {})[sheet.stage] = sheet
        # The scores as plain rows: a 300-proposal call has 31,500 of them, and
        # loading each as an ORM object took most of the aggregation's time.
        for sheet_id, criterion_id, score in session.execute(
            select(ReviewScore.sheet_id, ReviewScore.criterion_id, ReviewScore.score)
            .join(ReviewSheet, ReviewSheet.id == ReviewScore.sheet_id).join(Assignment).where(*counted)
        ):
            scores_by_sheet.setdefault(sheet_id, {})[criterion_id] = score

    positions = {c.id: str(c.position) for c in call.criteria}
    codes = {p.id: p.anonymous_code for p in proposals}
    inputs = Inputs(call=call, criteria=criteria_of(call), rules=rules_of(call), proposals=proposals,
                    members=members, sheets=[], sheet_rows={}, conflicts=conflicts)
    assigned: dict[int, int] = dict.fromkeys(ids, 0)
    conflicted: dict[int, int] = dict.fromkeys(ids, 0)
    for assignment in sorted(assignments, key=lambda a: (a.panel_member_id, a.proposal_id)):
        pair = (assignment.panel_member_id, assignment.proposal_id)
        if pair[0] not in members:
            continue
        assigned[pair[1]] += 1
        conflicted[pair[1]] += pair in conflicts
        found = by_assignment.get(assignment.id, {})
        sheet = next((found[stage] for stage in stages if stage in found), None)
        label = (members[pair[0]].pseudonym, codes[pair[1]])
        if pair in conflicts:
            if sheet is not None:
                inputs.excluded.append(label)
            continue
        if sheet is None:
            inputs.missing.append(label)
            continue
        inputs.sheet_rows[pair] = sheet
        inputs.sheets.append(ScoreSheet(pair[0], pair[1], {positions[criterion_id]: score for criterion_id, score
                                                           in scores_by_sheet.get(sheet.id, {}).items()}))
    inputs.required = {p: required_sheets(call, assigned[p], conflicted[p]) for p in ids}
    return inputs


def required_sheets(call: Call, assigned: int, conflicted: int) -> int:
    """The valid sheets a proposal needs: the call's minimum when it sets
    one, otherwise every assigned member who may score it."""
    if call.min_valid_sheets is not None:
        return call.min_valid_sheets
    return max(assigned - conflicted, 0)


def aggregate(inputs: Inputs) -> Result:
    infos = [ProposalInfo(p.id, p.anonymous_code, p.requested_amount, min_scorers=inputs.required.get(p.id))
             for p in inputs.proposals]
    return aggregation.aggregate(inputs.criteria, inputs.rules, infos, inputs.sheets, inputs.conflicts)


def compute(session: Session, call: Call) -> Result:
    """The call's aggregation ``Result`` (raises ``AggregationError`` on bad data)."""
    return aggregate(gather(session, call))


def compute_all(session: Session, call: Call) -> CallResults:
    inputs = gather(session, call)
    return CallResults(inputs, aggregate(inputs))


def normalised(result: Result) -> NormalisedView:
    """The advisory view for the secretariat (decides nothing)."""
    return normalised_view(result)


def sheet_total(call: Call, sheet: ReviewSheet) -> Decimal:
    """One complete sheet's weighted total, computed as the ranking computes
    it: the figure a reviewer confirms is the one that is published."""
    positions = {c.id: str(c.position) for c in call.criteria}
    return aggregation.weighted_total(criteria_of(call), {positions[s.criterion_id]: s.score for s in sheet.scores})


# ---------------------------------------------------------------- words

def plain_decimal(value) -> str:
    """Decimal('2.00') -> '2', Decimal('1.50') -> '1.5'; exact, never a float."""
    if value is None:
        return ""
    text = format(_decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def reason_labels(reasons) -> list[str]:
    return [REASON_LABELS.get(r, r) for r in reasons]


def formula_text(result: Result) -> str:
    """The rules in plain Japanese, as published beside the figures."""
    rules = result.rules
    names = {c.key: c.name for c in result.criteria}
    weights = "、".join(f"{c.name}×{plain_decimal(c.weight)}" for c in result.criteria)
    parts = [
        f"各委員の合計点＝各基準の点数×重みの合計（{weights}）。満点は{plain_decimal(result.max_possible)}点です。",
    ]
    if rules.method == "trimmed_mean":
        parts.append(
            f"提案の得点＝採点した委員の合計点の平均。ただし採点した委員が{rules.trim_min_scorers}人以上のときは、"
            "最高点と最低点を1つずつ除いて平均します。")
    else:
        parts.append("提案の得点＝採点した委員の合計点の平均。")
    parts.append("利害関係のある委員はその提案を採点せず、採点した委員の人数を表示します。")
    if any(row.min_scorers is not None for row in result.proposals):
        needed = (f"有効な採点票が{rules.min_valid_sheets}件" if rules.min_valid_sheets is not None
                  else "割り当てた委員のうち利害関係のない全員の採点票")
        parts.append(f"{needed}がそろわない提案は採点不成立とし、順位を付けず推薦しません"
                     "（決定には公表する理由を付けます）。")
    parts.append(f"得点と基準ごとの平均点は、正確な値を小数第{rules.decimals}位で1回だけ四捨五入します。"
                 "判定と順位はこの公表値で行います。")
    if result.threshold_points is not None:
        share = "" if rules.threshold_share is None else \
            f"（満点の{plain_decimal(rules.threshold_share * 100)}%）"
        parts.append(f"得点が{plain_decimal(result.threshold_points)}点{share}以上の提案が合格です。")
    if rules.veto is not None:
        parts.append(f"「{names.get(rules.veto.criterion_key, rules.veto.criterion_key)}」を"
                     f"{rules.veto.at_or_below}点以下とした委員が採点者の過半数のときは、得点にかかわらず推薦しません。")
    tie = [names.get(k, k) for k in rules.tie_breaks]
    if tie:
        parts.append("得点が同じときは、" + "、".join(f"「{t}」" for t in tie) + "の平均点が高い順とします。")
    parts.append("それでも同じときは同順位とします。")
    if rules.budget_total is not None:
        parts.append(f"予算総額{rules.budget_total:,}円の範囲で、順位の高い合格提案から推薦します"
                     f"（{BUDGET_POLICY_LABELS[rules.budget_policy]}）。")
    else:
        parts.append("合格した提案をすべて推薦します。")
    return "".join(parts)
