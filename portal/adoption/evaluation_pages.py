"""事業評価: the shared evaluation page of an adopted project (the group's
and the department's self-evaluations, the 相互評価 record, the
committee's external evaluation entered by staff, publication), the
secretariat's evaluation settings per call, and the public pages: a
concluded agreement's PDF and the year's evaluations (page, JSON, CSV).

Access: ``policy.load_project`` (staff, the project's department, its
group; others 404/403); what each side may read is
``evaluation.visible_sides``."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import object_session

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption import continuation as continuations
from ..domain.adoption import evaluation as ev
from ..domain.refusals import WrongState
from ..domain.results.results_document import spreadsheet_text
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..files.objectstore import current_store
from ..models import ProjectDocument
from ..models.evaluation import EVAL_COMMITTEE, EVAL_DEPARTMENT, EVAL_GROUP, EVAL_SIDE_LABELS
from ..pdf import render_pdf
from ..policy import is_staff, load_project, load_staff_call, project_side
from ..public.serving import load_public_call
from . import admin_bp, bp, public_bp

EXPIRED = "画面の有効期限が切れました。ページを再読み込みしてからもう一度操作してください。"


def _load(proposal_id: int):
    proposal = load_project(proposal_id)
    if not agreements.is_adopted(db_session, proposal):
        abort(404)
    row = agreements.agreement_of(db_session, proposal)
    if row is None or row.status != row.status.CONCLUDED:
        abort(404)  # an evaluation needs a concluded agreement
    return proposal


def _viewer(proposal) -> str | None:
    """"staff", "department", "group" (or None)."""
    if is_staff(current_user):
        return "staff"
    side = project_side(current_user, proposal)
    return {"city": "department", "group": "group"}.get(side or "")


def _own_side(viewer: str | None) -> str | None:
    return {"group": EVAL_GROUP, "department": EVAL_DEPARTMENT}.get(viewer or "")


def _page(proposal, *, problems=None, data=None, message=None, status=200):
    viewer = _viewer(proposal)
    settings = ev.settings_of(db_session, proposal.call)
    rows = ev.evaluations_of(db_session, proposal)
    visible = ev.visible_sides(db_session, proposal, viewer)
    both = ev.both_submitted(db_session, proposal)
    differing = ev.differing_items(settings, rows[EVAL_GROUP], rows[EVAL_DEPARTMENT]) if both else []
    combined = None
    if both and EVAL_COMMITTEE in rows and rows[EVAL_COMMITTEE].submitted_at is not None:
        try:
            combined = ev.combined_of(db_session, proposal)
        except ev.Incomplete:
            combined = None
    own = _own_side(viewer)
    editing = None
    if viewer == "staff" and both:
        editing = EVAL_COMMITTEE
    elif own is not None:
        editing = own
    published = ev.publication_of(db_session, proposal)
    if editing is not None and (published is not None or
                                (rows.get(editing) is not None and rows[editing].submitted_at is not None)):
        editing = None
    draft = rows.get(editing) if editing else None
    return render_template(
        "adoption/evaluation.html", proposal=proposal, settings=settings, rows=rows, visible=visible,
        labels=EVAL_SIDE_LABELS, sides=ev.SIDES, viewer=viewer, editing=editing, draft=draft,
        data=data, problems=problems or {}, message=message, differing=differing, both=both,
        mutual=ev.mutual_of(db_session, proposal), settled=ev.mutual_settled(db_session, proposal) if both else False,
        combined=combined, published=published, form=EmptyForm(),
    ), status


@bp.route("/<int:proposal_id>/evaluation")
def evaluation(proposal_id: int):
    return _page(_load(proposal_id))


@bp.post("/<int:proposal_id>/evaluation")
def save_evaluation(proposal_id: int):
    proposal = _load(proposal_id)
    viewer = _viewer(proposal)
    side = EVAL_COMMITTEE if viewer == "staff" else _own_side(viewer)
    form = {k: v[:4000] for k, v in request.form.items()}
    if not EmptyForm().validate_on_submit():
        return _page(proposal, data=form, message=EXPIRED, status=400)
    if side is None:
        abort(403)
    settings = ev.settings_of(db_session, proposal.call)
    scores, comments, problems = ev.parse_scores(settings, form)
    if problems:
        return _page(proposal, data=form, problems=problems, message="入力内容を確認してください。", status=422)
    submit = request.form.get("action") == "submit"
    try:
        ev.save(db_session, proposal, side, scores=scores, comments=comments, overall=form.get("overall", ""),
                user=current_user, now=now_utc(), submit=submit)
    except ev.EvaluationInvalid as refusal:
        db_session.commit()  # the draft is kept
        return _page(proposal, data=form, problems=refusal.problems, message=refusal.message, status=422)
    except WrongState as refusal:
        return _page(proposal, data=form, message=refusal.message, status=409)
    flash(f"{EVAL_SIDE_LABELS[side]}を提出しました。" if submit else "下書きを保存しました。", "success")
    return redirect(url_for("adoption.evaluation", proposal_id=proposal.id))


@bp.post("/<int:proposal_id>/evaluation/mutual")
def write_mutual(proposal_id: int):
    proposal = _load(proposal_id)
    form = {k: v[:5000] for k, v in request.form.items()}
    if not EmptyForm().validate_on_submit():
        return _page(proposal, data=form, message=EXPIRED, status=400)
    try:
        ev.write_mutual(db_session, proposal, discussion=form.get("discussion", ""),
                        agreed_notes=form.get("agreed_notes", ""), user=current_user, now=now_utc())
    except ev.EvaluationInvalid as refusal:
        return _page(proposal, data=form, problems=refusal.problems, message=refusal.message, status=422)
    except WrongState as refusal:
        return _page(proposal, data=form, message=refusal.message, status=409)
    flash("相互評価の記録を保存しました。団体と市の双方が確認してください。", "success")
    return redirect(url_for("adoption.evaluation", proposal_id=proposal.id))


@bp.post("/<int:proposal_id>/evaluation/mutual/confirm")
def confirm_mutual(proposal_id: int):
    proposal = _load(proposal_id)
    if not EmptyForm().validate_on_submit():
        return _page(proposal, message=EXPIRED, status=400)
    try:
        ev.confirm_mutual(db_session, proposal, project_side(current_user, proposal) or "", now=now_utc())
    except WrongState as refusal:
        return _page(proposal, message=refusal.message, status=409)
    flash("相互評価の記録を確認しました。", "success")
    return redirect(url_for("adoption.evaluation", proposal_id=proposal.id))


def render_evaluation(proposal, combined) -> bytes:
    # The proposal's own session: the demo loader renders into a database of its own.
    session = object_session(proposal) or db_session
    settings = ev.settings_of(session, proposal.call)
    html = render_template("pdf/evaluation.html", proposal=proposal, settings=settings, combined=combined,
                           rows=ev.evaluations_of(session, proposal), labels=EVAL_SIDE_LABELS, sides=ev.SIDES,
                           mutual=ev.mutual_of(session, proposal))
    return render_pdf(html, title=f"事業評価 {proposal.display_title}")


@bp.post("/<int:proposal_id>/evaluation/publish")
def publish_evaluation(proposal_id: int):
    proposal = _load(proposal_id)
    if not is_staff(current_user):
        abort(403)
    if not EmptyForm().validate_on_submit():
        return _page(proposal, message=EXPIRED, status=400)
    try:
        ev.publish(db_session, proposal, render=render_evaluation, store=current_store(), user=current_user,
                   now=now_utc())
    except (WrongState, ev.Incomplete) as refusal:
        return _page(proposal, message=refusal.message, status=409)
    flash("評価を公表しました。公開ページに掲載され、審査プロセスの記録に追記されました。", "success")
    return redirect(url_for("adoption.evaluation", proposal_id=proposal.id))


# -- the secretariat: evaluation settings per call ------------------------------------

def _settings_page(call, *, data=None, problems=None, message=None, status=200):
    settings = ev.settings_of(db_session, call)
    if data is None:
        data = {"items": "\n".join(settings.items), "levels": "\n".join(settings.levels),
                "weight_group": str(settings.weights[0]), "weight_department": str(settings.weights[1]),
                "weight_committee": str(settings.weights[2])}
        for i in range(4):
            label, threshold = settings.bands[i] if i < len(settings.bands) else ("", "")
            data[f"band-{i}"], data[f"threshold-{i}"] = label, str(threshold)
    return render_template("adoption/evaluation_settings.html", call=call, data=data, problems=problems or {},
                           message=message, locked=ev.is_locked(db_session, call), form=EmptyForm()), status


@admin_bp.route("/calls/<int:call_id>/evaluation")
def evaluation_settings(call_id: int):
    return _settings_page(load_staff_call(call_id))


@admin_bp.post("/calls/<int:call_id>/evaluation")
def save_evaluation_settings(call_id: int):
    call = load_staff_call(call_id)
    data = {k: v[:10000] for k, v in request.form.items()}
    if not EmptyForm().validate_on_submit():
        return _settings_page(call, data=data, message=EXPIRED, status=400)
    try:
        settings = ev.parse_settings(
            items_text=data.get("items", ""), levels_text=data.get("levels", ""),
            weights=(data.get("weight_group", ""), data.get("weight_department", ""), data.get("weight_committee", "")),
            bands=[(data.get(f"band-{i}", ""), data.get(f"threshold-{i}", "")) for i in range(4)])
        ev.save_settings(db_session, call, settings, user=current_user, now=now_utc())
    except ev.EvaluationInvalid as refusal:
        return _settings_page(call, data=data, problems=refusal.problems, message=refusal.message, status=422)
    except WrongState as refusal:
        return _settings_page(call, data=data, message=refusal.message, status=409)
    flash("評価の設定を保存しました。", "success")
    return redirect(url_for("adoption_admin.evaluation_settings", call_id=call.id))


# -- public ---------------------------------------------------------------------------

def _public_project(slug: str, code: str):
    from .public_pages import _adopted

    call = load_public_call(slug)
    proposal = next((p for p in _adopted(call) if p.anonymous_code == code), None)
    if proposal is None:
        abort(404)
    return call, proposal


@public_bp.get("/calls/<slug>/projects/<code>/agreement.pdf")
def public_agreement_pdf(slug: str, code: str):
    """The concluded agreement, as logged (``agreement_concluded``): the
    verifiers fetch it here and compare its SHA-256."""
    _call, proposal = _public_project(slug, code)
    row = agreements.agreement_of(db_session, proposal)
    if row is None or row.status != row.status.CONCLUDED or row.pdf_name is None:
        abort(404)
    data = agreements.concluded_pdf(row, current_store())
    if data is None:
        refuse(409, "保存された協定書が見つからないか、記録されたハッシュと一致しません。市民協働課にお問い合わせください。")
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=False,
                     download_name=f"agreement-{proposal.anonymous_code}.pdf", max_age=3600)


def _year(call) -> dict:
    """The year's published evaluations: what the page, JSON and CSV show.
    Only what was published: the project (code, title, group, already public
    through the results), the combined score, the grade and the PDF's hash."""
    settings = ev.settings_of(db_session, call)
    rows = []
    for proposal, pub in ev.published_of_call(db_session, call):
        doc = db_session.get(ProjectDocument, pub.document_id)
        rows.append({"code": proposal.anonymous_code, "title": proposal.display_title, "group": proposal.group.name,
                     "score": pub.combined_score, "grade": pub.grade, "document_sha256": doc.sha256,
                     "document_url": url_for("adoption_public.project_document", slug=call.slug,
                                             code=proposal.anonymous_code, sha256=doc.sha256),
                     "published_at": pub.published_at.isoformat()})
    return {"format": "kyodo-portal/evaluations/v1", "call": {"slug": call.slug, "title": call.title},
            "settings": {"items": list(settings.items), "scale_max": settings.scale_max,
                         "weights": {"group": settings.weights[0], "department": settings.weights[1],
                                     "committee": settings.weights[2]},
                         "bands": [{"grade": label, "from": str(t)} for label, t in settings.bands],
                         "rounding": "ROUND_HALF_UP, 0.1"},
            "evaluations": rows}


