"""Mails about an adopted project's agreement: when one side agrees, the
other side is told that its 合意 is awaited; when both have, both are told
that the agreement is concluded and where its PDF is.

The city's side is its department (担当課) when one is assigned, otherwise
the secretariat's staff accounts: whoever can agree for the city.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..db import db_session
from ..domain.adoption.departments import department_of, members
from ..domain.intake.intake import mail_recipients
from ..links import external_url
from ..mail import send_mail
from ..models import Agreement, AgreementSide, Proposal, Role, User


def city_recipients(proposal: Proposal) -> list[str]:
    department = department_of(db_session, proposal)
    people = members(db_session, department) if department is not None else list(db_session.scalars(
        select(User).where(User.role == Role.STAFF, User.is_active_account.is_(True)).order_by(User.email)))
    return [p.email for p in people if p.is_active_account and p.email]


def _send(recipients: list[str], subject: str, lines: list[str]) -> None:
    for recipient in dict.fromkeys(recipients):  # once each, in order
        send_mail(recipient, subject, "\n".join(lines))


def agreement_confirmed(proposal: Proposal, agreement: Agreement, side: AgreementSide, *, concluded: bool) -> None:
    city = current_app.config["CITY_NAME"]
    link = external_url("adoption.agreement", proposal_id=proposal.id)
    project = f"事業名：{proposal.display_title}\n協定書案：第{agreement.revision}版"
    if concluded:
        subject = f"【{city}】協働事業の協定を締結しました（{proposal.group.name}）"
        lines = [f"「{proposal.call.title}」で採択された事業の協定書に、市と団体の双方が合意し、協定を締結しました。",
                 "", project, "", f"協定書（PDF）は次のページからダウンロードできます。\n{link}", ""]
        _send([*mail_recipients(proposal), *city_recipients(proposal)], subject, lines)
        return
    if side == AgreementSide.GROUP:
        subject = f"【{city}】団体が協定書案に合意しました（{proposal.group.name}）"
        lines = [f"{proposal.group.name}が協定書案に合意しました。市（甲）の合意で協定が締結されます。",
                 "", project, "", f"内容を確認し、合意してください。\n{link}", ""]
        _send(city_recipients(proposal), subject, lines)
    else:
        subject = f"【{city}】協定書案の確認をお願いします"
        lines = [f"{proposal.group.name} 様", "",
                 f"{city}（甲）が協定書案に合意しました。団体（乙）の合意で協定が締結されます。",
                 "", project, "", f"内容を確認し、合意してください。\n{link}", "",
                 "ご不明な点は、市民協働課までお問い合わせください。", ""]
        _send(mail_recipients(proposal), subject, lines)
