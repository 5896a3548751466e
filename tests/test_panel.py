"""The panel (審査委員会): the conflict cross-check, staff decisions on its
flags, recusal in the public log, and the panel page."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import policy
from portal.domain.log import process_log
from portal.domain.panel import conflict_check, panel
from portal.domain.log.chain import REVIEWER_ASSIGNED, REVIEWER_RECUSED
from portal.domain.timeutil import now_utc
from portal.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    ConflictStatus,
    PanelMember,
)

from .conftest import csrf_token_from

MINATO_NPO = "特定非営利活動法人みなと見守りの会"


def conflicts(db, member=None):
    query = select(Conflict)
    if member is not None:
        query = query.where(Conflict.panel_member_id == member.id)
    return list(db.scalars(query.order_by(Conflict.id)))


def log_payloads(db, call, kind):
    return [row.payload for row in process_log.rows(db, call) if row.kind == kind]


def assignment_of(db, member, proposal):
    return db.scalars(select(Assignment).where(Assignment.panel_member_id == member.id,
                                               Assignment.proposal_id == proposal.id)).one()


@pytest.fixture()
def world(factory, db):
    """Two groups; a reviewer who is 理事 of one, a reviewer named like an
    officer of the other, and an unrelated reviewer."""
    call = factory.scoring_call()
    minato = factory.submitted(call, name="みなと見守りの会")
    sakura = factory.submitted(call, name="さくら子ども食堂")
    sakura.group.officer_names = ["鈴木 一郎", "高橋 二郎"]
    db.commit()
    director = factory.panel_member(call, factory.reviewer(name="田中 三郎"), [f"{MINATO_NPO} 理事", "新潟大学"])
    namesake = factory.panel_member(call, factory.reviewer(name="鈴木 一郎"), ["中央地区自治会"])
    neutral = factory.panel_member(call, factory.reviewer(name="伊藤 四郎"), ["みなと市社会福祉協議会"])
    return call, minato, sakura, director, namesake, neutral


# -- detection ---------------------------------------------------------------------


def test_cross_check_flags_a_director_and_an_officer_namesake_and_nobody_else(db, world):
    call, minato, sakura, director, namesake, neutral = world
    conflict_check.run_check(db, call, now_utc())
    rows = {(c.panel_member_id, c.proposal_id): c for c in conflicts(db)}
    assert set(rows) == {(director.id, minato.id), (namesake.id, sakura.id)}
    flag = rows[(director.id, minato.id)]
    assert (flag.source, flag.status, flag.confidence) == (ConflictSource.DETECTED, ConflictStatus.FLAGGED, "high")
    assert MINATO_NPO in flag.reason and "みなと見守りの会" in flag.reason
    officer = rows[(namesake.id, sakura.id)]
    assert "役員" in officer.reason and officer.status == ConflictStatus.FLAGGED


def test_flags_exist_as_soon_as_a_member_joins(db, world):
    _call, minato, _sakura, director, _namesake, _neutral = world
    # add_member ran the check: no separate step was needed.
    assert [(c.proposal_id, c.status) for c in conflicts(db, director)] == [(minato.id, ConflictStatus.FLAGGED)]


def test_rerunning_the_check_adds_no_duplicates(db, world):
    call = world[0]
    first = conflict_check.run_check(db, call, now_utc())
    before = [(c.id, c.reason, c.status) for c in conflicts(db)]
    second = conflict_check.run_check(db, call, now_utc())
    assert [(c.id, c.reason, c.status) for c in conflicts(db)] == before
    assert (first.added, second.added, second.changed, second.removed) == (0, 0, 0, 0)
    assert len(before) == 2


def test_dismissed_stays_dismissed_unless_the_grounds_change(db, factory, world):
    call, minato, _sakura, director, *_ = world
    staff = factory.staff()
    flag = conflicts(db, director)[0]
    conflict_check.dismiss(db, flag, staff, "同名の別団体と委員に確認済み", now_utc())
    db.commit()
    conflict_check.run_check(db, call, now_utc())
    db.refresh(flag)
    assert flag.status == ConflictStatus.DISMISSED
    assert conflict_check.note_of(flag) == "同名の別団体と委員に確認済み"
    assert len(conflicts(db)) == 2

    # The same organisation stated again (re-ordered) changes nothing.
    panel.update_member(db, director, ["新潟大学", f"{MINATO_NPO} 理事"], "", now_utc())
    db.refresh(flag)
    assert flag.status == ConflictStatus.DISMISSED

    # A new ground (the reviewer also advises the group) needs a new look.
    panel.update_member(db, director, [f"{MINATO_NPO} 理事", "ＮＰＯ法人みなと見守りの会 顧問"], "", now_utc())
    db.refresh(flag)
    assert flag.status == ConflictStatus.FLAGGED
    assert "顧問" in flag.reason
    assert len(conflicts(db)) == 2


def test_a_flag_whose_grounds_are_gone_is_removed_but_decisions_stay(db, factory, world):
    call, minato, sakura, director, namesake, _ = world
    conflict_check.confirm(db, conflicts(db, namesake)[0], factory.staff(), now_utc())
    panel.update_member(db, director, ["新潟大学"], "", now_utc())
    panel.update_member(db, namesake, [], "", now_utc())
    assert [(c.panel_member_id, c.status) for c in conflicts(db)] == [(namesake.id, ConflictStatus.CONFIRMED)]


def test_declared_and_staff_conflicts_are_left_to_people(db, factory, world):
    call, minato, sakura, director, namesake, neutral = world
    staff = factory.staff()
    conflict_check.add_by_staff(db, call, neutral, sakura, "委員の配偶者が団体の会員", staff, now_utc())
    conflict_check.run_check(db, call, now_utc())
    row = conflicts(db, neutral)[0]
    assert (row.source, row.status, row.reason) == (ConflictSource.STAFF, ConflictStatus.CONFIRMED,
                                                    "委員の配偶者が団体の会員")


# -- decisions, recusal and the public log ---------------------------------------------


def test_confirmation_after_release_recuses_and_logs_it(db, factory):
    call = factory.scoring_call()
    minato = factory.submitted(call, name="みなと見守りの会")
    reviewer = factory.reviewer(name="田中 三郎")
    member = factory.panel_member(call, reviewer)
    factory.released(minato)
    assignment = assignment_of(db, member, minato)
    assert assignment.status == AssignmentStatus.ASSIGNED
    assert [a.id for a in policy.visible_assignments(reviewer, call)] == [assignment.id]

    # The reviewer states the affiliation late: the flag alone hides the proposal.
    panel.update_member(db, member, [f"{MINATO_NPO} 理事"], "", now_utc())
    flag = conflicts(db, member)[0]
    assert flag.status == ConflictStatus.FLAGGED
    assert policy.visible_assignments(reviewer, call) == []
    assert assignment.status == AssignmentStatus.ASSIGNED  # nothing public yet: only a suspicion

    conflict_check.confirm(db, flag, factory.staff(), now_utc())
    db.commit()
    db.refresh(assignment)
    assert assignment.status == AssignmentStatus.RECUSED and assignment.recused_at is not None
    assert log_payloads(db, call, REVIEWER_RECUSED) == [
        {"reviewer": member.pseudonym, "proposal_code": minato.anonymous_code, "ground": "conflict_of_interest"}]
    assert policy.visible_assignments(reviewer, call) == []
    assert process_log.verify(db, call).ok

    # Confirming twice is refused and logs nothing more.
    with pytest.raises(conflict_check.ConflictError):
        conflict_check.confirm(db, flag, factory.staff(), now_utc())
    assert len(log_payloads(db, call, REVIEWER_RECUSED)) == 1


def test_flag_found_at_release_holds_the_proposal_until_dismissed(db, factory):
    call = factory.scoring_call()
    minato = factory.submitted(call, name="みなと見守りの会")
    reviewer = factory.reviewer(name="田中 三郎")
    member = factory.panel_member(call, reviewer, ["みなと見守りの会 会員"])
    factory.released(minato)
    assignment = assignment_of(db, member, minato)
    assert assignment.status == AssignmentStatus.RECUSED
    assert policy.visible_assignments(reviewer, call) == []
    assert log_payloads(db, call, REVIEWER_RECUSED) == []  # a suspicion is not published

    conflict_check.dismiss(db, conflicts(db, member)[0], factory.staff(), "退会済み（本人に確認）", now_utc())
    db.commit()
    db.refresh(assignment)
    assert assignment.status == AssignmentStatus.ASSIGNED
    assert [a.id for a in policy.visible_assignments(reviewer, call)] == [assignment.id]
    assert {"reviewer": member.pseudonym, "proposal_codes": [minato.anonymous_code]} in \
        log_payloads(db, call, REVIEWER_ASSIGNED)
    assert process_log.verify(db, call).ok


def test_confirmed_before_release_is_recused_at_release_and_logged_once(db, factory):
    call = factory.scoring_call()
    minato = factory.submitted(call, name="みなと見守りの会")
    other = factory.submitted(call, name="さくら子ども食堂")
    reviewer = factory.reviewer()
    member = factory.panel_member(call, reviewer, [MINATO_NPO])
    conflict_check.confirm(db, conflicts(db, member)[0], factory.staff(), now_utc())
    db.commit()
    factory.released(minato)
    factory.released(other)
    assert assignment_of(db, member, minato).status == AssignmentStatus.RECUSED
    assert [a.proposal_id for a in policy.visible_assignments(reviewer, call)] == [other.id]
    assert log_payloads(db, call, REVIEWER_RECUSED) == [
        {"reviewer": member.pseudonym, "proposal_code": minato.anonymous_code, "ground": "conflict_of_interest"}]
    assert process_log.verify(db, call).ok


def test_confirmed_conflict_cannot_be_dismissed(db, factory, world):
    _call, _minato, _sakura, director, *_ = world
    flag = conflicts(db, director)[0]
    staff = factory.staff()
    conflict_check.confirm(db, flag, staff, now_utc())
    with pytest.raises(conflict_check.ConflictError):
        conflict_check.dismiss(db, flag, staff, "やはり問題なし", now_utc())
    assert flag.status == ConflictStatus.CONFIRMED


def test_removing_a_member_logs_the_withdrawal_and_never_reuses_the_pseudonym(db, factory):
    call = factory.scoring_call()
    proposal = factory.submitted(call, name="さくら子ども食堂")
    first = factory.panel_member(call)
    second = factory.panel_member(call)
    factory.released(proposal)
    pseudonym = second.pseudonym
    panel.remove_member(db, second, now_utc())
    db.commit()
    assert db.scalar(select(func.count()).select_from(PanelMember).where(PanelMember.call_id == call.id)) == 1
    assert {"reviewer": pseudonym, "proposal_code": proposal.anonymous_code, "ground": "unavailable"} in \
        log_payloads(db, call, REVIEWER_RECUSED)
    newcomer = factory.panel_member(call)
    assert newcomer.pseudonym not in (first.pseudonym, pseudonym)
    assert process_log.verify(db, call).ok


# -- pages -------------------------------------------------------------------------------


def panel_path(call):
    return f"/admin/calls/{call.id}/panel"


def test_panel_page_shows_members_conflicts_and_the_matrix(client, login, factory, world):
    call, minato, sakura, director, namesake, neutral = world
    minato.title = "川沿い見守りカフェ事業"
    factory.session.commit()
    login(factory.staff())
    page = client.get(panel_path(call))
    assert page.status_code == 200
    text = page.text
    for expected in ("委員A", "田中 三郎", f"{MINATO_NPO} 理事", minato.anonymous_code, "川沿い見守りカフェ事業",
                     "要確認", "役員", "委員×提案"):
        assert expected in text
    assert 'href="/admin/users"' in text


def test_staff_add_a_reviewer_with_affiliations_and_the_check_runs(client, login, factory, db, world):
    call, minato, *_ = world
    newcomer = factory.reviewer(name="渡辺 五郎")
    login(factory.staff())
    response = client.post(f"{panel_path(call)}/members", data={
        "csrf_token": csrf_token_from(client.get(panel_path(call)).text), "user_id": str(newcomer.id),
        "affiliations": "みなと見守りの会　顧問\n\n新潟大学\n", "public_title": "大学教授"})
    assert response.status_code == 302
    member = db.scalars(select(PanelMember).where(PanelMember.user_id == newcomer.id)).one()
    assert member.affiliations == ["みなと見守りの会 顧問", "新潟大学"]
    assert member.public_title == "大学教授"
    assert [(c.proposal_id, c.status) for c in conflicts(db, member)] == [(minato.id, ConflictStatus.FLAGGED)]


def test_bad_input_is_refused_in_japanese_and_changes_nothing(client, login, factory, db, world):
    call, minato, sakura, director, namesake, neutral = world
    other_call = factory.scoring_call()
    stranger = factory.panel_member(other_call)
    stranger_proposal = factory.submitted(other_call, name="よその会")
    applicant_user = factory.applicant()
    login(factory.staff())
    token = csrf_token_from(client.get(panel_path(call)).text)
    before = [(c.id, c.status, c.reason) for c in conflicts(db)]

    # A member and a proposal of another call, sent by hand.
    response = client.post(f"{panel_path(call)}/conflicts", data={
        "csrf_token": token, "member_id": str(stranger.id), "proposal_id": str(minato.id), "reason": "テスト"})
    assert response.status_code == 422 and "一覧から選んでください" in response.text
    response = client.post(f"{panel_path(call)}/conflicts", data={
        "csrf_token": token, "member_id": str(neutral.id), "proposal_id": str(stranger_proposal.id),
        "reason": "テスト"})
    assert response.status_code == 422
    # An empty reason.
    response = client.post(f"{panel_path(call)}/conflicts", data={
        "csrf_token": token, "member_id": str(neutral.id), "proposal_id": str(sakura.id), "reason": "　 "})
    assert response.status_code == 422 and "必須項目です" in response.text
    # A non-reviewer account offered as a member.
    response = client.post(f"{panel_path(call)}/members", data={
        "csrf_token": token, "user_id": str(applicant_user.id), "affiliations": ""})
    assert response.status_code == 422
    # A conflict or member of another call in the URL.
    foreign = factory.panel_member(other_call, factory.reviewer(), ["よその会"])
    foreign_flag = conflicts(db, foreign)[0]
    assert client.post(f"{panel_path(call)}/conflicts/{foreign_flag.id}/confirm",
                       data={"csrf_token": token}).status_code == 404
    assert client.get(f"{panel_path(call)}/members/{stranger.id}/edit").status_code == 404
    assert client.post(f"{panel_path(call)}/members/{stranger.id}/remove",
                       data={"csrf_token": token}).status_code == 404
    assert client.get(f"{panel_path(call)}/conflicts/999999/dismiss").status_code == 404
    # Dismissal without a note.
    flag = conflicts(db, director)[0]
    response = client.post(f"{panel_path(call)}/conflicts/{flag.id}/dismiss", data={"csrf_token": token, "note": ""})
    assert response.status_code == 422 and "必須項目です" in response.text

    db.expire_all()
    assert [(c.id, c.status, c.reason) for c in conflicts(db) if c.panel_member_id != foreign.id] == before
    assert db.get(Conflict, foreign_flag.id).status == ConflictStatus.FLAGGED


def test_staff_confirm_dismiss_and_add_by_hand_through_the_page(client, login, factory, db, world):
    call, minato, sakura, director, namesake, neutral = world
    factory.released(minato)
    factory.released(sakura)
    login(factory.staff())
    token = csrf_token_from(client.get(panel_path(call)).text)
    director_flag, namesake_flag = conflicts(db, director)[0], conflicts(db, namesake)[0]

    assert client.post(f"{panel_path(call)}/conflicts/{director_flag.id}/confirm",
                       data={"csrf_token": token}).status_code == 302
    assert client.post(f"{panel_path(call)}/conflicts/{namesake_flag.id}/dismiss",
                       data={"csrf_token": token, "note": "同姓同名の別人"}).status_code == 302
    assert client.post(f"{panel_path(call)}/conflicts", data={
        "csrf_token": token, "member_id": str(neutral.id), "proposal_id": str(minato.id),
        "reason": "元職員"}).status_code == 302
    db.expire_all()
    assert db.get(Conflict, director_flag.id).status == ConflictStatus.CONFIRMED
    assert db.get(Conflict, namesake_flag.id).status == ConflictStatus.DISMISSED
    assert assignment_of(db, namesake, sakura).status == AssignmentStatus.ASSIGNED
    assert assignment_of(db, neutral, minato).status == AssignmentStatus.RECUSED
    recused = log_payloads(db, call, REVIEWER_RECUSED)
    assert {(p["reviewer"], p["proposal_code"]) for p in recused} == {
        (director.pseudonym, minato.anonymous_code), (neutral.pseudonym, minato.anonymous_code)}
    assert process_log.verify(db, call).ok
    # A pair already listed cannot be added again by hand.
    response = client.post(f"{panel_path(call)}/conflicts", data={
        "csrf_token": token, "member_id": str(namesake.id), "proposal_id": str(sakura.id), "reason": "再登録"})
    assert response.status_code == 422 and "すでに一覧にあります" in response.text


def test_edit_and_remove_member_pages(client, login, factory, db, world):
    call, minato, sakura, director, namesake, neutral = world
    login(factory.staff())
    path = f"{panel_path(call)}/members/{neutral.id}/edit"
    token = csrf_token_from(client.get(path).text)
    too_long = "あ" * 201
    response = client.post(path, data={"csrf_token": token, "affiliations": f"新潟大学\n{too_long}"})
    assert response.status_code == 422 and "200字以内" in response.text and too_long in response.text
    assert db.get(PanelMember, neutral.id).affiliations == ["みなと市社会福祉協議会"]
    response = client.post(path, data={"csrf_token": token, "affiliations": "さくら子ども食堂 代表",
                                       "public_title": "公募市民"})
    assert response.status_code == 302
    assert [c.proposal_id for c in conflicts(db, neutral)] == [sakura.id]

    remove = f"{panel_path(call)}/members/{neutral.id}/remove"
    assert client.get(remove).status_code == 200
    assert client.post(remove, data={"csrf_token": token}).status_code == 302
    assert db.get(PanelMember, neutral.id) is None
    assert conflicts(db, neutral) == []


@pytest.mark.parametrize("who", ["reviewer", "applicant"])
def test_panel_routes_are_staff_only(client, login, factory, db, world, who):
    call, minato, sakura, director, *_ = world
    flag = conflicts(db, director)[0]
    user = factory.reviewer() if who == "reviewer" else factory.applicant()
    if who == "reviewer":
        factory.panel_member(call, user)
    login(user)
    token = csrf_token_from(client.get("/").text)
    before = [(c.id, c.status) for c in conflicts(db)]
    base = panel_path(call)
    for method, path in [
        ("GET", base), ("POST", f"{base}/check"), ("POST", f"{base}/members"),
        ("GET", f"{base}/members/{director.id}/edit"), ("POST", f"{base}/members/{director.id}/edit"),
        ("GET", f"{base}/members/{director.id}/remove"), ("POST", f"{base}/members/{director.id}/remove"),
        ("POST", f"{base}/conflicts/{flag.id}/confirm"), ("GET", f"{base}/conflicts/{flag.id}/dismiss"),
        ("POST", f"{base}/conflicts/{flag.id}/dismiss"), ("POST", f"{base}/conflicts"),
    ]:
        response = client.open(path, method=method, data={"csrf_token": token, "note": "x", "reason": "x"}
                               if method == "POST" else None)
        assert response.status_code == 403, (method, path, response.status_code)
    db.expire_all()
    assert [(c.id, c.status) for c in conflicts(db)] == before
    assert db.get(PanelMember, director.id) is not None


def test_panel_page_queries_do_not_grow_with_the_panel(client, login, factory, db, count_queries):
    call = factory.scoring_call()
    for name in ("みなと見守りの会", "さくら子ども食堂"):
        factory.submitted(call, name=name)
    factory.panel_member(call, factory.reviewer(), ["みなと見守りの会 理事"])
    login(factory.staff())
    client.get(panel_path(call))
    with count_queries() as small:
        assert client.get(panel_path(call)).status_code == 200
    for n in range(4):
        factory.panel_member(call, factory.reviewer(), [f"さくら子ども食堂 会員{n}"])
    factory.submitted(call, name="ひまわり子育て広場")
    with count_queries() as large:
        assert client.get(panel_path(call)).status_code == 200
    # removal_refusal asks once per member; everything else is fixed.
    assert large.count <= small.count + 2 * 4 + 4
