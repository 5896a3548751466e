"""審査委員会: the panel of a call, its members' stated organisations, the
conflict-of-interest cross-check with the secretariat's decisions, and who
scores what (the assignment mode, swaps and withdrawals, see
``domain/panel/assignment.py``).

The page stays usable at 300 proposals: the per-member load summary has
one row per member, and the proposal × member table has one row per
proposal, filtered and paged with ``list_params`` (the same helper as the
intake and results lists), its first column sticky. Everything is read in
a fixed number of queries whatever the number of proposals."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..auth.forms import EmptyForm
from ..db import db_session
from ..domain.panel import assignment as assignment_domain, conflict_check, panel as panel_domain
from ..domain.panel.assignment import AssignmentError, AssignmentRefused
from ..domain.results.aggregation import code_order
from ..domain.panel.conflict_check import ConflictError
from ..domain.panel.panel import PanelError
from ..domain.timeutil import now_utc
from ..errors import refuse
from ..forms import choice
from ..models import (
    Assignment,
    AssignmentStatus,
    Call,
    ConflictSource,
    ConflictStatus,
    PanelMember,
    Proposal,
    ReviewCopy,
    ReviewSheet,
    Role,
    SheetStatus,
    User,
)
from ..policy import load_call_conflict, load_call_member, load_staff_call
from . import bp, list_params
from .panel_forms import (
    AddMemberForm,
    AssignmentModeForm,
    DismissForm,
    EditMemberForm,
    StaffConflictForm,
    SwapForm,
    WithdrawForm,
)

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


MATRIX_SORTS = {"code": "提案の番号順", "code_desc": "提案の番号の逆順"}
SHORT = "short"
CONFLICT = "conflict"
UNASSIGNED = "unassigned"


def _mode_form(call: Call, formdata=None) -> AssignmentModeForm:
    form = AssignmentModeForm(formdata=formdata, data={
        "mode": call.assignment_mode or assignment_domain.MODE_ALL,
        "k": str(call.reviewers_per_proposal or "")})
    form.mode.choices = [choice(value, label) for value, label in assignment_domain.MODE_LABELS.items()]
    return form


def _swap_form(call: Call, members: list[PanelMember], released: list[Proposal], formdata=None) -> SwapForm:
    form = SwapForm(formdata=formdata)
    blank = choice("", "選んでください")
    form.proposal_id.choices = [blank] + [choice(str(p.id), f"{p.anonymous_code}　{p.display_title}") for p in released]
    form.from_member_id.choices = [blank] + [choice(str(m.id), m.pseudonym) for m in members]
    form.to_member_id.choices = [blank] + [choice(str(m.id), m.pseudonym) for m in members if m.withdrawn_at is None]
    return form


def _assignment_state(call: Call, members: list[PanelMember]):
    """(member id, proposal id) -> assignment status, per-member loads and
    submitted counts: three queries for the whole call."""
    pairs = {(m, p): status for m, p, status in db_session.execute(
        select(Assignment.panel_member_id, Assignment.proposal_id, Assignment.status)
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id).where(PanelMember.call_id == call.id))}
    submitted = dict(db_session.execute(
        select(Assignment.panel_member_id, func.count(func.distinct(Assignment.id)))
        .join(ReviewSheet, ReviewSheet.assignment_id == Assignment.id)
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id)
        .where(PanelMember.call_id == call.id, ReviewSheet.status == SheetStatus.SUBMITTED)
        .group_by(Assignment.panel_member_id)).all())
    released = set(db_session.scalars(select(ReviewCopy.proposal_id).where(ReviewCopy.call_id == call.id)))
    load = {m.id: {"assigned": 0, "recused": 0, "submitted": submitted.get(m.id, 0)} for m in members}
    for (member_id, _), status in pairs.items():
        if member_id in load:
            load[member_id]["recused" if status == AssignmentStatus.RECUSED else "assigned"] += 1
    return pairs, load, released


def _matrix(call: Call, members, proposals, pairs, by_pair, released):
    """The proposal rows of the 委員×提案 table, filtered and paged."""
    statuses = {UNASSIGNED: "まだ委員に提供していない提案", CONFLICT: "利害関係のある組み合わせがある提案"}
    if call.assignment_mode == assignment_domain.MODE_K:
        statuses[SHORT] = f"担当が{call.reviewers_per_proposal or 0}人に満たない提案"
    statuses.update({f"m{m.id}": f"{m.pseudonym}の担当" for m in members})
    params = list_params.read(request.args, statuses=statuses, sorts=MATRIX_SORTS)
    active = {}
    for (member_id, proposal_id), status in pairs.items():
        if status != AssignmentStatus.RECUSED:
            active[proposal_id] = active.get(proposal_id, 0) + 1
    conflicted = {p for (_, p) in by_pair}
    rows = list(proposals)
    if params.q:
        needle = params.q.casefold()
        rows = [p for p in rows if needle in (p.anonymous_code or "").casefold()
                or needle in (p.display_title or "").casefold()]
    if params.status == UNASSIGNED:
        rows = [p for p in rows if p.id not in released]
    elif params.status == CONFLICT:
        rows = [p for p in rows if p.id in conflicted]
    elif params.status == SHORT:
        rows = [p for p in rows if p.id in released and active.get(p.id, 0) < (call.reviewers_per_proposal or 0)]
    elif params.status.startswith("m"):
        member_id = int(params.status[1:])
        rows = [p for p in rows if pairs.get((member_id, p.id)) not in (None, AssignmentStatus.RECUSED)]
    rows.sort(key=lambda p: code_order(p.anonymous_code or ""), reverse=params.sort == "code_desc")
    page = list_params.paginate(params, len(rows))
    return {"params": params, "page": page, "rows": rows[page.offset:page.offset + page.size],
            "statuses": statuses, "sorts": MATRIX_SORTS, "page_sizes": list_params.PAGE_SIZES, "active": active}


def _render(call: Call, add_form: AddMemberForm | None = None, conflict_form: StaffConflictForm | None = None,
            status: int = 200, mode_form: AssignmentModeForm | None = None, swap_form: SwapForm | None = None):
    members = _members(call)
    proposals = sorted(conflict_check.checked_proposals(db_session, call),
                       key=lambda p: code_order(p.anonymous_code or ""))
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
    pairs, load, released = _assignment_state(call, members)
    released_proposals = [p for p in proposals if p.id in released]
    return render_template(
        "admin/panel/index.html", call=call, members=members, proposals=proposals,
        proposals_by_id=proposals_by_id, conflicts=conflicts, by_pair=by_pair, per_member=per_member,
        add_form=add_form, conflict_form=conflict_form, button_form=EmptyForm(), removal=removal,
        pairs=pairs, load=load, matrix=_matrix(call, members, proposals, pairs, by_pair, released),
        mode_form=mode_form or _mode_form(call), locked=assignment_domain.is_locked(db_session, call),
        lock_reason=assignment_domain.LOCK_REASON, mode_text=assignment_domain.mode_text(call),
        swap_form=swap_form or _swap_form(call, members, released_proposals),
        shortfalls=assignment_domain.shortfalls(db_session, call), released_count=len(released),
        assignment_labels={AssignmentStatus.ASSIGNED: "担当", AssignmentStatus.CLEARED: "担当",
                           AssignmentStatus.RECUSED: "除斥"},
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


# -- who scores what ---------------------------------------------------------------


@bp.post("/calls/<int:call_id>/panel/assignment-mode")
def panel_assignment_mode(call_id: int):
    call = load_staff_call(call_id)
    form = _mode_form(call, formdata=request.form)
    if not form.validate_on_submit():
        return _render(call, mode_form=form, status=422)
    try:
        changed = assignment_domain.set_mode(db_session, call, form.mode.data, form.k_value(), now_utc(),
                                             current_user)
    except AssignmentRefused as refusal:
        refuse(409, refusal.message)
    except AssignmentError as error:
        (form.k if error.field == "k" else form.mode).errors = [error.message]
        return _render(call, mode_form=form, status=422)
    flash(f"割当の方法を「{assignment_domain.mode_text(call)}」にしました。" if changed
          else "割当の方法は変わっていません。", "success")
    return redirect(url_for("admin.panel", call_id=call.id) + "#assignment-heading")


@bp.post("/calls/<int:call_id>/panel/swap")
def panel_swap(call_id: int):
    call = load_staff_call(call_id)
    members = _members(call)
    released = list(db_session.scalars(
        select(Proposal).join(ReviewCopy, ReviewCopy.proposal_id == Proposal.id).where(ReviewCopy.call_id == call.id)
        .order_by(Proposal.id)))
    released.sort(key=lambda p: code_order(p.anonymous_code or ""))
    form = _swap_form(call, members, released, formdata=request.form)
    if not form.validate_on_submit():
        return _render(call, swap_form=form, status=422)
    proposal = next(p for p in released if str(p.id) == form.proposal_id.data)
    from_member = next(m for m in members if str(m.id) == form.from_member_id.data)
    to_member = next(m for m in members if str(m.id) == form.to_member_id.data)
    try:
        assignment_domain.swap(db_session, call, proposal, from_member, to_member, now_utc())
    except (AssignmentError, AssignmentRefused) as error:
        target = {"from_member": form.from_member_id, "to_member": form.to_member_id}.get(error.field,
                                                                                         form.proposal_id)
        target.errors = [error.message]
        return _render(call, swap_form=form, status=409 if isinstance(error, AssignmentRefused) else 422)
    flash(f"{proposal.anonymous_code}の担当を{from_member.pseudonym}から{to_member.pseudonym}に入れ替えました。",
          "success")
    return redirect(url_for("admin.panel", call_id=call.id) + "#swap-heading")


@bp.route("/calls/<int:call_id>/panel/members/<int:member_id>/withdraw", methods=["GET", "POST"])
def panel_withdraw_member(call_id: int, member_id: int):
    call = load_staff_call(call_id)
    member = load_call_member(call, member_id)
    if member.withdrawn_at is not None:
        refuse(409, f"{member.pseudonym}の辞退はすでに記録されています。")
    form = WithdrawForm()
    status = 200
    if form.validate_on_submit():
        if not form.confirm.data:
            form.confirm.errors = ["確認のチェックを入れてください。"]
            status = 422
        else:
            try:
                outcome = assignment_domain.withdraw(db_session, call, member, form.reason.data or "", now_utc())
            except AssignmentRefused as refusal:
                refuse(409, refusal.message)
            except AssignmentError as error:
                form.reason.errors = [error.message]
                status = 422
            else:
                message = f"{member.pseudonym}の辞退を記録しました。"
                if outcome.reassigned:
                    message += "割り当てなおした提案：" + "、".join(
                        f"{code}→{who}" for code, who in outcome.reassigned.items()) + "。"
                if outcome.unplaced:
                    message += ("割り当てられる委員がいなかった提案：" + "、".join(outcome.unplaced)
                                + "。担当の人数が足りません。委員を加えて入れ替えてください。")
                if outcome.kept:
                    message += f"提出済みの採点票（{len(outcome.kept)}件）はそのまま有効です。"
                flash(message, "success")
                return redirect(url_for("admin.panel", call_id=call.id))
    elif form.errors:
        status = 422
    _, load, _ = _assignment_state(call, [member])
    return render_template("admin/panel/withdraw.html", call=call, member=member, form=form,
                           load=load[member.id], mode_text=assignment_domain.mode_text(call),
                           k_mode=call.assignment_mode == assignment_domain.MODE_K), status
