"""審査会の資料 (issue 12): the secretariat's papers for the committee.

- the papers page of a call: links to every member's packet, the meeting's
  packet, the meeting view, the minutes and the 二次審査 running order;
- a member's packet (PDF): the anonymised copies assigned to that member,
  never a conflicted or recused one, with the criteria and blank sheets;
- the meeting view and packet: ranking, each member's total, spread and
  disagreement flags, with the chair's notes (after scoring is over);
- 議事録: meetings with a public and a closed part; publishing the public
  part stores its PDF and logs its hash (``minutes_published``);
- 二次審査: time slots by proposal code, published as a public page.

Staff only (the blueprint's rule). The chair's own pages are in
``portal/review/papers.py`` and share the rendering here.
"""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..db import db_session
from ..domain.meeting import minutes, packets, schedule, view
from ..domain.timeutil import now_utc, to_jst
from ..errors import refuse
from ..files.objectstore import current_store
from ..models import Call, Meeting, PanelMember, PresentationSlot
from ..pdf import render_pdf
from ..policy import load_call_member, load_child, load_staff_call
from . import bp
from .meeting_forms import ConfirmForm, MeetingForm, NoteForm, SchedulePublishForm, SlotForm


# ---------------------------------------------------------------- rendering (shared with the chair's pages)

def pdf_response(data: bytes, call: Call, name: str) -> Response:
    stamp = f"{to_jst(now_utc()):%Y%m%d-%H%M}"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{call.slug}-{name}-{stamp}.pdf"'
    # Anonymised copies and scores before publication: never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def render_member_packet(call: Call, member: PanelMember) -> bytes:
    packet = packets.member_packet(db_session, call, member)
    html = render_template("pdf/packet_member.html", packet=packet)
    return render_pdf(html, title=f"{call.title} 審査資料（{member.pseudonym}）")


def render_meeting_packet(call: Call) -> bytes:
    meeting_view = view.build(db_session, call, now_utc())
    if not meeting_view.ready:
        refuse(403, meeting_view.message)
    html = render_template("pdf/packet_meeting.html", mv=meeting_view)
    return render_pdf(html, title=f"{call.title} 審査会資料")


def render_minutes(meeting: Meeting) -> bytes:
    html = render_template("pdf/minutes.html", meeting=meeting, call=meeting.call,
                           attendees=minutes.attendees(db_session, meeting))
    return render_pdf(html, title=f"{meeting.call.title} 第{meeting.number}回審査会 議事録")


def meeting_page(call: Call, *, note_endpoint: str, back_url: str, packet_url: str | None, chair: bool):
    meeting_view = view.build(db_session, call, now_utc())
    return render_template("admin/meeting/view.html", call=call, mv=meeting_view, note_endpoint=note_endpoint,
                           back_url=back_url, packet_url=packet_url, chair=chair, form=ConfirmForm())


def save_note(call: Call, proposal_id: int, redirect_to: str):
    """The chair's note on one proposal of the meeting view."""
    meeting_view = view.build(db_session, call, now_utc())
    if not meeting_view.ready or proposal_id not in {row.proposal_id for row in meeting_view.rows}:
        refuse(404, "この提案は審査会の資料にありません。")
    form = NoteForm()
    if not form.validate_on_submit():
        for message in [m for errors in form.errors.values() for m in errors]:
            flash(message, "error")
        return redirect(redirect_to)
    view.save_note(db_session, call, proposal_id, form.note.data or "", user_id=current_user.id, now=now_utc())
    db_session.commit()
    flash("メモを保存しました。", "success")
    return redirect(redirect_to)


# ---------------------------------------------------------------- the papers page

@bp.get("/calls/<int:call_id>/papers")
def meeting_papers(call_id: int):
    call = load_staff_call(call_id)
    members = packets.members_of(db_session, call)
    counts = {m.id: len(packets.member_copies(db_session, m)) for m in members}
    return render_template("admin/meeting/papers.html", call=call, members=members, counts=counts,
                           scoring_over=call.scoring_over(now_utc()),
                           meetings=minutes.meetings_of(db_session, call),
                           slots=schedule.slots_of(db_session, call),
                           schedule_published=schedule.is_published(db_session, call))


@bp.get("/calls/<int:call_id>/papers/members/<int:member_id>.pdf")
def member_packet(call_id: int, member_id: int):
    call = load_staff_call(call_id)
    member = load_call_member(call, member_id)
    return pdf_response(render_member_packet(call, member), call, f"packet-{member.id}")


