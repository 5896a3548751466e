"""Mails the portal sends at workflow steps."""
from __future__ import annotations

from flask import current_app, url_for

from .domain.timeutil import format_jst
from .mail import send_mail
from .models import Proposal, Submission, User


def send_submission_receipt(user: User, proposal: Proposal, submission: Submission) -> None:
    link = url_for("applicant.proposal_detail", proposal_id=proposal.id, _external=True)
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
