"""Who scores which proposal: the call's assignment mode, the automatic
balanced assignment of k members per proposal, manual swaps and the
withdrawal (辞退) of a member.

Modes (``Call.assignment_mode``):

- ``all`` (全員): every active member gets every released proposal
  (``panel.assign_released``), as small calls always did.
- ``k`` (k人): each released proposal goes to ``reviewers_per_proposal``
  members chosen by :func:`plan`: the least-loaded eligible members, ties
  broken by a rotation of the panel order, so the same inputs always give
  the same result. A member with a flagged or confirmed conflict on the
  proposal, or who has withdrawn, is never eligible. When fewer than k are
  eligible, all of them get it and :func:`shortfalls` names the proposal.

The mode and k are part of the signed rules (``process_log.rules_payload``);
they can be changed until the first proposal of the call is released to the
reviewers, then they are locked: changing who scores after the panel has
started would make the counts incomparable between proposals.

"Assigned" is the set of :class:`Assignment` rows: a member who was never
given a proposal, or from whom it was moved, has no row. Counts, the
progress page, the valid-sheet minimum and the aggregation all read that
set (``results.gather``), so a swap or a withdrawal needs nothing else.

Swaps and withdrawals delete the moved assignment row (only while it has no
submitted sheet) and log ``assignment_changed``; the public log keeps the
whole history under pseudonyms. A withdrawn member keeps their submitted
sheets: they were sealed in the public log and scored under the published
rules, so dropping them would change a sealed record after the fact (the
member stays on the panel list, marked 辞退). Their unfinished assignments,
drafts included, are reassigned and they lose access to them.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..refusals import Invalid, WrongState
from ...models import (
    BLOCKING_CONFLICT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    CallChange,
    Conflict,
    PanelMember,
    Proposal,
    ReviewCopy,
    ReviewScore,
    ReviewSheet,
    ScoreReopen,
    SheetStatus,
)
from ..log import chain, process_log
from ..log.chain import ASSIGNMENT_CHANGED, REVIEWER_ASSIGNED, REVIEWER_WITHDREW

MODE_ALL = "all"
MODE_K = "k"
MODE_LABELS = {MODE_ALL: "全員が全提案を採点", MODE_K: "提案ごとにk人の委員が採点"}
GROUND_MANUAL = "manual"  # 事務局による入れ替え
GROUND_WITHDRAWAL = "withdrawal"  # 委員の辞退
WITHDRAWAL_REASON_LIMIT = 500


class AssignmentError(Invalid):
    """Input that cannot be accepted; the message is Japanese."""


class AssignmentRefused(WrongState):
    """A change the current state does not allow; the message is Japanese."""


def mode_text(call: Call) -> str:
    if call.assignment_mode == MODE_K and call.reviewers_per_proposal:
        return f"提案ごとに{call.reviewers_per_proposal}人の委員が採点（自動で負担をそろえて割当）"
    return "委員全員がすべての提案を採点"


# ---------------------------------------------------------------- the pure core

def plan(members: Sequence[int], proposals: Sequence[int], k: int, *,
         blocked: Iterable[tuple[int, int]] = (), loads: dict[int, int] | None = None,
         existing: dict[int, set[int]] | None = None) -> dict[int, list[int]]:
    """Which members get each proposal: proposal -> new member keys, for
    ``proposals`` in the given order. ``members`` in panel order (only the
    eligible, active ones); ``loads`` the assignments they already carry;
    ``existing`` members a proposal already has (they count towards k).

    Greedy, one seat at a time: the member with the smallest load; among
    equal loads, the one who has sat least often beside the members already
    chosen for this proposal (so the same threes do not recur, and a
    member's proposals can be taken over by many others if they withdraw);
    then a rotation of the panel order that moves with the proposal.
    Deterministic: no randomness, no reliance on set or dict order."""
    blocked = set(blocked)
    loads = {m: (loads or {}).get(m, 0) for m in members}
    existing = existing or {}
    together: dict[tuple[int, int], int] = {}
    n = len(members)
    out: dict[int, list[int]] = {}
    for index, proposal in enumerate(proposals):
        seated = sorted(existing.get(proposal, set()))
        have = set(seated)
        chosen: list[int] = []
        while len(have) < k:
            candidates = [
                (loads[m], sum(together.get((min(m, o), max(m, o)), 0) for o in seated),
                 (position - index) % n, m)
                for position, m in enumerate(members) if (m, proposal) not in blocked and m not in have]
            if not candidates:
                break
            member = min(candidates)[3]
            for other in seated:
                pair = (min(member, other), max(member, other))
                together[pair] = together.get(pair, 0) + 1
            loads[member] += 1
            seated.append(member)
            have.add(member)
            chosen.append(member)
        out[proposal] = chosen
    return out


# ---------------------------------------------------------------- reading the state

def active_members(session: Session, call: Call) -> list[PanelMember]:
    return list(session.scalars(
        select(PanelMember).where(PanelMember.call_id == call.id, PanelMember.withdrawn_at.is_(None))
        .order_by(PanelMember.id)))


def is_locked(session: Session, call: Call) -> bool:
    """The mode is locked once a proposal has been released to the panel."""
    return session.scalar(select(ReviewCopy.id).where(ReviewCopy.call_id == call.id).limit(1)) is not None


LOCK_REASON = ("審査委員への提供が始まったため、割当の方法は変更できません。"
               "途中で変えると、提案によって採点する委員の数や選び方が異なり、公表する記録と合わなくなるためです。")


def _blocking(session: Session, call: Call) -> set[tuple[int, int]]:
    return {(m, p) for m, p in session.execute(
        select(Conflict.panel_member_id, Conflict.proposal_id)
        .join(PanelMember, PanelMember.id == Conflict.panel_member_id)
        .where(PanelMember.call_id == call.id, Conflict.status.in_(BLOCKING_CONFLICT_STATUSES)))}


def loads(session: Session, call: Call) -> dict[int, int]:
    """Member id -> proposals they are to score (recused ones not counted)."""
    rows = session.execute(
        select(Assignment.panel_member_id, func.count(Assignment.id))
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id)
        .where(PanelMember.call_id == call.id, Assignment.status != AssignmentStatus.RECUSED)
        .group_by(Assignment.panel_member_id))
    return {m: n for m, n in rows}


@dataclass(frozen=True)
class Shortfall:
    code: str
    assigned: int
    wanted: int


def shortfalls(session: Session, call: Call) -> list[Shortfall]:
    """Released proposals with fewer than k members to score them (k mode)."""
    if call.assignment_mode != MODE_K or not call.reviewers_per_proposal:
        return []
    k = call.reviewers_per_proposal
    counts = dict(session.execute(
        select(ReviewCopy.code, func.count(Assignment.id))
        .select_from(ReviewCopy)
        .outerjoin(Assignment, (Assignment.proposal_id == ReviewCopy.proposal_id)
                   & (Assignment.status != AssignmentStatus.RECUSED))
        .where(ReviewCopy.call_id == call.id).group_by(ReviewCopy.code)).all())
    from ..results.aggregation import code_order

    return [Shortfall(code, n, k) for code, n in sorted(counts.items(), key=lambda item: code_order(item[0]))
            if n < k]


# ---------------------------------------------------------------- the setting

def set_mode(session: Session, call: Call, mode: str, k: int | None, now: datetime, actor=None) -> bool:
    """Change the call's assignment mode; False when nothing changed.
    After the call's publication the change is recorded like any rule
    change (CallChange and ``criteria_changed``), so the signed rules say
    who scores."""
    if is_locked(session, call):
        raise AssignmentRefused(LOCK_REASON)
    if mode not in MODE_LABELS:
        raise AssignmentError("割当の方法を選んでください。", "mode")
    size = len(active_members(session, call))
    if mode == MODE_K:
        if size == 0:
            raise AssignmentError("委員がいないため、k人の割当は選べません。先に委員を加えてください。", "k")
        if k is None or not 1 <= k <= size:
            raise AssignmentError(f"提案ごとの委員の人数は、1人以上、委員会の人数（{size}人）以下で入力してください。", "k")
    else:
        k = None
    if call.assignment_mode == mode and call.reviewers_per_proposal == k:
        return False
    before = mode_text(call)
    call.assignment_mode = mode
    call.reviewers_per_proposal = k
    if call.published_at is not None:
        reason = f"審査委員の割当の方法を「{mode_text(call)}」にしました。"
        session.add(CallChange(call_id=call.id, changed_at=now, changed_by_id=getattr(actor, "id", None),
                               reason=reason, changes=[{"field": "assignment_mode", "label": "審査委員の割当",
                                                        "before": before, "after": mode_text(call)}]))
        payload = {"criteria": process_log.criteria_payload(call), "rules": process_log.rules_payload(call),
                   "reason": reason, "document_sha256": process_log.guidelines_digest(call)}
        process_log.append(session, call, chain.CRITERIA_CHANGED, payload, now)
    session.flush()
    return True


# ---------------------------------------------------------------- at release

def assign_k(session: Session, call: Call, proposals: Sequence[Proposal], now: datetime) -> list[Assignment]:
    """k-of-n assignment of newly released proposals (``panel.assign_released``
    has already run the conflict check). Logs one ``reviewer_assigned``
    entry per member, as the whole-panel mode does."""
    from ..results.aggregation import code_order

    proposals = sorted(proposals, key=lambda p: code_order(p.anonymous_code or ""))
    panel = active_members(session, call)
    ids = [p.id for p in proposals]
    existing: dict[int, set[int]] = {}
    if ids:
        for member_id, proposal_id in session.execute(
                select(Assignment.panel_member_id, Assignment.proposal_id).where(Assignment.proposal_id.in_(ids))):
            existing.setdefault(proposal_id, set()).add(member_id)
    chosen = plan([m.id for m in panel], ids, call.reviewers_per_proposal or len(panel),
                  blocked=_blocking(session, call), loads=loads(session, call), existing=existing)
    made: list[Assignment] = []
    codes: dict[int, list[str]] = {}
    by_id = {p.id: p for p in proposals}
    for proposal_id, member_ids in chosen.items():
        for member_id in member_ids:
            assignment = Assignment(proposal_id=proposal_id, panel_member_id=member_id, assigned_at=now,
                                    status=AssignmentStatus.ASSIGNED)
            session.add(assignment)
            made.append(assignment)
            codes.setdefault(member_id, []).append(by_id[proposal_id].anonymous_code)
    for member in panel:
        if codes.get(member.id):
            process_log.append(session, call, REVIEWER_ASSIGNED,
                               {"reviewer": member.pseudonym, "proposal_codes": sorted(codes[member.id])}, now)
    session.flush()
    return made


# ---------------------------------------------------------------- swaps

def _ever_submitted(session: Session, sheets: list[ReviewSheet]) -> bool:
    if any(s.status == SheetStatus.SUBMITTED or s.submitted_at is not None for s in sheets):
        return True
    return bool(sheets) and session.scalar(
        select(ScoreReopen.id).where(ScoreReopen.sheet_id.in_([s.id for s in sheets])).limit(1)) is not None


def _drop(session: Session, assignment: Assignment) -> None:
    """Delete an assignment that holds no submitted sheet, with its drafts."""
    for sheet in list(assignment.sheets):
        for score in session.scalars(select(ReviewScore).where(ReviewScore.sheet_id == sheet.id)):
            session.delete(score)
        session.flush()
        session.delete(sheet)
    session.flush()
    session.delete(assignment)
    session.flush()


def swap(session: Session, call: Call, proposal: Proposal, from_member: PanelMember, to_member: PanelMember,
         now: datetime) -> Assignment:
    """Move one proposal from a member to another before the first has
    started its sheet. Refused (Japanese) when the target is conflicted,
    withdrawn or already has it, or the sheet is started."""
    if call.scoring_closed_at is not None:
        raise AssignmentRefused("採点は締め切られています。締切後は担当を入れ替えられません。")
    if proposal.call_id != call.id or from_member.call_id != call.id or to_member.call_id != call.id:
        raise AssignmentError("この募集の提案と委員を選んでください。")
    code = proposal.anonymous_code
    if from_member.id == to_member.id:
        raise AssignmentError("入れ替え前と入れ替え後に同じ委員が選ばれています。別の委員を選んでください。", "to_member")
    assignment = session.scalars(select(Assignment).where(
        Assignment.proposal_id == proposal.id, Assignment.panel_member_id == from_member.id)).first()
    if assignment is None:
        raise AssignmentError(f"{from_member.pseudonym}は{code}を担当していません。", "from_member")
    if assignment.sheets:
        raise AssignmentRefused(f"{from_member.pseudonym}は{code}の採点を始めているため、入れ替えられません。", "from_member")
    if to_member.withdrawn_at is not None:
        raise AssignmentError(f"{to_member.pseudonym}は辞退しているため、割り当てられません。", "to_member")
    if session.scalar(select(Assignment.id).where(Assignment.proposal_id == proposal.id,
                                                  Assignment.panel_member_id == to_member.id)) is not None:
        raise AssignmentError(f"{to_member.pseudonym}はすでに{code}を担当しています。", "to_member")
    if (to_member.id, proposal.id) in _blocking(session, call):
        raise AssignmentError(f"{to_member.pseudonym}には{code}との利害関係（確認中または確定）があるため、"
                              "割り当てられません。", "to_member")
    _drop(session, assignment)
    moved = Assignment(proposal_id=proposal.id, panel_member_id=to_member.id, assigned_at=now,
                       status=AssignmentStatus.ASSIGNED)
    session.add(moved)
    process_log.append(session, call, ASSIGNMENT_CHANGED,
                       {"proposal_code": code, "from_reviewer": from_member.pseudonym,
                        "to_reviewer": to_member.pseudonym, "ground": GROUND_MANUAL}, now)
    session.flush()
    return moved


# ---------------------------------------------------------------- withdrawal (辞退)

@dataclass
class Withdrawal:
    reassigned: dict[str, str]  # code -> the pseudonym who took it over
    unplaced: list[str]  # codes nobody eligible could take (k mode: fewer than k now)
    kept: list[str]  # codes whose submitted sheets stay valid


def withdraw(session: Session, call: Call, member: PanelMember, reason: str, now: datetime) -> Withdrawal:
    """Record a member's 辞退. Their unfinished assignments (no sheet ever
    submitted; drafts are dropped) go to the least-loaded eligible active
    members in k mode; in whole-panel mode every other member already has
    them, so they are only taken away. Recused pairs stay as recorded."""
    from ..results.aggregation import code_order

    reason = (reason or "").strip()
    if member.call_id != call.id:
        raise AssignmentError("この募集の委員を選んでください。")
    if member.withdrawn_at is not None:
        raise AssignmentRefused(f"{member.pseudonym}の辞退はすでに記録されています。")
    if len(reason) > WITHDRAWAL_REASON_LIMIT:
        raise AssignmentError(f"辞退の理由は{WITHDRAWAL_REASON_LIMIT}字以内で入力してください（現在{len(reason)}字）。",
                              "reason")
    if call.scoring_closed_at is not None:
        raise AssignmentRefused("採点は締め切られています。締切後は辞退による割当の変更はできません。")
    mine = list(session.scalars(select(Assignment).where(Assignment.panel_member_id == member.id)))
    codes = dict(session.execute(select(Proposal.id, Proposal.anonymous_code).where(
        Proposal.id.in_([a.proposal_id for a in mine]))).all()) if mine else {}
    mine.sort(key=lambda a: code_order(codes.get(a.proposal_id) or ""))
    unfinished, kept = [], []
    for assignment in mine:
        if assignment.status == AssignmentStatus.RECUSED:
            continue
        if _ever_submitted(session, list(assignment.sheets)):
            kept.append(codes[assignment.proposal_id])
        else:
            unfinished.append(assignment)
    member.withdrawn_at = now
    member.withdrawal_reason = reason
    proposal_ids = [a.proposal_id for a in unfinished]
    for assignment in unfinished:
        _drop(session, assignment)
    result = Withdrawal({}, [], kept)
    if call.assignment_mode == MODE_K and proposal_ids:
        panel = active_members(session, call)
        existing: dict[int, set[int]] = {}
        for member_id, proposal_id in session.execute(
                select(Assignment.panel_member_id, Assignment.proposal_id)
                .where(Assignment.proposal_id.in_(proposal_ids))):
            existing.setdefault(proposal_id, set()).add(member_id)
        # One replacement per proposal taken away: k counts everyone the
        # proposal still has, recused members included, so a proposal short
        # for another reason is not topped up here unnoticed.
        wanted = {p: len(existing.get(p, set())) + 1 for p in proposal_ids}
        pseudonyms = {m.id: m.pseudonym for m in panel}
        current = loads(session, call)
        blocked = _blocking(session, call)
        for proposal_id in proposal_ids:
            chosen = plan([m.id for m in panel], [proposal_id], wanted[proposal_id], blocked=blocked,
                          loads=current, existing=existing)[proposal_id]
            code = codes[proposal_id]
            if chosen:
                target = chosen[0]
                current[target] = current.get(target, 0) + 1
                session.add(Assignment(proposal_id=proposal_id, panel_member_id=target, assigned_at=now,
                                       status=AssignmentStatus.ASSIGNED))
                result.reassigned[code] = pseudonyms[target]
            else:
                result.unplaced.append(code)
    else:
        result.unplaced = [codes[p] for p in proposal_ids] if call.assignment_mode == MODE_K else []
    moved = [codes[p] for p in proposal_ids]
    process_log.append(session, call, REVIEWER_WITHDREW,
                       {"reviewer": member.pseudonym, "reassigned_codes": moved}, now)
    for code in moved:
        payload = {"proposal_code": code, "from_reviewer": member.pseudonym, "ground": GROUND_WITHDRAWAL}
        if code in result.reassigned:
            payload["to_reviewer"] = result.reassigned[code]
        process_log.append(session, call, ASSIGNMENT_CHANGED, payload, now)
    session.flush()
    return result
