"""The agreement as a PDF (WeasyPrint, Japanese fonts from the system),
rendered once when both sides have agreed; the domain stores it and logs
its hash."""
from __future__ import annotations

from flask import render_template
from sqlalchemy.orm import object_session

from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption import goals
from ..domain.adoption.departments import department_of
from ..models import Agreement
from ..pdf import render_pdf


def render_agreement(agreement: Agreement) -> bytes:
    # The agreement's own session: the demo loader renders into a database of its own.
    session = object_session(agreement) or db_session
    proposal = agreement.proposal
    html = render_template(
        "pdf/agreement.html", agreement=agreement, proposal=proposal,
        department=department_of(session, proposal),
        goals=goals.goals_of(session, proposal),
        confirmations=sorted(agreements.current_confirmations(agreement).values(), key=lambda c: c.side.value),
    )
    return render_pdf(html, title=f"協定書 {agreement.title}")
