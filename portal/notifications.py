"""Mails the portal sends at workflow steps."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from .domain.intake.intake import mail_recipients
from .domain.timeutil import format_jst
from .links import external_url
from .mail import send_mail
from .models import Proposal, Submission, User


def send_submission_receipt(user: User, proposal: Proposal, submission: Submission) -> None:
    link = external_url("applicant.proposal_detail", proposal_id=proposal.id)
    kind = "再提出" if submission.revision > 1 else "提出"
    send_mail(
        user.email,
        f"【{current_app.config['CITY_NAME']}】提案の{kind}を受け付けました（受付番号 {submission.receipt_number}）",
        f"{proposal.group.name} 様\n\n"
        f"「{proposal.call.title}」への提案の{kind}を受け付けました。\n\n"
        f"受付番号：{submission.receipt_number}\n"
        f"事業名：{proposal.title}\n"
        f"受付日時：{format_jst(submission.submitted_at)}\n\n"
        f"受付票（PDF）と審査の状況は、次のページで確認できます。\n{link}\n\n"
        "今後、市民協働課で受付確認（形式審査）を行います。\n",
    )


def send_withdrawal_confirmation(proposal: Proposal, reason: str, withdrawn_at: datetime) -> None:
    """Tell the group (its account and its contact address) that the
    proposal was withdrawn, and that it can start again from it."""
    link = external_url("applicant.proposal_detail", proposal_id=proposal.id)
    lines = [
        f"{proposal.group.name} 様",
        "",
        f"「{proposal.call.title}」への提案の取下げを受け付けました。取り下げた提案は審査されません。",
        "",
        f"受付番号：{proposal.receipt_number or '（なし）'}",
        f"事業名：{proposal.display_title}",
        f"取下げ日時：{format_jst(withdrawn_at)}",
    ]
    if reason:
        lines.append(f"取下げの理由：{reason}")
    lines += [
        "",
        "取り下げた提案の内容をもとに、新しい提案を作成できます（受付期間中の募集に限ります）。",
        f"次のページの「この提案をもとに新しく作成」からお進みください。\n{link}",
        "",
        "お心当たりのない場合は、市民協働課までご連絡ください。",
        "",
    ]
    number = f"（受付番号 {proposal.receipt_number}）" if proposal.receipt_number else ""
    subject = f"【{current_app.config['CITY_NAME']}】提案の取下げを受け付けました{number}"
    for recipient in mail_recipients(proposal):
        send_mail(recipient, subject, "\n".join(lines))
