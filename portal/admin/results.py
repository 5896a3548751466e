"""集計・決定・公表: the secretariat turns the sealed scores into decisions
and publishes them.

One page per call (``admin.results``): the raw ranking computed with the
call's rules beside the advisory normalised view, each proposal's decision,
finalising the decisions into the public log, the 総評, and publication
(now, at a scheduled time, or a correction with its reason). A decision is
entered on its own page, next to the proposal's figures and the reviewers'
comments. All figures come from ``domain.results``, the same computation
as the published PDF and JSON.
"""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from ..db import db_session
from ..domain.anonymity import comment_check
from ..domain.results import decisions, publication, results
from ..domain.results.aggregation import AggregationError, code_order
from ..domain.timeutil import now_utc, to_jst
from ..jobs import progress, publish_job
from ..models import JOB_STATUS_LABELS, DecisionOutcome, Job, JobStatus
from ..policy import load_released_proposal, load_staff_call, require_staff
from . import bp
from .list_params import PAGE_SIZES, paginate, read
from .results_forms import DecisionForm, FinaliseForm, GeneralCommentForm, PublishForm, ScheduleForm


def _figures(call):
    """(CallResults, normalised view, error message)."""
    try:
        computed = results.compute_all(db_session, call)
    except AggregationError as error:
        return None, None, error.message
    return computed, results.normalised(computed.result), None


RESULT_FILTERS = {"recommended": "推薦", "not_recommended": "推薦なし", "under_minimum": "採点不成立",
                  "undecided": "決定が未入力", "departs": "推薦と異なる決定"}
RESULT_SORTS = {"rank": "順位順", "code": "提案コード順", "amount_desc": "要望額の多い順",
                "scorers": "採点した委員の少ない順"}


def _shown(computed, decided, params):
    """The ranking rows the list shows: searched, filtered, sorted and one
    page of them, in memory (the ranking is computed whole either way)."""
    if computed is None:
        return [], paginate(params, 0)
    inputs = computed.inputs
    needle = params.q.casefold()
    keep = {
        "": lambda row: True,
        "recommended": lambda row: row.recommended,
        "not_recommended": lambda row: not row.recommended,
        "under_minimum": lambda row: row.under_minimum,
        "undecided": lambda row: row.key not in decided,
        "departs": lambda row: row.key in decided and decided[row.key].departs,
    }[params.status]
    rows = [row for row in computed.result.proposals if keep(row) and (
        not needle or needle in row.code.casefold() or needle in (inputs.proposal(row.key).group.name or "").casefold())]
    if params.sort == "code":
        rows.sort(key=lambda row: code_order(row.code))
    elif params.sort == "amount_desc":
        rows.sort(key=lambda row: -row.requested_amount)
    elif params.sort == "scorers":
        rows.sort(key=lambda row: row.scorer_count)
    page = paginate(params, len(rows))
    return rows[page.offset:page.offset + page.size], page


def _page(call, *, finalise_form=None, comment_form=None, schedule_form=None, publish_form=None,
          publish_error=None, status=200):
    now = now_utc()
    computed, view, error = _figures(call)
    decided = decisions.decisions_of(db_session, call)
    params = read(request.args, statuses=RESULT_FILTERS, sorts=RESULT_SORTS)
    shown, page = _shown(computed, decided, params)
    published = publication.publications(db_session, call)
    schedule_form = schedule_form or ScheduleForm(
        formdata=None, scheduled_at=to_jst(call.results_scheduled_at).replace(tzinfo=None)
        if call.results_scheduled_at else None)
    # Whether publishing could go ahead (a correction's reason is asked for on the form).
    blocker = publication.refusal(db_session, call, now, reason="訂正" if published else "",
                                  result=computed.result if computed else None)
    # 採点不成立: shown with the reason each will be published with, before 公表 is pressed.
    under_minimum = [row for row in computed.result.proposals if row.under_minimum] if computed else []
    return render_template(
        "admin/results/index.html", call=call, computed=computed, view=view, error=error,
        decided=decided, finalised=decisions.finalised(db_session, call), scoring_over=call.scoring_over(now),
        published=published, blocker=blocker, reason_labels=results.REASON_LABELS,
        method_labels=results.METHOD_LABELS, formula=results.formula_text(computed.result) if computed else "",
        finalise_form=finalise_form or FinaliseForm(formdata=None),
        comment_form=comment_form or GeneralCommentForm(formdata=None, general_comment=call.general_comment),
        schedule_form=schedule_form, publish_form=publish_form or PublishForm(formdata=None),
        publish_error=publish_error, now=now, publish_job=_shown_job(call, published),
        job_status_labels=JOB_STATUS_LABELS, under_minimum=under_minimum, shown=shown, page=page, params=params,
        filters=RESULT_FILTERS, sorts=RESULT_SORTS, page_sizes=PAGE_SIZES,
        under_minimum_text=decisions.under_minimum_text,
    ), status


