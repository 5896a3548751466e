"""The conflict cross-check (利害関係の照合) of a call's panel, and the
secretariat's decisions on its flags.

``find_conflicts`` (the pure core in ``conflicts.py``) compares every panel
member's stated organisations and name with every group that submitted a
proposal to the call. Its flags are stored as :class:`Conflict` rows, one per
(member, proposal), so that staff decide each pair once:

- a re-run never duplicates a row, and leaves a decision alone unless the
  grounds found have changed (then a dismissed flag comes back for a new look);
- a flag whose grounds have gone (an affiliation was corrected) is removed
  while nobody has decided on it;
- rows declared by a reviewer or added by staff are never touched by the check.

Confirming a conflict on a proposal already given to the member recuses the
assignment and says so in the public log (by pseudonym and anonymous code
only). Dismissing a flag gives back an assignment that was held back only
because of that flag.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..refusals import WrongState
from ...models import (
    BLOCKING_CONFLICT_STATUSES,
    Assignment,
    AssignmentStatus,
    Call,
    Conflict,
    ConflictSource,
    ConflictStatus,
    Group,
    LogEntry,
    PanelMember,
    Proposal,
    ProposalStatus,
    User,
)
from ..log import process_log
from ..log.chain import REVIEWER_ASSIGNED, REVIEWER_RECUSED
from .conflicts import Affiliation, find_conflicts
from ..anonymity.group_identity import identity_of

# Proposals that were submitted and are still in the running: a draft was
# never submitted, a withdrawn or rejected one will never be scored.
CHECKED_STATUSES = (
    ProposalStatus.SUBMITTED, ProposalStatus.INTAKE, ProposalStatus.ACCEPTED, ProposalStatus.RETURNED,
    ProposalStatus.REVIEW, ProposalStatus.RESULTS,
)
RECUSAL_GROUND = "conflict_of_interest"
# The staff's note on a decision is kept after the grounds, so a re-run can
# still compare the grounds alone (the table has a single text column).
NOTE_MARKER = "\n\n【事務局メモ】"
NOTE_LIMIT = 200
REASON_LIMIT = 500


class ConflictError(WrongState):
    """A refused decision; the message is Japanese and shown to staff as is."""


@dataclass(frozen=True)
class CheckSummary:
    added: int = 0
    changed: int = 0
    removed: int = 0
    members: int = 0
    proposals: int = 0

    @property
    def message(self) -> str:
        if not self.members or not self.proposals:
            return "照合する委員又は提案がありません。"
        parts = [f"委員{self.members}人と提案{self.proposals}件を照合しました。"]
        if self.added or self.changed or self.removed:
            parts.append(f"新たな要確認 {self.added}件、根拠の変わったもの {self.changed}件、"
                         f"根拠がなくなり取り除いたもの {self.removed}件。")
        else:
            parts.append("変更はありません。")
        return "".join(parts)


def split_reason(reason: str) -> tuple[str, str]:
    """(grounds, staff note) of a stored reason."""
    grounds, _, note = (reason or "").partition(NOTE_MARKER)
    return grounds, note


def grounds_of(conflict: Conflict) -> str:
    return split_reason(conflict.reason)[0]


def note_of(conflict: Conflict) -> str:
    return split_reason(conflict.reason)[1]


def checked_proposals(session: Session, call: Call) -> list[Proposal]:
    """The call's submitted proposals, with their groups loaded."""
    return list(session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.receipt_number.is_not(None),
               Proposal.status.in_(CHECKED_STATUSES))
        .options(selectinload(Proposal.group).selectinload(Group.account))
        .order_by(Proposal.anonymous_code, Proposal.id)
    ))


