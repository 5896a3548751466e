"""審査結果の通知: after publication, a group privately sees how its own
proposal was scored: its per-criterion averages, its rank among the scored
proposals and the reviewers' comments for it, as 委員A, 委員B, ...

The figures are read from the published results document (the same one the
public page and JSON serve), so what the group sees here is exactly what was
published; only the comments are private to the group.
"""
from __future__ import annotations

from flask import render_template

from ..db import db_session
from ..domain.anonymity import comment_check
from ..domain.results import publication, results
from ..domain.timeutil import format_jst
from ..errors import refuse
from ..models import Proposal
from ..policy import load_own_proposal
from . import bp


def _published_entry(proposal: Proposal) -> tuple[dict | None, dict | None]:
    """(results document, this proposal's row in it); (None, None) before
    publication, (document, None) when the proposal was not scored."""
    document = publication.results_document(db_session, proposal.call)
    if document is None:
        return None, None
    if not proposal.anonymous_code:
        return document, None
    entry = next((p for p in document.get("proposals") or [] if p.get("code") == proposal.anonymous_code), None)
    return document, entry


def comments_for_group(proposal: Proposal) -> list[tuple[str, str]]:
    """(pseudonym, comment) from the sheets that counted (the deciding
    stage's submitted sheets, conflicted or recused reviewers left out;
    ``domain.results`` decides which), in pseudonym order."""
    # A comment naming people or organisations waits for staff's check (issue 14).
    return comment_check.comments_for_group(db_session, results.gather(db_session, proposal.call), proposal)


@bp.app_template_global("feedback_available")
def feedback_available(proposal: Proposal) -> bool:
    """For the link on the proposal's page."""
    if not proposal.anonymous_code:
        return False
    _document, entry = _published_entry(proposal)
    return entry is not None


@bp.get("/proposals/<int:proposal_id>/feedback")
def feedback(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    call = proposal.call
    document, entry = _published_entry(proposal)
    if document is None:
        due = call.results_scheduled_at or call.results_at
        refuse(404, f"審査結果は公表後にご覧いただけます（公表予定：{format_jst(due)}）。")
    if entry is None:
        refuse(404, "この提案は審査委員会の採点の対象ではなかったため、採点結果はありません。")
    ranked = sum(1 for p in document.get("proposals") or [] if p.get("rank") is not None)
    return render_template(
        "applicant/feedback.html", proposal=proposal, call=call, doc=document, entry=entry,
        criteria=document.get("criteria") or [], ranked_count=ranked, comments=comments_for_group(proposal),
    )
