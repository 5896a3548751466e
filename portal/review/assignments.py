"""Before reading: 利害関係の確認 (or a declared conflict); then the
proposal as released to reviewers, and its attachments.

Until the reviewer confirms 利害関係なし, nothing of the proposal is shown
but its anonymous code. A declared conflict takes the proposal away from
them at once and tells the secretariat.
"""
from __future__ import annotations

import io
from datetime import date
from urllib.parse import quote

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import policy
from ..db import db_session
from ..domain.panel import conflict_declaration
from ..domain.scoring import scoring
from ..domain.scoring.stages import scoring_open, stages_of, window_text
from ..domain.timeutil import now_utc, wareki_date
from ..errors import refuse
from ..files import storage
from ..files.objectstore import current_store
from ..links import external_url
from ..mail import send_mail
from ..models import Assignment, AssignmentStatus, Role, User
from . import bp
from .forms import ActionForm, ConflictForm

CONTENT_TYPE_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


@bp.app_template_filter("iso_wareki")
def iso_wareki(value: str | None) -> str:
    """'2026-07-01' (as the released copy stores dates) -> 令和8年7月1日."""
    try:
        return wareki_date(date.fromisoformat(value)) if value else ""
    except (TypeError, ValueError):
        return str(value)


def load_assignment(assignment_id: int) -> tuple[Assignment, str]:
    """The reviewer's own visible assignment and its anonymous code (404 otherwise)."""
    assignment = policy.load_reviewer_assignment(assignment_id)
    return assignment, policy.review_copy_of(assignment.proposal_id).code


def load_cleared(assignment_id: int):
    """(assignment, review copy) once 利害関係なし is confirmed. Before that
    a page view goes to the confirmation page and anything else is refused."""
    assignment = policy.load_reviewer_assignment(assignment_id)
    if assignment.status != AssignmentStatus.CLEARED:
        if request.method != "GET":
            refuse(403, "採点の前に、この提案と利害関係がないことを確認してください。")
        abort(redirect(url_for("review.confirm", assignment_id=assignment.id)))
    return assignment, policy.review_copy_of(assignment.proposal_id)


@bp.get("/assignments/<int:assignment_id>/confirm")
def confirm(assignment_id: int):
    assignment, code = load_assignment(assignment_id)
    if assignment.status == AssignmentStatus.CLEARED:
        return redirect(url_for("review.proposal", assignment_id=assignment.id))
    return render_template("review/confirm.html", assignment=assignment, code=code, form=ActionForm(),
                           conflict_form=ConflictForm())


@bp.post("/assignments/<int:assignment_id>/clear")
def clear(assignment_id: int):
    assignment, _code = load_assignment(assignment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    conflict_declaration.confirm_no_conflict(db_session, assignment, now_utc())
    return redirect(url_for("review.proposal", assignment_id=assignment.id))


@bp.route("/assignments/<int:assignment_id>/conflict", methods=["GET", "POST"])
def declare_conflict(assignment_id: int):
    assignment, code = load_assignment(assignment_id)
    form = ConflictForm()
    if not form.is_submitted():
        return render_template("review/conflict.html", assignment=assignment, code=code, form=form)
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        return render_template("review/conflict.html", assignment=assignment, code=code, form=form), 422
    call = scoring.call_of(db_session, assignment)
    now = now_utc()
    try:
        conflict = conflict_declaration.declare_conflict(db_session, assignment, form.note.data or "", now)
    except IntegrityError:
        db_session.rollback()
        refuse(409, "他の操作と重なりました。一覧を開き直してください。")
    notify_staff(call, assignment, code, conflict.reason)
    flash(f"{code}について利害関係の申告を受け付けました。この提案はあなたの審査対象から外れました。事務局に連絡しました。",
          "success")
    return redirect(url_for("review.index"))


def notify_staff(call, assignment: Assignment, code: str, note: str) -> None:
    """Every active staff member hears of a declared conflict. The subject
    names the call and code only: the reviewer's note may name the group."""
    member = assignment.panel_member
    staff = db_session.scalars(
        select(User).where(User.role == Role.STAFF, User.is_active_account.is_(True)).order_by(User.id)
    ).all()
    subject = f"【利害関係の申告】{call.title}（{code}）"
    body = (
        f"審査委員 {member.user.display_name}（{member.pseudonym}）から、{code} について利害関係の申告がありました。\n"
        f"この委員は {code} の審査から外れました。公開記録には「利害関係による回避」として、仮名と匿名コードだけが記録されています。\n\n"
        f"申告の内容:\n{note or '（記載なし）'}\n\n"
        f"審査委員会の画面: {external_url('admin.panel', call_id=call.id)}\n"
    )
    for user in staff:
        send_mail(user.email, subject, body)


@bp.get("/assignments/<int:assignment_id>")
def proposal(assignment_id: int):
    assignment, copy = load_cleared(assignment_id)
    call = scoring.call_of(db_session, assignment)
    now = now_utc()
    stages = stages_of(call)
    sheets = scoring.sheets_by_stage(db_session, [assignment.id])
    return render_template(
        "review/proposal.html", assignment=assignment, copy=copy, content=copy.content, call=call,
        stages=[(s, sheets.get((assignment.id, s)), window_text(call, s),
                 scoring_open(call, s, now)) for s in stages],
        panel_open=any(policy.may_see_panel(db_session, assignment, s, now) for s in stages),
    )


def attachment_name(code: str, label: str, content_type: str) -> str:
    return f"{code}-{label}.{CONTENT_TYPE_EXTENSIONS.get(content_type, 'bin')}"


def content_disposition(filename: str, fallback: str) -> str:
    """RFC 6266 with an RFC 5987 ``filename*`` for the Japanese name and an
    ASCII ``filename`` for old clients (never the uploader's own name)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@bp.get("/assignments/<int:assignment_id>/attachments/<int:attachment_id>")
def attachment(assignment_id: int, attachment_id: int):
    assignment, copy = load_cleared(assignment_id)
    attachment, listed = policy.load_reviewer_attachment(assignment, copy, attachment_id)
    data = storage.read_bytes(current_store(), attachment.storage_name)
    if data is None:
        abort(404)
    label = listed.get("label") or f"添付資料{attachment.position + 1}"
    extension = CONTENT_TYPE_EXTENSIONS.get(attachment.content_type, "bin")
    response = send_file(io.BytesIO(data), mimetype=attachment.content_type, conditional=False, etag=False,
                         last_modified=None)
    response.headers["Content-Disposition"] = content_disposition(
        attachment_name(copy.code, label, attachment.content_type),
        f"attachment-{attachment.position + 1}.{extension}")
    return response
