"""受付票: the receipt PDF, rendered once from the immutable snapshot and kept."""
from __future__ import annotations

import uuid

from flask import current_app, render_template, send_file

from ..db import db_session
from ..pdf import render_pdf
from ..policy import load_own_proposal, load_submission
from . import bp


def receipt_dir():
    path = current_app.config["UPLOAD_DIR"] / "receipts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_receipt_pdf(submission) -> bytes:
    if submission.receipt_pdf_name:
        stored = receipt_dir() / submission.receipt_pdf_name
        if stored.exists():
            return stored.read_bytes()
    html = render_template("pdf/receipt.html", s=submission.snapshot, revision=submission.revision,
                           digest=submission.snapshot_sha256)
    pdf = render_pdf(html, title=f"受付票 {submission.receipt_number}")
    name = f"{uuid.uuid4().hex}.pdf"
    (receipt_dir() / name).write_bytes(pdf)
    submission.receipt_pdf_name = name
    db_session.flush()
    return pdf


@bp.get("/proposals/<int:proposal_id>/receipt/<int:revision>.pdf")
def receipt_pdf(proposal_id: int, revision: int):
    proposal = load_own_proposal(proposal_id)
    submission = load_submission(proposal, revision)
    import io

    pdf = ensure_receipt_pdf(submission)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"receipt-{submission.receipt_number}.pdf")
