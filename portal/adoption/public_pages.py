"""The public pages of a call's adopted projects: each with its status
(協定準備中・協定締結・実施中), its term, the city's share and the goals the
city confirmed. No account needed; only what the results already made
public (the adopted group and project) and what the agreement fixed."""
from __future__ import annotations

import io

from flask import abort, render_template, send_file
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..db import db_session
from ..domain.adoption import agreement as agreements
from ..domain.adoption import goals
from ..domain.adoption import project_documents
from ..domain.adoption.status import project_status
from ..domain.timeutil import now_utc, to_jst
from ..errors import refuse
from ..files.objectstore import current_store
from ..models import Agreement, Decision, DecisionOutcome, Proposal, ProposalStatus
from ..public.serving import load_public_call
from . import public_bp


def _adopted(call) -> list[Proposal]:
    return list(db_session.scalars(
        select(Proposal).join(Decision, Decision.proposal_id == Proposal.id)
        .where(Proposal.call_id == call.id, Proposal.status == ProposalStatus.RESULTS,
               Decision.outcome.in_([DecisionOutcome.ADOPTED, DecisionOutcome.CONDITIONAL]))
        .options(joinedload(Proposal.group, innerjoin=True)).order_by(Proposal.anonymous_code)))


def _agreements(proposals: list[Proposal]) -> dict[int, Agreement]:
    rows = db_session.scalars(select(Agreement).where(Agreement.proposal_id.in_([p.id for p in proposals])))
    return {row.proposal_id: row for row in rows}


@public_bp.get("/calls/<slug>/projects")
def projects(slug: str):
    call = load_public_call(slug)
    adopted = _adopted(call)
    by_proposal = _agreements(adopted)
    today = to_jst(now_utc()).date()
    return render_template("adoption/public_list.html", call=call, rows=[
        (p, project_status(by_proposal.get(p.id), today)) for p in adopted])


@public_bp.get("/calls/<slug>/projects/<code>")
def project(slug: str, code: str):
    call = load_public_call(slug)
    proposal = next((p for p in _adopted(call) if p.anonymous_code == code), None)
    if proposal is None:
        abort(404)
    row = agreements.agreement_of(db_session, proposal)
    concluded = row is not None and row.status == row.status.CONCLUDED
    return render_template(
        "adoption/public_project.html", call=call, proposal=proposal, agreement=row if concluded else None,
        status=project_status(row, to_jst(now_utc()).date()),
        goals=[g for g in goals.goals_of(db_session, proposal) if g.confirmed_at is not None] if concluded else [],
        documents=project_documents.documents_of(db_session, proposal),
    )


@public_bp.get("/calls/<slug>/projects/<code>/documents/<sha256>.pdf")
def project_document(slug: str, code: str, sha256: str):
    """A published project document by the hash the process log holds
    (``project_document_published``): the verifiers fetch it here."""
    call = load_public_call(slug)
    proposal = next((p for p in _adopted(call) if p.anonymous_code == code), None)
    if proposal is None:
        abort(404)
    doc = project_documents.document_by_hash(db_session, proposal, sha256)
    if doc is None:
        abort(404)
    data = project_documents.document_pdf(doc, current_store())
    if data is None:
        refuse(409, "保存された文書が見つからないか、記録されたハッシュと一致しません。市民協働課にお問い合わせください。")
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=False,
                     download_name=f"{doc.kind}-{doc.sha256[:12]}.pdf", max_age=3600)
