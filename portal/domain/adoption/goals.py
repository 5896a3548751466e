"""成果目標 and 活動指標: the targets an adopted project sets at the start,
against which its progress and results are later read.

Set jointly: the group proposes them (a title and a target value: a number
and its unit, or words), the city (staff or the project's department)
confirms the sheet. A confirmed sheet is fixed. The goals are part of the
agreement, so confirming them starts a new revision of a draft agreement
(both sides agree again to what now includes the goals), and while some
goals wait for the city the agreement cannot be agreed to.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AgreementStatus, GoalKind, Proposal, ProjectGoal, User
from ..normalize import ascii_digits
from ..refusals import Invalid, WrongState
from . import agreement as agreements

TITLE_MAX = 200
UNIT_MAX = 20
TEXT_MAX = 200
MAX_GOALS = 30
NUMBER_LIMIT = Decimal("1e12")


class GoalInvalid(Invalid):
    def __init__(self, problems: dict[str, str]):
        super().__init__("目標の入力内容を確認してください。")
        self.problems = problems


@dataclass
class GoalInput:
    kind: str = ""
    title: str = ""
    target_number: str = ""
    unit: str = ""
    target_text: str = ""


def read_number(text: str) -> Decimal | None:
    """'１，２００' -> Decimal('1200'); None when it is not a number of at
    most two decimals from 0 up."""
    cleaned = ascii_digits(text or "").replace(",", "").replace("，", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value >= NUMBER_LIMIT or value != value.quantize(Decimal("0.01")):
        return None
    return value


def problems_of(data: GoalInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    if data.kind not in {k.value for k in GoalKind}:
        problems["kind"] = "成果目標か活動指標かを選んでください。"
    if not data.title.strip():
        problems["title"] = "目標の内容を入力してください。"
    elif len(data.title) > TITLE_MAX:
        problems["title"] = f"{TITLE_MAX}字以内で入力してください（現在{len(data.title)}字）。"
    number, text = data.target_number.strip(), data.target_text.strip()
    if not number and not text:
        problems["target_number"] = "目標値を、数値と単位か、文章で入力してください。"
    if number and read_number(number) is None:
        problems["target_number"] = "目標値は0以上の数で入力してください（小数は2桁まで。例：120）。"
    if number and not data.unit.strip():
        problems["unit"] = "数値の単位を入力してください（例：人、回、%）。"
    if len(data.unit) > UNIT_MAX:
        problems["unit"] = f"{UNIT_MAX}字以内で入力してください。"
    if len(data.target_text) > TEXT_MAX:
        problems["target_text"] = f"{TEXT_MAX}字以内で入力してください（現在{len(data.target_text)}字）。"
    return problems


def goals_of(session: Session, proposal: Proposal) -> list[ProjectGoal]:
    # kind descending: OUTCOME (成果目標) before ACTIVITY (活動指標)
    return list(session.scalars(select(ProjectGoal).where(ProjectGoal.proposal_id == proposal.id)
                                .order_by(ProjectGoal.kind.desc(), ProjectGoal.position, ProjectGoal.id)))


def is_confirmed(goals: list[ProjectGoal]) -> bool:
    return bool(goals) and all(g.confirmed_at is not None for g in goals)


def waiting_for_city(goals: list[ProjectGoal]) -> bool:
    return any(g.confirmed_at is None for g in goals)


def _check_open(session: Session, proposal: Proposal) -> list[ProjectGoal]:
    if not agreements.is_adopted(session, proposal):
        raise WrongState("採択された事業だけが目標を設定できます。")
    row = agreements.agreement_of(session, proposal)
    if row is not None and row.status == AgreementStatus.CONCLUDED:
        raise WrongState("協定の締結後は目標を変更できません。変更は変更申請で行います。")
    goals = goals_of(session, proposal)
    if goals and is_confirmed(goals):
        raise WrongState("市が確認した目標は変更できません。")
    return goals


def propose(session: Session, proposal: Proposal, data: GoalInput, *, user: User | None,
            now: datetime) -> ProjectGoal:
    """The group adds one goal to its sheet."""
    goals = _check_open(session, proposal)
    problems = problems_of(data)
    if problems:
        raise GoalInvalid(problems)
    if len(goals) >= MAX_GOALS:
        raise WrongState(f"目標は{MAX_GOALS}件までです。")
    number = read_number(data.target_number) if data.target_number.strip() else None
    goal = ProjectGoal(proposal_id=proposal.id, kind=GoalKind(data.kind), title=data.title.strip(),
                       position=max((g.position for g in goals), default=-1) + 1, target_number=number,
                       unit=data.unit.strip() if number is not None else "", target_text=data.target_text.strip(),
                       proposed_at=now, proposed_by_id=user.id if user else None)
    session.add(goal)
    session.flush()
    return goal


def withdraw(session: Session, proposal: Proposal, goal: ProjectGoal) -> None:
    """The group takes a goal off its sheet before the city confirmed it."""
    _check_open(session, proposal)
    session.delete(goal)
    session.flush()


def confirm(session: Session, proposal: Proposal, *, user: User | None, now: datetime) -> int:
    """The city confirms the sheet as the group proposed it; returns how many
    goals it confirmed. A draft agreement gets a new revision, since what it
    says now includes the goals."""
    goals = _check_open(session, proposal)
    if not goals:
        raise WrongState("団体がまだ目標を提案していません。")
    for goal in goals:
        goal.confirmed_at = now
        goal.confirmed_by_id = user.id if user else None
    row = agreements.agreement_of(session, proposal)
    if row is not None:
        row.revision += 1
        row.updated_at = now
    session.flush()
    return len(goals)