def _shown_job(call, published):
    """The call's publication job while it runs, just after it finished, or
    when it failed after the latest publication (its message says why
    nothing was published)."""
    job = publish_job.latest_job(db_session, call)
    if job is None:
        return None
    if job.status == JobStatus.DONE:
        return job if progress.recently_ended(job, now_utc()) else None
    if job.status == JobStatus.FAILED and published and published[-1].published_at > job.created_at:
        return None
    return job


# The agreed endpoint name is ``admin.results`` (the function has another
# name so it does not hide the ``results`` domain module).
@bp.route("/calls/<int:call_id>/results", endpoint="results")
def results_page(call_id: int):
    call = load_staff_call(call_id)
    return _page(call)


def _decision_page(call, proposal, form=None, status=200):
    computed, _view, error = _figures(call)
    decision = decisions.decisions_of(db_session, call).get(proposal.id)
    row = computed.row(proposal.id) if computed else None
    if form is None:
        if decision is not None:
            form = DecisionForm(formdata=None, obj=decision, outcome=decision.outcome.value)
        else:
            # The 講評 is the committee's own text: it starts empty, with the
            # reviewers' comments shown beside it to draw from.
            default = DecisionOutcome.ADOPTED if row is not None and row.recommended else DecisionOutcome.NOT_ADOPTED
            form = DecisionForm(formdata=None, outcome=default.value)
    sheets = []
    if computed is not None:
        for sheet in computed.inputs.sheets:
            if sheet.proposal_key == proposal.id:
                sheets.append({"pseudonym": computed.inputs.pseudonym(sheet.reviewer_key), "scores": sheet.scores,
                               "total": row.reviewer_totals[sheet.reviewer_key],
                               "dropped": sheet.reviewer_key in (row.dropped_low, row.dropped_high)})
    return render_template(
        "admin/results/decision.html", call=call, proposal=proposal, row=row, error=error, form=form,
        decision=decision, sheets=sheets, criteria=computed.inputs.criteria if computed else (),
        comments=computed.inputs.comments_for(proposal.id) if computed else [],
        reason_labels=results.REASON_LABELS, scoring_over=call.scoring_over(now_utc()),
        published=publication.latest(db_session, call) is not None,
        under_minimum=decisions.under_minimum_text(row) if row is not None and row.under_minimum else None,
    ), status


