"""Who scores what (issue 12 item 2): the assignment mode (全員 / k人), the
balanced k-of-n assignment at release, manual swaps, the withdrawal (辞退)
of a member, the public log entries, and the counts and figures that must
follow the assigned set."""
from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import select

from portal import policy
from portal.domain.log import process_log
from portal.domain.log.chain import ASSIGNMENT_CHANGED, REVIEWER_ASSIGNED, REVIEWER_WITHDREW
from portal.domain.panel import assignment
from portal.domain.panel.assignment import AssignmentError, AssignmentRefused, plan
from portal.domain.results import results
from portal.domain.scoring import progress, scoring
from portal.domain.timeutil import now_utc
from portal.models import Assignment, AssignmentStatus, Conflict, ConflictSource, ConflictStatus, ReviewSheet, Stage

from . import results_support
from .conftest import csrf_token_from


def assigned(db, proposal, *, active=True):
    query = select(Assignment.panel_member_id).where(Assignment.proposal_id == proposal.id)
    if active:
        query = query.where(Assignment.status != AssignmentStatus.RECUSED)
    return set(db.scalars(query))


def payloads(db, call, kind):
    return [row.payload for row in process_log.rows(db, call) if row.kind == kind]


def conflict(db, member, proposal, status=ConflictStatus.CONFIRMED):
    db.add(Conflict(panel_member_id=member.id, proposal_id=proposal.id, source=ConflictSource.STAFF,
                    status=status, reason="役員を兼任"))
    db.commit()


# -- the pure core ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_the_plan_is_balanced_deterministic_and_never_blocked(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 9)
    members = list(range(100, 100 + n))
    proposals = list(range(rng.randint(1, 60)))
    k = rng.randint(1, n)
    blocked = {(m, p) for m in members for p in proposals if rng.random() < 0.08}
    first = plan(members, proposals, k, blocked=blocked)
    assert first == plan(members, proposals, k, blocked=set(sorted(blocked, reverse=True)))
    for p, chosen in first.items():
        eligible = [m for m in members if (m, p) not in blocked]
        assert len(chosen) == min(k, len(eligible)) == len(set(chosen))
        assert not any((m, p) in blocked for m in chosen)
    loads = {m: sum(m in chosen for chosen in first.values()) for m in members}
    if not blocked:
        assert max(loads.values()) - min(loads.values()) <= 1, loads


def test_the_plan_spreads_the_pairs_and_counts_what_a_proposal_already_has():
    result = plan(list(range(6)), list(range(40)), 3)
    pairs = [tuple(sorted(pair)) for chosen in result.values() for pair in itertools.combinations(chosen, 2)]
    counts = {pair: pairs.count(pair) for pair in itertools.combinations(range(6), 2)}
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    topped = plan([1, 2, 3], [7], 3, existing={7: {2, 9}}, loads={1: 5, 3: 0})
    assert topped == {7: [3]}


# -- the setting -----------------------------------------------------------------


def test_the_mode_is_checked_and_locked_from_the_first_release(factory, db):
    call = factory.scoring_call()
    members = [factory.panel_member(call) for _ in range(3)]
    proposal = factory.submitted(call)
    with pytest.raises(AssignmentError, match="委員会の人数（3人）以下"):
        assignment.set_mode(db, call, "k", 4, now_utc())
    with pytest.raises(AssignmentError, match="1人以上"):
        assignment.set_mode(db, call, "k", 0, now_utc())
    with pytest.raises(AssignmentError):
        assignment.set_mode(db, call, "some", 1, now_utc())
    assert assignment.set_mode(db, call, "k", 2, now_utc()) is True
    # The published call's signed rules say who scores.
    changed = payloads(db, call, "criteria_changed")[-1]["rules"]
    assert {"field": "assignment_mode", "value": "k"} in changed
    assert {"field": "reviewers_per_proposal", "value": "2"} in changed
    assert {"field": "min_valid_sheets", "value": ""} in changed
    db.commit()
    factory.released(proposal)
    assert len(assigned(db, proposal)) == 2 and assigned(db, proposal) <= {m.id for m in members}
    with pytest.raises(AssignmentRefused, match="変更できません"):
        assignment.set_mode(db, call, "all", None, now_utc())


# -- release ---------------------------------------------------------------------


