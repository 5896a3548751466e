"""協定書: the agreement of an adopted proposal (採択 or 条件付き採択, after
the results were published).

Staff start a draft drafted from the proposal (purpose, period, the roles of
the city 甲 and the group 乙 from its 役割分担, the cost sharing from its
budget, the conditions of a 条件付き採択, and the standing clauses), and edit
it. Each edit that changes the text raises the revision; a confirmation (合意)
is for one revision, so an edit after a confirmation asks both sides again.
When the city and the group have both confirmed the current revision, the
agreement is concluded: the PDF is rendered by the caller's renderer, stored,
and its SHA-256 appended to the call's process log (``agreement_concluded``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...files import storage
from ...files.objectstore import ObjectStore
from ...models import (
    Agreement,
    AgreementConfirmation,
    AgreementSide,
    AgreementStatus,
    Decision,
    DecisionOutcome,
    Proposal,
    ProjectGoal,
    ProposalStatus,
    User,
)
from ..log import chain, process_log
from ..proposals.budget import budget_totals
from ..refusals import Invalid, WrongState

TEXT_MAX = 4000
TITLE_MAX = 200
AMOUNT_MAX = 10**10

INFORMATION_SHARING = (
    "甲及び乙は、事業の進捗、課題及び成果に関する情報を相互に提供し、定期的に協議の場を設けて共有する。"
)
PUBLICITY = (
    "甲及び乙は、公開の原則に基づき、本協定の内容、事業の経過及び成果並びに評価の結果を公表する。"
    "ただし、個人情報その他法令により公開できない情報はこの限りでない。"
)
CHANGES = (
    "本協定の内容を変更する必要が生じたときは、甲乙協議のうえ、書面により変更する。"
    "甲又は乙が本協定に違反したとき、又は事業の継続が困難となったときは、相手方に通知のうえ本協定を解除することができる。"
)


class AgreementInvalid(Invalid):
    """The draft cannot be saved as typed: every problem by field at once."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("協定書案の入力内容を確認してください。")
        self.problems = problems


@dataclass
class AgreementText:
    """What staff edit: the text of the agreement as typed."""

    title: str = ""
    purpose: str = ""
    period_start: date | None = None
    period_end: date | None = None
    city_roles: str = ""
    group_roles: str = ""
    city_amount: int = 0
    cost_sharing: str = ""
    conditions: str = ""
    information_sharing: str = ""
    publicity: str = ""
    changes: str = ""

    @classmethod
    def of(cls, agreement: Agreement) -> "AgreementText":
        return cls(**{f.name: getattr(agreement, f.name) for f in fields(cls)})


REQUIRED_TEXTS = {"title": "事業名", "purpose": "目的", "city_roles": "市（甲）の役割",
                  "group_roles": "団体（乙）の役割", "cost_sharing": "経費の負担",
                  "information_sharing": "情報の共有", "publicity": "公開の原則", "changes": "変更及び解除"}


def problems_of(text: AgreementText, *, conditional: bool) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name, label in REQUIRED_TEXTS.items():
        value = getattr(text, name) or ""
        limit = TITLE_MAX if name == "title" else TEXT_MAX
        if not value.strip():
            problems[name] = f"{label}を入力してください。"
        elif len(value) > limit:
            problems[name] = f"{limit}字以内にしてください（いま{len(value)}字）。"
    if len(text.conditions or "") > TEXT_MAX:
        problems["conditions"] = f"{TEXT_MAX}字以内にしてください（いま{len(text.conditions)}字）。"
    elif conditional and not (text.conditions or "").strip():
        problems["conditions"] = "条件付き採択です。採択の条件を入力してください。"
    if text.period_start is None:
        problems["period_start"] = "協定の開始日を入力してください。"
    if text.period_end is None:
        problems["period_end"] = "協定の終了日を入力してください（協働には期限があります）。"
    elif text.period_start is not None and text.period_end < text.period_start:
        problems["period_end"] = "終了日は開始日より後の日付にしてください。"
    if text.city_amount is None or text.city_amount < 0 or text.city_amount >= AMOUNT_MAX:
        problems["city_amount"] = "市の負担額を0円以上の金額で入力してください。"
    return problems


def decision_of(session: Session, proposal: Proposal) -> Decision | None:
    return session.scalars(select(Decision).where(Decision.proposal_id == proposal.id)).first()


def is_adopted(session: Session, proposal: Proposal) -> bool:
    """Adopted (採択 or 条件付き採択) and the results published."""
    if proposal.status != ProposalStatus.RESULTS:
        return False
    decision = decision_of(session, proposal)
    return decision is not None and decision.outcome in (DecisionOutcome.ADOPTED, DecisionOutcome.CONDITIONAL)


def agreement_of(session: Session, proposal: Proposal) -> Agreement | None:
    return session.scalars(select(Agreement).where(Agreement.proposal_id == proposal.id)).first()


def _roles(proposal: Proposal, attribute: str) -> str:
    lines = []
    for share in proposal.role_shares:
        role = (getattr(share, attribute) or "").strip()
        if role:
            lines.append(f"・{share.item.strip()}：{role}" if share.item.strip() else f"・{role}")
    return "\n".join(lines)


