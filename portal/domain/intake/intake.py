"""受付・形式審査 and 担当課所見: the secretariat's verbs on submitted proposals.

decide_intake() records 受理 / 差し戻し / 不受理 with the eligibility
checklist as it stood, tells the group in its history, and appends
``intake_decided`` to the public process log. The group reads the full
reasons; the public log gets only a short category, never the text staff
wrote (it may name people or the group).

Like every verb here it only flushes; the caller sends the mail
(intake_mail() builds it) and the request boundary commits.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    FEASIBILITY_LABELS,
    Call,
    DepartmentOpinion,
    IntakeDecision,
    IntakeOutcome,
    Proposal,
    ProposalStatus,
    Submission,
    User,
)
from . import eligibility
from ..log import process_log
from ..log.chain import INTAKE_DECIDED
from ..timeutil import format_jst
from ..proposals.workflow import WorkflowError, record_status

# Proposals waiting for a decision. A returned proposal comes back as
# SUBMITTED when the group resubmits it.
DECIDABLE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.INTAKE)
# What the intake list shows: everything that has been submitted at least once.
INTAKE_STATUSES = (
    ProposalStatus.SUBMITTED, ProposalStatus.INTAKE, ProposalStatus.RETURNED, ProposalStatus.ACCEPTED,
    ProposalStatus.REJECTED, ProposalStatus.REVIEW, ProposalStatus.RESULTS, ProposalStatus.WITHDRAWN,
)

# The public log's reason for a return or rejection: a category, chosen by
# staff, never their free text.
REASON_CATEGORIES = {
    "formal": "形式要件不備",
    "documents": "提出書類不備",
    "budget": "収支予算書の不備",
    "eligibility": "応募資格を満たさない",
    "excluded": "対象外の事業",
    "other": "その他",
}
OUTCOME_STATUS = {
    IntakeOutcome.ACCEPT: ProposalStatus.ACCEPTED,
    IntakeOutcome.RETURN: ProposalStatus.RETURNED,
    IntakeOutcome.REJECT: ProposalStatus.REJECTED,
}


class IntakeError(WorkflowError):
    """A refused intake step; ``message`` is shown to staff."""


def latest_submission(proposal: Proposal, session: Session | None = None) -> Submission | None:
    """The last submission. With a session, read from the database (the
    relationship may not yet list a resubmission made in this session);
    without, from the loaded relationship (list pages preload it)."""
    if session is not None:
        return session.scalars(select(Submission).where(Submission.proposal_id == proposal.id)
                               .order_by(Submission.revision.desc()).limit(1)).first()
    return proposal.submissions[-1] if proposal.submissions else None


def submissions_by_proposal(session: Session, call: Call) -> dict[int, list[Submission]]:
    """Every submission to ``call``, oldest first, by proposal id: one query
    however many proposals there are. (``selectinload`` would split a long
    list of proposals into batches of 500 ids, a query per batch.)"""
    found: dict[int, list[Submission]] = {}
    for submission in session.scalars(
        select(Submission).join(Proposal, Proposal.id == Submission.proposal_id)
        .where(Proposal.call_id == call.id).order_by(Submission.proposal_id, Submission.revision)
    ):
        found.setdefault(submission.proposal_id, []).append(submission)
    return found


def checklist(proposal: Proposal, submission: Submission | None = None) -> list[eligibility.CheckItem]:
    """The automatic checks on what was submitted last (not the live draft)."""
    submission = submission or latest_submission(proposal)
    if submission is None:
        return []
    return eligibility.check_submission(proposal.call, submission.snapshot,
                                        based_in_city=bool(proposal.group.based_in_city))


def decide_intake(session: Session, proposal: Proposal, outcome: IntakeOutcome | str, reasons: str,
                  staff: User, now: datetime, *, reason_category: str = "formal") -> IntakeDecision:
    """Record 受理 / 差し戻し / 不受理. Return and reject need reasons."""
    outcome = IntakeOutcome(outcome)
    reasons = (reasons or "").strip()
    if proposal.status not in DECIDABLE_STATUSES:
        raise IntakeError(f"この提案は「{proposal.status.label}」のため、受付の判断はできません。")
    submission = latest_submission(proposal, session)
    if submission is None:
        raise IntakeError("提出の記録がないため、受付の判断はできません。")
    if outcome != IntakeOutcome.ACCEPT:
        if not reasons:
            raise IntakeError(f"{outcome.label}の理由を入力してください。理由は団体に通知されます。")
        if reason_category not in REASON_CATEGORIES:
            raise IntakeError("公表用の理由の区分を一覧から選んでください。")
    items = checklist(proposal, submission)
    due = now + timedelta(days=proposal.call.correction_days) if outcome == IntakeOutcome.RETURN else None
    decision = IntakeDecision(
        proposal_id=proposal.id,
        submission_id=submission.id,
        outcome=outcome,
        reasons=reasons,
        checklist=[item.as_dict() for item in items],
        correction_due_at=due,
        decided_at=now,
        decided_by_id=staff.id if staff else None,
    )
    session.add(decision)
    record_status(session, proposal, OUTCOME_STATUS[outcome], staff, now, note=group_note(outcome, reasons, due))
    proposal.correction_due_at = due
    proposal.updated_at = now
    session.flush()
    public_reason = "" if outcome == IntakeOutcome.ACCEPT else REASON_CATEGORIES[reason_category]
    process_log.append(session, proposal.call, INTAKE_DECIDED,
                       {"proposal_code": proposal.anonymous_code, "outcome": outcome.value,
                        "reason": public_reason}, now)
    return decision


def group_note(outcome: IntakeOutcome, reasons: str, due: datetime | None) -> str:
    """What the group reads in its history."""
    if outcome == IntakeOutcome.ACCEPT:
        text = "受付確認（形式審査）の結果、受理しました。今後、審査委員会で審査します。"
        return f"{text}\n{reasons}" if reasons else text
    if outcome == IntakeOutcome.RETURN:
        return (f"差し戻しの理由：{reasons}\n"
                f"修正期限：{format_jst(due)}（期限までに修正して再提出してください）")
    return f"不受理の理由：{reasons}"


def intake_mail(proposal: Proposal, decision: IntakeDecision, *, city_name: str, link: str) -> tuple[str, str]:
    """(subject, body) of the mail telling the group the outcome."""
    outcome = IntakeOutcome(decision.outcome)
    subject = f"【{city_name}】提案の受付確認の結果：{outcome.label}（受付番号 {proposal.receipt_number}）"
    lines = [
        f"{proposal.group.name} 様",
        "",
        f"「{proposal.call.title}」へご提出いただいた提案について、受付確認（形式審査）の結果をお知らせします。",
        "",
        f"受付番号：{proposal.receipt_number}",
        f"事業名：{proposal.title}",
        f"結果：{outcome.label}",
    ]
    if outcome == IntakeOutcome.ACCEPT:
        lines += ["", "今後、審査委員会で審査を行います。"]
    elif outcome == IntakeOutcome.RETURN:
        lines += ["", "差し戻しの理由：", decision.reasons, "",
                  f"修正期限：{format_jst(decision.correction_due_at)}",
                  "期限までに内容を修正し、再提出してください。"]
    else:
        lines += ["", "不受理の理由：", decision.reasons]
    if outcome == IntakeOutcome.ACCEPT and decision.reasons:
        lines += ["", decision.reasons]
    lines += ["", f"提案の状況は次のページで確認できます。\n{link}", ""]
    return subject, "\n".join(lines)


def mail_recipients(proposal: Proposal) -> list[str]:
    group = proposal.group
    recipients = []
    for address in (group.account.email if group.account else "", group.contact_email):
        if address and address.lower() not in {r.lower() for r in recipients}:
            recipients.append(address)
    return recipients


# --- 担当課所見 ----------------------------------------------------------------

def save_department_opinion(session: Session, proposal: Proposal, *, department: str, feasibility: str,
                            opinion: str, staff: User, now: datetime) -> DepartmentOpinion:
    department = (department or "").strip()
    if not department:
        raise IntakeError("担当課の名前を入力してください。")
    if feasibility not in FEASIBILITY_LABELS:
        raise IntakeError("実施の可能性を一覧から選んでください。")
    if proposal.released_at is not None:
        raise IntakeError("審査委員に公開した後は、担当課所見を変更できません。")
    row = department_opinion_of(session, proposal)
    if row is None:
        row = DepartmentOpinion(proposal_id=proposal.id)
        session.add(row)
    row.department = department
    row.feasibility = feasibility
    row.opinion = (opinion or "").strip()
    row.updated_at = now
    row.updated_by_id = staff.id if staff else None
    session.flush()
    return row


def department_opinion_of(session: Session, proposal: Proposal) -> DepartmentOpinion | None:
    return session.scalars(select(DepartmentOpinion).where(DepartmentOpinion.proposal_id == proposal.id)).first()
