"""State changes of a proposal. Each verb changes data, records history and
only flushes; the request boundary commits."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import (
    BudgetKind,
    BudgetLine,
    Call,
    Declaration,
    Group,
    Proposal,
    ProposalStatus,
    RoleShare,
    StatusEvent,
    Submission,
    User,
)
from ..refusals import WrongState
from ..timeutil import format_jst
from . import budget
from .budget import budget_totals, requested_amount
from .proposal_fields import (
    DECLARATION_KEYS,
    REQUEST_CATEGORY,
    TEXT_FIELDS,
    limits_for,
)
from .proposal_input import ProposalInput
from .snapshot import build_snapshot, snapshot_digest

EDITABLE_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.RETURNED)
WITHDRAWABLE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.INTAKE, ProposalStatus.RETURNED)


class WorkflowError(WrongState):
    """A refused state change; ``message`` is shown to the user."""


class AlreadySubmitted(WorkflowError):
    pass


class EditConflict(WorkflowError):
    """Another tab or device saved the draft first."""


@dataclass(frozen=True)
class Problem:
    field_id: str
    label: str
    message: str


# --- editing -----------------------------------------------------------------

def edit_refusal(proposal: Proposal, now: datetime) -> str | None:
    """None when the proposal may be edited now; otherwise the plain reason."""
    call = proposal.call
    if proposal.status == ProposalStatus.RETURNED:
        if proposal.correction_due_at and now < proposal.correction_due_at:
            return None
        return "修正の期限を過ぎたため、編集・再提出はできません。"
    if proposal.status != ProposalStatus.DRAFT:
        return f"この提案は「{proposal.status.label}」のため、編集できません。"
    if now < call.opens_at:
        return f"受付開始（{format_jst(call.opens_at)}）までは編集・提出できません。"
    if call.is_closed(now):
        return f"締切（{format_jst(call.closes_at)}）を過ぎたため、編集・提出はできません。"
    return None


def _content(proposal: Proposal) -> tuple:
    """What an applicant edits, as plain values: equal means nothing changed."""
    return (
        tuple((f.key, getattr(proposal, f.key) or "") for f in TEXT_FIELDS),
        proposal.period_start,
        proposal.period_end,
        tuple(proposal.desired_forms or ()),
        proposal.related_department or "",
        tuple((b.kind, b.category, b.amount, b.note, b.amount_text) for b in proposal.budget_lines),
        tuple((r.item, r.group_role, r.city_role) for r in proposal.role_shares),
    )


def _content_of_input(data: ProposalInput) -> tuple:
    return (
        tuple((f.key, data.texts.get(f.key, "")) for f in TEXT_FIELDS),
        data.period_start,
        data.period_end,
        tuple(data.desired_forms),
        data.related_department,
        tuple((row.kind, row.category, row.amount or 0, row.note, _amount_text(row)) for row in data.budget_rows),
        tuple((row.item, row.group_role, row.city_role) for row in data.role_rows),
    )


def _amount_text(row) -> str | None:
    """What to keep of the typed amount: None when it was read as yen;
    otherwise the text itself (a draft keeps every row as typed, valid or
    not; the editor shows it again with its error)."""
    return None if row.amount is not None else row.amount_raw


def apply_input(proposal: Proposal, data: ProposalInput, now: datetime) -> bool:
    """Apply a form's content; returns False (and writes nothing, so the
    version stays) when it equals what is stored."""
    if _content(proposal) == _content_of_input(data):
        return False
    for key, value in data.texts.items():
        setattr(proposal, key, value)
    proposal.period_start = data.period_start
    proposal.period_end = data.period_end
    proposal.desired_forms = list(data.desired_forms)
    proposal.related_department = data.related_department
    proposal.budget_lines = [
        BudgetLine(position=i, kind=row.kind, category=row.category, amount=row.amount or 0, note=row.note,
                   amount_text=_amount_text(row))
        for i, row in enumerate(data.budget_rows)
    ]
    proposal.role_shares = [
        RoleShare(position=i, item=row.item, group_role=row.group_role, city_role=row.city_role)
        for i, row in enumerate(data.role_rows)
    ]
    proposal.requested_amount = requested_amount(proposal)
    proposal.updated_at = now
    return True


def text_problems(proposal: Proposal, call: Call) -> dict[str, str]:
    """Over-limit texts, reported on every save so the writer sees them early."""
    limits = limits_for(call)
    problems = {}
    for text_field in TEXT_FIELDS:
        length = len(getattr(proposal, text_field.key) or "")
        if length > limits[text_field.key]:
            problems[text_field.key] = f"{limits[text_field.key]}字以内にしてください（現在{length}字）。"
    return problems


def submission_problems(proposal: Proposal, user: User) -> list[Problem]:
    """Everything that stands in the way of submitting, all at once."""
    call, group = proposal.call, proposal.group
    problems: list[Problem] = []
    over = text_problems(proposal, call)
    for text_field in TEXT_FIELDS:
        value = getattr(proposal, text_field.key) or ""
        if not value:
            problems.append(Problem(text_field.key, text_field.label, "入力されていません。"))
        elif text_field.key in over:
            problems.append(Problem(text_field.key, text_field.label, over[text_field.key]))
    if proposal.period_start is None:
        problems.append(Problem("period_start", "実施期間（開始）", "入力されていません。"))
    if proposal.period_end is None:
        problems.append(Problem("period_end", "実施期間（終了）", "入力されていません。"))
    if proposal.period_start and proposal.period_end and proposal.period_end < proposal.period_start:
        problems.append(Problem("period_end", "実施期間（終了）", "終了日は開始日より後にしてください。"))
    if not proposal.desired_forms:
        problems.append(Problem("desired_forms", "希望する協働の形態", "一つ以上選んでください。"))
    complete_roles = [r for r in proposal.role_shares if r.group_role and r.city_role]
    if not complete_roles:
        problems.append(
            Problem("role-0-group", "役割分担", "団体が行うことと市が行うことを、少なくとも1行入力してください。")
        )
    problems.extend(Problem(field_id, label, message)
                    for field_id, (label, message) in budget.row_problems(proposal).items())
    problems.extend(_budget_problems(proposal, call))
    if missing_items := group.missing_profile_items():
        missing = "、".join(missing_items)
        problems.append(Problem("profile", "団体概要", f"未入力の項目があります（{missing}）。"))
    if not user.email_confirmed:
        problems.append(
            Problem("email", "メールアドレスの確認", "確認メールのリンクを開いて、メールアドレスの確認を完了してください。")
        )
    return problems


def _budget_problems(proposal: Proposal, call: Call) -> list[Problem]:
    problems = []
    kinds = {line.kind for line in proposal.budget_lines}
    if BudgetKind.INCOME not in kinds:
        problems.append(Problem("income-0-category", "収支予算書（収入）", "収入を1行以上入力してください。"))
    if BudgetKind.EXPENSE not in kinds:
        problems.append(Problem("expense-0-category", "収支予算書（支出）", "支出を1行以上入力してください。"))
    income, expense = budget_totals(proposal)
    if kinds == {BudgetKind.INCOME, BudgetKind.EXPENSE} and income != expense:
        problems.append(
            Problem(
                "budget-totals",
                "収支予算書",
                f"収入合計（{income:,}円）と支出合計（{expense:,}円）が一致していません。",
            )
        )
    requested = requested_amount(proposal)
    if requested <= 0 and BudgetKind.INCOME in kinds:
        problems.append(
            Problem("income-0-amount", "市への要望額", f"収入に「{REQUEST_CATEGORY}」の行を入力してください。")
        )
    if requested > call.budget_cap_per_proposal:
        problems.append(
            Problem(
                "budget-totals",
                "市への要望額",
                f"要望額（{requested:,}円）が上限額（{call.budget_cap_per_proposal:,}円）を超えています。",
            )
        )
    return problems


# --- submission ----------------------------------------------------------------

def record_status(session: Session, proposal: Proposal, to_status: ProposalStatus, actor: User | None,
                  now: datetime, note: str = "") -> None:
    session.add(
        StatusEvent(
            proposal_id=proposal.id,
            from_status=proposal.status,
            to_status=to_status,
            created_at=now,
            actor_id=actor.id if actor else None,
            note=note,
        )
    )
    proposal.status = to_status


def start_proposal(session: Session, call: Call, user: User, now: datetime) -> Proposal:
    """A new 下書き of the user's group for ``call``, with its first status
    event (flushes the proposal, which the event needs the id of)."""
    proposal = Proposal(call=call, group=user.group, status=ProposalStatus.DRAFT, created_at=now, updated_at=now)
    session.add(proposal)
    session.flush()
    session.add(StatusEvent(proposal_id=proposal.id, from_status=None, to_status=ProposalStatus.DRAFT,
                            created_at=now, actor_id=user.id))
    return proposal


def allocate_receipt_number(session: Session, call: Call) -> str:
    """An atomic counter per call: concurrent submissions never share a number."""
    number = session.execute(
        update(Call)
        .where(Call.id == call.id)
        .values(receipt_counter=Call.receipt_counter + 1)
        .returning(Call.receipt_counter)
    ).scalar_one()
    reiwa = call.fiscal_year - 2018
    return f"R{reiwa}-{call.id:02d}-{number:04d}"


def allocate_anonymous_code(session: Session, call: Call) -> str:
    """提案07: a code drawn at random from the unused ones, so that codes do
    not follow the order of receipt. Called after allocate_receipt_number,
    whose UPDATE holds the call's row lock, so concurrent submissions do not
    draw the same code."""
    used = set(session.scalars(
        select(Proposal.anonymous_code).where(Proposal.call_id == call.id, Proposal.anonymous_code.is_not(None))
    ))
    # Two digits while there is room to spare, so a code says nothing of the count.
    width = 2 if len(used) < 60 else 3
    free = [f"提案{n:0{width}d}" for n in range(1, 10**width) if f"提案{n:0{width}d}" not in used]
    return secrets.choice(free)


def accept_declarations(session: Session, proposal: Proposal, accepted: set[str], user: User,
                        now: datetime) -> list[str]:
    """Store each accepted declaration with its time; returns the keys still missing."""
    missing = [key for key in DECLARATION_KEYS if key not in accepted]
    if missing:
        return missing
    existing = {d.key: d for d in proposal.declarations}
    for key in DECLARATION_KEYS:
        if key in existing:
            existing[key].accepted_at = now
            existing[key].accepted_by_id = user.id
        else:
            proposal.declarations.append(Declaration(key=key, accepted_at=now, accepted_by_id=user.id))
    return []


def submit_proposal(session: Session, proposal: Proposal, user: User, expected_version: int,
                    now: datetime) -> Submission:
    """Submit (or resubmit after 差し戻し). Raises WorkflowError subclasses."""
    if proposal.status not in EDITABLE_STATUSES:
        raise AlreadySubmitted("この提案はすでに提出されています。")
    if proposal.version != expected_version:
        raise EditConflict("別の画面で内容が更新されています。最新の内容を確認してから提出してください。")
    refusal = edit_refusal(proposal, now)
    if refusal:
        raise WorkflowError(refusal)
    problems = submission_problems(proposal, user)
    if problems:
        raise WorkflowError("未入力または誤りのある項目があります。")
    if missing := [k for k in DECLARATION_KEYS if k not in {d.key for d in proposal.declarations}]:
        raise WorkflowError(f"誓約事項に同意されていない項目があります（{len(missing)}件）。")

    record_status(session, proposal, ProposalStatus.SUBMITTED, user, now)
    proposal.submitted_at = now
    # The version check in this flush makes a double-click submit exactly once.
    session.flush()
    first_submission = proposal.receipt_number is None
    if first_submission:
        proposal.receipt_number = allocate_receipt_number(session, proposal.call)
        proposal.anonymous_code = allocate_anonymous_code(session, proposal.call)
    revision = len(proposal.submissions) + 1
    snapshot = build_snapshot(proposal, now)
    submission = Submission(
        proposal_id=proposal.id,
        revision=revision,
        receipt_number=proposal.receipt_number,
        submitted_at=now,
        submitted_by_id=user.id,
        snapshot=snapshot,
        snapshot_sha256=snapshot_digest(snapshot),
    )
    session.add(submission)
    session.flush()
    if first_submission:
        from ..log import process_log
        from ..log.chain import PROPOSAL_RECEIVED

        process_log.append(session, proposal.call, PROPOSAL_RECEIVED,
                           {"proposal_code": proposal.anonymous_code}, now)
    return submission


def withdraw_refusal(proposal: Proposal, now: datetime) -> str | None:
    if proposal.status not in WITHDRAWABLE_STATUSES:
        return f"「{proposal.status.label}」の提案は取り下げできません。"
    if proposal.call.screening_started(now):
        return "審査が始まったため、取り下げはできません。市民協働課にご相談ください。"
    return None


def withdraw_proposal(session: Session, proposal: Proposal, user: User, reason: str, now: datetime) -> None:
    refusal = withdraw_refusal(proposal, now)
    if refusal:
        raise WorkflowError(refusal)
    record_status(session, proposal, ProposalStatus.WITHDRAWN, user, now, note=reason)
    proposal.updated_at = now
    session.flush()


def proposals_of_group(session: Session, group: Group) -> list[Proposal]:
    return list(session.scalars(select(Proposal).where(Proposal.group_id == group.id).order_by(Proposal.id.desc())))
