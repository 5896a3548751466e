"""Building scored calls for the results tests with the real verbs:
proposals submitted and released, reviewers clearing, scoring, submitting
(sealing) through ``portal.domain.scoring.scoring``, scoring closed, decisions."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from portal.domain.results import decisions, publication
from portal.domain.panel import conflict_declaration
from portal.domain.scoring import scoring
from portal.domain.timeutil import now_utc
from portal.models import (
    Assignment,
    Call,
    Conflict,
    ConflictSource,
    ConflictStatus,
    DecisionOutcome,
    PanelMember,
    Proposal,
    Stage,
)

# The factory's criteria: 公益性, 必要性, 協働の効果, 実現可能性 (weight 2 each)
# and 予算の妥当性 (weight 1), all 1-5: the maximum is 2*5*4 + 5 = 45.
MAX_POINTS = 45


@dataclass
class Scenario:
    call: Call
    members: list[PanelMember]
    proposals: list[Proposal]
    scored_at: object = None
    extra: dict = field(default_factory=dict)

    def code(self, index: int) -> str:
        return self.proposals[index].anonymous_code


def build(factory, *, reviewers: int = 3, proposals: int = 2, conflicts=(), amounts=None, titles=None,
          consent=(), **call_overrides) -> Scenario:
    """A call in its scoring window with a panel, released proposals and
    (reviewer index, proposal index) conflicts confirmed before release."""
    budget_total = call_overrides.pop("budget_total", None)
    call = factory.scoring_call(**call_overrides)
    if budget_total is not None:
        call.budget_total = budget_total
    members = [factory.panel_member(call) for _ in range(reviewers)]
    made = [factory.submitted(call) for _ in range(proposals)]
    session = factory.session
    for index, proposal in enumerate(made):
        if amounts is not None:
            proposal.requested_amount = amounts[index]
        if titles is not None:
            proposal.title = titles[index]
        proposal.name_publication_consent = index in consent
    for member_index, proposal_index in conflicts:
        session.add(Conflict(panel_member_id=members[member_index].id, proposal_id=made[proposal_index].id,
                             source=ConflictSource.STAFF, status=ConflictStatus.CONFIRMED, reason="役員を兼任"))
    session.commit()
    for proposal in made:
        factory.released(proposal)
    return Scenario(call, members, made, scored_at=now_utc() - timedelta(hours=1))


def score(session, scenario: Scenario, member: int, proposal: int, values, *, comment: str = "",
          stage: Stage = Stage.DOCUMENT, at=None):
    """Member ``member`` scores proposal ``proposal`` with ``values`` (one
    per criterion, in position order) and submits (seals)."""
    at = at or scenario.scored_at
    assignment = session.query(Assignment).filter_by(panel_member_id=scenario.members[member].id,
                                                      proposal_id=scenario.proposals[proposal].id).one()
    conflict_declaration.confirm_no_conflict(session, assignment, at)
    data = scoring.SheetInput(
        scores={c.id: scoring.ScoreInput(v, f"{c.name}の理由") for c, v in zip(scenario.call.criteria, values,
                                                                             strict=True)},
        comment_for_group=comment)
    sheet = scoring.save_draft(session, assignment, stage, data, at)
    scoring.submit_sheet(session, sheet, at)
    session.commit()
    return sheet


def close_scoring(session, scenario: Scenario) -> None:
    scenario.call.scoring_closes_at = now_utc() - timedelta(minutes=30)
    session.commit()


def decide_as_recommended(session, scenario: Scenario, staff, *, comment: str = "講評です。") -> None:
    result = publication.results.compute(session, scenario.call)
    for proposal in scenario.proposals:
        recommended = result.proposal(proposal.id).recommended
        decisions.record_decision(
            session, scenario.call, proposal,
            outcome=DecisionOutcome.ADOPTED if recommended else DecisionOutcome.NOT_ADOPTED,
            reason="" if recommended else "得点が基準に達しませんでした。", review_comment=comment,
            staff=staff, now=now_utc(), result=result)
    decisions.finalise(session, scenario.call, staff, now_utc())
    session.commit()


def use_temporary_key(app, monkeypatch, tmp_path):
    """Sign with a key of this test's own (the instance key stays untouched)."""
    monkeypatch.setitem(app.config, "LOG_SIGNING_KEY_PATH", str(tmp_path / "log-signing-key.pem"))
    return publication.Settings.for_app(app)