def run_check(session: Session, call: Call, now: datetime, *, members: Sequence[PanelMember] | None = None,
              proposals: Sequence[Proposal] | None = None) -> CheckSummary:
    """Cross-check ``members`` (default: the whole panel) against
    ``proposals`` (default: every submitted proposal) and store the flags."""
    if members is None:
        members = list(session.scalars(
            select(PanelMember).where(PanelMember.call_id == call.id)
            .options(selectinload(PanelMember.user)).order_by(PanelMember.id)
        ))
    if proposals is None:
        proposals = checked_proposals(session, call)
    members = [m for m in members if m.call_id == call.id]
    proposals = [p for p in proposals if p.call_id == call.id and p.receipt_number is not None]
    if not members or not proposals:
        return CheckSummary(members=len(members), proposals=len(proposals))

    by_key = {str(m.id): m for m in members}
    affiliations = [Affiliation(str(m.id), org) for m in members for org in (m.affiliations or [])]
    names = {str(m.id): m.user.display_name for m in members if m.user and m.user.display_name}
    groups = {p.id: identity_of(p.group) for p in proposals}
    flags = {(by_key[f.reviewer_key].id, f.group_key): f
             for f in find_conflicts(affiliations, groups, names)}

    existing = {
        (c.panel_member_id, c.proposal_id): c
        for c in session.scalars(select(Conflict).where(
            Conflict.panel_member_id.in_([m.id for m in members]),
            Conflict.proposal_id.in_([p.id for p in proposals]),
        ))
    }
    added = changed = removed = 0
    for pair, flag in flags.items():
        row = existing.get(pair)
        if row is None:
            session.add(Conflict(panel_member_id=pair[0], proposal_id=pair[1], source=ConflictSource.DETECTED,
                                 status=ConflictStatus.FLAGGED, reason=flag.reason, confidence=flag.confidence,
                                 created_at=now))
            added += 1
        elif row.source == ConflictSource.DETECTED and grounds_of(row) != flag.reason:
            grounds, note = flag.reason, note_of(row)
            row.reason = grounds + (NOTE_MARKER + note if note else "")
            row.confidence = flag.confidence
            if row.status == ConflictStatus.DISMISSED:
                # New grounds deserve a new look; until then the pair is kept apart.
                row.status = ConflictStatus.FLAGGED
                row.decided_at = None
                row.decided_by_id = None
            changed += 1
    session.flush()
    for pair, row in existing.items():
        if pair not in flags and row.source == ConflictSource.DETECTED and row.status == ConflictStatus.FLAGGED:
            session.delete(row)
            session.flush()
            _give_back_if_held(session, call, by_key[str(pair[0])], pair[1], now)
            removed += 1
    session.flush()
    return CheckSummary(added, changed, removed, len(members), len(proposals))


# -- decisions -------------------------------------------------------------------------


def confirm(session: Session, conflict: Conflict, staff: User, now: datetime) -> None:
    if conflict.status == ConflictStatus.CONFIRMED:
        raise ConflictError("この利害関係はすでに確定しています。")
    conflict.status = ConflictStatus.CONFIRMED
    conflict.decided_at = now
    conflict.decided_by_id = staff.id
    session.flush()
    recuse(session, conflict.panel_member, conflict.proposal_id, now)


def dismiss(session: Session, conflict: Conflict, staff: User, note: str, now: datetime) -> None:
    note = (note or "").strip()
    if conflict.status == ConflictStatus.CONFIRMED:
        raise ConflictError("確定した利害関係は却下できません。審査の公正のため、確定は取り消せません。")
    if conflict.status == ConflictStatus.DISMISSED:
        raise ConflictError("この利害関係はすでに却下されています。")
    if not note:
        raise ConflictError("却下の理由を短く入力してください。")
    if len(note) > NOTE_LIMIT:
        raise ConflictError(f"却下の理由は{NOTE_LIMIT}字以内で入力してください（現在{len(note)}字）。")
    conflict.reason = grounds_of(conflict) + NOTE_MARKER + note
    conflict.status = ConflictStatus.DISMISSED
    conflict.decided_at = now
    conflict.decided_by_id = staff.id
    session.flush()
    _give_back_if_held(session, _call_of(session, conflict.panel_member), conflict.panel_member,
                       conflict.proposal_id, now)


