"""通知書 for staff: any proposal's notice (latest version), e.g. to send a
paper copy to a group without an e-mail address."""
from __future__ import annotations

import io

from flask import current_app, send_file

from ..db import db_session
from ..domain.results import notices
from ..errors import refuse
from ..files.objectstore import current_store
from ..policy import load_staff_proposal
from . import bp


@bp.get("/proposals/<int:proposal_id>/notice.pdf")
def notice_pdf(proposal_id: int):
    proposal = load_staff_proposal(proposal_id)
    notice = notices.latest_for(db_session, proposal)
    if notice is None:
        refuse(404, "この提案の通知書はまだありません（審査結果の公表時に作成されます）。")
    data = notices.ensure_pdf(db_session, current_store(), notice, notices.NoticeSettings.for_app(current_app))
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"notice-{proposal.receipt_number or proposal.id}-v{notice.version}.pdf")
