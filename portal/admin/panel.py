"""審査委員会: the panel of a call, its members' stated organisations, and
the conflict-of-interest cross-check with the secretariat's decisions."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.panel import conflict_check, panel as panel_domain
from ..domain.panel.conflict_check import ConflictError
from ..domain.panel.panel import PanelError
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..forms import choice
from ..models import Call, ConflictSource, ConflictStatus, PanelMember, Proposal, Role, User
from ..policy import load_call_conflict, load_call_member, load_staff_call
from . import bp
from .panel_forms import AddMemberForm, DismissForm, EditMemberForm, StaffConflictForm

SOURCE_LABELS = {
    ConflictSource.DETECTED: "照合で検出",
    ConflictSource.DECLARED: "委員の申告",
    ConflictSource.STAFF: "事務局が登録",
}
STATUS_LABELS = {
    ConflictStatus.FLAGGED: "要確認",
    ConflictStatus.CONFIRMED: "確定",
    ConflictStatus.DISMISSED: "却下",
}
CONFIDENCE_LABELS = {"high": "高", "low": "低"}


def _members(call: Call) -> list[PanelMember]:
    return list(db_session.scalars(
        select(PanelMember).where(PanelMember.call_id == call.id)
        .options(selectinload(PanelMember.user)).order_by(PanelMember.id)))


def _candidates(call: Call) -> list[User]:
    """Reviewer accounts not yet on this call's panel."""
    on_panel = select(PanelMember.user_id).where(PanelMember.call_id == call.id)
    return list(db_session.scalars(
        select(User).where(User.role == Role.REVIEWER, User.is_active_account.is_(True), User.id.not_in(on_panel))
        .order_by(User.display_name, User.email)))


def _fill_choices(call: Call, add_form: AddMemberForm, conflict_form: StaffConflictForm,
                  members: list[PanelMember], proposals) -> None:
    blank = choice("", "選んでください")
    add_form.user_id.choices = [blank] + [
        choice(str(u.id), f"{u.display_name or '（氏名未登録）'}（{u.email}）") for u in _candidates(call)]
    conflict_form.member_id.choices = [blank] + [
        choice(str(m.id), f"{m.pseudonym}（{m.user.display_name}）") for m in members]
    conflict_form.proposal_id.choices = [blank] + [
        choice(str(p.id), f"{p.anonymous_code}　{p.display_title}") for p in proposals]


def _render(call: Call, add_form: AddMemberForm | None = None, conflict_form: StaffConflictForm | None = None,
            status: int = 200):
    members = _members(call)
    proposals = conflict_check.checked_proposals(db_session, call)
    conflicts = conflict_check.conflicts_of_call(db_session, call)
    add_form = add_form or AddMemberForm(formdata=None)
    conflict_form = conflict_form or StaffConflictForm(formdata=None)
    _fill_choices(call, add_form, conflict_form, members, proposals)
    by_pair = {(c.panel_member_id, c.proposal_id): c for c in conflicts}
    per_member: dict[int, list] = {}
    for conflict in conflicts:
        per_member.setdefault(conflict.panel_member_id, []).append(conflict)
    proposals_by_id = {p.id: p for p in proposals}
    removal = {m.id: panel_domain.removal_refusal(db_session, m) for m in members}
    return render_template(
        "admin/panel/index.html", call=call, members=members, proposals=proposals,
        proposals_by_id=proposals_by_id, conflicts=conflicts, by_pair=by_pair, per_member=per_member,
        add_form=add_form, conflict_form=conflict_form, button_form=EmptyForm(), removal=removal,
        source_labels=SOURCE_LABELS, status_labels=STATUS_LABELS, confidence_labels=CONFIDENCE_LABELS,
        split_reason=conflict_check.split_reason,
        pending=sum(1 for c in conflicts if c.status == ConflictStatus.FLAGGED),
    ), status


@bp.get("/calls/<int:call_id>/panel")
def panel(call_id: int):
    call = load_staff_call(call_id)
    return _render(call)


@bp.post("/calls/<int:call_id>/panel/members")
def panel_add_member(call_id: int):
    call = load_staff_call(call_id)
    members = _members(call)
    proposals = conflict_check.checked_proposals(db_session, call)
    form = AddMemberForm()
    conflict_form = StaffConflictForm(formdata=None)
    _fill_choices(call, form, conflict_form, members, proposals)
    if not form.validate_on_submit():
        return _render(call, add_form=form, status=422)
    user = db_session.get(User, int(form.user_id.data))
    if user is None or user.role != Role.REVIEWER:  # the choices only hold reviewers; belt and braces
        refuse(400, "審査委員のアカウントを選んでください。")
    member = panel_domain.add_member(db_session, call, user, form.affiliation_list(),
                                     public_title=form.public_title.data or "", now=now_utc())
    flagged = sum(1 for c in conflict_check.conflicts_of_call(db_session, call)
                  if c.panel_member_id == member.id and c.status == ConflictStatus.FLAGGED)
    message = f"{user.display_name}さんを{member.pseudonym}として委員会に加えました。"
    if flagged:
        message += f"利害関係の可能性がある提案が{flagged}件見つかりました。確認してください。"
    flash(message, "success")
    return redirect(url_for("admin.panel", call_id=call.id))


