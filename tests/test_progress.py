"""採点の進捗: states per stage, reminders, reopening and closing the scoring."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.log import process_log
from portal.domain.panel import conflict_check, conflict_declaration, panel
from portal.domain.scoring import progress, scoring
from portal.domain.log.chain import REVIEWER_RECUSED, SCORE_REOPENED, SCORING_CLOSED
from portal.domain.scoring.scoring import ScoreInput, SheetInput
from portal.domain.timeutil import now_utc
from portal.models import (
    Assignment,
    Call,
    OutboxMessage,
    PanelMember,
    ReviewSheet,
    ScoreReopen,
    SheetStatus,
    Stage,
)

from .conftest import csrf_token_from


def assignment_of(db, member, proposal):
    return db.scalars(select(Assignment).where(Assignment.panel_member_id == member.id,
                                               Assignment.proposal_id == proposal.id)).one()


def open_it(db, assignment):
    conflict_declaration.confirm_no_conflict(db, assignment, now_utc())
    db.commit()


def score(db, call, assignment, *, submit=True):
    open_it(db, assignment)
    data = SheetInput(scores={c.id: ScoreInput(4, "地域の課題に合っている") for c in call.criteria})
    sheet = scoring.save_draft(db, assignment, Stage.DOCUMENT, data, now_utc())
    if submit:
        scoring.submit_sheet(db, sheet, now_utc())
    db.commit()
    return sheet


def mails(db):
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture()
def world(factory, db):
    """Three members and two released proposals:
    A: not opened on P1, draft on P2 (unfinished);
    B: submitted both (finished);
    C: recused from P1 (confirmed conflict), submitted P2 (finished)."""
    call = factory.scoring_call()
    p1 = factory.submitted(call, name="みなと見守りの会")
    p2 = factory.submitted(call, name="さくら子ども食堂")
    p1.title, p2.title = "川沿い見守りカフェ事業", "放課後の子ども食堂"
    db.commit()
    a = factory.panel_member(call, factory.reviewer(name="田中 三郎"))
    b = factory.panel_member(call, factory.reviewer(name="伊藤 四郎"))
    c = factory.panel_member(call, factory.reviewer(name="渡辺 五郎"), ["みなと見守りの会 理事"])
    conflict_check.confirm(db, conflict_check.conflicts_of_call(db, call)[0], factory.staff(), now_utc())
    db.commit()
    factory.released(p1)
    factory.released(p2)
    score(db, call, assignment_of(db, a, p2), submit=False)
    b1 = score(db, call, assignment_of(db, b, p1))
    score(db, call, assignment_of(db, b, p2))
    score(db, call, assignment_of(db, c, p2))
    return call, p1, p2, a, b, c, b1


def test_states_and_counts_per_stage(db, world):
    call, p1, p2, a, b, c, _ = world
    built = progress.build(db, call)
    assert [s.stage for s in built.stages] == [Stage.DOCUMENT]
    stage = built.stages[0]
    copies = {copy.proposal_id: copy for copy in built.copies}
    state = {(m.pseudonym, copy.code): stage.cell(m, copy).state for m in built.members for copy in built.copies}
    assert state == {
        (a.pseudonym, p1.anonymous_code): progress.NOT_OPENED,
        (a.pseudonym, p2.anonymous_code): progress.DRAFT,
        (b.pseudonym, p1.anonymous_code): progress.SUBMITTED,
        (b.pseudonym, p2.anonymous_code): progress.SUBMITTED,
        (c.pseudonym, p1.anonymous_code): progress.RECUSED,
        (c.pseudonym, p2.anonymous_code): progress.SUBMITTED,
    }
    assert stage.counts == {progress.NOT_OPENED: 1, progress.DRAFT: 1, progress.SUBMITTED: 3, progress.RECUSED: 1}
    assert stage.unfinished == {a.id: sorted([p1.anonymous_code, p2.anonymous_code])}
    assert copies.keys() == {p1.id, p2.id}


def test_cleared_but_not_started_and_held_by_a_pending_flag(db, factory):
    call = factory.scoring_call()
    proposal = factory.submitted(call, name="みなと見守りの会")
    other = factory.submitted(call, name="さくら子ども食堂")
    member = factory.panel_member(call)
    flagged_at_release = factory.panel_member(call, affiliations=["みなと見守りの会 会員"])
    factory.released(proposal)
    factory.released(other)
    open_it(db, assignment_of(db, member, proposal))
    panel.update_member(db, member, ["さくら子ども食堂 代表"], "", now_utc())
    built = progress.build(db, call)
    cells = {(m.id, copy.proposal_id): built.stages[0].cell(m, copy).state
             for m in built.members for copy in built.copies}
    assert cells == {(member.id, proposal.id): progress.CLEARED, (member.id, other.id): progress.HELD,
                     (flagged_at_release.id, proposal.id): progress.HELD,
                     (flagged_at_release.id, other.id): progress.NOT_OPENED}
    # A held proposal is not the member's to finish, so no reminder for it.
    assert built.stages[0].unfinished == {member.id: [proposal.anonymous_code],
                                          flagged_at_release.id: [other.anonymous_code]}


def progress_path(call):
    return f"/admin/calls/{call.id}/progress"


def test_progress_page_shows_each_state(client, login, factory, world):
    call, p1, p2, a, b, c, _ = world
    login(factory.staff())
    page = client.get(progress_path(call))
    assert page.status_code == 200
    for text in ("未閲覧", "下書き", "提出済", "除斥", a.pseudonym, "田中 三郎", p1.anonymous_code,
                 "川沿い見守りカフェ事業", "一次審査（書類）"):
        assert text in page.text


def test_reminders_go_only_to_members_with_unfinished_sheets(client, login, factory, db, world):
    call, p1, p2, a, b, c, _ = world
    login(factory.staff())
    before = len(mails(db))
    token = csrf_token_from(client.get(progress_path(call)).text)
    response = client.post(f"{progress_path(call)}/reminders", data={"csrf_token": token, "stage": "document"})
    assert response.status_code == 302
    sent = mails(db)[before:]
    assert [m.recipient for m in sent] == [a.user.email]
    body = sent[0].body
    assert p1.anonymous_code in body and p2.anonymous_code in body
    for secret in ("みなと見守りの会", "さくら子ども食堂", "川沿い見守りカフェ事業", "放課後の子ども食堂"):
        assert secret not in body and secret not in sent[0].subject
    page = client.get(progress_path(call))
    assert "督促メールを1人に送りました" in page.text and "前回の督促" in page.text


def test_reminders_refused_outside_the_window_or_for_a_stage_the_call_lacks(client, login, factory, db, world):
    call, *_ = world
    login(factory.staff())
    token = csrf_token_from(client.get(progress_path(call)).text)
    before = len(mails(db))
    response = client.post(f"{progress_path(call)}/reminders", data={"csrf_token": token, "stage": "presentation"})
    assert response.status_code == 422 and "一覧から選んでください" in response.text
    call.scoring_closes_at = now_utc() - timedelta(minutes=1)
    db.commit()
    response = client.post(f"{progress_path(call)}/reminders", data={"csrf_token": token, "stage": "document"})
    assert response.status_code == 409 and "採点期間は終了しました" in response.text
    assert len(mails(db)) == before


def test_reopen_needs_a_reason_and_is_logged(client, login, factory, db, world):
    call, p1, p2, a, b, c, sheet = world
    login(factory.staff())
    path = f"{progress_path(call)}/sheets/{sheet.id}/reopen"
    token = csrf_token_from(client.get(path).text)
    response = client.post(path, data={"csrf_token": token, "reason": "　"})
    assert response.status_code == 422 and "必須項目です" in response.text
    response = client.post(path, data={"csrf_token": token, "reason": "連絡は090-1234-5678まで"})
    assert response.status_code == 422 and "電話番号" in response.text
    db.expire_all()
    assert db.get(ReviewSheet, sheet.id).status == SheetStatus.SUBMITTED
    assert db.scalars(select(ScoreReopen)).all() == []

    response = client.post(path, data={"csrf_token": token, "reason": "採点基準の読み違いを委員が申し出たため"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(ReviewSheet, sheet.id).status == SheetStatus.DRAFT
    reopened = [r.payload for r in process_log.rows(db, call) if r.kind == SCORE_REOPENED]
    assert len(reopened) == 1 and reopened[0]["reason"] == "採点基準の読み違いを委員が申し出たため"
    assert reopened[0]["reviewer"] == b.pseudonym and reopened[0]["proposal_code"] == p1.anonymous_code
    assert process_log.verify(db, call).ok
    # Now a draft: reopening again is refused.
    assert client.post(path, data={"csrf_token": token, "reason": "もう一度"}).status_code == 409


def test_reopen_of_another_calls_sheet_is_not_found(client, login, factory, db, world):
    call, *_ = world
    other = factory.scoring_call()
    proposal = factory.submitted(other, name="よその会")
    member = factory.panel_member(other)
    factory.released(proposal)
    foreign = score(db, other, assignment_of(db, member, proposal))
    login(factory.staff())
    path = f"{progress_path(call)}/sheets/{foreign.id}/reopen"
    assert client.get(path).status_code == 404
    token = csrf_token_from(client.get(progress_path(call)).text)
    assert client.post(path, data={"csrf_token": token, "reason": "改ざん"}).status_code == 404
    assert client.get(f"{progress_path(call)}/sheets/999999/reopen").status_code == 404
    db.expire_all()
    assert db.get(ReviewSheet, foreign.id).status == SheetStatus.SUBMITTED


def test_closing_during_the_window_needs_confirmation_and_happens_once(client, login, factory, db, world):
    call, *_ = world
    login(factory.staff())
    path = f"{progress_path(call)}/close"
    token = csrf_token_from(client.get(path).text)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 422 and "採点期間がまだ終わっていません" in response.text
    db.expire_all()
    assert db.get(Call, call.id).scoring_closed_at is None

    assert client.post(path, data={"csrf_token": token, "early": "y"}).status_code == 302
    db.expire_all()
    assert db.get(Call, call.id).scoring_closed_at is not None
    closed = [r.payload for r in process_log.rows(db, call) if r.kind == SCORING_CLOSED]
    assert closed == [{"sealed_count": 3}]

    response = client.post(path, data={"csrf_token": token, "early": "y"})
    assert response.status_code == 409 and "すでに締め切られています" in response.text
    assert len([r for r in process_log.rows(db, call) if r.kind == SCORING_CLOSED]) == 1
    assert process_log.verify(db, call).ok


def test_closing_after_the_window_needs_no_confirmation_and_counts_only_live_seals(db, factory, world):
    call, p1, p2, a, b, c, sheet = world
    scoring.reopen_sheet(db, sheet, factory.staff(), "見直しのため", now_utc())
    call.scoring_closes_at = now_utc() - timedelta(seconds=1)
    db.commit()
    assert progress.close_scoring(db, call, now_utc()) == 2
    with pytest.raises(progress.ProgressError):
        progress.close_scoring(db, call, now_utc(), early_confirmed=True)


@pytest.mark.parametrize("who", ["reviewer", "applicant"])
def test_progress_routes_are_staff_only(client, login, factory, db, world, who):
    call, p1, p2, a, b, c, sheet = world
    user = b.user if who == "reviewer" else p1.group.account
    login(user)
    token = csrf_token_from(client.get("/").text)
    before = len(mails(db))
    base = progress_path(call)
    for method, path in [("GET", base), ("POST", f"{base}/reminders"), ("GET", f"{base}/sheets/{sheet.id}/reopen"),
                         ("POST", f"{base}/sheets/{sheet.id}/reopen"), ("GET", f"{base}/close"),
                         ("POST", f"{base}/close")]:
        data = {"csrf_token": token, "stage": "document", "reason": "x", "early": "y"} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (method, path, response.status_code)
    db.expire_all()
    assert db.get(Call, call.id).scoring_closed_at is None
    assert db.get(ReviewSheet, sheet.id).status == SheetStatus.SUBMITTED
    assert len(mails(db)) == before


def test_progress_page_queries_do_not_grow_with_the_panel(client, login, factory, db, count_queries):
    call = factory.scoring_call()
    proposals = [factory.submitted(call, name=f"団体{n}の会") for n in range(2)]
    factory.panel_member(call)
    for proposal in proposals:
        factory.released(proposal)
    login(factory.staff())
    client.get(progress_path(call))
    with count_queries() as small:
        assert client.get(progress_path(call)).status_code == 200
    for _ in range(4):
        factory.panel_member(call)
    more = factory.submitted(call, name="ひまわり子育て広場")
    factory.released(more)
    with count_queries() as large:
        assert client.get(progress_path(call)).status_code == 200
    assert large.count == small.count


def test_a_member_with_only_drafts_may_leave_but_not_one_who_submitted(db, factory, world):
    call, p1, p2, a, b, c, _ = world
    with pytest.raises(panel.PanelError):
        panel.remove_member(db, b, now_utc())
    panel.remove_member(db, a, now_utc())
    db.commit()
    assert db.get(PanelMember, a.id) is None
    assert db.scalars(select(ReviewSheet).join(Assignment).where(Assignment.panel_member_id == a.id)).all() == []
    withdrawn = [r.payload for r in process_log.rows(db, call) if r.kind == REVIEWER_RECUSED
                 and r.payload["ground"] == "unavailable"]
    assert sorted(p["proposal_code"] for p in withdrawn) == sorted([p1.anonymous_code, p2.anonymous_code])
    assert process_log.verify(db, call).ok
    assert db.get(PanelMember, b.id) is not None
