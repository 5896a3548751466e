"""The secretariat's calls: list, create, edit, copy from last year, publish,
and each call's dashboard. The rules are in ``portal/domain/call_settings.py``
and the verbs in ``portal/domain/call_admin.py``; routes load, check and act."""
from __future__ import annotations

from itertools import groupby

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.calls import call_admin
from ..domain.calls.call_checklist import checklist
from ..domain.calls.call_description import describe
from ..domain.calls.call_settings import problems, settings_from_call
from ..domain.timeutil import format_jst, now_utc
from ..models import STATUS_LABELS, Call, CallChange, PanelMember, ProposalStatus, User
from ..policy import load_staff_call, require_staff
from . import bp
from .call_forms import CallForm, call_data, new_call_data

SLUG_TAKEN = "このURL用の識別子は他の募集で使われています。別の識別子にしてください（例: 年度を付ける）。"


def all_calls() -> list[Call]:
    return list(db_session.scalars(select(Call).order_by(Call.fiscal_year.desc(), Call.opens_at.desc(), Call.id)))


@bp.get("/calls")
def calls_list():
    require_staff()
    calls = all_calls()
    counts = call_admin.proposal_counts(db_session, [c.id for c in calls])
    years = [(year, list(items)) for year, items in groupby(calls, key=lambda c: c.fiscal_year)]
    return render_template("admin/calls/list.html", years=years, counts=counts, now=now_utc(),
                           form=EmptyForm())


@bp.route("/calls/new", methods=["GET", "POST"])
def call_new():
    require_staff()
    if request.method == "GET":
        form = CallForm(formdata=None, data=new_call_data())
        return _render_form(form, None)
    form = CallForm()
    if request.form.get("action") == "add_criterion":
        form.add_rows()
        return _render_form(form, None)
    settings = form.read()
    form.add_problems(problems(settings))
    if not form.slug.errors and call_admin.slug_taken(db_session, settings.slug):
        form.slug.errors = [SLUG_TAKEN]
    if form.error_list():
        return _render_form(form, None, status=422)
    call = call_admin.create_call(db_session, settings, now_utc())
    if not _flushed(form):
        return _render_form(form, None, status=422)
    flash(f"募集「{call.title}」を作成しました（未公開）。内容を確認してから公開してください。", "success")
    return redirect(url_for("admin.call_overview", call_id=call.id))


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
def call_edit(call_id: int):
    call = load_staff_call(call_id)
    if request.method == "GET":
        return _render_form(CallForm(formdata=None, data=call_data(call)), call)
    form = CallForm()
    if request.form.get("action") == "add_criterion":
        form.add_rows()
        return _render_form(form, call)
    settings = form.read()
    form.add_problems(problems(settings))
    if settings.slug != call.slug and not form.slug.errors:
        if call.published_at is not None:
            form.slug.errors = ["公開後はURL用の識別子を変更できません。"]
        elif call_admin.slug_taken(db_session, settings.slug, exclude_call_id=call.id):
            form.slug.errors = [SLUG_TAKEN]
    if call_admin.has_scores(db_session, call):
        form.add_problems(call_admin.locked_criteria_problems(call, settings))
    if (call.published_at is not None and not form.error_list()
            and call_admin.plan_changes(call, settings) and not form.reason.data):
        form.reason.errors = [*form.reason.errors,
                              "公開後の変更には理由が必要です。変更の理由を入力してください（公開されます）。"]
    if form.error_list():
        return _render_form(form, call, status=422)
    try:
        change = call_admin.update_call(db_session, call, settings, current_user, form.reason.data or "", now_utc())
    except call_admin.CallAdminError as error:
        db_session.rollback()
        form.general_errors.append(("reason", "変更", error.message))
        return _render_form(form, db_session.get(Call, call_id), status=422)
    if not _flushed(form):
        return _render_form(form, db_session.get(Call, call_id), status=422)
    if change is not None:
        flash("変更を保存し、変更履歴と公開の記録に理由とともに記録しました。", "success")
    else:
        flash("保存しました。" if call.published_at is None else "変更はありませんでした。", "success")
    return redirect(url_for("admin.call_overview", call_id=call.id))


def _flushed(form: CallForm) -> bool:
    """A slug taken by a request running at the same moment surfaces here."""
    try:
        db_session.flush()
    except IntegrityError:
        db_session.rollback()
        form.slug.errors = [*form.slug.errors, SLUG_TAKEN]
        return False
    return True


def _render_form(form: CallForm, call: Call | None, status: int = 200):
    scored = call is not None and call_admin.has_scores(db_session, call)
    return render_template("admin/calls/form.html", form=form, call=call, scored=scored,
                           errors=form.error_list() if status >= 400 else []), status


@bp.post("/calls/<int:call_id>/copy")
def call_copy(call_id: int):
    source = load_staff_call(call_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    copy = call_admin.copy_call(db_session, source, now_utc())
    flash(f"「{source.title}」をもとに、{copy.fiscal_year}年度の募集「{copy.title}」（{copy.slug}）を作成しました"
          "（未公開）。日程は1年後にずらしました。公開前の確認の項目を見直してください。", "success")
    return redirect(url_for("admin.call_overview", call_id=copy.id) + "#checklist-heading")


def _checklist(call: Call):
    """The review before publishing, for a call not yet published."""
    if call.published_at is not None:
        return []
    size = db_session.scalar(select(func.count(PanelMember.id)).where(PanelMember.call_id == call.id))
    return checklist(call, now_utc(), panel_size=size or 0)


@bp.route("/calls/<int:call_id>/publish", methods=["GET", "POST"])
def call_publish(call_id: int):
    call = load_staff_call(call_id)
    now = now_utc()
    form = EmptyForm()
    if call.published_at is not None:
        flash(f"この募集は{format_jst(call.published_at)}に公開済みです。", "info")
        return redirect(url_for("admin.call_overview", call_id=call.id))
    found = call_admin.publication_problems(call, now)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if not found:
            call_admin.publish_call(db_session, call, now)
            flash("募集を公開しました。募集ページと審査プロセスの記録に載りました。", "success")
            return redirect(url_for("admin.call_overview", call_id=call.id))
    return render_template("admin/calls/publish.html", call=call, problems=found, form=form,
                           summary=describe(settings_from_call(call)), checklist=_checklist(call)), \
        (422 if request.method == "POST" else 200)


@bp.get("/calls/<int:call_id>")
def call_overview(call_id: int):
    call = load_staff_call(call_id)
    counts = call_admin.proposal_counts(db_session, [call.id])[call.id]
    statuses = [(status, STATUS_LABELS[status], counts.get(status.value, 0)) for status in ProposalStatus]
    changes = db_session.execute(
        select(CallChange, User.display_name).outerjoin(User, User.id == CallChange.changed_by_id)
        .where(CallChange.call_id == call.id).order_by(CallChange.changed_at.desc(), CallChange.id.desc())
    ).all()
    return render_template("admin/calls/overview.html", call=call, statuses=statuses,
                           total=sum(counts.values()), submitted=sum(n for s, _, n in statuses if s != "draft"),
                           changes=changes, now=now_utc(), form=EmptyForm(), checklist=_checklist(call))
