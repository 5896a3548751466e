"""A member's own papers for the 審査会: their packet (PDF) and, for the
chair (``PanelMember.is_chair``), the meeting view with the notes.

A reviewer on the call's panel gets their own packet only (the member is
found from the login, never from the URL), so no one can ask for another
member's. The packet holds the same copies as the review list: no recused
or conflicted proposal. The meeting view is the chair's: any other member
gets 404, as for something that is not theirs.
"""
from __future__ import annotations

from flask import abort, render_template, url_for
from flask_login import current_user

from ..admin.meeting import meeting_page, pdf_response, render_member_packet, save_note
from ..policy import load_child, panel_membership
from ..models import Call
from . import bp


def _membership(call_id: int):
    call = load_child(Call, call_id)
    member = panel_membership(current_user, call)
    if member is None:
        abort(404)
    return call, member


def _chair_call(call_id: int) -> Call:
    call, member = _membership(call_id)
    if not member.is_chair or member.withdrawn_at is not None:
        abort(404)
    return call


@bp.get("/calls/<int:call_id>/papers")
def own_papers(call_id: int):
    call, member = _membership(call_id)
    return render_template("review/papers.html", call=call, member=member,
                           chair=member.is_chair and member.withdrawn_at is None)


@bp.get("/calls/<int:call_id>/packet.pdf")
def own_packet(call_id: int):
    call, member = _membership(call_id)
    return pdf_response(render_member_packet(call, member), call, "packet")


@bp.get("/calls/<int:call_id>/meeting")
def chair_meeting(call_id: int):
    call = _chair_call(call_id)
    return meeting_page(call, note_endpoint="review.chair_note", back_url=url_for("review.index"),
                        packet_url=None, chair=True)


@bp.post("/calls/<int:call_id>/meeting/notes/<int:proposal_id>")
def chair_note(call_id: int, proposal_id: int):
    call = _chair_call(call_id)
    return save_note(call, proposal_id, url_for("review.chair_meeting", call_id=call.id) + f"#p{proposal_id}")