@public_bp.get("/calls/<slug>/evaluations")
def evaluations(slug: str):
    call = load_public_call(slug)
    return render_template("adoption/evaluation_year.html", call=call, year=_year(call))


@public_bp.get("/calls/<slug>/evaluations.json")
def evaluations_json(slug: str):
    response = jsonify(_year(load_public_call(slug)))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


CSV_HEADER = ["提案コード", "事業名", "団体", "総合点", "評価", "評価書PDFのSHA-256", "公表日時（UTC）"]


@public_bp.get("/calls/<slug>/evaluations.csv")
def evaluations_csv(slug: str):
    call = load_public_call(slug)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in _year(call)["evaluations"]:
        writer.writerow([spreadsheet_text(r["code"]), spreadsheet_text(r["title"]), spreadsheet_text(r["group"]),
                         r["score"], spreadsheet_text(r["grade"]), r["document_sha256"], r["published_at"]])
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=evaluations-{call.id}.csv"})


@public_bp.get("/calls/<slug>/evaluations.pdf")
def evaluations_pdf(slug: str):
    call = load_public_call(slug)
    pdf = render_pdf(render_template("adoption/evaluation_year_pdf.html", call=call, year=_year(call)),
                     title=f"事業評価の一覧 {call.title}")
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                     download_name=f"evaluations-{call.id}.pdf")