def drafted_text(proposal: Proposal, decision: Decision) -> AgreementText:
    """The first draft, from the adopted proposal as the group wrote it."""
    _income, expense = budget_totals(proposal)
    city = proposal.requested_amount
    group = max(expense - city, 0)
    cost = (f"事業費の総額は{expense:,}円とし、うち甲は{city:,}円を負担する。"
            f"残る{group:,}円は乙が負担する（参加費・自己資金・その他の収入による）。"
            "経費の内訳は提案書の収支予算書のとおりとする。")
    conditional = decision.outcome == DecisionOutcome.CONDITIONAL
    return AgreementText(
        title=proposal.title, purpose=proposal.purpose, period_start=proposal.period_start,
        period_end=proposal.period_end, city_roles=_roles(proposal, "city_role"),
        group_roles=_roles(proposal, "group_role"), city_amount=city, cost_sharing=cost,
        conditions=decision.conditions if conditional else "", information_sharing=INFORMATION_SHARING,
        publicity=PUBLICITY, changes=CHANGES,
    )


def start_draft(session: Session, proposal: Proposal, *, staff: User | None, now: datetime) -> Agreement:
    if not is_adopted(session, proposal):
        raise WrongState("採択（条件付き採択を含む）が公表された提案だけ、協定書を作成できます。")
    if agreement_of(session, proposal) is not None:
        raise WrongState("この提案の協定書案はすでにあります。")
    text = drafted_text(proposal, decision_of(session, proposal))
    staff_id = staff.id if staff else None
    agreement = Agreement(proposal_id=proposal.id, status=AgreementStatus.DRAFT, revision=1,
                          created_at=now, created_by_id=staff_id, updated_at=now, updated_by_id=staff_id,
                          **{f.name: getattr(text, f.name) for f in fields(AgreementText)})
    session.add(agreement)
    session.flush()
    return agreement


def update_draft(session: Session, agreement: Agreement, text: AgreementText, *, revision_seen: int,
                 staff: User | None, now: datetime) -> bool:
    """Save the edited draft; True when the text changed (and the revision
    with it: earlier confirmations no longer count)."""
    if agreement.status != AgreementStatus.DRAFT:
        raise WrongState("締結済みの協定書は変更できません。変更は変更協定として扱ってください。")
    if revision_seen != agreement.revision:
        raise WrongState("この協定書案は、開いた後にほかの画面で変更されています。再読み込みして確認してください。")
    decision = decision_of(session, agreement.proposal)
    problems = problems_of(text, conditional=decision is not None
                           and decision.outcome == DecisionOutcome.CONDITIONAL)
    if problems:
        raise AgreementInvalid(problems)
    if AgreementText.of(agreement) == text:
        return False
    for f in fields(AgreementText):
        setattr(agreement, f.name, getattr(text, f.name))
    agreement.revision += 1
    agreement.updated_at = now
    agreement.updated_by_id = staff.id if staff else None
    session.flush()
    return True


def current_confirmations(agreement: Agreement) -> dict[AgreementSide, AgreementConfirmation]:
    return {c.side: c for c in agreement.confirmations if c.revision == agreement.revision}


def confirm(session: Session, agreement: Agreement, side: AgreementSide | str, *, user: User,
            revision_seen: int, now: datetime, render: Callable[[Agreement], bytes],
            store: ObjectStore) -> bool:
    """One side agrees to the revision it read. When both sides have, the
    agreement is concluded here, in the same transaction. True when concluded."""
    side = AgreementSide(side)
    if agreement.status != AgreementStatus.DRAFT:
        raise WrongState("この協定はすでに締結されています。")
    if revision_seen != agreement.revision:
        raise WrongState("協定書案が変更されました。変更後の内容を確認してから、もう一度合意してください。")
    if session.scalar(select(ProjectGoal.id).where(ProjectGoal.proposal_id == agreement.proposal_id,
                                                   ProjectGoal.confirmed_at.is_(None)).limit(1)) is not None:
        raise WrongState("団体が提案した目標を、市がまだ確認していません。目標の確認の後に合意してください。")
    problems = problems_of(AgreementText.of(agreement), conditional=False)
    if problems:
        raise WrongState("協定書案に未入力の項目があります。市民協働課が案を整えるまでお待ちください。")
    if side not in current_confirmations(agreement):
        agreement.confirmations.append(AgreementConfirmation(
            agreement_id=agreement.id, revision=agreement.revision, side=side, user_id=user.id,
            confirmed_at=now))
        session.flush()
    if set(current_confirmations(agreement)) == set(AgreementSide):
        conclude(session, agreement, now=now, render=render, store=store)
        return True
    return False


def conclude(session: Session, agreement: Agreement, *, now: datetime, render: Callable[[Agreement], bytes],
             store: ObjectStore) -> None:
    """Render, store and log the concluded agreement (both sides agreed)."""
    agreement.concluded_at = now
    pdf = render(agreement)
    agreement.pdf_name = storage.write_generated(session, store, pdf)
    agreement.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    agreement.status = AgreementStatus.CONCLUDED  # the database wants the hash first
    proposal = agreement.proposal
    process_log.append(session, proposal.call, chain.AGREEMENT_CONCLUDED,
                       {"proposal_code": proposal.anonymous_code, "document_sha256": agreement.pdf_sha256,
                        "revision": agreement.revision}, now)
    session.flush()


def concluded_pdf(agreement: Agreement, store: ObjectStore) -> bytes | None:
    """The stored PDF, checked against the hash that was logged."""
    data = storage.read_bytes(store, agreement.pdf_name)
    if data is None or hashlib.sha256(data).hexdigest() != agreement.pdf_sha256:
        return None
    return data
