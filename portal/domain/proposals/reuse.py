"""Starting a new draft from a withdrawn proposal: the text, the period, the
forms of collaboration, the role shares and the budget rows are copied into
a new 下書き of the same group, in a call of the group's choice that is open.
Attachments are not copied: their files stay with the withdrawn proposal."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import BudgetLine, Call, Group, Proposal, ProposalStatus, RoleShare, User
from ..refusals import Invalid, WrongState
from .budget import requested_amount
from .proposal_fields import TEXT_FIELDS
from .workflow import start_proposal


def reuse_refusal(proposal: Proposal) -> str | None:
    """None when ``proposal`` may be the start of a new draft."""
    if proposal.status != ProposalStatus.WITHDRAWN:
        return "新しい提案のもとにできるのは、取り下げた提案だけです。"
    return None


def active_proposal_in(session: Session, group: Group, call: Call) -> Proposal | None:
    """The group's proposal in ``call`` that is not withdrawn (one per call)."""
    return session.scalar(select(Proposal).where(
        Proposal.call_id == call.id, Proposal.group_id == group.id, Proposal.status != ProposalStatus.WITHDRAWN))


def open_calls(session: Session, now: datetime) -> list[Call]:
    """Published calls open for proposals now, the newest first."""
    calls = session.scalars(select(Call).where(Call.published_at.is_not(None))
                            .order_by(Call.fiscal_year.desc(), Call.opens_at.desc(), Call.id)).all()
    return [call for call in calls if call.is_open(now)]


def copy_refusal(session: Session, group: Group, call: Call | None, now: datetime) -> str | None:
    """None when the group may start a new draft in ``call`` now."""
    if call is None or call.published_at is None:
        return "提案する募集を一覧から選んでください。"
    if not call.is_open(now):
        return f"「{call.title}」は受付期間外のため、新しい提案を作成できません。"
    if active_proposal_in(session, group, call) is not None:
        return f"「{call.title}」には、すでにこの団体の提案があります。"
    return None


def start_from_withdrawn(session: Session, source: Proposal, call: Call, user: User, now: datetime) -> Proposal:
    """A new 下書き in ``call`` holding a copy of ``source``'s content. Only
    flushes. Raises ``WrongState`` or ``Invalid`` with the reason."""
    if refusal := reuse_refusal(source):
        raise WrongState(refusal)
    if refusal := copy_refusal(session, user.group, call, now):
        raise Invalid(refusal, field="call")
    draft = start_proposal(session, call, user, now)
    for text_field in TEXT_FIELDS:
        setattr(draft, text_field.key, getattr(source, text_field.key) or "")
    draft.period_start = source.period_start
    draft.period_end = source.period_end
    draft.desired_forms = list(source.desired_forms or [])
    draft.related_department = source.related_department or ""
    draft.role_shares = [RoleShare(position=i, item=r.item, group_role=r.group_role, city_role=r.city_role)
                         for i, r in enumerate(source.role_shares)]
    draft.budget_lines = [BudgetLine(position=i, kind=b.kind, category=b.category, amount=b.amount, note=b.note,
                                     amount_text=b.amount_text)
                          for i, b in enumerate(source.budget_lines)]
    draft.requested_amount = requested_amount(draft)
    session.flush()
    return draft
