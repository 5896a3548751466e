"""The city's decision on each released proposal (採択・条件付き採択・不採択).

A decision that departs from the computed recommendation needs a reason,
and that reason is published (the database refuses a departing decision
without one, too: ``Decision.departs``). 条件付き採択 of a recommended
proposal is not a departure; it names its conditions.

When every proposal has a decision, the secretariat *finalises* them: one
``decision_recorded`` entry in the public log with every outcome and its
reason. Publication only goes ahead while the decisions in the database
are exactly the ones last finalised, so the log and the results agree.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..refusals import WrongState
from ...models import Call, Decision, DecisionOutcome, LogEntry, Proposal, User
from ..log import chain, process_log
from . import results
from .aggregation import AggregationError, ProposalResult, Result, code_order

REASON_MAX = 2000
CONDITIONS_MAX = 2000
COMMENT_MAX = 4000
BASIS_MAX = 500
DEFAULT_BASIS = "審査委員会の審査結果（公表した基準と集計方法による順位・推薦）に基づき決定しました。"
PUBLIC_TEXT_REFUSED = "公表される文章です。メールアドレスや電話番号のような文字列は書かないでください。"


class DecisionRefused(WrongState):
    """A refused decision; ``field`` names the form field it concerns."""


def adopts(outcome: DecisionOutcome) -> bool:
    return outcome in (DecisionOutcome.ADOPTED, DecisionOutcome.CONDITIONAL)


def departs(outcome: DecisionOutcome, recommended: bool) -> bool:
    return adopts(outcome) != recommended


def decisions_of(session: Session, call: Call) -> dict[int, Decision]:
    rows = session.scalars(
        select(Decision).join(Proposal, Proposal.id == Decision.proposal_id).where(Proposal.call_id == call.id))
    return {d.proposal_id: d for d in rows}


def _public_text(kind: str, payload: dict, field: str) -> None:
    try:
        chain.check_public_payload(kind, payload)
    except chain.PayloadRefused:
        raise DecisionRefused(PUBLIC_TEXT_REFUSED, field) from None


def _limit(text: str, limit: int, label: str, field: str) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise DecisionRefused(f"{label}は{limit}字以内にしてください（現在{len(text)}字）。", field)
    return text


def record_decision(session: Session, call: Call, proposal: Proposal, *, outcome: DecisionOutcome | str,
                    reason: str = "", conditions: str = "", review_comment: str = "", staff: User | None,
                    now: datetime, result: Result | None = None) -> Decision:
    """Create or change the decision on one released proposal (flushes)."""
    if proposal.call_id != call.id or proposal.status not in results.RELEASED_STATUSES:
        raise DecisionRefused("この提案は審査の対象ではないため、決定を記録できません。")
    if not call.scoring_over(now):
        raise DecisionRefused("採点期間が終わるまで、決定は記録できません。")
    try:
        outcome = DecisionOutcome(outcome)
    except ValueError:
        raise DecisionRefused("決定を一覧から選んでください。", "outcome") from None
    reason = _limit(reason, REASON_MAX, "理由", "reason")
    conditions = _limit(conditions, CONDITIONS_MAX, "条件", "conditions")
    review_comment = _limit(review_comment, COMMENT_MAX, "講評", "review_comment")
    if outcome == DecisionOutcome.CONDITIONAL and not conditions:
        raise DecisionRefused("条件付き採択では、条件を入力してください。", "conditions")
    if outcome != DecisionOutcome.CONDITIONAL:
        conditions = ""
    if result is None:
        try:
            result = results.compute(session, call)
        except AggregationError as error:
            raise DecisionRefused(f"集計できないため決定を記録できません：{error.message}") from None
    row = result.proposal(proposal.id)
    recommended = row.recommended
    departing = departs(outcome, recommended)
    if row.under_minimum and not reason:
        raise DecisionRefused(f"{under_minimum_text(row)}。この提案の決定には、公表する理由が必要です"
                              "（例：採点不成立のため不採択とします）。", "reason")
    if departing and not reason:
        expected = "推薦" if recommended else "推薦なし"
        raise DecisionRefused(f"集計結果（{expected}）と異なる決定には、公表する理由が必要です。", "reason")
    _public_text(chain.DECISION_RECORDED, {"outcomes": [{"reason": reason}]}, "reason")
    for text, name in ((conditions, "conditions"), (review_comment, "review_comment")):
        _public_text(chain.DECISION_RECORDED, {"basis": text}, name)

    decision = session.scalars(select(Decision).where(Decision.proposal_id == proposal.id)).first()
    if decision is None:
        decision = Decision(proposal_id=proposal.id)
        session.add(decision)
    decision.outcome = outcome
    decision.reason = reason
    decision.conditions = conditions
    decision.review_comment = review_comment
    decision.departs = departing
    decision.decided_at = now
    decision.decided_by_id = staff.id if staff else None
    session.flush()
    return decision


def under_minimum_text(row) -> str:
    """採点不成立 in words: how many valid sheets came in, and how many were needed."""
    if not row.min_scorers:  # nobody could score it (every member excluded for a conflict)
        return "採点不成立（有効な採点票がありません）"
    return f"採点不成立（有効な採点票が{row.scorer_count}件で、必要な{row.min_scorers}件に足りません）"


def unexplained_under_minimum(result: Result, decided: dict[int, Decision]) -> list[ProposalResult]:
    """Proposals under the minimum whose decision is missing or gives no
    reason: publication waits for a stated reason on each."""
    return [row for row in result.proposals
            if row.under_minimum and not (row.key in decided and (decided[row.key].reason or "").strip())]


def undecided(session: Session, call: Call, *, proposals: list[Proposal] | None = None,
              decided: dict[int, Decision] | None = None) -> list[Proposal]:
    """Released proposals with no decision. ``proposals`` (released) and
    ``decided`` may be passed when the caller has loaded them already."""
    decided = decisions_of(session, call) if decided is None else decided
    proposals = results.released_proposals(session, call) if proposals is None else proposals
    return [p for p in proposals if p.id not in decided]


def outcomes_payload(session: Session, call: Call, *, proposals: list[Proposal] | None = None,
                     decided: dict[int, Decision] | None = None) -> list[dict]:
    """What ``decision_recorded`` says: every released proposal's outcome
    and reason, by anonymous code."""
    decided = decisions_of(session, call) if decided is None else decided
    proposals = results.released_proposals(session, call) if proposals is None else proposals
    rows = [{"proposal_code": p.anonymous_code, "result": decided[p.id].outcome.value,
             "reason": decided[p.id].reason}
            for p in proposals if p.id in decided]
    return sorted(rows, key=lambda row: code_order(row["proposal_code"]))


def last_recorded(session: Session, call: Call) -> LogEntry | None:
    return session.scalars(
        select(LogEntry).where(LogEntry.call_id == call.id, LogEntry.kind == chain.DECISION_RECORDED)
        .order_by(LogEntry.seq.desc()).limit(1)
    ).first()


def finalised(session: Session, call: Call, *, proposals: list[Proposal] | None = None,
              decided: dict[int, Decision] | None = None) -> bool:
    """Every released proposal is decided and the decisions are the ones
    last written to the log."""
    decided = decisions_of(session, call) if decided is None else decided
    proposals = results.released_proposals(session, call) if proposals is None else proposals
    if undecided(session, call, proposals=proposals, decided=decided):
        return False
    entry = last_recorded(session, call)
    return entry is not None and entry.payload.get("outcomes") == outcomes_payload(
        session, call, proposals=proposals, decided=decided)


def finalise(session: Session, call: Call, staff: User | None, now: datetime,
             basis: str = DEFAULT_BASIS) -> LogEntry:
    """Append ``decision_recorded`` with every outcome (once per change:
    finalising the same decisions again appends nothing)."""
    if not call.scoring_over(now):
        raise DecisionRefused("採点期間が終わるまで、決定は確定できません。")
    missing = undecided(session, call)
    if missing:
        codes = "、".join(p.anonymous_code for p in missing)
        raise DecisionRefused(f"決定が入力されていない提案があります：{codes}")
    basis = _limit(basis, BASIS_MAX, "決定の根拠", "basis") or DEFAULT_BASIS
    payload = {"outcomes": outcomes_payload(session, call), "basis": basis}
    _public_text(chain.DECISION_RECORDED, payload, "basis")
    entry = last_recorded(session, call)
    if entry is not None and entry.payload == payload:
        return entry
    return process_log.append(session, call, chain.DECISION_RECORDED, payload, now)


def set_general_comment(session: Session, call: Call, text: str) -> None:
    """The committee's 総評 for the results (flushes). A version already
    published keeps the one it went out with; a correction carries this one."""
    call.general_comment = text or ""
    session.flush()