def add_by_staff(session: Session, call: Call, member: PanelMember, proposal: Proposal, reason: str,
                 staff: User, now: datetime) -> Conflict:
    """A conflict the secretariat knows of: confirmed at once."""
    reason = (reason or "").strip()
    if member.call_id != call.id or proposal.call_id != call.id or proposal.receipt_number is None:
        raise ConflictError("この募集の委員と提案を選んでください。")
    if not reason:
        raise ConflictError("利害関係の内容を入力してください。")
    if len(reason) > REASON_LIMIT:
        raise ConflictError(f"利害関係の内容は{REASON_LIMIT}字以内で入力してください（現在{len(reason)}字）。")
    existing = session.scalars(select(Conflict).where(
        Conflict.panel_member_id == member.id, Conflict.proposal_id == proposal.id)).first()
    if existing is not None:
        raise ConflictError(f"{member.pseudonym}と{proposal.anonymous_code}の組み合わせはすでに一覧にあります。"
                            "一覧から確定してください。")
    conflict = Conflict(panel_member_id=member.id, proposal_id=proposal.id, source=ConflictSource.STAFF,
                        status=ConflictStatus.CONFIRMED, reason=reason, confidence="high", created_at=now,
                        decided_at=now, decided_by_id=staff.id)
    session.add(conflict)
    session.flush()
    recuse(session, member, proposal.id, now)
    return conflict


# -- assignments and the public log ------------------------------------------------------


def _call_of(session: Session, member: PanelMember) -> Call:
    return session.get(Call, member.call_id)


def _code_of(session: Session, proposal_id: int) -> str | None:
    return session.scalar(select(Proposal.anonymous_code).where(Proposal.id == proposal_id))


def logged_recusals(session: Session, call: Call) -> set[tuple[str, str]]:
    """(pseudonym, proposal code) pairs whose recusal is in the public log."""
    payloads = session.scalars(
        select(LogEntry.payload).where(LogEntry.call_id == call.id, LogEntry.kind == REVIEWER_RECUSED))
    return {(p.get("reviewer"), p.get("proposal_code")) for p in payloads}


def log_recusal(session: Session, call: Call, member: PanelMember, code: str, now: datetime,
                ground: str = RECUSAL_GROUND, *, logged: set[tuple[str, str]] | None = None) -> bool:
    """Append ``reviewer_recused`` once per member and proposal."""
    logged = logged if logged is not None else logged_recusals(session, call)
    if (member.pseudonym, code) in logged:
        return False
    process_log.append(session, call, REVIEWER_RECUSED,
                       {"reviewer": member.pseudonym, "proposal_code": code, "ground": ground}, now)
    logged.add((member.pseudonym, code))
    return True


def recuse(session: Session, member: PanelMember, proposal_id: int, now: datetime) -> Assignment | None:
    """Withdraw an assigned proposal from a member for a confirmed conflict.
    Nothing to do before release: the assignment will be made recused."""
    assignment = session.scalars(select(Assignment).where(
        Assignment.panel_member_id == member.id, Assignment.proposal_id == proposal_id)).first()
    if assignment is None:
        return None
    if assignment.status != AssignmentStatus.RECUSED:
        assignment.status = AssignmentStatus.RECUSED
        assignment.recused_at = now
    code = _code_of(session, proposal_id)
    if code:
        log_recusal(session, _call_of(session, member), member, code, now)
    session.flush()
    return assignment


def _give_back_if_held(session: Session, call: Call, member: PanelMember, proposal_id: int,
                       now: datetime) -> None:
    """An assignment made recused at release only because of a pending flag
    goes back to the member once the flag is dismissed or gone. A recusal
    already announced in the public log stands."""
    assignment = session.scalars(select(Assignment).where(
        Assignment.panel_member_id == member.id, Assignment.proposal_id == proposal_id)).first()
    if assignment is None or assignment.status != AssignmentStatus.RECUSED:
        return
    still_blocked = session.scalar(select(Conflict.id).where(
        Conflict.panel_member_id == member.id, Conflict.proposal_id == proposal_id,
        Conflict.status.in_(BLOCKING_CONFLICT_STATUSES)))
    code = _code_of(session, proposal_id)
    if still_blocked is not None or code is None or (member.pseudonym, code) in logged_recusals(session, call):
        return
    assignment.status = AssignmentStatus.ASSIGNED
    assignment.recused_at = None
    process_log.append(session, call, REVIEWER_ASSIGNED, {"reviewer": member.pseudonym, "proposal_codes": [code]},
                       now)
    session.flush()


def conflicts_of_call(session: Session, call: Call) -> list[Conflict]:
    return list(session.scalars(
        select(Conflict).join(PanelMember, PanelMember.id == Conflict.panel_member_id)
        .where(PanelMember.call_id == call.id)
        .options(selectinload(Conflict.panel_member))
        .order_by(PanelMember.id, Conflict.proposal_id)
    ))