@public_bp.app_template_global()
def evaluation_publication_of(proposal):
    """For the public project page: the published evaluation, if any."""
    return ev.publication_of(db_session, proposal)


@public_bp.app_template_global()
def continuation_reviewer_note(proposal_id: int) -> str | None:
    """For the reviewer's proposal page: 継続 without naming the earlier
    project (docs/anonymisation.md)."""
    return continuations.reviewer_note(db_session, proposal_id)


@admin_bp.route("/proposals/<int:proposal_id>/continuation")
def staff_continuation(proposal_id: int):
    """The secretariat at intake: which earlier project a 継続 proposal
    continues, and that project's evaluation."""
    from ..models import Proposal
    from ..policy import load_staff_proposal

    proposal = load_staff_proposal(proposal_id)
    row = continuations.continuation_of(db_session, proposal)
    earlier = db_session.get(Proposal, row.earlier_proposal_id) if row is not None else None
    rows = ev.evaluations_of(db_session, earlier) if earlier is not None else {}
    return render_template("adoption/evaluation_staff_continuation.html", proposal=proposal, earlier=earlier,
                           publication=ev.publication_of(db_session, earlier) if earlier is not None else None,
                           rows=rows, labels=EVAL_SIDE_LABELS)


@admin_bp.app_template_global()
def is_continuation(proposal) -> bool:
    """For the intake page: whether the proposal marked itself 継続."""
    return continuations.continuation_of(db_session, proposal) is not None
