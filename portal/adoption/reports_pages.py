"""中間報告 and 実績報告: the group writes (a draft keeps what was typed),
uploads receipts and submits; the city (staff or the department) accepts
it, which publishes its PDF, or sends it back with a reason."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import object_session

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import reports
from ..domain.adoption.departments import department_of
from ..domain.refusals import WrongState
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..files import storage
from ..files.objectstore import current_store
from ..files.sanitize import RejectedFile
from ..models import Proposal
from ..models.adoption_work import (
    REPORT_DRAFT,
    REPORT_FINAL,
    REPORT_KIND_LABELS,
    REPORT_RETURNED,
    ProjectReport,
    ReportReceipt,
)
from ..pdf import render_pdf
from ..policy import load_child, project_side
from . import bp
from .money_pages import csrf_ok, form_text, load_running


def render_report(report: ProjectReport) -> bytes:
    # The report's own session: the demo loader renders into a database of its own.
    session = object_session(report) or db_session
    proposal = session.get(Proposal, report.proposal_id)
    goals = {g.id: g for g in reports.confirmed_goals(session, proposal)}
    html = render_template(
        "pdf/report.html", report=report, proposal=proposal, department=department_of(session, proposal),
        progress=[(goals[p.goal_id], p) for p in report.progress if p.goal_id in goals],
        settlement=reports.settlement_for(session, proposal, report) if report.kind == REPORT_FINAL else None,
        agreement=reports.concluded_agreement(session, proposal))
    return render_pdf(html, title=f"{report.kind_label} {proposal.display_title}")


def _load(proposal_id: int, kind: str, *, create: bool = False):
    proposal, row = load_running(proposal_id)
    if kind not in REPORT_KIND_LABELS:
        abort(404)
    report = reports.report_of(db_session, proposal, kind)
    if report is None and create:
        report = reports.start(db_session, proposal, kind, user=current_user, now=now_utc())
    return proposal, report


def _labels(proposal) -> dict[str, str]:
    labels = {"activities": "実施した活動", "receipts": "領収書", "return_reason": "差し戻しの理由"}
    for goal in reports.confirmed_goals(db_session, proposal):
        labels[f"goal-{goal.id}-actual"] = f"{goal.title}（実績）"
        labels[f"goal-{goal.id}-comment"] = f"{goal.title}（コメント）"
    return labels


def _page(proposal, kind, report, problems=None, message=None, typed_reason="", status=200):
    problems = problems or {}
    side = project_side(current_user, proposal)
    editable = report is None or report.status in (REPORT_DRAFT, REPORT_RETURNED)
    labels = _labels(proposal)
    if report is not None:
        for line in report.lines:
            labels[f"line-{line.position}"] = f"収支決算「{line.category}」"
    return render_template(
        "adoption/report.html", proposal=proposal, kind=kind, kind_label=REPORT_KIND_LABELS[kind], report=report,
        side=side, editable=editable and side == "group", problems=problems, message=message, form=EmptyForm(),
        goals=reports.confirmed_goals(db_session, proposal),
        progress={p.goal_id: p for p in (report.progress if report else [])},
        due=reports.due_dates(db_session, proposal)[kind], typed_reason=typed_reason,
        settlement=reports.settlement_for(db_session, proposal, report) if report and kind == REPORT_FINAL else None,
        summary=[(name, labels.get(name, name), message) for name, message in problems.items()],
    ), status


@bp.route("/<int:proposal_id>/reports/<kind>")
def report(proposal_id: int, kind: str):
    proposal, row = _load(proposal_id, kind)
    return _page(proposal, kind, row)


def _read(report: ProjectReport) -> reports.ReportInput:
    progress = {}
    for key in request.form:
        if key.startswith("goal-") and key.endswith("-actual"):
            raw = key[len("goal-"):-len("-actual")]
            if raw.isascii() and raw.isdigit() and len(raw) < 10:
                progress[int(raw)] = (form_text(key, 200), form_text(f"goal-{raw}-comment", 5000))
    actuals = {line.position: form_text(f"line-{line.position}", 40) for line in report.lines
               if f"line-{line.position}" in request.form}
    return reports.ReportInput(activities=form_text("activities", 20000), progress=progress, actuals=actuals)


@bp.post("/<int:proposal_id>/reports/<kind>")
def save_report(proposal_id: int, kind: str):
    proposal, row = _load(proposal_id, kind)
    if not csrf_ok():
        return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))
    if project_side(current_user, proposal) != "group":
        return _page(proposal, kind, row, message="報告は団体が作成・提出します。", status=409)
    try:
        row = row or reports.start(db_session, proposal, kind, user=current_user, now=now_utc())
        reports.save_draft(db_session, proposal, row, _read(row), user=current_user, now=now_utc())
    except WrongState as refusal:
        return _page(proposal, kind, row, message=refusal.message, status=409)
    if request.form.get("action") != "submit":
        flash("下書きを保存しました。", "success")
        return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))
    try:
        reports.submit(db_session, proposal, row, now=now_utc())
    except reports.ReportInvalid as refusal:
        # Keep the draft as typed (saved above) although the answer is an
        # error, which the request boundary would otherwise roll back.
        db_session.commit()
        return _page(proposal, kind, row, refusal.problems, status=422)
    except WrongState as refusal:
        return _page(proposal, kind, row, message=refusal.message, status=409)
    flash(f"{REPORT_KIND_LABELS[kind]}を提出しました。市の確認を待っています。", "success")
    return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))


@bp.post("/<int:proposal_id>/reports/<kind>/receipts")
def upload_receipt(proposal_id: int, kind: str):
    proposal, row = _load(proposal_id, kind)
    if not csrf_ok():
        return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))
    if project_side(current_user, proposal) != "group":
        return _page(proposal, kind, row, message="領収書は団体が添付します。", status=409)
    upload = request.files.get("receipt")
    if upload is None or not upload.filename:
        return _page(proposal, kind, row, {"receipts": "添付するファイルを選んでください。"}, status=422)
    try:
        row = row or reports.start(db_session, proposal, kind, user=current_user, now=now_utc())
        data = upload.stream.read(reports.RECEIPT_MAX_BYTES + 1)
        reports.add_receipt(db_session, current_store(), row, data, upload.filename, user=current_user,
                            now=now_utc())
    except RejectedFile as refusal:
        return _page(proposal, kind, row, {"receipts": refusal.message}, status=422)
    except WrongState as refusal:
        return _page(proposal, kind, row, message=refusal.message, status=409)
    flash("領収書を添付しました。", "success")
    return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind, _anchor="receipts"))


def _receipt(proposal_id: int, kind: str, receipt_id: int):
    proposal, row = _load(proposal_id, kind)
    if row is None:
        abort(404)
    return proposal, row, load_child(ReportReceipt, receipt_id, report_id=row.id)


@bp.get("/<int:proposal_id>/reports/<kind>/receipts/<int:receipt_id>")
def receipt_file(proposal_id: int, kind: str, receipt_id: int):
    _proposal, _row, receipt = _receipt(proposal_id, kind, receipt_id)
    data = storage.read_bytes(current_store(), receipt.storage_name)
    if data is None:
        refuse(409, "保存された領収書が見つかりません。市民協働課にお問い合わせください。")
    return send_file(io.BytesIO(data), mimetype=receipt.content_type, as_attachment=True,
                     download_name=receipt.original_name)


@bp.post("/<int:proposal_id>/reports/<kind>/receipts/<int:receipt_id>/delete")
def delete_receipt(proposal_id: int, kind: str, receipt_id: int):
    proposal, row, receipt = _receipt(proposal_id, kind, receipt_id)
    if not csrf_ok() or project_side(current_user, proposal) != "group":
        return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))
    try:
        reports.remove_receipt(db_session, current_store(), row, receipt)
    except WrongState as refusal:
        flash(refusal.message, "error")
    return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind, _anchor="receipts"))


@bp.post("/<int:proposal_id>/reports/<kind>/accept")
def accept_report(proposal_id: int, kind: str):
    proposal, row = _load(proposal_id, kind)
    if row is None:
        abort(404)
    if not csrf_ok():
        return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))
    if project_side(current_user, proposal) != "city":
        return _page(proposal, kind, row, message="報告は市（担当課・市民協働課）が受理します。", status=409)
    try:
        reports.accept(db_session, proposal, row, user=current_user, now=now_utc(), render=render_report,
                       store=current_store())
    except WrongState as refusal:
        return _page(proposal, kind, row, message=refusal.message, status=409)
    flash(f"{row.kind_label}を受理しました。報告書（PDF）を公開しました。", "success")
    return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))


@bp.post("/<int:proposal_id>/reports/<kind>/return")
def return_report(proposal_id: int, kind: str):
    proposal, row = _load(proposal_id, kind)
    if row is None:
        abort(404)
    reason = form_text("return_reason", 5000)
    if not csrf_ok():
        return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))
    if project_side(current_user, proposal) != "city":
        return _page(proposal, kind, row, message="差し戻しは市（担当課・市民協働課）が行います。", status=409)
    try:
        reports.send_back(db_session, row, reason, user=current_user, now=now_utc())
    except reports.ReportInvalid as refusal:
        return _page(proposal, kind, row, refusal.problems, typed_reason=reason, status=422)
    except WrongState as refusal:
        return _page(proposal, kind, row, message=refusal.message, status=409)
    flash(f"{row.kind_label}を差し戻しました。団体に理由が表示されます。", "success")
    return redirect(url_for("adoption.report", proposal_id=proposal.id, kind=kind))
