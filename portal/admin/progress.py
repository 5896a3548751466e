"""採点の進捗: who has scored what in each stage, reminders to members with
unfinished sheets, reopening a submitted sheet, and closing the scoring.

At 300 proposals the page shows one summary row per member (their counts
per state, from the assigned set only) and, per stage, one row per
proposal with the members as columns, filtered and paged with
``list_params``; the whole picture is still read by ``progress.build`` in a
fixed number of queries."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..db import db_session
from ..domain.scoring import progress as progress_domain
from ..domain.scoring.progress import REMINDER_MARK, STATE_LABELS, STATES, UNFINISHED, ProgressError
from ..domain.results.aggregation import code_order
from ..domain.scoring.scoring import ScoringRefused, reopen_sheet
from ..domain.timeutil import now_utc
from ..errors import refusal_status, refuse
from ..forms import choice
from ..links import external_url
from ..mail import send_mail
from ..models import Call, OutboxMessage, PanelMember, SheetStatus, Stage
from ..policy import load_call_sheet, load_staff_call
from . import bp, list_params
from .panel_forms import CloseScoringForm, ReminderForm, ReopenForm


def _reminder_form(call: Call) -> ReminderForm:
    form = ReminderForm()
    form.stage.choices = [choice(s.value, s.label) for s in progress_domain.stages_of(call)]
    return form


def _last_reminders(call: Call, members: list[PanelMember]) -> dict[int, object]:
    """When each member was last reminded about this call (from the outbox)."""
    emails = {m.user.email: m.id for m in members if m.user}
    if not emails:
        return {}
    rows = db_session.execute(
        select(OutboxMessage.recipient, OutboxMessage.created_at)
        .where(OutboxMessage.recipient.in_(list(emails)),
               OutboxMessage.subject.contains(f"{REMINDER_MARK}：{call.title[:60]}", autoescape=True))
        .order_by(OutboxMessage.created_at)).all()
    return {emails[recipient]: at for recipient, at in rows}


UNFINISHED_FILTER = "unfinished"
ROW_SORTS = {"code": "提案の番号順", "code_desc": "提案の番号の逆順", "unfinished": "未完了の多い順"}


def _rows(progress):
    """The proposal rows (review copies) to show: filtered, sorted, paged."""
    statuses = {UNFINISHED_FILTER: "未完了の採点票がある提案"}
    statuses.update({state: f"「{STATE_LABELS[state]}」の票がある提案" for state in STATES})
    statuses.update({f"m{m.id}": f"{m.pseudonym}の担当" for m in progress.members})
    params = list_params.read(request.args, statuses=statuses, sorts=ROW_SORTS)
    states_of: dict[int, list[str]] = {}
    members_of: dict[int, set[int]] = {}
    for sp in progress.stages:
        for (member_id, proposal_id), cell in sp.cells.items():
            states_of.setdefault(proposal_id, []).append(cell.state)
            members_of.setdefault(proposal_id, set()).add(member_id)
    rows = list(progress.copies)
    if params.q:
        needle = params.q.casefold()
        rows = [c for c in rows if needle in c.code.casefold()
                or needle in (progress.titles.get(c.proposal_id) or "").casefold()]
    if params.status == UNFINISHED_FILTER:
        rows = [c for c in rows if any(s in UNFINISHED for s in states_of.get(c.proposal_id, []))]
    elif params.status in STATES:
        rows = [c for c in rows if params.status in states_of.get(c.proposal_id, [])]
    elif params.status.startswith("m"):
        member_id = int(params.status[1:])
        rows = [c for c in rows if member_id in members_of.get(c.proposal_id, set())]
    if params.sort == "unfinished":
        rows.sort(key=lambda c: (-sum(s in UNFINISHED for s in states_of.get(c.proposal_id, [])), code_order(c.code)))
    else:
        rows.sort(key=lambda c: code_order(c.code), reverse=params.sort == "code_desc")
    page = list_params.paginate(params, len(rows))
    return {"params": params, "page": page, "rows": rows[page.offset:page.offset + page.size],
            "statuses": statuses, "sorts": ROW_SORTS, "page_sizes": list_params.PAGE_SIZES}


def _member_summary(progress) -> dict:
    """member id -> stage -> Counter of states (the assigned set only)."""
    summary: dict[int, dict] = {m.id: {} for m in progress.members}
    for sp in progress.stages:
        for (member_id, _), cell in sp.cells.items():
            counts = summary.setdefault(member_id, {}).setdefault(sp.stage, {})
            counts[cell.state] = counts.get(cell.state, 0) + 1
    return summary


def _render(call: Call, reminder_form: ReminderForm | None = None, status: int = 200):
    progress = progress_domain.build(db_session, call)
    return render_template(
        "admin/progress/index.html", call=call, progress=progress, states=STATES, state_labels=STATE_LABELS,
        rows=_rows(progress), summary=_member_summary(progress),
        unfinished_states=UNFINISHED, reminder_form=reminder_form or _reminder_form(call),
        last_reminders=_last_reminders(call, progress.members), now=now_utc(),
        seals=progress_domain.seals_in_force(db_session, call),
    ), status


@bp.get("/calls/<int:call_id>/progress")
def progress(call_id: int):
    call = load_staff_call(call_id)
    return _render(call)


@bp.post("/calls/<int:call_id>/progress/reminders")
def progress_remind(call_id: int):
    call = load_staff_call(call_id)
    form = _reminder_form(call)
    if not form.validate_on_submit():
        return _render(call, form, 422)
    stage = Stage(form.stage.data)
    now = now_utc()
    refusal = progress_domain.reminder_refusal(call, stage, now)
    if refusal:
        form.stage.errors = [refusal]
        return _render(call, form, 409)
    built = progress_domain.build(db_session, call)
    city = current_app.config.get("CITY_NAME", "")
    link = external_url("review.index")
    # A member who withdrew (辞退) is not chased for the sheets they keep.
    reminders = [r for r in progress_domain.reminders(built, stage, city=city, link=link)
                 if r.member.withdrawn_at is None]
    for reminder in reminders:
        send_mail(reminder.member.user.email, reminder.subject, reminder.body)
    if reminders:
        names = "、".join(f"{r.member.pseudonym}（{len(r.codes)}件）" for r in reminders)
        flash(f"{stage.label}の督促メールを{len(reminders)}人に送りました：{names}", "success")
    else:
        flash(f"{stage.label}で未提出の採点票のある委員はいません。督促メールは送っていません。", "success")
    return redirect(url_for("admin.progress", call_id=call.id))


@bp.route("/calls/<int:call_id>/progress/sheets/<int:sheet_id>/reopen", methods=["GET", "POST"])
def progress_reopen(call_id: int, sheet_id: int):
    call = load_staff_call(call_id)
    sheet = load_call_sheet(call, sheet_id)
    assignment = sheet.assignment
    code = assignment.proposal.anonymous_code
    pseudonym = assignment.panel_member.pseudonym
    form = ReopenForm()
    status = 200
    if sheet.status != SheetStatus.SUBMITTED:
        refuse(409, f"{pseudonym}の{code}（{sheet.stage.label}）の採点票は提出されていないため、再開できません。")
    if call.scoring_closed_at is not None:
        refuse(409, "採点は締め切られています。締切後に採点票を再開することはできません。")
    if form.validate_on_submit():
        try:
            reopen_sheet(db_session, sheet, current_user, form.reason.data, now_utc())
        except ScoringRefused as error:
            form.reason.errors = [error.message]
            status = refusal_status(error)
        else:
            flash(f"{pseudonym}の{code}（{sheet.stage.label}）の採点票を再開しました。委員は採点期間内に修正して再提出できます。",
                  "success")
            return redirect(url_for("admin.progress", call_id=call.id))
    if form.errors and status == 200:
        status = 422
    return render_template("admin/progress/reopen.html", call=call, sheet=sheet, code=code, pseudonym=pseudonym,
                           title=assignment.proposal.display_title, form=form), status


@bp.route("/calls/<int:call_id>/progress/close", methods=["GET", "POST"])
def progress_close(call_id: int):
    call = load_staff_call(call_id)
    form = CloseScoringForm()
    now = now_utc()
    status = 200
    error = None
    if form.validate_on_submit():
        try:
            count = progress_domain.close_scoring(db_session, call, now, early_confirmed=bool(form.early.data))
        except ProgressError as refusal:
            error = str(refusal)
            status = 409 if call.scoring_closed_at is not None else 422
            if status == 422:
                form.early.errors = [error]
        else:
            flash(f"採点を締め切りました（有効な封印 {count}件を公開の記録に残しました）。", "success")
            return redirect(url_for("admin.progress", call_id=call.id))
    elif form.errors:
        status = 422
    built = progress_domain.build(db_session, call)
    unfinished = {s.stage: sum(s.counts[state] for state in UNFINISHED) for s in built.stages}
    return render_template("admin/progress/close.html", call=call, form=form, now=now, error=error,
                           unfinished=unfinished, over=call.scoring_over(now),
                           short=progress_domain.short_of_minimum(db_session, call)
                           if call.scoring_closed_at is None else [],
                           seals=progress_domain.seals_in_force(db_session, call)), status
