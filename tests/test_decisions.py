"""Decisions: a departure from the recommendation needs a published
reason; finalising writes every outcome to the public log; the staff
results page shows the same figures and records decisions."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.domain.log import chain, process_log
from portal.domain.results import decisions
from portal.domain.timeutil import now_utc
from portal.models import Decision, DecisionOutcome, LogEntry

from .results_support import build, close_scoring, score


@pytest.fixture()
def scored(factory, db):
    """提案0 recommended (40.00 >= 27), 提案1 not (18.00 < 27)."""
    s = build(factory, reviewers=2, proposals=2, threshold_points=27)
    score(db, s, 0, 0, [4, 4, 4, 4, 4], comment="協働の役割分担が明確です。")  # 2*16+4 = 36
    score(db, s, 1, 0, [5, 5, 5, 5, 4], comment="継続性に期待します。")  # 2*20+4 = 44 -> 40.00
    score(db, s, 0, 1, [2, 2, 2, 2, 2])  # 18
    score(db, s, 1, 1, [2, 2, 2, 2, 2])  # 18 -> 18.00
    close_scoring(db, s)
    s.extra["staff"] = factory.staff()
    return s


def decide(db, s, index, outcome, **fields):
    return decisions.record_decision(db, s.call, s.proposals[index], outcome=outcome, staff=s.extra["staff"],
                                     now=now_utc(), **fields)


def test_departing_from_the_recommendation_without_a_reason_is_refused(db, scored):
    with pytest.raises(decisions.DecisionRefused) as refused:
        decide(db, scored, 0, DecisionOutcome.NOT_ADOPTED)
    assert refused.value.field == "reason" and "理由" in refused.value.message
    with pytest.raises(decisions.DecisionRefused):
        decide(db, scored, 1, DecisionOutcome.ADOPTED, reason="   ")
    assert db.scalars(select(Decision)).all() == []


def test_a_departure_with_its_reason_is_recorded_as_departing(db, scored):
    decision = decide(db, scored, 1, DecisionOutcome.ADOPTED, reason="地域で唯一の取組のため採択します。")
    assert decision.departs and decision.reason == "地域で唯一の取組のため採択します。"
    following = decide(db, scored, 0, DecisionOutcome.ADOPTED)
    assert not following.departs and following.reason == ""


def test_the_database_refuses_a_departing_decision_without_reason(db, scored):
    db.add(Decision(proposal_id=scored.proposals[0].id, outcome=DecisionOutcome.NOT_ADOPTED, reason="",
                    departs=True))
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            db.flush()


def test_conditional_adoption_needs_conditions_and_is_no_departure_when_recommended(db, scored):
    with pytest.raises(decisions.DecisionRefused) as refused:
        decide(db, scored, 0, DecisionOutcome.CONDITIONAL)
    assert refused.value.field == "conditions"
    decision = decide(db, scored, 0, DecisionOutcome.CONDITIONAL, conditions="予算を精査すること。")
    assert not decision.departs and decision.conditions == "予算を精査すること。"
    # Adopting a proposal that was not recommended, even with conditions, departs.
    with pytest.raises(decisions.DecisionRefused):
        decide(db, scored, 1, DecisionOutcome.CONDITIONAL, conditions="規模を縮小すること。")


def test_no_decision_while_scoring_is_open(factory, db):
    s = build(factory, reviewers=1, proposals=1)
    score(db, s, 0, 0, [3, 3, 3, 3, 3])
    with pytest.raises(decisions.DecisionRefused, match="採点期間"):
        decisions.record_decision(db, s.call, s.proposals[0], outcome="adopted", staff=None, now=now_utc())


def test_a_published_reason_may_not_carry_a_phone_number(db, scored):
    with pytest.raises(decisions.DecisionRefused) as refused:
        decide(db, scored, 1, DecisionOutcome.ADOPTED, reason="詳しくは 0123-45-6789 まで")
    assert refused.value.field == "reason"


def test_finalise_logs_every_outcome_once_and_notices_later_changes(db, scored):
    decide(db, scored, 0, DecisionOutcome.ADOPTED)
    with pytest.raises(decisions.DecisionRefused, match=scored.code(1)):
        decisions.finalise(db, scored.call, scored.extra["staff"], now_utc())
    decide(db, scored, 1, DecisionOutcome.NOT_ADOPTED, reason="基準点に達しませんでした。")
    entry = decisions.finalise(db, scored.call, scored.extra["staff"], now_utc(), "委員会の報告に基づく決定")
    outcomes = sorted(entry.payload["outcomes"], key=lambda o: o["proposal_code"])
    assert outcomes == sorted([
        {"proposal_code": scored.code(0), "result": "adopted", "reason": ""},
        {"proposal_code": scored.code(1), "result": "not_adopted", "reason": "基準点に達しませんでした。"},
    ], key=lambda o: o["proposal_code"])
    assert entry.payload["basis"] == "委員会の報告に基づく決定" and decisions.finalised(db, scored.call)
    # Finalising the same decisions again appends nothing.
    again = decisions.finalise(db, scored.call, scored.extra["staff"], now_utc(), "委員会の報告に基づく決定")
    assert again.seq == entry.seq
    # A later change un-finalises until finalised again.
    decide(db, scored, 0, DecisionOutcome.CONDITIONAL, conditions="広報計画を示すこと。")
    assert not decisions.finalised(db, scored.call)
    assert process_log.verify(db, scored.call).ok


def test_the_review_comment_starts_empty_beside_the_reviewers_comments(client, login, db, scored):
    """The 講評 is the committee's: nothing a reviewer wrote goes into it
    unless someone writes it there."""
    login(scored.extra["staff"])
    page = client.get(f"/admin/calls/{scored.call.id}/results/{scored.proposals[0].id}/decision").text
    field = re.search(r'<textarea[^>]*name="review_comment"[^>]*>(.*?)</textarea>', page, re.S)
    assert field is not None and field.group(1).strip() == ""
    aside = re.search(r'<aside class="reviewer-comments".*?</aside>', page, re.S).group(0)
    assert "協働の役割分担が明確です。" in aside and "継続性に期待します。" in aside
    assert "委員A" in aside


# -- the staff page ------------------------------------------------------------------

def test_the_results_page_shows_the_computed_figures(client, login, db, scored):
    login(scored.extra["staff"])
    page = client.get(f"/admin/calls/{scored.call.id}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "40.00" in html and "18.00" in html  # scores
    assert scored.code(0) in html and "推薦なし" in html and "合格基準点に達していません" in html
    assert "標準化" in html  # the advisory view beside it


def test_recording_a_decision_through_the_page(client, login, csrf, db, scored):
    login(scored.extra["staff"])
    path = f"/admin/calls/{scored.call.id}/results/{scored.proposals[0].id}/decision"
    form = client.get(path)
    assert form.status_code == 200
    assert "協働の役割分担が明確です。" in form.get_data(as_text=True)  # shown beside the 講評
    token = csrf(path)
    refused = client.post(path, data={"csrf_token": token, "outcome": "not_adopted", "reason": "",
                                      "review_comment": "入力した講評"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "異なる決定には、公表する理由が必要です" in body and "入力した講評" in body
    assert db.scalars(select(Decision)).all() == []
    done = client.post(path, data={"csrf_token": token, "outcome": "not_adopted",
                                   "reason": "同種の事業が既に市の事業としてあるため。", "review_comment": "講評"})
    assert done.status_code == 302
    decision = db.scalars(select(Decision)).one()
    assert decision.outcome == DecisionOutcome.NOT_ADOPTED and decision.departs


def test_finalising_through_the_page_appends_decision_recorded(client, login, csrf, db, scored):
    decide(db, scored, 0, DecisionOutcome.ADOPTED)
    decide(db, scored, 1, DecisionOutcome.NOT_ADOPTED)
    db.commit()
    login(scored.extra["staff"])
    token = csrf(f"/admin/calls/{scored.call.id}/results")
    response = client.post(f"/admin/calls/{scored.call.id}/results/finalise",
                           data={"csrf_token": token, "basis": "市長決定"})
    assert response.status_code == 302
    kinds = db.scalars(select(LogEntry.kind).where(LogEntry.call_id == scored.call.id)
                       .order_by(LogEntry.seq)).all()
    assert kinds[-1] == chain.DECISION_RECORDED


def test_only_staff_reach_the_results_pages(client, login, factory, db, scored):
    login(scored.members[0].user)
    assert client.get(f"/admin/calls/{scored.call.id}/results").status_code == 403
    path = f"/admin/calls/{scored.call.id}/results/{scored.proposals[0].id}/decision"
    assert client.post(path, data={"outcome": "adopted"}).status_code in (400, 403)
    assert db.scalars(select(Decision)).all() == []


def test_a_proposal_of_another_call_is_not_found(client, login, factory, db, scored):
    other = build(factory, reviewers=1, proposals=1)
    login(scored.extra["staff"])
    response = client.get(f"/admin/calls/{scored.call.id}/results/{other.proposals[0].id}/decision")
    assert response.status_code == 404
    assert re.search("見つかりません", response.get_data(as_text=True))
