"""匿名化 and 審査委員への公開: scan accepted proposals for what identifies
the group, decide each finding, preview the reviewer copy and release."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.anonymity import redaction, review_copy
from ..domain.anonymity.anonymise import KIND_LABELS, StaleFindingError
from ..domain.anonymity.release import ReleaseRefused, release_for_review
from ..domain.panel import assignment
from ..domain.timeutil import now_utc
from ..jobs import progress, release_job, rescan_job
from ..errors import refuse
from ..files import redact_pages, storage
from ..files.objectstore import current_store
from ..models import (
    JOB_STATUS_LABELS,
    ExtraTerm,
    FindingStatus,
    Group,
    Proposal,
    ProposalStatus,
    RedactionFinding,
    StoredFile,
)
from ..policy import (
    load_extra_term,
    load_finding,
    load_review_attachment,
    load_staff_call,
    load_staff_proposal,
    require_staff,
    review_copy_of,
)
from . import bp, list_params
from .intake_forms import AttachmentSettingForm, ExtraTermForm, ManualRedactionForm
from .list_params import like_pattern

LISTED_STATUSES = (ProposalStatus.ACCEPTED, ProposalStatus.REVIEW, ProposalStatus.RESULTS)
CONTEXT_CHARS = 20


ANONYMISE_FILTERS = {"accepted": "公開前", "blocked": "公開前（要対応の検出あり）", "released": "公開済み"}
ANONYMISE_SORTS = {"code": "番号順", "receipt": "受付番号順", "group": "団体名順", "status": "状況順"}
RELEASED_STATUSES = (ProposalStatus.REVIEW, ProposalStatus.RESULTS)


@bp.route("/calls/<int:call_id>/anonymise")
def anonymise_list(call_id: int):
    return _list_page(load_staff_call(call_id))


def _list_query(call, params):
    query = (select(Proposal).join(Group, Group.id == Proposal.group_id)
             .where(Proposal.call_id == call.id, Proposal.status.in_(LISTED_STATUSES)))
    if params.q:
        pattern = like_pattern(params.q)
        query = query.where(or_(Proposal.anonymous_code.ilike(pattern, escape="\\"),
                                Proposal.receipt_number.ilike(pattern, escape="\\"),
                                Group.name.ilike(pattern, escape="\\"), Proposal.title.ilike(pattern, escape="\\")))
    if params.status == "released":
        query = query.where(Proposal.status.in_(RELEASED_STATUSES))
    elif params.status:
        query = query.where(Proposal.status == ProposalStatus.ACCEPTED)
        if params.status == "blocked":  # a finding still to decide
            query = query.where(select(RedactionFinding.id).where(
                RedactionFinding.proposal_id == Proposal.id,
                RedactionFinding.status == FindingStatus.PENDING).exists())
    return query


def _list_order(sort: str):
    # The code last: a stable order between equal values.
    return {"code": (Proposal.anonymous_code,), "receipt": (Proposal.receipt_number, Proposal.anonymous_code),
            "group": (Group.name, Proposal.anonymous_code),
            "status": (Proposal.status, Proposal.anonymous_code)}[sort]


def _list_page(call, *, term_form=None, status=200):
    # Hundreds of proposals: one page at a time (list_params), and the
    # release checks (several queries each) only for the page shown.
    params = list_params.read(request.args, statuses=ANONYMISE_FILTERS, sorts=ANONYMISE_SORTS)
    by_status = dict(db_session.execute(
        select(Proposal.status, func.count(Proposal.id))
        .where(Proposal.call_id == call.id, Proposal.status.in_(LISTED_STATUSES)).group_by(Proposal.status)).all())
    query = _list_query(call, params)
    page = list_params.paginate(params, db_session.scalar(select(func.count()).select_from(query.subquery())))
    proposals = db_session.scalars(
        query.options(contains_eager(Proposal.group), selectinload(Proposal.submissions))
        .order_by(*_list_order(params.sort)).limit(page.size).offset(page.offset)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    if proposals:
        for proposal_id, finding_status, n in db_session.execute(
            select(RedactionFinding.proposal_id, RedactionFinding.status, func.count())
            .where(RedactionFinding.proposal_id.in_([p.id for p in proposals]))
            .group_by(RedactionFinding.proposal_id, RedactionFinding.status)
        ):
            counts.setdefault(proposal_id, {})[FindingStatus(finding_status).value] = n
    rows = []
    for proposal in proposals:
        problems = redaction.release_problems(db_session, proposal) if proposal.status == ProposalStatus.ACCEPTED else []
        rows.append({"proposal": proposal, "counts": counts.get(proposal.id, {}), "problems": problems})
    call_terms = db_session.scalars(
        select(ExtraTerm).where(ExtraTerm.call_id == call.id, ExtraTerm.proposal_id.is_(None)).order_by(ExtraTerm.id)
    ).all()
    return render_template("admin/anonymise/list.html", call=call, rows=rows, call_terms=call_terms,
                           form=EmptyForm(), term_form=term_form or ExtraTermForm(formdata=None),
                           rescan_job=_shown_job(rescan_job, call), release_job=_shown_job(release_job, call),
                           job_status_labels=JOB_STATUS_LABELS, params=params, page=page,
                           filters=ANONYMISE_FILTERS, sorts=ANONYMISE_SORTS, page_sizes=list_params.PAGE_SIZES,
                           all_count=sum(by_status.values()),
                           accepted_count=by_status.get(ProposalStatus.ACCEPTED, 0),
                           shortfalls=assignment.shortfalls(db_session, call)), status


def _shown_job(kind, call):
    """The call's job of ``kind`` (a jobs module) while it runs, or for a while after it ended."""
    job = kind.latest_job(db_session, call)
    return job if job is not None and (job.active or progress.recently_ended(job, now_utc())) else None


