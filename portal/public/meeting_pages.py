"""Public pages of the 審査会: the published minutes (議事録, public part,
as a page and as the stored PDF whose SHA-256 is in the process log) and
the 二次審査 running order once the secretariat publishes it (codes only)."""
from __future__ import annotations

from flask import render_template

from ..db import db_session
from ..domain.meeting import minutes, schedule
from ..errors import refuse
from ..files.objectstore import current_store
from ..models import Meeting
from . import bp
from .serving import LATEST, ascii_filename, document_response, load_public_call


def _published(slug: str, number: int) -> tuple:
    call = load_public_call(slug)
    meeting = next((m for m in minutes.published_of(db_session, call) if m.number == number), None)
    if meeting is None:
        refuse(404, "この議事録は公開されていません。")
    return call, meeting


@bp.get("/calls/<slug>/minutes")
def minutes_index(slug: str):
    call = load_public_call(slug)
    return render_template("public/minutes_index.html", call=call, meetings=minutes.published_of(db_session, call))


@bp.get("/calls/<slug>/minutes/<int:number>")
def minutes_page(slug: str, number: int):
    call, meeting = _published(slug, number)
    return render_template("public/minutes.html", call=call, meeting=meeting,
                           attendees=minutes.attendees(db_session, meeting))


@bp.get("/calls/<slug>/minutes/<int:number>.pdf")
def minutes_pdf(slug: str, number: int):
    call, meeting = _published(slug, number)
    data = minutes.published_pdf(meeting, current_store())
    if data is None:
        refuse(404, "議事録のPDFが見つかりません。")
    return document_response(data, "application/pdf", f"{ascii_filename(call.slug)}-minutes-{number}.pdf", LATEST,
                             last_modified=meeting.published_at)


@bp.get("/calls/<slug>/presentations")
def presentation_schedule(slug: str):
    call = load_public_call(slug)
    published = schedule.schedule_of(db_session, call)
    if published is None or published.published_at is None:
        refuse(404, f"「{call.title}」の二次審査の日程はまだ公開されていません。")
    return render_template("public/presentations.html", call=call, published=published,
                           slots=schedule.slots_of(db_session, call))


@bp.app_template_global("published_minutes")
def published_minutes(call) -> list[Meeting]:
    """For the results page: the minutes published beside the results."""
    return minutes.published_of(db_session, call)


@bp.app_template_global("presentation_schedule_published")
def presentation_schedule_published(call) -> bool:
    """For the call page: whether the 二次審査 schedule is public."""
    return schedule.is_published(db_session, call)