@bp.route("/calls/<int:call_id>/results/<int:proposal_id>/decision", methods=["GET", "POST"])
def results_decision(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    proposal = load_released_proposal(call, proposal_id)
    staff = require_staff()
    form = DecisionForm()
    if not form.is_submitted():
        return _decision_page(call, proposal)
    if not form.validate():
        return _decision_page(call, proposal, form, 422)
    # The 講評 is published: names of people and organisations need a confirmation (issue 14).
    names = comment_check.public_comment_problem(db_session, call, proposal, form.review_comment.data,
                                                 request.form.get("names_confirmed") == "y")
    if names:
        form.review_comment.errors = [*form.review_comment.errors, names]
        return _decision_page(call, proposal, form, 422)
    try:
        decision = decisions.record_decision(
            db_session, call, proposal, outcome=form.outcome.data, reason=form.reason.data,
            conditions=form.conditions.data, review_comment=form.review_comment.data, staff=staff, now=now_utc())
    except decisions.DecisionRefused as refused:
        target = getattr(form, refused.field, None) if refused.field else None
        if target is not None:
            target.errors = [*target.errors, refused.message]
        else:
            form.form_errors.append(refused.message)
        return _decision_page(call, proposal, form, 422)
    note = "（集計による推薦と異なる決定です。理由を公表します）" if decision.departs else ""
    flash(f"{proposal.anonymous_code} を「{decision.outcome.label}」としました{note}。"
          "すべての決定がそろったら「決定を確定する」を押してください。", "success")
    return redirect(url_for("admin.results", call_id=call.id) + "#decisions")


@bp.post("/calls/<int:call_id>/results/finalise")
def results_finalise(call_id: int):
    call = load_staff_call(call_id)
    staff = require_staff()
    form = FinaliseForm()
    if not form.validate_on_submit():
        return _page(call, finalise_form=form, status=422)
    try:
        decisions.finalise(db_session, call, staff, now_utc(), form.basis.data)
    except decisions.DecisionRefused as refused:
        if refused.field == "basis":
            form.basis.errors = [*form.basis.errors, refused.message]
        else:
            form.form_errors.append(refused.message)
        return _page(call, finalise_form=form, status=409)
    flash("決定を確定し、公開の審査記録に記録しました。", "success")
    return redirect(url_for("admin.results", call_id=call.id) + "#publish")


@bp.post("/calls/<int:call_id>/results/comment")
def results_comment(call_id: int):
    call = load_staff_call(call_id)
    form = GeneralCommentForm()
    if not form.validate_on_submit():
        return _page(call, comment_form=form, status=422)
    # The 総評 is published too: a reviewer's or a group's name in it needs a confirmation (issue 14).
    names = comment_check.public_comment_problem(db_session, call, None, form.general_comment.data,
                                                 request.form.get("names_confirmed") == "y", what="総評")
    if names:
        form.general_comment.errors = [*form.general_comment.errors, names]
        return _page(call, comment_form=form, status=422)
    decisions.set_general_comment(db_session, call, form.general_comment.data)
    later = "（公表済みの結果は変わりません。訂正として公表すると反映されます）" \
        if publication.latest(db_session, call) else ""
    flash(f"総評を保存しました{later}。", "success")
    return redirect(url_for("admin.results", call_id=call.id) + "#general-comment")


@bp.post("/calls/<int:call_id>/results/schedule")
def results_schedule(call_id: int):
    call = load_staff_call(call_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _page(call, schedule_form=form, status=422)
    try:
        publication.schedule_publication(db_session, call, form.scheduled_utc())
    except publication.PublicationRefused as refused:
        form.form_errors.append(refused.message)
        return _page(call, schedule_form=form, status=409)
    if call.results_scheduled_at:
        flash(f"{to_jst(call.results_scheduled_at):%Y年%m月%d日 %H:%M}（日本時間）に公表するよう予約しました。"
              "その時点で決定が確定していないと公表されません。", "success")
    else:
        flash("公表の予約を取り消しました。", "success")
    return redirect(url_for("admin.results", call_id=call.id) + "#publish")


@bp.post("/calls/<int:call_id>/results/publish")
def results_publish(call_id: int):
    """Starts publication as a background job and returns at once; the page
    shows the job's progress. A second click finds the job under way."""
    call = load_staff_call(call_id)
    staff = require_staff()
    form = PublishForm()
    if not form.validate_on_submit():
        return _page(call, publish_form=form, status=422)
    try:
        job = publish_job.start(db_session, call, staff, now_utc(), reason=form.reason.data or "",
                                expected_version=form.expected_version())
    except publication.AlreadyPublished as done:
        return _published_elsewhere(call_id, done.message)
    except publication.PublicationRefused as refused:
        return _page(call, publish_form=form, publish_error=refused.message, status=409)
    except IntegrityError:
        # Two servers recorded a job for the call at the same moment: the other one stands.
        return _published_elsewhere(call_id, None)
    if job.active:
        flash("公表の処理を進めています。PDFの作成に時間がかかることがあります。進み具合はこのページに表示されます。",
              "success")
    return redirect(url_for("admin.results", call_id=call.id) + "#publish")


@bp.get("/jobs/<int:job_id>.json")
def job_status(job_id: int):
    """A job's progress for the page that started it (polled by job-progress.js)."""
    job = db_session.get(Job, job_id)
    if job is None or job.call_id is None:
        abort(404)
    load_staff_call(job.call_id)
    response = jsonify(job_view(job))
    response.headers["Cache-Control"] = "no-store"
    return response


def job_view(job: Job) -> dict:
    return {"id": job.id, "status": job.status.value, "status_label": JOB_STATUS_LABELS[job.status],
            "stage": job.stage, "done": job.done, "total": job.total, "message": job.message,
            "active": job.active, "result": job.result or {}}


def _published_elsewhere(call_id: int, message: str | None):
    """A second click (or a second tab, or a second server) on 公表 while
    the first was being recorded: the first one stands. This request's
    writes are rolled back and the page shows the publication under way
    or done, with no error."""
    db_session.rollback()
    call = load_staff_call(call_id)
    latest = publication.latest(db_session, call)
    running = publish_job.active_job(db_session, call)
    if message is None:
        if running is not None:
            message = "公表の処理はすでに始まっています。"
        elif latest is not None:
            message = f"結果はすでに公表されています（第{latest.version}版）。"
        else:
            message = "同時に別の操作があったため公表できませんでした。内容を確認して、もう一度お試しください。"
    again = latest is not None or running is not None
    flash(message + ("もう一度押す必要はありません。" if again else ""), "info")
    return redirect(url_for("admin.results", call_id=call.id) + "#publish")