@bp.get("/calls/<int:call_id>/meeting")
def meeting_view(call_id: int):
    call = load_staff_call(call_id)
    return meeting_page(call, note_endpoint="admin.meeting_note",
                        back_url=url_for("admin.meeting_papers", call_id=call.id),
                        packet_url=url_for("admin.meeting_packet", call_id=call.id), chair=False)


@bp.post("/calls/<int:call_id>/meeting/notes/<int:proposal_id>")
def meeting_note(call_id: int, proposal_id: int):
    call = load_staff_call(call_id)
    return save_note(call, proposal_id, url_for("admin.meeting_view", call_id=call.id) + f"#p{proposal_id}")


@bp.get("/calls/<int:call_id>/meeting/packet.pdf")
def meeting_packet(call_id: int):
    call = load_staff_call(call_id)
    return pdf_response(render_meeting_packet(call), call, "meeting-packet")


# ---------------------------------------------------------------- 議事録

def _member_choices(call: Call) -> list[tuple[int, str]]:
    return [(m.id, f"{m.pseudonym}（{'委員長' if m.is_chair else '委員'}）")
            for m in packets.members_of(db_session, call)]


def _load_meeting(call: Call, meeting_id: int) -> Meeting:
    return load_child(Meeting, meeting_id, call_id=call.id)


def _fill(meeting: Meeting, form: MeetingForm, allowed: set[int]) -> None:
    meeting.held_at = form.held_at.data
    meeting.place = form.place.data or ""
    meeting.attendee_ids = form.chosen_members(allowed)
    meeting.other_attendees = form.other_attendees.data or ""
    meeting.agenda = form.agenda.data or ""
    meeting.discussion = form.discussion.data or ""
    meeting.decisions = form.decisions.data or ""
    meeting.closed_notes = form.closed_notes.data or ""
    meeting.updated_at = now_utc()
    meeting.updated_by_id = current_user.id


@bp.route("/calls/<int:call_id>/minutes", methods=["GET", "POST"])
def minutes_list(call_id: int):
    call = load_staff_call(call_id)
    form = MeetingForm()
    form.attendee_ids.choices = _member_choices(call)
    status = 200
    if form.is_submitted():
        if form.validate():
            meeting = Meeting(call_id=call.id, number=minutes.next_number(db_session, call), created_at=now_utc())
            _fill(meeting, form, {c[0] for c in form.attendee_ids.choices})
            db_session.add(meeting)
            db_session.commit()
            flash(f"第{meeting.number}回審査会の議事録を作成しました。", "success")
            return redirect(url_for("admin.minutes_edit", call_id=call.id, meeting_id=meeting.id))
        status = 400
    return render_template("admin/meeting/minutes.html", call=call, form=form,
                           meetings=minutes.meetings_of(db_session, call)), status


@bp.route("/calls/<int:call_id>/minutes/<int:meeting_id>", methods=["GET", "POST"])
def minutes_edit(call_id: int, meeting_id: int):
    call = load_staff_call(call_id)
    meeting = _load_meeting(call, meeting_id)
    form = MeetingForm(obj=meeting)
    form.attendee_ids.choices = _member_choices(call)
    status = 200
    if form.is_submitted():
        if meeting.published_at is not None:
            # The public part was hashed into the log: only the closed part may change.
            form.validate()
            if not form.csrf_token.errors and not form.closed_notes.errors:
                meeting.closed_notes = form.closed_notes.data or ""
                meeting.updated_at = now_utc()
                meeting.updated_by_id = current_user.id
                db_session.commit()
                flash("非公開の記録を保存しました（公開済みの部分は変更できません）。", "success")
                return redirect(url_for("admin.minutes_edit", call_id=call.id, meeting_id=meeting.id))
            status = 400
        elif form.validate():
            _fill(meeting, form, {c[0] for c in form.attendee_ids.choices})
            db_session.commit()
            flash("議事録を保存しました。", "success")
            return redirect(url_for("admin.minutes_edit", call_id=call.id, meeting_id=meeting.id))
        else:
            status = 400
    return render_template("admin/meeting/minutes_edit.html", call=call, meeting=meeting, form=form,
                           publish_form=ConfirmForm(), attendees=minutes.attendees(db_session, meeting),
                           refusal=minutes.can_publish(db_session, call)), status


