"""Bulk actions on the work lists (issue 12, item 3), where they are safe.

- 受理 of several proposals at once from the intake list: only those whose
  automatic checklist passes and which await a decision are accepted; the
  others are listed back with their reason. The accepted ones are decided
  one by one exactly as on each proposal's page (decision, status, log
  entry, mail), inside one savepoint: if any of them fails, none is
  accepted (nothing half-done).
- 督促 to chosen panel members with a message the staff may edit, sent now
  or at a chosen time. A scheduled reminder is an outbox message whose
  first delivery waits for ``next_attempt_at``; the worker's sweep
  (``portal/jobs/tasks.sweep_once``, every minute) delivers it when due.
- "Scan all" on the anonymisation step is the existing rescan job
  (``admin.anonymise_rescan_all``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from ..db import db_session
from ..domain.intake import intake
from ..domain.scoring.progress import REMINDER_MARK
from ..domain.timeutil import JST, format_jst, now_utc
from ..forms import REQUIRED, BaseForm, max_chars
from ..links import external_url
from ..mail import queue_mail, send_mail
from ..models import IntakeDecision, OutboxMessage, PanelMember, Proposal, User
from ..policy import load_staff_call, require_staff
from . import bp

BULK_MAX = 300  # one call's proposals at most; more is not a list page's form
SUBJECT_MAX = 150
MESSAGE_MAX = 4000
SCHEDULE_MAX_DAYS = 90


# ---------------------------------------------------------------- bulk accept

@dataclass
class BulkResult:
    accepted: list[Proposal] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (receipt number or id, reason)


def parse_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        text = (value or "").strip()
        if text.isdigit() and len(text) < 10 and int(text) not in ids:
            ids.append(int(text))
    return ids


def accept_many(session, call, ids: list[int], staff: User, now: datetime) -> BulkResult:
    """Accept the chosen proposals whose checklist passes (flushes). Refused
    ones are untouched; if accepting any passing one fails, none is."""
    result = BulkResult()
    proposals = list(session.scalars(select(Proposal).where(
        Proposal.id.in_(ids), Proposal.call_id == call.id, Proposal.receipt_number.is_not(None))
        .order_by(Proposal.receipt_number))) if ids else []
    found = {p.id for p in proposals}
    result.refused += [(f"#{i}", "この募集の提出された提案に見つかりません。") for i in ids if i not in found]
    passing = []
    for proposal in proposals:
        if proposal.status not in intake.DECIDABLE_STATUSES:
            result.refused.append((proposal.receipt_number, f"「{proposal.status.label}」のため受理できません。"))
            continue
        failed = [item.label for item in intake.checklist(proposal, intake.latest_submission(proposal, session))
                  if not item.ok]
        if failed:
            result.refused.append((proposal.receipt_number, "形式要件の確認が必要です：" + "、".join(failed)))
            continue
        passing.append(proposal)
    if not passing:
        return result
    try:
        with session.begin_nested():
            for proposal in passing:
                intake.decide_intake(session, proposal, intake.IntakeOutcome.ACCEPT, "", staff, now)
    except intake.IntakeError as error:
        # The savepoint is rolled back: not one of them is accepted.
        result.refused += [(p.receipt_number, f"まとめて受理できませんでした（{error.message}）。どれも受理していません。")
                           for p in passing]
        return result
    result.accepted = passing
    return result


@bp.post("/calls/<int:call_id>/intake/bulk-accept")
def intake_bulk_accept(call_id: int):
    call = load_staff_call(call_id)
    staff = require_staff()
    back = redirect(url_for("admin.intake_list", call_id=call.id, status="waiting"))
    if not BaseForm().validate_on_submit():
        flash("送信内容を確認できませんでした。ページを読み込み直して、もう一度お試しください。", "error")
        return back
    ids = parse_ids(request.form.getlist("proposal_ids"))
    if not ids:
        flash("まとめて受理する提案を一覧で選んでください。", "error")
        return back
    if len(ids) > BULK_MAX:
        flash(f"一度に受理できるのは{BULK_MAX}件までです。", "error")
        return back
    result = accept_many(db_session, call, ids, staff, now_utc())
    city = current_app.config["CITY_NAME"]
    for proposal in result.accepted:
        link = external_url("applicant.proposal_detail", proposal_id=proposal.id)
        decision = db_session.scalars(select(IntakeDecision).where(IntakeDecision.proposal_id == proposal.id)
                                      .order_by(IntakeDecision.id.desc()).limit(1)).first()
        subject, body = intake.intake_mail(proposal, decision, city_name=city, link=link)
        for recipient in intake.mail_recipients(proposal):
            send_mail(recipient, subject, body)
    if result.accepted:
        flash(f"{len(result.accepted)}件を受理しました（団体にメールで通知しました）："
              + "、".join(p.receipt_number for p in result.accepted), "success")
    for label, reason in result.refused:
        flash(f"{label}：{reason}", "error")
    return back


# ---------------------------------------------------------------- reminders

class ReminderMessageForm(BaseForm):
    subject = StringField("件名", validators=[InputRequired(REQUIRED), max_chars(SUBJECT_MAX)])
    body = TextAreaField("本文", validators=[InputRequired(REQUIRED), max_chars(MESSAGE_MAX)],
                         render_kw={"rows": 10})
    send_at = DateTimeLocalField("送信する日時（日本時間。空欄なら今すぐ送ります）", format="%Y-%m-%dT%H:%M",
                                 validators=[Optional()])


def default_subject(call, city: str) -> str:
    return f"【{city}】{REMINDER_MARK}：{call.title[:60]}"


def default_body(call, link: str) -> str:
    due = ""
    if call.scoring_closes_at:
        due = f"採点の締切は {format_jst(call.scoring_closes_at)} です。\n"
    return (f"審査委員の皆さま\n\n「{call.title}」の採点について、未提出の採点票がありましたら、"
            f"締切までにご提出をお願いします。\n{due}\n審査委員のページ：\n{link}\n")


def call_members(session, call) -> list[PanelMember]:
    # With their accounts in the same query: the page lists every member.
    return list(session.scalars(select(PanelMember).options(joinedload(PanelMember.user))
                                .where(PanelMember.call_id == call.id, PanelMember.withdrawn_at.is_(None))
                                .order_by(PanelMember.pseudonym, PanelMember.id)))


def queue_reminders(session, members: list[PanelMember], subject: str, body: str,
                    send_at: datetime | None) -> list[OutboxMessage]:
    """One mail per member (flushes). With ``send_at`` (UTC) the first
    delivery waits until then: the worker's sweep sends it when due."""
    messages = []
    for member in members:
        message = queue_mail(session, member.user.email, subject, body)
        if send_at is not None:
            message.next_attempt_at = send_at
        messages.append(message)
    session.flush()
    return messages


