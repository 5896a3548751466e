"""The score sheet of one proposal and stage: 下書き保存, a confirmation
step, 提出 (sealed and locked), and after scoring the panel's view.

A submitted sheet is only ever shown, never offered as a form. Input no
page of ours can send is refused with a Japanese message and changes
nothing; text that is merely too long is shown again with everything typed.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..db import db_session
from ..domain.log import chain
from ..domain.results.results import sheet_total
from ..domain.scoring import scoring
from ..domain.scoring.panel_scores import PanelRow, panel_rows
from ..domain.scoring.stages import stages_of
from ..domain.timeutil import format_jst, now_utc
from ..errors import refuse
from ..models import Assignment, Call, ReviewSheet, SheetStatus, Stage
from . import bp
from .assignments import load_cleared
from .forms import SheetForm, SubmitForm, parse_sheet, sheet_marker


def load_sheet_place(assignment_id: int, stage: str) -> tuple[Assignment, object, Call, Stage]:
    """The reviewer's cleared assignment, its released copy, the call and
    the stage named in the URL (404 for a stage the call does not have)."""
    assignment, copy = load_cleared(assignment_id)
    call = scoring.call_of(db_session, assignment)
    return assignment, copy, call, scoring.parse_stage(call, stage)


def sheet_version(sheet: ReviewSheet) -> str:
    return chain.utc_timestamp(sheet.updated_at)


def editable_refusal(assignment: Assignment, call: Call, stage: Stage, sheet: ReviewSheet | None, now) -> str | None:
    """Why the sheet is shown read-only, or None when it may be edited."""
    if sheet is not None and sheet.status == SheetStatus.SUBMITTED:
        return None  # shown as submitted; no message needed
    try:
        scoring.check_can_score(db_session, assignment, stage, now)
    except scoring.ScoringRefused as error:
        return error.message
    return None


def render_sheet(assignment: Assignment, copy, call: Call, stage: Stage, *, values=None, form=None,
                 problems=(), warnings=(), notice=None, status=200):
    now = now_utc()
    sheet = scoring.sheet_for(db_session, assignment, stage)
    if values is None:
        values = scoring.initial_values(db_session, assignment, stage)
    if form is None:
        form = SheetForm(formdata=None, sheet=sheet_marker(sheet), comment_for_group=values.comment_for_group,
                         panel_note=values.panel_note)
    submitted = sheet is not None and sheet.status == SheetStatus.SUBMITTED
    refusal = None if submitted else editable_refusal(assignment, call, stage, sheet, now)
    problem_map = {}
    for problem in problems:
        problem_map.setdefault(problem.key, []).append(problem.message)
    return render_template(
        "review/sheet.html", assignment=assignment, copy=copy, content=copy.content, call=call, stage=stage,
        sheet=sheet, values=values, form=form, submitted=submitted, refusal=refusal,
        problems=list(problems), problem_map=problem_map, warnings=set(warnings), notice=notice,
        limits={"reason": scoring.REASON_MAX, "comment": scoring.COMMENT_MAX, "note": scoring.NOTE_MAX},
        panel_open=policy.may_see_panel(db_session, assignment, stage, now),
        revising_copy=stage == Stage.DOCUMENT_REVISED and sheet is None,
    ), status


@bp.get("/assignments/<int:assignment_id>/score/<stage>")
def sheet(assignment_id: int, stage: str):
    assignment, copy, call, stage = load_sheet_place(assignment_id, stage)
    return render_sheet(assignment, copy, call, stage)


@bp.post("/assignments/<int:assignment_id>/score/<stage>")
def save_sheet(assignment_id: int, stage: str):
    assignment, copy, call, stage = load_sheet_place(assignment_id, stage)
    form = SheetForm()
    if not form.validate_on_submit():
        abort(400)  # only the CSRF token can fail here
    scoring.check_can_score(db_session, assignment, stage, now_utc())
    data = parse_sheet(request.form, list(call.criteria), form)
    scoring.check_input(call, data)
    current = scoring.sheet_for(db_session, assignment, stage)
    if form.sheet.data != sheet_marker(current):
        if form.sheet.data == "new" and current is not None and current.status == SheetStatus.DRAFT:
            # Another tab saved first: show this tab's input again, unsaved,
            # so the reviewer decides which version to keep.
            form.sheet.data = sheet_marker(current)
            return render_sheet(assignment, copy, call, stage, values=data, form=form, status=409,
                                notice="別の画面でこの採点票が先に保存されています。この画面の入力はまだ保存していません。"
                                       "内容を確かめてから、もう一度「下書き保存」を押してください。")
        refuse(400, "送信内容が画面と一致しません。採点票を開き直してから入力してください。")
    too_long = scoring.hard_length_problems(call, data)
    if too_long:
        return render_sheet(assignment, copy, call, stage, values=data, form=form, problems=too_long, status=422)
    now = now_utc()
    try:
        saved = scoring.save_draft(db_session, assignment, stage, data, now)
    except IntegrityError:
        db_session.rollback()
        refuse(409, "他の操作と重なったため保存できませんでした。画面を再読み込みしてから、もう一度入力してください。")
    unsaved = scoring.unsaved_reasons(data)
    if unsaved:
        flash("下書きを保存しました。ただし、点数が選ばれていない項目の理由は、点数を選ぶまで保存されません。", "error")
        form = SheetForm(formdata=None, sheet=sheet_marker(saved), comment_for_group=data.comment_for_group,
                         panel_note=data.panel_note)
        return render_sheet(assignment, copy, call, stage, values=data, form=form, warnings=unsaved)
    if request.form.get("action") == "review":
        return redirect(url_for("review.confirm_sheet", assignment_id=assignment.id, stage=stage.value))
    flash(f"下書きを保存しました（{format_jst(saved.updated_at)}）。提出するまで、他の委員や事務局には点数は見えません。",
          "success")
    return redirect(url_for("review.sheet", assignment_id=assignment.id, stage=stage.value))


def render_confirm(assignment, copy, call, stage, sheet, status=200):
    values = scoring.values_of(sheet)
    problems = scoring.submission_problems(call, values)
    return render_template(
        "review/confirm_sheet.html", assignment=assignment, copy=copy, call=call, stage=stage, sheet=sheet,
        values=values, problems=problems, total=None if problems else sheet_total(call, sheet),
        refusal=editable_refusal(assignment, call, stage, sheet, now_utc()),
        form=SubmitForm(formdata=None, sheet=str(sheet.id), version=sheet_version(sheet)),
    ), status


@bp.get("/assignments/<int:assignment_id>/score/<stage>/confirm")
def confirm_sheet(assignment_id: int, stage: str):
    assignment, copy, call, stage = load_sheet_place(assignment_id, stage)
    sheet = scoring.sheet_for(db_session, assignment, stage)
    if sheet is None or sheet.status != SheetStatus.DRAFT:
        return redirect(url_for("review.sheet", assignment_id=assignment.id, stage=stage.value))
    return render_confirm(assignment, copy, call, stage, sheet)


@bp.post("/assignments/<int:assignment_id>/score/<stage>/submit")
def submit_sheet(assignment_id: int, stage: str):
    assignment, copy, call, stage = load_sheet_place(assignment_id, stage)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    sheet = scoring.sheet_for(db_session, assignment, stage)
    if sheet is None or form.sheet.data != str(sheet.id):
        refuse(400, "送信内容が画面と一致しません。採点票を開き直してください。")
    if sheet.status == SheetStatus.SUBMITTED:
        flash("この採点はすでに提出されています。", "info")
        return redirect(url_for("review.sheet", assignment_id=assignment.id, stage=stage.value))
    if form.version.data != sheet_version(sheet):
        refuse(409, "確認画面を表示した後に採点票が変更されています。もう一度内容を確認してから提出してください。")
    try:
        scoring.submit_sheet(db_session, sheet, now_utc())
    except scoring.SheetIncomplete:
        db_session.rollback()
        return render_confirm(assignment, copy, call, stage, sheet, status=422)
    except IntegrityError:
        db_session.rollback()
        refuse(409, "他の操作と重なったため提出できませんでした。採点票を開き直してください。")
    flash(f"{stage.label}の採点を提出しました。提出した採点は変更できません（封印の記録番号 {sheet.sealed_seq}）。", "success")
    return redirect(url_for("review.sheet", assignment_id=assignment.id, stage=stage.value))


def panel_view(call: Call, rows: list[PanelRow]) -> list[dict]:
    return [
        {"row": row, "scores": {s.criterion_id: s for s in row.sheet.scores} if row.sheet else {},
         "total": sheet_total(call, row.sheet) if row.sheet else None}
        for row in rows
    ]


@bp.get("/assignments/<int:assignment_id>/panel")
def panel(assignment_id: int):
    assignment, copy = load_cleared(assignment_id)
    call = scoring.call_of(db_session, assignment)
    now = now_utc()
    sections = []
    for stage in stages_of(call):
        if policy.may_see_panel(db_session, assignment, stage, now):
            rows = panel_view(call, panel_rows(db_session, assignment, stage))
            sections.append({"stage": stage, "open": True, "rows": rows})
        else:
            sections.append({"stage": stage, "open": False, "rows": []})
    if not any(s["open"] for s in sections):
        refuse(403, "他の委員の採点は、ご自身の採点を提出し、すべての採点期間が終わってから表示されます。")
    return render_template("review/panel.html", assignment=assignment, copy=copy, call=call, sections=sections,
                           max_total=call.max_total_points)
