"""During the work: a running project's overview (deadlines, 交付決定 and
payment, changes, reports, the settlement, published documents) for the
group, its department and staff; and the staff form for the grant, the
payment mode and the report due dates. Also the periodic reminder command
(``flask --app wsgi adoption_admin send-reminders``)."""
from __future__ import annotations

from datetime import date

import click
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption import changes, project_documents, reminders, reports
from ..domain.normalize import normalize_text
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc, to_jst
from ..links import external_url
from ..models.adoption_work import PAY_ADVANCE, PAYMENT_MODE_LABELS, REPORT_FINAL, REPORT_INTERIM
from ..policy import is_staff, load_project, load_staff_proposal, project_side
from . import admin_bp, bp

EXPIRED = "画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。"


def load_running(proposal_id: int, *, staff: bool = False):
    """An adopted project whose agreement is concluded (else 404), with its
    agreement: load -> 404 -> check as ``policy.load_project`` does."""
    proposal = load_staff_proposal(proposal_id) if staff else load_project(proposal_id)
    if not agreements.is_adopted(db_session, proposal):
        abort(404)
    row = reports.concluded_agreement(db_session, proposal)
    if row is None:
        abort(404)
    return proposal, row


def csrf_ok() -> bool:
    if EmptyForm().validate_on_submit():
        return True
    flash(EXPIRED, "error")
    return False


def form_text(name: str, limit: int) -> str:
    """A posted field as typed, normalised (no NUL, which PostgreSQL refuses)
    and cut to ``limit``."""
    return normalize_text(request.form.get(name, "")[:limit * 2])[:limit]


def today_jst() -> date:
    return to_jst(now_utc()).date()


@bp.route("/<int:proposal_id>/work")
def work(proposal_id: int):
    proposal, row = load_running(proposal_id)
    side = project_side(current_user, proposal)
    report_rows = {r.kind: r for r in reports.reports_of(db_session, proposal)}
    return render_template(
        "adoption/money_work.html", proposal=proposal, agreement=row, side=side, staff=is_staff(current_user),
        funding=reports.funding_of(db_session, proposal), granted=reports.granted_amount(db_session, proposal),
        due=reports.due_dates(db_session, proposal), reports=report_rows, kinds=(REPORT_INTERIM, REPORT_FINAL),
        changes=changes.changes_of(db_session, proposal), budget=changes.current_budget(db_session, proposal),
        settlement=reports.settlement_for(db_session, proposal),
        documents=project_documents.documents_of(db_session, proposal), today=today_jst(),
        payment_labels=PAYMENT_MODE_LABELS,
    )


FUNDING_FIELDS = {"granted_amount": "交付決定額", "granted_on": "交付決定日", "payment_mode": "支払の方法",
                  "advance_paid": "概算払の支払額", "interim_due": "中間報告の提出期限",
                  "final_due": "実績報告の提出期限"}


def _date(raw: str, name: str, problems: dict[str, str]) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems[name] = "日付は 2027-04-01 の形で入力してください。"
        return None


def _funding_page(proposal, row, typed, problems, status=200):
    return render_template(
        "adoption/money_funding.html", proposal=proposal, agreement=row, typed=typed, problems=problems,
        labels=FUNDING_FIELDS, payment_labels=PAYMENT_MODE_LABELS, form=EmptyForm(),
        ceiling=reports.decided_amount(db_session, proposal),
        summary=[(f"funding-{name}", FUNDING_FIELDS[name], problems[name]) for name in FUNDING_FIELDS
                 if name in problems],
    ), status


@admin_bp.route("/proposals/<int:proposal_id>/funding", methods=["GET", "POST"])
def funding(proposal_id: int):
    proposal, row = load_running(proposal_id, staff=True)
    current = reports.funding_of(db_session, proposal)
    if request.method == "GET":
        typed = {"granted_amount": str(reports.granted_amount(db_session, proposal)),
                 "granted_on": current.granted_on.isoformat() if current and current.granted_on else "",
                 "payment_mode": current.payment_mode if current else "after",
                 "advance_paid": str(current.advance_paid) if current else "0",
                 "interim_due": current.interim_due.isoformat() if current and current.interim_due else "",
                 "final_due": current.final_due.isoformat() if current and current.final_due else ""}
        return _funding_page(proposal, row, typed, {})
    typed = {name: form_text(name, 40) for name in FUNDING_FIELDS}
    if not csrf_ok():
        return _funding_page(proposal, row, typed, {}, 400)
    problems: dict[str, str] = {}
    data = reports.FundingInput(
        granted_amount=typed["granted_amount"], payment_mode=typed["payment_mode"],
        advance_paid=typed["advance_paid"] if typed["payment_mode"] == PAY_ADVANCE else "0",
        granted_on=_date(typed["granted_on"], "granted_on", problems),
        interim_due=_date(typed["interim_due"], "interim_due", problems),
        final_due=_date(typed["final_due"], "final_due", problems))
    problems.update(reports.funding_problems(db_session, proposal, data))
    if problems:
        return _funding_page(proposal, row, typed, problems, 422)
    try:
        reports.save_funding(db_session, proposal, data, user=current_user, now=now_utc())
    except WrongState as refusal:
        return _funding_page(proposal, row, typed, {"granted_amount": refusal.message}, 409)
    flash("交付決定・支払・提出期限を保存しました。", "success")
    return redirect(url_for("adoption.work", proposal_id=proposal.id))


# -- the periodic reminders ------------------------------------------------------------------

@admin_bp.cli.command("send-reminders")
@click.option("--days-before", type=int, default=reminders.DAYS_BEFORE, show_default=True,
              help="何日前に提出期限のお知らせを送るか")
def send_reminders(days_before: int):
    """Send the report deadline reminders due today, each once. The job
    worker does this every hour by itself (portal/jobs/tasks.py); the
    command is for running it by hand or from a timer without a worker."""
    count = send_due_reminders(days_before)
    click.echo(f"提出期限のお知らせを送りました：{count}件")


def send_due_reminders(days_before: int = reminders.DAYS_BEFORE) -> int:
    """Queue the reminders due today (each at most once) and commit; the
    number of projects reminded. Needs an application context."""
    from ..mail import send_mail

    with current_app.test_request_context():
        count = reminders.send_due(
            db_session, today_jst(), now_utc(), send_mail, city=current_app.config["CITY_NAME"],
            link=lambda proposal, kind: external_url("adoption.report", proposal_id=proposal.id, kind=kind),
            days_before=days_before)
        db_session.commit()
    return count
