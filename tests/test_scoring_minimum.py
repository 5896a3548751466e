"""Scoring windows that mean what they say: an early close ends scoring
everywhere (decisions, publication, the panel's view), and a proposal
with fewer valid sheets than the call requires (採点不成立) gets no rank and
no recommendation; deciding it, and publishing, needs a published reason."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.domain.log import verification
from portal.domain.results import aggregation, decisions, publication, results
from portal.domain.scoring import progress
from portal.domain.timeutil import now_utc
from portal.jobs import publish_job
from portal.models import Assignment, Call, Decision, JobStatus

from .conftest import csrf_token_from
from .results_support import build, close_scoring, score, use_temporary_key
from .test_admin_calls import edit_data


@pytest.fixture()
def settings(app, monkeypatch, tmp_path):
    return use_temporary_key(app, monkeypatch, tmp_path)


def three_of_three(factory, db):
    """Three members; 委員C is conflicted on 提案1. 提案0: all three score;
    提案1: the two who may; 提案2: only 委員A (1 of the 3 needed)."""
    s = build(factory, reviewers=3, proposals=3, conflicts=[(2, 1)])
    for member in range(3):
        score(db, s, member, 0, [4, 4, 4, 4, 4])  # 36 each
    score(db, s, 0, 1, [3, 3, 3, 3, 3])  # 27
    score(db, s, 1, 1, [3, 3, 3, 3, 3])
    score(db, s, 0, 2, [5, 5, 5, 5, 5])  # 45: the best score, from one sheet
    s.extra["staff"] = factory.staff()
    return s


def close_early(db, s):
    """採点を締め切る inside the window (it still runs for ten days)."""
    now = now_utc()
    assert s.call.scoring_closes_at > now + timedelta(days=1)
    progress.close_scoring(db, s.call, now - timedelta(seconds=1), early_confirmed=True)
    db.commit()


# -- the early close -------------------------------------------------------------------

def test_an_early_close_ends_scoring_for_decisions_publication_and_the_panel(client, login, db, factory):
    s = build(factory, reviewers=2, proposals=1)
    score(db, s, 0, 0, [4, 4, 4, 4, 4])
    score(db, s, 1, 0, [2, 2, 2, 2, 2])
    staff = factory.staff()
    now = now_utc()
    assert not s.call.scoring_over(now)
    with pytest.raises(decisions.DecisionRefused, match="採点期間"):
        decisions.record_decision(db, s.call, s.proposals[0], outcome="adopted", staff=staff, now=now)
    assert "採点期間" in publication.refusal(db, s.call, now)

    close_early(db, s)
    now = now_utc()
    assert s.call.scoring_over(now) and s.call.scoring_closes_at > now  # the schedule is untouched
    decisions.record_decision(db, s.call, s.proposals[0], outcome="adopted", staff=staff, now=now)
    decisions.finalise(db, s.call, staff, now)
    db.commit()
    assert publication.refusal(db, s.call, now) is None

    login(staff)
    page = client.get(f"/admin/calls/{s.call.id}/results").text
    assert "に締め切りました" in page and "採点期間中です" not in page and "採点期間の終了後" not in page
    assert "まだ公表できません" not in page
    assert "決定の入力" in client.get(f"/admin/calls/{s.call.id}/results/{s.proposals[0].id}/decision").text


def test_after_an_early_close_members_see_the_whole_panels_scores(client, login, db, factory):
    s = build(factory, reviewers=2, proposals=1)
    score(db, s, 0, 0, [4, 4, 4, 4, 4])
    score(db, s, 1, 0, [2, 2, 2, 2, 2], comment="担い手が明確です。")
    login(s.members[0].user)
    aid = db.scalars(select(Assignment.id).where(Assignment.panel_member_id == s.members[0].id)).one()
    assert client.get(f"/review/assignments/{aid}/panel").status_code == 403  # scoring still open
    close_early(db, s)
    aid = db.scalars(select(Assignment.id).where(Assignment.panel_member_id == s.members[0].id)).one()
    panel = client.get(f"/review/assignments/{aid}/panel")
    assert panel.status_code == 200
    assert s.members[1].pseudonym in panel.text and "担い手が明確です。" in panel.text


def test_the_close_page_names_the_proposals_that_closing_now_leaves_short(client, login, db, factory):
    s = three_of_three(factory, db)
    login(s.extra["staff"])
    page = client.get(f"/admin/calls/{s.call.id}/progress/close").text
    assert "いま締め切ると採点不成立になる提案（1件）" in page
    assert f"{s.code(2)}：有効な採点票 1件／必要 3件" in page
    assert s.code(0) + "：" not in page and s.code(1) + "：" not in page


# -- the minimum ---------------------------------------------------------------------------

def test_by_default_every_assigned_member_without_a_conflict_must_score(db, factory):
    s = three_of_three(factory, db)
    close_scoring(db, s)
    result = results.compute(db, s.call)
    full, conflicted, short = (result.proposal(p.id) for p in s.proposals)
    assert (full.min_scorers, full.scorer_count, full.under_minimum, full.rank, full.recommended) == \
        (3, 3, False, 1, True)
    # 委員C's conflict lowers what 提案1 needs to the two who may score it.
    assert (conflicted.min_scorers, conflicted.scorer_count, conflicted.under_minimum, conflicted.rank) == \
        (2, 2, False, 2)
    # 45 points from one sheet of three: no rank, no recommendation.
    assert (short.min_scorers, short.scorer_count, short.under_minimum) == (3, 1, True)
    assert short.score == 45 and short.rank is None and not short.recommended
    assert short.reasons == (aggregation.UNDER_MINIMUM,)
    assert [row.code for row in result.proposals] == [s.code(0), s.code(1), s.code(2)]
    assert "採点不成立" in results.formula_text(result)


@pytest.mark.parametrize(("minimum", "short_counts"), [(1, True), (2, False)])
def test_a_call_may_require_fewer_sheets(db, factory, minimum, short_counts):
    s = three_of_three(factory, db)
    s.call.min_valid_sheets = minimum
    close_scoring(db, s)
    result = results.compute(db, s.call)
    short = result.proposal(s.proposals[2].id)
    assert short.min_scorers == minimum and short.under_minimum is not short_counts
    if short_counts:
        assert (short.rank, short.recommended) == (1, True)
        assert f"有効な採点票が{minimum}件" in results.formula_text(result)
    else:
        assert (short.rank, short.recommended) == (None, False)
        # The call's number holds even where conflicts leave fewer members: 提案1 has its 2.
        assert not result.proposal(s.proposals[1].id).under_minimum


def test_a_proposal_nobody_scored_is_under_the_minimum(db, factory):
    s = build(factory, reviewers=2, proposals=2)
    score(db, s, 0, 0, [3, 3, 3, 3, 3])
    score(db, s, 1, 0, [3, 3, 3, 3, 3])
    close_scoring(db, s)
    row = results.compute(db, s.call).proposal(s.proposals[1].id)
    assert (row.scorer_count, row.under_minimum, row.rank, row.reasons) == (0, True, None, (aggregation.NO_SCORERS,))
    staff = factory.staff()
    with pytest.raises(decisions.DecisionRefused) as refused:
        decisions.record_decision(db, s.call, s.proposals[1], outcome="not_adopted", staff=staff, now=now_utc())
    assert refused.value.field == "reason" and "有効な採点票が0件" in refused.value.message


def test_the_database_refuses_a_minimum_below_one(db, factory):
    call = factory.call()
    call.min_valid_sheets = 0
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            db.flush()


# -- deciding and publishing -------------------------------------------------------------------

def test_deciding_a_proposal_under_the_minimum_needs_a_reason_that_is_logged(db, factory):
    s = three_of_three(factory, db)
    close_scoring(db, s)
    staff = s.extra["staff"]
    for outcome in ("not_adopted", "adopted"):
        with pytest.raises(decisions.DecisionRefused) as refused:
            decisions.record_decision(db, s.call, s.proposals[2], outcome=outcome, staff=staff, now=now_utc())
        assert refused.value.field == "reason"
        assert "採点不成立（有効な採点票が1件で、必要な3件に足りません）" in refused.value.message
    assert db.scalars(select(Decision)).all() == []
    decision = decisions.record_decision(db, s.call, s.proposals[2], outcome="not_adopted", staff=staff,
                                         now=now_utc(), reason="採点不成立のため不採択とします。")
    assert not decision.departs and decision.reason == "採点不成立のため不採択とします。"
    for index in (0, 1):
        decisions.record_decision(db, s.call, s.proposals[index], outcome="adopted", staff=staff, now=now_utc())
    entry = decisions.finalise(db, s.call, staff, now_utc())
    assert {"proposal_code": s.code(2), "result": "not_adopted", "reason": "採点不成立のため不採択とします。"} \
        in entry.payload["outcomes"]


def test_publication_waits_for_a_reason_on_each_proposal_under_the_minimum(db, factory, settings):
    s = three_of_three(factory, db)
    s.call.min_valid_sheets = 1  # at first one sheet is enough: 提案2 is recommended
    close_scoring(db, s)
    staff = s.extra["staff"]
    for proposal in s.proposals:
        decisions.record_decision(db, s.call, proposal, outcome="adopted", staff=staff, now=now_utc())
    decisions.finalise(db, s.call, staff, now_utc())
    db.commit()
    assert publication.refusal(db, s.call, now_utc()) is None

    s.call.min_valid_sheets = None  # the call changes its rule: 提案2 is now 採点不成立
    db.commit()
    blocker = publication.refusal(db, s.call, now_utc())
    assert blocker.startswith("採点不成立の提案の決定に、公表する理由がありません：") and s.code(2) in blocker
    with pytest.raises(publication.PublicationRefused, match="採点不成立"):
        publication.publish(db, s.call, staff, now_utc(), settings=settings)
    db.rollback()
    # The staff's button only records a job (it skips the ranking to answer
    # at once); the job, run at the commit here, refuses with the same reason.
    job = publish_job.start(db, s.call, staff, now_utc())
    db.commit()
    db.refresh(job)
    assert job.status == JobStatus.FAILED and job.message.startswith("採点不成立の提案の決定に")
    assert publication.latest(db, s.call) is None

    decisions.record_decision(db, s.call, s.proposals[2], outcome="not_adopted", staff=staff, now=now_utc(),
                              reason="採点不成立のため不採択とします。")
    decisions.finalise(db, s.call, staff, now_utc())
    db.commit()
    row = publication.publish(db, s.call, staff, now_utc(), settings=settings, mailer=lambda *m: None)
    db.commit()
    published = {p["code"]: p for p in row.results["proposals"]}
    short = published[s.code(2)]
    assert (short["rank"], short["recommended"], short["under_minimum"], short["min_scorers"]) == \
        (None, False, True, 3)
    assert short["decision"]["reason"] == "採点不成立のため不採択とします。"
    assert short["reason_labels"] == [results.REASON_LABELS[aggregation.UNDER_MINIMUM]]
    # Anyone recomputing from the document alone gets the same ranking.
    assert verification.document_problems(row.results) == []


def test_the_staff_pages_show_the_minimum_before_the_official_confirms(client, login, csrf, db, factory):
    s = three_of_three(factory, db)
    close_scoring(db, s)
    login(s.extra["staff"])
    page = client.get(f"/admin/calls/{s.call.id}/results").text
    assert f"{s.code(2)}：採点不成立（有効な採点票が1件で、必要な3件に足りません）" in page
    assert "採点不成立の提案と、公表する理由" in page and "理由が入力されていません" in page

    path = f"/admin/calls/{s.call.id}/results/{s.proposals[2].id}/decision"
    form = client.get(path).text
    assert 'id="under-minimum"' in form and "どの決定にも、公表する理由" in form
    refused = client.post(path, data={"csrf_token": csrf(path), "outcome": "not_adopted", "reason": "",
                                      "review_comment": "委員会の講評"})
    assert refused.status_code == 422 and "採点不成立" in refused.text and "委員会の講評" in refused.text
    done = client.post(path, data={"csrf_token": csrf(path), "outcome": "not_adopted",
                                   "reason": "採点不成立のため不採択とします。", "review_comment": ""})
    assert done.status_code == 302
    page = client.get(f"/admin/calls/{s.call.id}/results").text
    assert "理由が入力されていません" not in page and "理由「<span class=\"prose\">採点不成立のため不採択とします。" in page


# -- the call setting ---------------------------------------------------------------------------

def test_the_call_form_sets_the_minimum_and_explains_a_wrong_one(client, login, db, factory):
    login(factory.staff())
    call = factory.call(published=False)
    assert call.min_valid_sheets is None
    refused = client.post(f"/admin/calls/{call.id}/edit", data=edit_data(client, call, min_valid_sheets="0"))
    assert refused.status_code == 422
    assert "採点の成立に必要な採点票の数は1〜100件で入力してください" in refused.text
    assert 'value="0"' in refused.text
    done = client.post(f"/admin/calls/{call.id}/edit", data=edit_data(client, call, min_valid_sheets="２件"))
    assert done.status_code == 302, done.text[:500]
    db.expire_all()
    assert db.get(Call, call.id).min_valid_sheets == 2
    page = client.get(f"/admin/calls/{call.id}/edit").text
    assert csrf_token_from(page) and 'name="min_valid_sheets"' in page
    cleared = client.post(f"/admin/calls/{call.id}/edit", data=edit_data(client, call, min_valid_sheets=""))
    assert cleared.status_code == 302
    db.expire_all()
    assert db.get(Call, call.id).min_valid_sheets is None