@bp.post("/calls/<int:call_id>/anonymise/rescan")
def anonymise_rescan_all(call_id: int):
    """Scan every accepted proposal again, in the job worker (after a term
    was added for the whole call)."""
    call = load_staff_call(call_id)
    staff = require_staff()
    if not EmptyForm().validate_on_submit():
        abort(400)
    job = rescan_job.start(db_session, call, staff, now_utc())
    if job.active:
        flash(f"{job.total}件の提案のスキャンを進めています。進み具合はこのページに表示されます。", "success")
    return redirect(url_for("admin.anonymise_list", call_id=call.id) + "#rescan")


@bp.post("/calls/<int:call_id>/anonymise/release")
def anonymise_release(call_id: int):
    call = load_staff_call(call_id)
    staff = require_staff()
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = {int(v) for v in request.form.getlist("proposal_id") if v.isascii() and v.isdigit() and len(v) < 10}
    proposals = db_session.scalars(
        select(Proposal).where(Proposal.call_id == call.id, Proposal.id.in_(ids))
    ).all() if ids else []
    if not proposals:
        refuse(422, "公開する提案を選んでください。")
    try:
        if len(proposals) > release_job.INLINE_MAX:  # minutes of work: the job worker does it
            job = release_job.start(db_session, call, proposals, staff, now_utc())
            if job.active:
                flash(f"{job.total}件の提案を審査委員に公開しています。進み具合はこのページに表示されます。", "success")
            return redirect(url_for("admin.anonymise_list", call_id=call.id) + "#release")
        copies = release_for_review(db_session, proposals, staff, now_utc(), store=current_store())
    except ReleaseRefused as refused:
        return render_template("admin/anonymise/refused.html", call=call, problems=refused.problems), 409
    codes = "、".join(c.code for c in copies)
    flash(f"{len(copies)}件の提案（{codes}）を審査委員に公開しました。", "success")
    return redirect(url_for("admin.anonymise_list", call_id=call.id))


@bp.post("/calls/<int:call_id>/anonymise/terms")
def anonymise_call_term(call_id: int):
    call = load_staff_call(call_id)
    staff = require_staff()
    form = ExtraTermForm()
    if not form.validate_on_submit():
        return _list_page(call, term_form=form, status=422)
    try:
        redaction.add_extra_term(db_session, call, None, form.term.data, staff, now_utc())
    except review_copy.AnonymisationError as error:
        form.term.errors = [*form.term.errors, error.message]
        return _list_page(call, term_form=form, status=422)
    flash(f"「{form.term.data}」をこの募集のすべての提案で探す語句に追加しました。各提案を再スキャンしてください。", "success")
    return redirect(url_for("admin.anonymise_list", call_id=call.id))


# --- one proposal ---------------------------------------------------------------------