@bp.route("/calls/<int:call_id>/panel/members/<int:member_id>/edit", methods=["GET", "POST"])
def panel_edit_member(call_id: int, member_id: int):
    call = load_staff_call(call_id)
    member = load_call_member(call, member_id)
    form = EditMemberForm(data={"affiliations": "\n".join(member.affiliations or []),
                                "public_title": member.public_title})
    if form.validate_on_submit():
        try:
            summary = panel_domain.update_member(db_session, member, form.affiliation_list(),
                                                 form.public_title.data or "", now_utc())
        except PanelError as error:
            form.affiliations.errors = [str(error)]
        else:
            flash(f"{member.pseudonym}の所属団体を保存し、照合しなおしました。{summary.message}", "success")
            return redirect(url_for("admin.panel", call_id=call.id))
    status = 422 if form.errors or form.affiliations.errors else 200
    return render_template("admin/panel/edit_member.html", call=call, member=member, form=form), status


@bp.route("/calls/<int:call_id>/panel/members/<int:member_id>/remove", methods=["GET", "POST"])
def panel_remove_member(call_id: int, member_id: int):
    call = load_staff_call(call_id)
    member = load_call_member(call, member_id)
    refusal = panel_domain.removal_refusal(db_session, member)
    form = EmptyForm()
    if form.validate_on_submit():
        if refusal:
            refuse(409, refusal)
        name, pseudonym = member.user.display_name, member.pseudonym
        panel_domain.remove_member(db_session, member, now_utc())
        flash(f"{pseudonym}（{name}）を委員会から外しました。", "success")
        return redirect(url_for("admin.panel", call_id=call.id))
    return render_template("admin/panel/remove_member.html", call=call, member=member, form=form,
                           refusal=refusal)


@bp.post("/calls/<int:call_id>/panel/check")
def panel_run_check(call_id: int):
    call = load_staff_call(call_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    summary = conflict_check.run_check(db_session, call, now_utc())
    flash(summary.message, "success")
    return redirect(url_for("admin.panel", call_id=call.id) + "#conflicts-heading")


@bp.post("/calls/<int:call_id>/panel/conflicts/<int:conflict_id>/confirm")
def panel_confirm_conflict(call_id: int, conflict_id: int):
    call = load_staff_call(call_id)
    conflict = load_call_conflict(call, conflict_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    conflict_check.confirm(db_session, conflict, current_user, now_utc())
    flash(f"{conflict.panel_member.pseudonym}の利害関係を確定しました。この委員はこの提案を審査しません。", "success")
    return redirect(url_for("admin.panel", call_id=call.id) + "#conflicts-heading")


@bp.route("/calls/<int:call_id>/panel/conflicts/<int:conflict_id>/dismiss", methods=["GET", "POST"])
def panel_dismiss_conflict(call_id: int, conflict_id: int):
    call = load_staff_call(call_id)
    conflict = load_call_conflict(call, conflict_id)
    proposal = db_session.get(Proposal, conflict.proposal_id)
    form = DismissForm()
    if conflict.status != ConflictStatus.FLAGGED:
        refuse(409, "要確認の状態ではないため、却下できません（確定した利害関係は取り消せません）。")
    if form.validate_on_submit():
        try:
            conflict_check.dismiss(db_session, conflict, current_user, form.note.data, now_utc())
        except ConflictError as error:
            form.note.errors = [str(error)]
        else:
            flash(f"{conflict.panel_member.pseudonym}の利害関係の可能性を却下しました。", "success")
            return redirect(url_for("admin.panel", call_id=call.id) + "#conflicts-heading")
    status = 422 if form.errors or form.note.errors else 200
    return render_template("admin/panel/dismiss.html", call=call, conflict=conflict, proposal=proposal, form=form,
                           grounds=conflict_check.grounds_of(conflict), source_labels=SOURCE_LABELS), status


@bp.post("/calls/<int:call_id>/panel/conflicts")
def panel_add_conflict(call_id: int):
    call = load_staff_call(call_id)
    members = _members(call)
    proposals = conflict_check.checked_proposals(db_session, call)
    form = StaffConflictForm()
    add_form = AddMemberForm(formdata=None)
    _fill_choices(call, add_form, form, members, proposals)
    if not form.validate_on_submit():
        return _render(call, conflict_form=form, status=422)
    member = next(m for m in members if str(m.id) == form.member_id.data)
    proposal = next(p for p in proposals if str(p.id) == form.proposal_id.data)
    try:
        conflict_check.add_by_staff(db_session, call, member, proposal, form.reason.data, current_user, now_utc())
    except ConflictError as error:
        form.reason.errors = [str(error)]
        return _render(call, conflict_form=form, status=422)
    flash(f"{member.pseudonym}と{proposal.anonymous_code}の利害関係を登録しました（確定）。", "success")
    return redirect(url_for("admin.panel", call_id=call.id) + "#conflicts-heading")
