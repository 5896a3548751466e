"""継続: a proposal continuing an earlier adopted project (時限性: every
agreement ends; going on needs a new application).

Staff see which project and its evaluation. Reviewers see only that the
proposal continues an earlier project and, once published, its grade —
never the earlier project's code, title or group: codes and titles of
adopted projects are public, so naming one would name the group
(docs/anonymisation.md, "継続提案").
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Agreement, AgreementStatus, Proposal, ProposalStatus
from ...models.evaluation import EvaluationPublication, ProposalContinuation
from ..refusals import WrongState
from .evaluation import EvaluationInvalid


class ContinuationInvalid(EvaluationInvalid):
    """A refused 継続 choice; ``problems`` maps the field to its message."""


def continuation_of(session: Session, proposal: Proposal):
    return session.get(ProposalContinuation, proposal.id)


def continuable_projects(session: Session, proposal: Proposal) -> list[Proposal]:
    """The group's earlier adopted projects with a concluded agreement (the
    agreement ended or is ending: every agreement has a term)."""
    return list(session.scalars(
        select(Proposal).join(Agreement, Agreement.proposal_id == Proposal.id)
        .where(Proposal.group_id == proposal.group_id, Proposal.id != proposal.id,
               Proposal.call_id != proposal.call_id, Agreement.status == AgreementStatus.CONCLUDED)
        .order_by(Proposal.id)))


def mark_continuation(session: Session, proposal: Proposal, earlier_id: int | None, *, now: datetime) -> None:
    """Mark (or, with None, unmark) the proposal as 継続 of an earlier
    project of the same group; only while the proposal is still a draft."""
    if proposal.status != ProposalStatus.DRAFT:
        raise WrongState("提出した提案の継続の指定は変更できません。")
    row = continuation_of(session, proposal)
    if earlier_id is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    if earlier_id not in {p.id for p in continuable_projects(session, proposal)}:
        raise ContinuationInvalid({"earlier": "継続元には、この団体が以前に協定を結んだ採択事業を選んでください。"})
    if row is None:
        row = ProposalContinuation(proposal_id=proposal.id, earlier_proposal_id=earlier_id, marked_at=now)
        session.add(row)
    else:
        row.earlier_proposal_id, row.marked_at = earlier_id, now
    session.flush()


def reviewer_note(session: Session, proposal_id: int) -> str | None:
    """What a reviewer reads about 継続: no name, no code, no title."""
    row = session.get(ProposalContinuation, proposal_id)
    if row is None:
        return None
    published = session.get(EvaluationPublication, row.earlier_proposal_id)
    if published is None:
        return "この提案は、以前の採択事業を継続する提案です（前の事業の評価はまだ公表されていません）。"
    return f"この提案は、以前の採択事業を継続する提案です。前の事業の評価：{published.grade}。"