def test_k_of_n_at_release_is_balanced_and_skips_conflicts(factory, db):
    call = factory.scoring_call(assignment_mode="k", reviewers_per_proposal=2)
    members = [factory.panel_member(call) for _ in range(4)]
    proposals = [factory.submitted(call) for _ in range(6)]
    conflict(db, members[0], proposals[0])
    conflict(db, members[1], proposals[0], ConflictStatus.FLAGGED)
    conflict(db, members[2], proposals[1])
    conflict(db, members[3], proposals[1])
    conflict(db, members[1], proposals[1])
    for proposal in proposals:
        factory.released(proposal)
    assert assigned(db, proposals[0]) == {members[2].id, members[3].id}
    # Only one member is left for proposal 2: it gets them, and the page names it.
    assert assigned(db, proposals[1]) == {members[0].id}
    assert [s.code for s in assignment.shortfalls(db, call)] == [proposals[1].anonymous_code]
    # Where staff release, too: the anonymisation list names it.
    from .test_query_counts import sign_in

    staff = factory.staff()
    db.commit()
    listed = sign_in(factory.app, staff.email).get(f"/admin/calls/{call.id}/anonymise").text
    assert 'id="shortfalls"' in listed and f"{proposals[1].anonymous_code}：1人" in listed
    loads = assignment.loads(db, call)
    assert sum(loads.values()) == 11 and max(loads.values()) - min(loads.values()) <= 1
    # No recused rows: a member never given a proposal is not "excluded" from it.
    assert db.scalar(select(Assignment.id).where(Assignment.status == AssignmentStatus.RECUSED)) is None
    logged = {p["reviewer"]: p["proposal_codes"] for p in payloads(db, call, REVIEWER_ASSIGNED)}
    for member in members:
        mine = [p.anonymous_code for p in proposals if member.id in assigned(db, p)]
        assert sorted(sum((c for r, c in payloads_by(db, call, member.pseudonym)), [])) == sorted(mine)
    assert set(logged) == {m.pseudonym for m in members}


def payloads_by(db, call, pseudonym):
    return [(p["reviewer"], p["proposal_codes"]) for p in payloads(db, call, REVIEWER_ASSIGNED)
            if p["reviewer"] == pseudonym]


# -- swaps -----------------------------------------------------------------------


@pytest.fixture()
def k_world(factory, db):
    """Four members, four proposals, two members per proposal."""
    scenario = results_support.build(factory, reviewers=4, proposals=4, assignment_mode="k",
                                     reviewers_per_proposal=2)
    return scenario


def holder_and_other(db, scenario, proposal):
    have = assigned(db, proposal)
    holder = next(m for m in scenario.members if m.id in have)
    other = next(m for m in scenario.members if m.id not in have)
    return holder, other


def test_a_swap_moves_an_unstarted_proposal_and_is_logged(k_world, db):
    s = k_world
    proposal = s.proposals[0]
    holder, other = holder_and_other(db, s, proposal)
    assignment.swap(db, s.call, proposal, holder, other, now_utc())
    db.commit()
    assert other.id in assigned(db, proposal) and holder.id not in assigned(db, proposal)
    assert payloads(db, s.call, ASSIGNMENT_CHANGED) == [
        {"proposal_code": proposal.anonymous_code, "from_reviewer": holder.pseudonym,
         "to_reviewer": other.pseudonym, "ground": "manual"}]
    assert proposal.id not in {a.proposal_id for a in policy.visible_assignments(holder.user, s.call)}


def test_swaps_are_refused_with_a_reason(k_world, db):
    s = k_world
    proposal = s.proposals[1]
    holder, other = holder_and_other(db, s, proposal)
    second = next(m for m in s.members if m.id in assigned(db, proposal) and m.id != holder.id)
    with pytest.raises(AssignmentError, match="すでに"):
        assignment.swap(db, s.call, proposal, holder, second, now_utc())
    conflict(db, other, proposal, ConflictStatus.FLAGGED)
    with pytest.raises(AssignmentError, match="利害関係"):
        assignment.swap(db, s.call, proposal, holder, other, now_utc())
    started = s.proposals[2]
    holder, other = holder_and_other(db, s, started)
    results_support.score(db, s, s.members.index(holder), 2, [4, 4, 4, 4, 4])
    with pytest.raises(AssignmentRefused, match="採点を始めている"):
        assignment.swap(db, s.call, started, holder, other, now_utc())
    assert payloads(db, s.call, ASSIGNMENT_CHANGED) == []


# -- withdrawal ------------------------------------------------------------------


