"""通知書: a group downloads the notice of its own proposal's decision
(another group's proposal is a 404, as everywhere in this area)."""
from __future__ import annotations

import io

from flask import current_app, send_file

from ..db import db_session
from ..domain.results import notices
from ..errors import refuse
from ..files.objectstore import current_store
from ..policy import load_own_proposal
from . import bp


@bp.app_template_global("notice_of")
def notice_of(proposal):
    """The latest notice of a proposal, for the download link (None before publication)."""
    return notices.latest_for(db_session, proposal)


@bp.get("/proposals/<int:proposal_id>/notice.pdf")
def notice_pdf(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    notice = notices.latest_for(db_session, proposal)
    if notice is None:
        refuse(404, "通知書は審査結果の公表後にダウンロードできます。")
    data = notices.ensure_pdf(db_session, current_store(), notice, notices.NoticeSettings.for_app(current_app))
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"notice-{proposal.receipt_number or proposal.id}-v{notice.version}.pdf")
