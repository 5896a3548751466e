"""受付票: the receipt PDF, rendered once from the immutable snapshot and kept
in the object store under a generated name (``receipt_pdf_name``)."""
from __future__ import annotations

import io

from flask import render_template, send_file

from ..db import db_session
from ..files import storage
from ..files.objectstore import current_store
from ..pdf import render_pdf
from ..policy import load_own_proposal, load_submission
from . import bp


def ensure_receipt_pdf(submission) -> bytes:
    """The kept receipt, or a new one rendered and kept. A name the store
    cannot read (a file lost, or one kept under ``UPLOAD_DIR/receipts`` before
    the object store) is rendered again from the same snapshot."""
    store = current_store()
    kept = storage.read_bytes(store, submission.receipt_pdf_name)
    if kept is not None:
        return kept
    html = render_template("pdf/receipt.html", s=submission.snapshot, revision=submission.revision,
                           digest=submission.snapshot_sha256)
    pdf = render_pdf(html, title=f"受付票 {submission.receipt_number}")
    submission.receipt_pdf_name = storage.write_generated(db_session, store, pdf)
    db_session.flush()
    return pdf


@bp.get("/proposals/<int:proposal_id>/receipt/<int:revision>.pdf")
def receipt_pdf(proposal_id: int, revision: int):
    proposal = load_own_proposal(proposal_id)
    submission = load_submission(proposal, revision)
    pdf = ensure_receipt_pdf(submission)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"receipt-{submission.receipt_number}.pdf")
