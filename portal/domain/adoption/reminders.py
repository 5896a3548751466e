"""Deadline reminders for running projects: a mail to the group (and the
project's department) some days before a report is due, and one when it is
overdue. Each reminder is recorded (``ProjectReminder``) and sent once,
however often the periodic run comes.

Run by ``flask --app wsgi adoption_admin send-reminders`` (a daily timer,
like ``publish-due``); see docs/operations.md.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import Agreement, AgreementStatus, DepartmentMember, Proposal, ProposalDepartment, User
from ...models.adoption_work import REPORT_ACCEPTED, REPORT_KIND_LABELS, REPORT_SUBMITTED, ProjectReminder
from . import reports

DAYS_BEFORE = 14


def _recipients(session: Session, proposal: Proposal) -> list[str]:
    emails = []
    group = proposal.group
    for email in (group.contact_email, group.account.email if group.account else ""):
        if email and email not in emails:
            emails.append(email)
    assigned = session.get(ProposalDepartment, proposal.id)
    if assigned is not None:
        for user in session.scalars(select(User).join(DepartmentMember, DepartmentMember.user_id == User.id)
                                    .where(DepartmentMember.department_id == assigned.department_id)
                                    .order_by(User.id)):
            if user.email not in emails:
                emails.append(user.email)
    return emails


def due_reminders(session: Session, today: date, days_before: int = DAYS_BEFORE) -> list[tuple[Proposal, str, str, date]]:
    """(project, key, report kind, due date) of every reminder due today and
    not sent yet, in a stable order."""
    rows = session.scalars(select(Agreement).where(Agreement.status == AgreementStatus.CONCLUDED)
                           .order_by(Agreement.proposal_id)).all()
    due = []
    for agreement in rows:
        proposal = agreement.proposal
        sent = set(session.scalars(select(ProjectReminder.key).where(ProjectReminder.proposal_id == proposal.id)))
        for kind, when in reports.due_dates(session, proposal).items():
            if when is None:
                continue
            report = reports.report_of(session, proposal, kind)
            if report is not None and report.status in (REPORT_SUBMITTED, REPORT_ACCEPTED):
                continue
            if today > when:
                key = f"{kind}:overdue"
            elif (when - today).days <= days_before:
                key = f"{kind}:before"
            else:
                continue
            if key not in sent:
                due.append((proposal, key, kind, when))
    return due


def send_due(session: Session, today: date, now: datetime, mailer: Callable[[str, str, str], object], *,
             city: str, link: Callable[[Proposal, str], str], days_before: int = DAYS_BEFORE) -> int:
    """Send every reminder due; returns how many projects were reminded."""
    count = 0
    for proposal, key, kind, when in due_reminders(session, today, days_before):
        label = REPORT_KIND_LABELS[kind]
        overdue = key.endswith(":overdue")
        subject = (f"【{city}】{label}の提出期限を過ぎています（{proposal.display_title}）" if overdue
                   else f"【{city}】{label}の提出期限が近づいています（{proposal.display_title}）")
        body = (f"{proposal.group.name} 様\n\n{city} 市民協働課です。\n"
                f"協働事業「{proposal.display_title}」の{label}の提出期限は {when.year}年{when.month}月{when.day}日 です。\n"
                + ("期限を過ぎていますが、まだ提出されていません。早めのご提出をお願いします。\n" if overdue
                   else "まだ提出されていません。期限までのご提出をお願いします。\n")
                + f"\n報告の作成・提出はこちらから：\n{link(proposal, kind)}\n\n"
                  "ご不明な点は市民協働課までお問い合わせください。\n")
        try:
            with session.begin_nested():
                session.add(ProjectReminder(proposal_id=proposal.id, key=key, sent_at=now))
        except IntegrityError:  # another run got there first
            continue
        for email in _recipients(session, proposal):
            mailer(email, subject, body)
        count += 1
    return count