def test_a_withdrawal_reassigns_the_unfinished_and_keeps_the_submitted(k_world, db):
    s = k_world
    leaver = s.members[0]
    mine = [p for p in s.proposals if leaver.id in assigned(db, p)]
    assert len(mine) == 2
    kept, dropped = mine
    results_support.score(db, s, 0, s.proposals.index(kept), [5, 5, 5, 5, 5])
    # A draft on the other one: it goes with the assignment.
    draft_of = db.scalars(select(Assignment).where(Assignment.panel_member_id == leaver.id,
                                                   Assignment.proposal_id == dropped.id)).one()
    from portal.domain.panel import conflict_declaration

    conflict_declaration.confirm_no_conflict(db, draft_of, now_utc())
    scoring.save_draft(db, draft_of, Stage.DOCUMENT, scoring.SheetInput(
        scores={s.call.criteria[0].id: scoring.ScoreInput(3, "途中")}), now_utc())
    db.commit()
    before = assignment.loads(db, s.call)
    outcome = assignment.withdraw(db, s.call, leaver, "体調のため", now_utc())
    db.commit()
    assert outcome.kept == [kept.anonymous_code] and outcome.unplaced == []
    taker = outcome.reassigned[dropped.anonymous_code]
    eligible = [m for m in s.members if m.id not in assigned(db, dropped) - {next(
        x.id for x in s.members if x.pseudonym == taker)} and m.id != leaver.id]
    assert before[next(m.id for m in s.members if m.pseudonym == taker)] == min(before[m.id] for m in eligible)
    assert leaver.id not in assigned(db, dropped) and len(assigned(db, dropped)) == 2
    assert leaver.id in assigned(db, kept) and leaver.withdrawn_at is not None
    assert db.scalar(select(ReviewSheet.id).where(ReviewSheet.assignment_id == draft_of.id)) is None
    assert {a.proposal_id for a in policy.visible_assignments(leaver.user, s.call)} == {kept.id}
    assert payloads(db, s.call, REVIEWER_WITHDREW) == [
        {"reviewer": leaver.pseudonym, "reassigned_codes": [dropped.anonymous_code]}]
    assert payloads(db, s.call, ASSIGNMENT_CHANGED) == [
        {"proposal_code": dropped.anonymous_code, "from_reviewer": leaver.pseudonym, "to_reviewer": taker,
         "ground": "withdrawal"}]
    # The reason stays with the secretariat.
    assert "体調" not in str([row.payload for row in process_log.rows(db, s.call)])
    with pytest.raises(AssignmentRefused, match="すでに記録"):
        assignment.withdraw(db, s.call, leaver, "", now_utc())
    # Nothing new reaches a withdrawn member; the submitted sheet still counts.
    result = results.compute(db, s.call)
    assert result.proposal(kept.id).scorer_count == 1
    # ...and nothing more is scored by them, not even a later stage of what they kept.
    kept_assignment = db.scalars(select(Assignment).where(Assignment.panel_member_id == leaver.id,
                                                          Assignment.proposal_id == kept.id)).one()
    with pytest.raises(scoring.ScoringNotAllowed, match="辞退"):
        scoring.check_can_score(db, kept_assignment, Stage.DOCUMENT, now_utc())


# -- counts and figures ----------------------------------------------------------


def test_counts_and_figures_use_the_assigned_set(factory, db):
    s = results_support.build(factory, reviewers=4, proposals=3, assignment_mode="k", reviewers_per_proposal=2)
    # A conflict of a member never given the proposal is not published as one.
    outsider = next(m for m in s.members if m.id not in assigned(db, s.proposals[0]))
    conflict(db, outsider, s.proposals[0], ConflictStatus.CONFIRMED)
    for index, proposal in enumerate(s.proposals):
        for member_index, member in enumerate(s.members):
            if member.id in assigned(db, proposal) and not (index == 2 and member_index == max(
                    i for i, m in enumerate(s.members) if m.id in assigned(db, proposal))):
                results_support.score(db, s, member_index, index, [4, 4, 4, 4, 4])
    result = results.compute(db, s.call)
    for index in (0, 1):
        row = result.proposal(s.proposals[index].id)
        assert (row.scorer_count, row.min_scorers, row.conflicted_count) == (2, 2, 0)
        assert row.score is not None
    short = result.proposal(s.proposals[2].id)
    assert (short.scorer_count, short.min_scorers) == (1, 2) and short.rank is None
    built = progress.build(db, s.call)
    stage = built.stage(Stage.DOCUMENT)
    assert sum(stage.counts.values()) == 6  # 3 proposals x 2, not x 4
    assert sum(len(codes) for codes in stage.unfinished.values()) == 1


# -- the pages -------------------------------------------------------------------