def _load(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    proposal = load_staff_proposal(proposal_id, call)
    if proposal.status not in LISTED_STATUSES:
        refuse(404, "この提案は匿名化の対象ではありません（受理した提案だけが対象です）。")
    return call, proposal


def _context(text: str, start: int, end: int) -> tuple[str, str, str]:
    before = text[max(0, start - CONTEXT_CHARS):start]
    after = text[end:end + CONTEXT_CHARS]
    return ("…" if start > CONTEXT_CHARS else "") + before, text[start:end], after + ("…" if end + CONTEXT_CHARS < len(text) else "")


def _proposal_page(call, proposal, *, term_form=None, manual_form=None, status=200):
    sources = review_copy.sources_of(db_session, proposal, included_only=False)
    order = {location: i for i, location in enumerate(sources)}
    findings = sorted(review_copy.findings_of(db_session, proposal),
                      key=lambda f: (order.get(f.location, len(order)), f.location, f.start))
    rows = []
    for f in findings:
        source = sources.get(f.location)
        stale = source is None or source.sha256 != f.source_sha256
        context = _context(source.text, f.start, f.end) if source and not stale else ("", f.text, "")
        rows.append({"finding": f, "label": source.label if source else f.location, "stale": stale,
                     "context": context, "kind": KIND_LABELS.get(f.kind, f.kind)})
    locations = [(loc, s.label) for loc, s in sources.items() if s.text]
    if manual_form is None:
        manual_form = ManualRedactionForm(formdata=None, locations=locations)
    attachments = review_copy.review_attachments(db_session, proposal)
    files = {f.id: f for f in db_session.scalars(
        select(StoredFile).where(StoredFile.id.in_([a.source_file_id for a in attachments]))
    )} if attachments else {}
    return render_template(
        "admin/anonymise/proposal.html", call=call, proposal=proposal, rows=rows,
        terms=redaction.extra_terms(db_session, proposal), attachments=attachments, files=files,
        term_form=term_form or ExtraTermForm(formdata=None), manual_form=manual_form, form=EmptyForm(),
        attachment_label=review_copy.attachment_label, needs_eye_check=review_copy.needs_eye_check,
        visual_pages=redaction.visual_pages, page_decision=redaction.page_decision, page_label=redaction.page_label,
        page_decisions=redaction.PAGE_DECISIONS,
        problems=redaction.release_problems(db_session, proposal) if proposal.status == ProposalStatus.ACCEPTED else [],
        editable=proposal.status == ProposalStatus.ACCEPTED,
        pending=sum(1 for f in findings if f.status == FindingStatus.PENDING),
        high_pending=sum(1 for f in findings if f.status == FindingStatus.PENDING and f.confidence == "high"),
    ), status


@bp.route("/calls/<int:call_id>/anonymise/<int:proposal_id>")
def anonymise_proposal(call_id: int, proposal_id: int):
    call, proposal = _load(call_id, proposal_id)
    return _proposal_page(call, proposal)


def _back(call, proposal, anchor: str | None = None):
    return redirect(url_for("admin.anonymise_proposal", call_id=call.id, proposal_id=proposal.id, _anchor=anchor))


def _checked_post(call_id: int, proposal_id: int):
    call, proposal = _load(call_id, proposal_id)
    staff = require_staff()
    if not EmptyForm().validate_on_submit():
        abort(400)
    if proposal.status != ProposalStatus.ACCEPTED:
        refuse(409, "審査委員に公開済みのため、匿名化の内容は変更できません。")
    return call, proposal, staff


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/scan")
def anonymise_scan(call_id: int, proposal_id: int):
    call, proposal, staff = _checked_post(call_id, proposal_id)
    result = redaction.scan(db_session, proposal, staff, now_utc(), store=current_store())
    flash(f"スキャンしました（新しい検出 {result.added}件、内容の変更などで取り消した検出 {result.removed}件）。", "success")
    return _back(call, proposal, "findings")


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/terms")
def anonymise_add_term(call_id: int, proposal_id: int):
    call, proposal = _load(call_id, proposal_id)
    staff = require_staff()
    form = ExtraTermForm()
    if not form.validate_on_submit():
        return _proposal_page(call, proposal, term_form=form, status=422)
    try:
        redaction.add_extra_term(db_session, call, None if form.scope.data == "call" else proposal,
                                   form.term.data, staff, now_utc())
        redaction.scan(db_session, proposal, staff, now_utc(), store=current_store())
    except review_copy.AnonymisationError as error:
        form.term.errors = [*form.term.errors, error.message]
        return _proposal_page(call, proposal, term_form=form, status=422)
    flash(f"「{form.term.data}」を追加して再スキャンしました。", "success")
    return _back(call, proposal, "terms")


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/terms/<int:term_id>/delete")
def anonymise_delete_term(call_id: int, proposal_id: int, term_id: int):
    call, proposal, staff = _checked_post(call_id, proposal_id)
    term = load_extra_term(call, proposal, term_id)
    redaction.remove_extra_term(db_session, term)
    redaction.scan(db_session, proposal, staff, now_utc(), store=current_store())
    flash(f"「{term.term}」を削除して再スキャンしました。", "success")
    return _back(call, proposal, "terms")


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/findings/<int:finding_id>")
def anonymise_decide(call_id: int, proposal_id: int, finding_id: int):
    call, proposal, staff = _checked_post(call_id, proposal_id)
    finding = load_finding(proposal, finding_id)
    try:
        status = FindingStatus(request.form.get("decision", ""))
    except ValueError:
        refuse(422, "「伏せる」か「伏せない」を選んでください。")
    redaction.decide_finding(db_session, finding, status, staff, now_utc())
    return _back(call, proposal, f"finding-{finding.id}")


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/findings/redact-high")
def anonymise_redact_high(call_id: int, proposal_id: int):
    call, proposal, staff = _checked_post(call_id, proposal_id)
    count = redaction.redact_high_confidence(db_session, proposal, staff, now_utc())
    flash(f"確度の高い検出{count}件を「伏せる」にしました。", "success")
    return _back(call, proposal, "findings")


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/manual")
def anonymise_manual(call_id: int, proposal_id: int):
    call, proposal = _load(call_id, proposal_id)
    staff = require_staff()
    sources = review_copy.sources_of(db_session, proposal, included_only=False)
    form = ManualRedactionForm(locations=[(loc, s.label) for loc, s in sources.items() if s.text])
    if not form.validate_on_submit():
        return _proposal_page(call, proposal, manual_form=form, status=422)
    try:
        count = redaction.add_manual_redaction(db_session, proposal, form.location.data, form.text.data, staff,
                                                 now_utc())
    except review_copy.AnonymisationError as error:
        form.text.errors = [*form.text.errors, error.message]
        return _proposal_page(call, proposal, manual_form=form, status=422)
    flash(f"{count}か所を伏せる設定にしました。", "success")
    return _back(call, proposal, "manual")


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/attachments/<int:attachment_id>")
def anonymise_attachment(call_id: int, proposal_id: int, attachment_id: int):
    call, proposal, staff = _checked_post(call_id, proposal_id)
    attachment = load_review_attachment(proposal, attachment_id)
    form = AttachmentSettingForm()
    redaction.set_attachment(db_session, attachment, excluded=form.excluded.data,
                               checked_by_eye=form.checked_by_eye.data)
    flash(f"{review_copy.attachment_label(attachment)}の設定を保存しました。", "success")
    return _back(call, proposal, f"attachment-{attachment.id}")


@bp.route("/calls/<int:call_id>/anonymise/<int:proposal_id>/preview")
def anonymise_preview(call_id: int, proposal_id: int):
    call, proposal = _load(call_id, proposal_id)
    copy = review_copy_of(proposal.id)
    try:
        preview = review_copy.build_content(db_session, proposal) if copy is None else None
    except StaleFindingError:
        refuse(409, "スキャンの後に内容が変わっています。再スキャンしてからプレビューしてください。")
    return render_template("admin/anonymise/preview.html", call=call, proposal=proposal, preview=preview,
                           released=copy, content=copy.content if copy else preview.content)


@bp.route("/calls/<int:call_id>/anonymise/<int:proposal_id>/attachments/<int:attachment_id>/copy")
def anonymise_attachment_copy(call_id: int, proposal_id: int, attachment_id: int):
    """The reviewers' copy of an attachment, for staff to check after release."""
    call, proposal = _load(call_id, proposal_id)
    attachment = load_review_attachment(proposal, attachment_id, copied=True)
    data = storage.read_bytes(current_store(), attachment.storage_name)
    if data is None:
        abort(404)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(attachment.content_type, "bin")
    response = send_file(io.BytesIO(data), mimetype=attachment.content_type, as_attachment=True,
                         download_name=f"{proposal.anonymous_code}_{review_copy.attachment_label(attachment)}.{extension}",
                         conditional=False, etag=False, last_modified=None)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- image pages, QR codes and masks (issue 14) -------------------------------------

def _visual_page(attachment, page: int) -> dict:
    found = next((p for p in redaction.visual_pages(attachment) if p.get("page") == page), None)
    if found is None:
        refuse(404, "確認が必要なページではありません。")
    return found


def _page_screen(call, proposal, attachment, page: int, *, error: str | None = None, masks_text: str = "",
                 status: int = 200):
    found = _visual_page(attachment, page)
    decided = redaction.page_decision(attachment, page)
    if not masks_text and decided and decided.get("masks"):
        masks_text = "\n".join(",".join(f"{v:g}" for v in box) for box in decided["masks"])
    pages = redaction.visual_pages(attachment)
    position = next(i for i, p in enumerate(pages) if p["page"] == page)
    return render_template(
        "admin/anonymise/page.html", call=call, proposal=proposal, attachment=attachment, page=found,
        decided=decided, decisions=redaction.PAGE_DECISIONS, masks_text=masks_text, error=error,
        form=EmptyForm(), label=review_copy.attachment_label(attachment),
        page_label=redaction.page_label(attachment, found), editable=proposal.status == ProposalStatus.ACCEPTED,
        previous=pages[position - 1]["page"] if position > 0 else None,
        next=pages[position + 1]["page"] if position + 1 < len(pages) else None,
    ), status


@bp.route("/calls/<int:call_id>/anonymise/<int:proposal_id>/attachments/<int:attachment_id>/pages/<int:page>")
def anonymise_page(call_id: int, proposal_id: int, attachment_id: int, page: int):
    call, proposal = _load(call_id, proposal_id)
    attachment = load_review_attachment(proposal, attachment_id)
    return _page_screen(call, proposal, attachment, page)


@bp.route("/calls/<int:call_id>/anonymise/<int:proposal_id>/attachments/<int:attachment_id>/pages/<int:page>/image")
def anonymise_page_image(call_id: int, proposal_id: int, attachment_id: int, page: int):
    """The page (or image) as the group sent it, rendered for staff only."""
    call, proposal = _load(call_id, proposal_id)
    attachment = load_review_attachment(proposal, attachment_id)
    _visual_page(attachment, page)
    source = db_session.get(StoredFile, attachment.source_file_id)
    data = storage.read_bytes(current_store(), source.storage_name) if source else None
    if data is None:
        abort(404)
    try:
        png = redact_pages.render_preview(data, attachment.content_type, page)
    except redact_pages.PageError as error:
        refuse(422, error.message)
    response = send_file(io.BytesIO(png), mimetype="image/png", conditional=False, etag=False, last_modified=None)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/calls/<int:call_id>/anonymise/<int:proposal_id>/attachments/<int:attachment_id>/pages/<int:page>")
def anonymise_decide_page(call_id: int, proposal_id: int, attachment_id: int, page: int):
    call, proposal, staff = _checked_post(call_id, proposal_id)
    attachment = load_review_attachment(proposal, attachment_id)
    found = _visual_page(attachment, page)
    decision = request.form.get("decision", "")
    masks_text = (request.form.get("masks") or "")[:2000]
    try:
        if decision == "undo":
            redaction.undo_page_decision(db_session, attachment, page)
            flash(f"{review_copy.attachment_label(attachment)}の{redaction.page_label(attachment, found)}を未判断に戻しました。",
                  "success")
            return _back_to_page(call, proposal, attachment, page)
        if decision == "mask_qr":  # the QR codes' boxes, as found
            masks_text = "\n".join(",".join(f"{v:g}" for v in box) for box in found.get("qr") or [])
            decision = redaction.MASK
        masks = redaction.parse_masks([masks_text]) if decision == redaction.MASK else []
        redaction.decide_page(db_session, attachment, page, decision, masks, staff, now_utc())
    except review_copy.AnonymisationError as error:
        return _page_screen(call, proposal, attachment, page, error=error.message, masks_text=masks_text,
                            status=422)
    flash(f"{review_copy.attachment_label(attachment)}の{redaction.page_label(attachment, found)}を"
          f"「{redaction.PAGE_DECISIONS[decision]}」にしました。", "success")
    pages = [p["page"] for p in redaction.undecided_pages(attachment)]
    if pages:
        return _back_to_page(call, proposal, attachment, pages[0])
    return _back(call, proposal, f"attachment-{attachment.id}")


def _back_to_page(call, proposal, attachment, page: int):
    return redirect(url_for("admin.anonymise_page", call_id=call.id, proposal_id=proposal.id,
                            attachment_id=attachment.id, page=page))