def _reminder_page(call, form, members, chosen: set[int], status: int = 200, problem: str = ""):
    scheduled = list(db_session.scalars(select(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
        OutboxMessage.next_attempt_at > now_utc(),
        OutboxMessage.recipient.in_([m.user.email for m in members] or [""]),
        OutboxMessage.subject.contains(REMINDER_MARK, autoescape=True))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(100)))
    return render_template("admin/bulk/reminders.html", call=call, form=form, members=members, chosen=chosen,
                           scheduled=scheduled, problem=problem), status


@bp.route("/calls/<int:call_id>/reminders", methods=["GET", "POST"])
def bulk_reminders(call_id: int):
    call = load_staff_call(call_id)
    require_staff()
    members = call_members(db_session, call)
    city = current_app.config.get("CITY_NAME", "")
    if request.method == "GET":
        form = ReminderMessageForm(formdata=None, subject=default_subject(call, city),
                                   body=default_body(call, external_url("review.index")))
        return _reminder_page(call, form, members, set())
    form = ReminderMessageForm()
    chosen = set(parse_ids(request.form.getlist("member_ids")))
    by_id = {m.id: m for m in members}
    if not form.validate_on_submit():
        return _reminder_page(call, form, members, chosen, 422)
    targets = [by_id[i] for i in sorted(chosen) if i in by_id]
    if not targets:
        return _reminder_page(call, form, members, chosen, 422, "督促する審査委員を1人以上選んでください。")
    send_at = None
    now = now_utc()
    if form.send_at.data:
        send_at = form.send_at.data.replace(tzinfo=JST).astimezone(now.tzinfo)
        if send_at <= now:
            form.send_at.errors = ["これから先の日時を入力してください（空欄なら今すぐ送ります）。"]
            return _reminder_page(call, form, members, chosen, 422)
        if send_at > now + timedelta(days=SCHEDULE_MAX_DAYS):
            form.send_at.errors = [f"{SCHEDULE_MAX_DAYS}日以内の日時を入力してください。"]
            return _reminder_page(call, form, members, chosen, 422)
    subject = form.subject.data.strip()
    if REMINDER_MARK not in subject:
        subject = f"{subject}（{REMINDER_MARK}）"[:200]  # the progress page finds reminders by this mark
    queue_reminders(db_session, targets, subject, form.body.data, send_at)
    names = "、".join(m.pseudonym for m in targets)
    if send_at:
        flash(f"{len(targets)}人への督促メールを {format_jst(send_at)} に送るよう予約しました：{names}", "success")
    else:
        flash(f"{len(targets)}人に督促メールを送りました：{names}", "success")
    return redirect(url_for("admin.bulk_reminders", call_id=call.id))