def test_the_panel_page_sets_the_mode_and_refuses_a_bad_k_in_japanese(client, login, factory, db):
    call = factory.scoring_call()
    for _ in range(3):
        factory.panel_member(call)
    login(factory.staff())
    page = client.get(f"/admin/calls/{call.id}/panel")
    assert page.status_code == 200 and "割当の方法" in page.text
    token = csrf_token_from(page.text)
    bad = client.post(f"/admin/calls/{call.id}/panel/assignment-mode",
                      data={"mode": "k", "k": "9", "csrf_token": token})
    assert bad.status_code == 422 and "委員会の人数（3人）以下" in bad.text
    junk = client.post(f"/admin/calls/{call.id}/panel/assignment-mode",
                       data={"mode": "k", "k": "二", "csrf_token": token})
    assert junk.status_code == 422 and "数字" in junk.text
    good = client.post(f"/admin/calls/{call.id}/panel/assignment-mode",
                       data={"mode": "k", "k": "２", "csrf_token": token})
    assert good.status_code == 302
    db.refresh(call)
    assert (call.assignment_mode, call.reviewers_per_proposal) == ("k", 2)
    # A published call's change of rule is on its public page and in its log.
    public = client.get(f"/calls/{call.slug}")
    assert public.status_code == 200 and "審査委員の割当" in public.text and "提案ごとに2人" in public.text


def test_swap_and_withdraw_through_the_pages(client, login, k_world, db, factory):
    s = k_world
    login(factory.staff())
    page = client.get(f"/admin/calls/{s.call.id}/panel")
    assert "審査委員への提供が始まったため" in page.text and "担当の入れ替え" in page.text
    token = csrf_token_from(page.text)
    proposal = s.proposals[0]
    holder, other = holder_and_other(db, s, proposal)
    second = next(m for m in s.members if m.id in assigned(db, proposal) and m.id != holder.id)
    refused = client.post(f"/admin/calls/{s.call.id}/panel/swap", data={
        "proposal_id": proposal.id, "from_member_id": holder.id, "to_member_id": second.id, "csrf_token": token})
    assert refused.status_code == 422 and f"{second.pseudonym}はすでに" in refused.text
    missing = client.post(f"/admin/calls/{s.call.id}/panel/swap", data={"csrf_token": token})
    assert missing.status_code == 422
    moved = client.post(f"/admin/calls/{s.call.id}/panel/swap", data={
        "proposal_id": proposal.id, "from_member_id": holder.id, "to_member_id": other.id, "csrf_token": token})
    assert moved.status_code == 302
    form = client.get(f"/admin/calls/{s.call.id}/panel/members/{other.id}/withdraw")
    assert form.status_code == 200 and "辞退" in form.text
    unconfirmed = client.post(f"/admin/calls/{s.call.id}/panel/members/{other.id}/withdraw",
                              data={"reason": "", "csrf_token": token})
    assert unconfirmed.status_code == 422 and "確認のチェック" in unconfirmed.text
    done = client.post(f"/admin/calls/{s.call.id}/panel/members/{other.id}/withdraw",
                       data={"reason": "", "confirm": "y", "csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200 and f"{other.pseudonym}の辞退を記録しました" in done.text
    again = client.get(f"/admin/calls/{s.call.id}/panel/members/{other.id}/withdraw")
    assert again.status_code == 409
    log_page = client.get(f"/calls/{s.call.slug}/log")
    assert "辞退しました" in log_page.text and "割り当てなおしました" in log_page.text


def test_the_panel_and_progress_pages_at_many_proposals_page_and_filter_in_fixed_queries(
        client, login, factory, db, count_queries):
    small = results_support.build(factory, reviewers=3, proposals=3, assignment_mode="k", reviewers_per_proposal=2)
    large = results_support.build(factory, reviewers=3, proposals=30, assignment_mode="k",
                                  reviewers_per_proposal=2)
    login(factory.staff())
    for area in ("panel", "progress"):
        counts = []
        for s in (small, large):
            client.get(f"/admin/calls/{s.call.id}/{area}")
            with count_queries() as counter:
                page = client.get(f"/admin/calls/{s.call.id}/{area}?per_page=25&page=2")
            assert page.status_code == 200
            counts.append(counter.count)
        assert counts[0] == counts[1], (area, counts)
        assert "30件中 26～30件目" in page.text
        member = large.members[0]
        mine = client.get(f"/admin/calls/{large.call.id}/{area}?status=m{member.id}&per_page=100").text
        shown = sum(1 for p in large.proposals if f"<strong>{p.anonymous_code}</strong>" in mine)
        assert shown == assignment.loads(db, large.call)[member.id] == 20
        odd = client.get(f"/admin/calls/{large.call.id}/{area}?status=m99999x&page=abc&per_page=7")
        assert odd.status_code == 200 and "状況の絞り込みが一覧にない値" in odd.text
        assert 'class="matrix-wrap sticky-matrix"' in odd.text
