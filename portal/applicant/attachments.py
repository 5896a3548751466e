"""添付資料 (files on a proposal) and 団体の書類 (files on the group profile):
upload, download and delete.

A refused upload re-renders the page with status 422 and the message next
to the file field (``g.upload_errors``, read by the two partial templates);
nothing typed elsewhere is touched.
"""
from __future__ import annotations

import io

from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.proposals import workflow
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..files import storage
from ..files.objectstore import current_store
from ..files.sanitize import RejectedFile, sanitize
from ..models import FilePurpose, Group, Proposal, StoredFile
from ..policy import load_own_proposal, load_visible_file, require_applicant
from . import bp
from .forms import GroupProfileForm
from .editor import _render_editor, stored_problems

DOCUMENT_PURPOSES = (FilePurpose.RULES, FilePurpose.OFFICERS, FilePurpose.ANNUAL_REPORT)
MAX_DOCUMENTS_PER_PURPOSE = 5
ATTACHMENT_FIELD = "attachment-file"
MAX_ID = 2**31 - 1  # ids are 32-bit columns: a larger number in the URL is a 404, not a database error


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """10485760 -> '10MB', 1536 -> '1.5KB' (binary units, as the limits are set)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + unit
    return f"{size}バイト"


@bp.app_template_global("document_purposes")
def document_purposes() -> tuple[FilePurpose, ...]:
    return DOCUMENT_PURPOSES


def document_field(purpose: FilePurpose) -> str:
    return f"document-{purpose.value}"


def _read_upload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise RejectedFile("ファイルを選んでください。")
    limit = current_app.config["UPLOAD_MAX_FILE_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise RejectedFile(
            f"ファイルが大きすぎます（1ファイル{file_size(limit)}まで）。"
            "PDFは画質を下げて保存し直すか、複数のファイルに分けて添付してください。"
        )
    return data, upload.filename


def _check_total(existing_sizes: list[int], new_size: int, what: str) -> None:
    limit = current_app.config["UPLOAD_MAX_PROPOSAL_BYTES"]
    used = sum(existing_sizes)
    if used + new_size > limit:
        raise RejectedFile(
            f"{what}の合計は{file_size(limit)}までです（登録済み{file_size(used)}、"
            f"このファイル{file_size(new_size)}）。不要なファイルを削除してから追加してください。"
        )


# --- proposal attachments ------------------------------------------------------

@bp.post(f"/proposals/<int(max={MAX_ID}):proposal_id>/attachments")
def upload_attachment(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    user = require_applicant()
    if not EmptyForm().validate_on_submit():
        abort(400)
    refusal = workflow.edit_refusal(proposal, now_utc())
    if refusal:
        refuse(403, refusal)
    try:
        data, name = _read_upload()
        clean = sanitize(data, name)
        # Lock the proposal row (PostgreSQL) so two uploads at once cannot
        # both pass the count and size limits.
        db_session.execute(select(Proposal.id).where(Proposal.id == proposal.id).with_for_update())
        sizes = list(db_session.scalars(select(StoredFile.size).where(StoredFile.proposal_id == proposal.id)))
        max_files = current_app.config["UPLOAD_MAX_FILES_PER_PROPOSAL"]
        if len(sizes) >= max_files:
            raise RejectedFile(f"添付できるファイルは{max_files}件までです。不要なファイルを削除してから追加してください。")
        _check_total(sizes, len(clean.data), "添付資料")
    except RejectedFile as rejected:
        g.upload_errors = {ATTACHMENT_FIELD: rejected.message}
        return _render_editor(proposal, errors=stored_problems(proposal), status=422, step="attachments")
    stored = storage.store_file(
        db_session, current_store(), clean, original_name=name, purpose=FilePurpose.ATTACHMENT,
        group_id=proposal.group_id, proposal_id=proposal.id, uploaded_by_id=user.id,
    )
    flash(f"「{stored.original_name}」を添付しました。", "success")
    return redirect(url_for("applicant.edit_proposal", proposal_id=proposal.id, step="attachments"))


# --- group documents -------------------------------------------------------------

def _render_profile(group: Group, status: int):
    form = GroupProfileForm(formdata=None, obj=group)
    form.kind.data = group.kind.value if group.kind else ""
    return render_template("applicant/profile.html", form=form, group=group), status


@bp.post("/profile/documents")
def upload_document():
    user = require_applicant()
    group = user.group
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        purpose = FilePurpose(request.form.get("purpose", ""))
    except ValueError:
        abort(400)
    if purpose not in DOCUMENT_PURPOSES:
        abort(400)
    try:
        data, name = _read_upload()
        clean = sanitize(data, name)
        db_session.execute(select(Group.id).where(Group.id == group.id).with_for_update())
        rows = db_session.execute(
            select(StoredFile.purpose, StoredFile.size).where(
                StoredFile.group_id == group.id, StoredFile.proposal_id.is_(None)
            )
        ).all()
        if sum(1 for p, _ in rows if p == purpose) >= MAX_DOCUMENTS_PER_PURPOSE:
            raise RejectedFile(
                f"「{purpose.label}」に登録できるファイルは{MAX_DOCUMENTS_PER_PURPOSE}件までです。"
                "古いファイルを削除してから追加してください。"
            )
        _check_total([size for _, size in rows], len(clean.data), "団体の書類")
    except RejectedFile as rejected:
        g.upload_errors = {document_field(purpose): rejected.message}
        return _render_profile(group, 422)
    stored = storage.store_file(
        db_session, current_store(), clean, original_name=name, purpose=purpose,
        group_id=group.id, uploaded_by_id=user.id,
    )
    flash(f"{purpose.label}「{stored.original_name}」を登録しました。", "success")
    return redirect(url_for("applicant.profile", _anchor="documents"))


# --- download and delete -----------------------------------------------------------

@bp.get(f"/files/<int(max={MAX_ID}):file_id>/download")
def download_file(file_id: int):
    stored = load_visible_file(file_id)
    data = storage.read_bytes(current_store(), stored.storage_name)
    if data is None:
        current_app.logger.error("stored file %s (id %s) is missing from the store", stored.storage_name, stored.id)
        abort(404)
    response = send_file(io.BytesIO(data), mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.original_name, conditional=False, etag=False, last_modified=None)
    response.headers["Cache-Control"] = "private, no-store"
    # Should a browser ever render it in place, it runs nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post(f"/files/<int(max={MAX_ID}):file_id>/delete")
def delete_file(file_id: int):
    stored = load_visible_file(file_id)
    require_applicant()  # staff may read a group's files, but only the group removes them
    if not EmptyForm().validate_on_submit():
        abort(400)
    if stored.proposal_id is not None:
        proposal = load_own_proposal(stored.proposal_id)
        refusal = workflow.edit_refusal(proposal, now_utc())
        if refusal:
            refuse(403, refusal)
        target = url_for("applicant.edit_proposal", proposal_id=proposal.id, step="attachments")
    else:
        target = url_for("applicant.profile", _anchor="documents")
    name = stored.original_name
    storage.delete_file(db_session, current_store(), stored)
    flash(f"「{name}」を削除しました。", "success")
    return redirect(target)