@bp.post("/calls/<int:call_id>/minutes/<int:meeting_id>/publish")
def minutes_publish(call_id: int, meeting_id: int):
    call = load_staff_call(call_id)
    meeting = _load_meeting(call, meeting_id)
    form = ConfirmForm()
    back = url_for("admin.minutes_edit", call_id=call.id, meeting_id=meeting.id)
    if not form.validate_on_submit():
        flash("画面の有効期限が切れました。ページを再読み込みしてからもう一度送信してください。", "error")
        return redirect(back)
    try:
        minutes.publish(db_session, meeting, render=render_minutes, store=current_store(), now=now_utc())
    except minutes.MinutesRefused as refused:
        db_session.rollback()
        flash(str(refused), "error")
        return redirect(back)
    db_session.commit()
    flash(f"第{meeting.number}回審査会の議事録（公開部分）を公開し、審査プロセスの記録に追加しました。", "success")
    return redirect(back)


# ---------------------------------------------------------------- 二次審査の日程

def _slot_choices(call: Call) -> list[tuple[int, str]]:
    return [(p.id, p.anonymous_code or "") for p in schedule.candidates(db_session, call)]


def _schedule_page(call: Call, form: SlotForm, publish_form: SchedulePublishForm, status: int = 200):
    return render_template("admin/meeting/schedule.html", call=call, form=form, publish_form=publish_form,
                           slots=schedule.slots_of(db_session, call), confirm=ConfirmForm(),
                           published=schedule.schedule_of(db_session, call)), status


@bp.route("/calls/<int:call_id>/presentations", methods=["GET", "POST"])
def presentation_schedule(call_id: int):
    call = load_staff_call(call_id)
    form = SlotForm()
    form.proposal_id.choices = _slot_choices(call)
    existing = schedule.schedule_of(db_session, call)
    publish_form = SchedulePublishForm(data={"note": existing.note if existing else ""})
    if not form.is_submitted():
        return _schedule_page(call, form, publish_form)
    if not form.validate():
        return _schedule_page(call, form, publish_form, 400)
    if form.starts_at.data >= form.ends_at.data:
        form.ends_at.errors.append("終了は開始より後の時刻にしてください。")
        return _schedule_page(call, form, publish_form, 400)
    room = form.room.data or ""
    clash = schedule.overlap(db_session, call, room, form.starts_at.data, form.ends_at.data)
    if clash is not None:
        form.starts_at.errors.append(f"同じ会場の{clash.code}の時間と重なっています。")
        return _schedule_page(call, form, publish_form, 400)
    slot = db_session.scalar(select(PresentationSlot).where(PresentationSlot.proposal_id == form.proposal_id.data))
    if slot is None:
        slot = PresentationSlot(call_id=call.id, proposal_id=form.proposal_id.data)
        db_session.add(slot)
    slot.starts_at, slot.ends_at, slot.room = form.starts_at.data, form.ends_at.data, room
    db_session.commit()
    flash("時間枠を保存しました。", "success")
    return redirect(url_for("admin.presentation_schedule", call_id=call.id))


@bp.post("/calls/<int:call_id>/presentations/<int:slot_id>/delete")
def presentation_slot_delete(call_id: int, slot_id: int):
    call = load_staff_call(call_id)
    slot = load_child(PresentationSlot, slot_id, call_id=call.id)
    if ConfirmForm().validate_on_submit():
        db_session.delete(slot)
        db_session.commit()
        flash("時間枠を削除しました。", "success")
    return redirect(url_for("admin.presentation_schedule", call_id=call.id))


@bp.post("/calls/<int:call_id>/presentations/publish")
def presentation_publish(call_id: int):
    call = load_staff_call(call_id)
    form = SchedulePublishForm()
    if not form.validate_on_submit():
        slot_form = SlotForm(formdata=None)
        slot_form.proposal_id.choices = _slot_choices(call)
        return _schedule_page(call, slot_form, form, 400)
    if not schedule.slots_of(db_session, call):
        flash("時間枠がありません。先に時間枠を登録してください。", "error")
        return redirect(url_for("admin.presentation_schedule", call_id=call.id))
    schedule.publish(db_session, call, user_id=current_user.id, now=now_utc(), note=form.note.data or "")
    db_session.commit()
    flash("二次審査の日程を公開しました。", "success")
    return redirect(url_for("admin.presentation_schedule", call_id=call.id))


@bp.post("/calls/<int:call_id>/presentations/unpublish")
def presentation_unpublish(call_id: int):
    call = load_staff_call(call_id)
    if ConfirmForm().validate_on_submit():
        schedule.unpublish(db_session, call)
        db_session.commit()
        flash("二次審査の日程の公開をやめました。", "success")
    return redirect(url_for("admin.presentation_schedule", call_id=call.id))
