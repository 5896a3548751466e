"""A group's consent to the publication of its name if not adopted: given
or withdrawn until the results are published."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ...models import Proposal
from ..refusals import NotAllowed


def consent_refusal(proposal: Proposal) -> str | None:
    """Groups may give or withdraw consent to publish their name (if not
    adopted) until the results are published; after that the document is
    fixed and a change would need a logged correction."""
    if proposal.receipt_number is None:
        return "提出前の提案には設定できません。"
    if proposal.call.results_published_at is not None:
        return "審査結果の公表後は変更できません。変更が必要な場合は市民協働課にご相談ください。"
    return None


def set_name_publication_consent(session: Session, proposal: Proposal, consent: bool) -> None:
    refusal = consent_refusal(proposal)
    if refusal:
        raise NotAllowed(refusal)
    proposal.name_publication_consent = consent
    session.flush()
