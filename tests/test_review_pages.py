"""The reviewer's pages through the test client: the list of proposals by
code, 利害関係の確認 before reading, the proposal beside the criteria,
attachments under generated names, the score sheet (下書き保存, 確認, 提出),
the panel's view after scoring, and every kind of bad request refused in
Japanese without changing the database."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from portal.domain.log import process_log
from portal.domain.panel import conflict_declaration
from portal.domain.scoring import scoring
from portal.domain.scoring.scoring import ScoreInput, SheetInput
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.files.samples import sample_pdf
from portal.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    ConflictStatus,
    LogEntry,
    OutboxMessage,
    ReviewAttachment,
    ReviewCopy,
    ReviewScore,
    ReviewSheet,
    SheetStatus,
    StoredFile,
)

from .conftest import csrf_token_from

SECRET_TITLE = "みなと川沿い見守りネットワーク事業"
SECRET_TEXT = "川沿いの高齢者世帯を毎週訪ねる活動の本文"


def assignment_of(db, member, proposal) -> Assignment:
    return db.scalars(select(Assignment).where(Assignment.panel_member_id == member.id,
                                               Assignment.proposal_id == proposal.id)).one()


def release(factory, db, call, title=SECRET_TITLE):
    proposal = factory.submitted(call)
    proposal.title = title
    db.commit()
    factory.released(proposal, text=SECRET_TEXT)
    return proposal


@pytest.fixture()
def scene(factory, db, login):
    """A reviewer on a call in its first-stage window with one released
    proposal, a second panel member, and the reviewer logged in."""
    call = factory.scoring_call()
    reviewer = factory.reviewer()
    member = factory.panel_member(call, reviewer)
    other = factory.panel_member(call)
    proposal = release(factory, db, call)
    login(reviewer)
    return {"call": call, "reviewer": reviewer, "member": member, "other": other, "proposal": proposal,
            "assignment": assignment_of(db, member, proposal), "code": proposal.anonymous_code}


def clear(client, scene):
    aid = scene["assignment"].id
    token = csrf_token_from(client.get(f"/review/assignments/{aid}/confirm").text)
    response = client.post(f"/review/assignments/{aid}/clear", data={"csrf_token": token})
    assert response.status_code == 302
    return aid


def sheet_url(aid, stage="document"):
    return f"/review/assignments/{aid}/score/{stage}"


def sheet_form(client, call, aid, stage="document", score=4, reason="課題の捉え方が的確。", **overrides):
    page = client.get(sheet_url(aid, stage))
    assert page.status_code == 200, page.text[:300]
    marker = re.search(r'name="sheet"[^>]*value="([^"]*)"', page.text) or re.search(
        r'value="([^"]*)"[^>]*name="sheet"', page.text)
    data = {"csrf_token": csrf_token_from(page.text), "sheet": marker.group(1), "action": "save",
            "comment_for_group": "担い手づくりの工夫を評価します。", "panel_note": "予算の人件費を確認したい。"}
    for c in call.criteria:
        if score is not None:
            data[f"score-{c.id}"] = str(score)
        data[f"reason-{c.id}"] = reason
    data.update(overrides)
    return data


def state(db) -> tuple:
    """Everything a refused request must leave alone."""
    db.expire_all()
    return (
        db.execute(select(ReviewScore.id, ReviewScore.score, ReviewScore.reason).order_by(ReviewScore.id)).all(),
        db.execute(select(ReviewSheet.id, ReviewSheet.status, ReviewSheet.comment_for_group)
                   .order_by(ReviewSheet.id)).all(),
        db.execute(select(Assignment.id, Assignment.status).order_by(Assignment.id)).all(),
        db.scalar(select(func.count()).select_from(LogEntry)),
        db.scalar(select(func.count()).select_from(Conflict)),
    )


# -- who may enter ------------------------------------------------------------------------

def test_only_reviewers_enter(client, factory, login):
    assert client.get("/review/").status_code == 302  # to the login page
    login(factory.applicant())
    assert client.get("/review/").status_code == 403


# -- the list -------------------------------------------------------------------------------

def test_the_list_shows_codes_only_and_never_a_conflicted_proposal(client, db, factory, scene):
    call, member = scene["call"], scene["member"]
    hidden = factory.submitted(call)
    hidden.title = "利害関係のある団体の事業"
    # Added by staff before release (the cross-check leaves such rows alone).
    db.add(Conflict(panel_member_id=member.id, proposal_id=hidden.id, source=ConflictSource.STAFF,
                    status=ConflictStatus.CONFIRMED, reason="役員が同じ"))
    db.commit()
    factory.released(hidden, text="利害関係のある本文")

    page = client.get("/review/").text
    assert scene["code"] in page and member.pseudonym in page
    assert "利害関係の確認前" in page and "一次審査（書類）" in page
    assert hidden.anonymous_code not in page and "利害関係のある団体の事業" not in page
    assert SECRET_TITLE not in page and SECRET_TEXT not in page
    hidden_assignment = assignment_of(db, member, hidden)
    for path in (f"/review/assignments/{hidden_assignment.id}/confirm", f"/review/assignments/{hidden_assignment.id}",
                 sheet_url(hidden_assignment.id)):
        response = client.get(path)
        assert response.status_code == 404 and "利害関係のある" not in response.text


def test_the_list_costs_the_same_queries_for_many_proposals(client, db, factory, scene, count_queries):
    client.get("/review/")
    with count_queries() as few:
        assert client.get("/review/").status_code == 200
    for _ in range(3):
        release(factory, db, scene["call"], title="別の事業")
    with count_queries() as many:
        page = client.get("/review/").text
    assert page.count("の利害関係を確認する") == 4
    assert many.count == few.count


# -- before reading -------------------------------------------------------------------------

def test_nothing_of_the_proposal_shows_before_confirming(client, db, scene):
    aid = scene["assignment"].id
    response = client.get(f"/review/assignments/{aid}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/review/assignments/{aid}/confirm")
    page = client.get(f"/review/assignments/{aid}/confirm").text
    assert scene["code"] in page and "利害関係" in page
    assert SECRET_TITLE not in page and SECRET_TEXT not in page
    assert client.get(sheet_url(aid)).status_code == 302

    clear(client, scene)
    db.expire_all()
    assignment = db.get(Assignment, aid)
    assert assignment.status == AssignmentStatus.CLEARED and assignment.cleared_at is not None
    page = client.get(f"/review/assignments/{aid}").text
    assert SECRET_TITLE in page and SECRET_TEXT in page
    for criterion in scene["call"].criteria:
        assert criterion.name in page
    assert "やや優れている" in page and "配点×2" in page


def test_declaring_a_conflict_recuses_and_tells_every_active_staff_member(client, db, factory, scene):
    staff = [factory.staff(), factory.staff()]
    retired = factory.staff()
    retired.is_active_account = False
    db.commit()
    aid = scene["assignment"].id
    note = "提案団体の事務局長が私の親族です"
    page = client.get(f"/review/assignments/{aid}/confirm").text
    response = client.post(f"/review/assignments/{aid}/conflict",
                           data={"csrf_token": csrf_token_from(page), "note": note})
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/")

    db.expire_all()
    conflict = db.scalars(select(Conflict)).one()
    assert (conflict.source, conflict.status, conflict.reason) == (ConflictSource.DECLARED,
                                                                   ConflictStatus.CONFIRMED, note)
    assert db.get(Assignment, aid).status == AssignmentStatus.RECUSED
    entry = process_log.rows(db, scene["call"])[-1]
    assert (entry.kind, entry.payload) == ("reviewer_recused", {
        "reviewer": scene["member"].pseudonym, "proposal_code": scene["code"], "ground": "conflict_of_interest"})
    mails = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(m.recipient for m in mails) == sorted(s.email for s in staff)
    for mail in mails:
        assert scene["code"] in mail.subject and note not in mail.subject and "親族" not in mail.subject
        assert note in mail.body and scene["member"].pseudonym in mail.body
    assert "審査対象から外れました" in client.get("/review/").text
    assert client.get(f"/review/assignments/{aid}").status_code == 404
    assert scene["code"] not in client.get("/review/").text.split("審査委員の画面", 1)[1]


def test_a_too_long_conflict_note_is_shown_again_and_nothing_changes(client, db, scene):
    aid = scene["assignment"].id
    token = csrf_token_from(client.get(f"/review/assignments/{aid}/confirm").text)
    before = state(db)
    note = "長" * (conflict_declaration.CONFLICT_NOTE_MAX + 1)
    response = client.post(f"/review/assignments/{aid}/conflict", data={"csrf_token": token, "note": note})
    assert response.status_code == 422 and note in response.text and "字以内" in response.text
    assert state(db) == before
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_reviewer_can_declare_after_reading_too(client, db, scene):
    aid = clear(client, scene)
    page = client.get(f"/review/assignments/{aid}/conflict")
    assert page.status_code == 200 and "利害関係を申告する" in page.text
    response = client.post(f"/review/assignments/{aid}/conflict", data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Assignment, aid).status == AssignmentStatus.RECUSED


# -- attachments ------------------------------------------------------------------------------

def add_attachment(db, app, proposal, position=0, excluded=False, listed=True) -> ReviewAttachment:
    source = db.scalars(select(StoredFile).where(StoredFile.group_id == proposal.group_id)
                        .order_by(StoredFile.id)).first()
    name = f"{position:02d}" + "ab" * 15
    store_of(app).put(name, sample_pdf("reviewer copy"))
    attachment = ReviewAttachment(proposal_id=proposal.id, source_file_id=source.id, position=position,
                                  excluded=excluded, storage_name=name)
    db.add(attachment)
    db.flush()
    if listed:
        copy = db.scalars(select(ReviewCopy).where(ReviewCopy.proposal_id == proposal.id)).one()
        content = dict(copy.content)
        content["attachments"] = [*content["attachments"], {"id": attachment.id, "label": f"添付資料{position + 1}",
                                                            "content_type": "application/pdf"}]
        copy.content = content
    db.commit()
    return attachment


def test_attachments_download_under_generated_names(client, db, app, factory, scene):
    attachment = add_attachment(db, app, scene["proposal"])
    aid = scene["assignment"].id
    url = f"/review/assignments/{aid}/attachments/{attachment.id}"
    assert client.get(url).status_code == 302  # not before confirming
    clear(client, scene)
    assert "添付資料1（PDF）をダウンロード" in client.get(f"/review/assignments/{aid}").text
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(scene['code'] + '-添付資料1.pdf')}" in disposition
    original = db.get(StoredFile, attachment.source_file_id).original_name
    assert quote(original) not in disposition and original not in disposition
    assert disposition.isascii()

    excluded = add_attachment(db, app, scene["proposal"], position=1, excluded=True)
    unlisted = add_attachment(db, app, scene["proposal"], position=2, listed=False)
    elsewhere = add_attachment(db, app, release(factory, db, scene["call"], title="別の事業"), position=3)
    for other in (excluded, unlisted, elsewhere):
        assert client.get(f"/review/assignments/{aid}/attachments/{other.id}").status_code == 404
    assert client.get(f"/review/assignments/{aid}/attachments/99999").status_code == 404


# -- the score sheet --------------------------------------------------------------------------

def test_the_sheet_offers_each_level_with_its_descriptor(client, scene):
    aid = clear(client, scene)
    page = client.get(sheet_url(aid)).text
    first = scene["call"].criteria[0]
    assert f'<fieldset id="score-{first.id}"' in page and "<legend>公益性" in page
    assert f'name="score-{first.id}" id="score-{first.id}-5" value="5"' in page
    assert "<strong>5点</strong>：優れている" in page and "<strong>1点</strong>：劣る" in page
    assert f'for="reason-{first.id}"' in page and "講評の候補" in page and "委員会へのメモ" in page
    assert "下書き保存" in page and "提出（確認画面へ）" in page


def test_draft_confirm_submit_and_then_read_only(client, db, scene):
    call, aid = scene["call"], clear(client, scene)
    first, second, *_ = call.criteria
    data = sheet_form(client, call, aid, score=None, reason="")
    data.update({f"score-{first.id}": "5", f"reason-{first.id}": "とても必要な事業"})
    response = client.post(sheet_url(aid), data=data)
    assert response.status_code == 302
    db.expire_all()
    sheet = db.scalars(select(ReviewSheet)).one()
    assert (sheet.status, [(s.criterion_id, s.score) for s in sheet.scores]) == (SheetStatus.DRAFT, [(first.id, 5)])
    assert "下書きを保存しました" in client.get(sheet_url(aid)).text
    assert f'id="score-{first.id}-5" value="5" checked' in client.get(sheet_url(aid)).text

    # 提出 with gaps: the confirmation lists them and offers no submit button.
    data = sheet_form(client, call, aid, score=None, reason="")
    data.update({f"score-{first.id}": "5", "action": "review"})
    response = client.post(sheet_url(aid), data=data)
    assert response.headers["Location"].endswith(f"{sheet_url(aid)}/confirm")
    page = client.get(f"{sheet_url(aid)}/confirm").text
    assert "提出するには" in page and f"#score-{second.id}" in page and "この内容で提出する" not in page

    response = client.post(sheet_url(aid), data=sheet_form(client, call, aid, score=4, action="review"))
    page = client.get(response.headers["Location"]).text
    assert "変更できなくなります" in page and "課題の捉え方が的確。" in page and "4点" in page
    token, version = csrf_token_from(page), re.search(r'name="version"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(f"{sheet_url(aid)}/submit",
                           data={"csrf_token": token, "sheet": str(sheet.id), "version": version})
    assert response.status_code == 302
    db.expire_all()
    sheet = db.get(ReviewSheet, sheet.id)
    assert sheet.status == SheetStatus.SUBMITTED and {s.score for s in sheet.scores} == {4}
    sealed = db.scalars(select(LogEntry).where(LogEntry.seq == sheet.sealed_seq,
                                               LogEntry.call_id == call.id)).one()
    assert sealed.kind == "score_sealed" and sealed.payload["commitment"] == sheet.commitment

    page = client.get(sheet_url(aid)).text
    assert "提出済み" in page and f"{sheet.sealed_seq}番" in page
    assert 'type="radio"' not in page and "下書き保存" not in page and "<textarea" not in page
    # A second submit (double click) changes nothing; a save is refused.
    before = state(db)
    again = client.post(f"{sheet_url(aid)}/submit", data={"csrf_token": token, "sheet": str(sheet.id),
                                                          "version": version})
    assert again.status_code == 302 and state(db) == before
    response = client.post(sheet_url(aid), data={**data, "sheet": str(sheet.id), f"score-{first.id}": "1"})
    assert response.status_code == 409 and "提出済み" in response.text
    assert state(db) == before


def test_a_reason_without_a_score_is_kept_on_screen(client, db, scene):
    call, aid = scene["call"], clear(client, scene)
    first = call.criteria[0]
    data = sheet_form(client, call, aid, score=None, reason="")
    data[f"reason-{first.id}"] = "点数はまだ迷っているが理由だけ書いた"
    response = client.post(sheet_url(aid), data=data)
    assert response.status_code == 200
    assert "点数はまだ迷っているが理由だけ書いた" in response.text and "まだ保存されていません" in response.text
    db.expire_all()
    assert db.scalars(select(ReviewSheet)).one().comment_for_group == "担い手づくりの工夫を評価します。"
    assert db.scalar(select(func.count()).select_from(ReviewScore)) == 0


def test_too_long_text_is_shown_again_with_everything_typed(client, db, scene):
    call, aid = scene["call"], clear(client, scene)
    long_note = "メモ" * (scoring.TEXT_HARD_MAX // 2 + 1)
    data = sheet_form(client, call, aid, score=3, reason="保存されない理由", panel_note=long_note)
    before = state(db)
    response = client.post(sheet_url(aid), data=data)
    assert response.status_code == 422
    assert long_note in response.text and "保存されない理由" in response.text and "長すぎる" in response.text
    assert 'value="3" checked' in response.text
    assert state(db) == before


def test_another_tabs_save_keeps_this_tabs_input(client, db, scene):
    call, aid = scene["call"], clear(client, scene)
    stale = sheet_form(client, call, aid, score=2, reason="この画面の理由")
    assert client.post(sheet_url(aid), data=sheet_form(client, call, aid, score=5)).status_code == 302
    before = state(db)
    response = client.post(sheet_url(aid), data=stale)
    assert response.status_code == 409 and "この画面の理由" in response.text and "先に保存されています" in response.text
    assert state(db) == before


# -- bad requests ---------------------------------------------------------------------------

def bad_requests(client, db, factory, scene):
    call, aid = scene["call"], scene["assignment"].id
    other_call = factory.scoring_call()
    first = call.criteria[0]
    sheet_id = db.scalars(select(ReviewSheet)).one().id
    return {
        "out of range": (sheet_url(aid), {f"score-{first.id}": "6"}, 422, "1～5点"),
        "zero": (sheet_url(aid), {f"score-{first.id}": "0"}, 422, "1～5点"),
        "not a number": (sheet_url(aid), {f"score-{first.id}": "５"}, 422, "点数の値が正しくありません"),
        "criterion of another call": (sheet_url(aid), {f"score-{other_call.criteria[0].id}": "3"}, 422,
                                      "審査基準ではない"),
        "criterion id not a number": (sheet_url(aid), {"reason-x1": "a"}, 422, "審査基準ではない"),
        "tampered sheet id": (sheet_url(aid), {"sheet": str(sheet_id + 1000)}, 400, "画面と一致しません"),
        "stage the call lacks": (sheet_url(aid, "presentation"), {}, 404, "二次審査"),
        "unknown stage": (sheet_url(aid, "final"), {}, 404, "審査段階はありません"),
        "submit another sheet": (f"{sheet_url(aid)}/submit", {"sheet": str(sheet_id + 1000), "version": "x"}, 400,
                                 "画面と一致しません"),
        "submit a stale version": (f"{sheet_url(aid)}/submit", {"sheet": str(sheet_id), "version": "x"}, 409,
                                   "変更されています"),
    }


@pytest.mark.parametrize("case", ["out of range", "zero", "not a number", "criterion of another call",
                                  "criterion id not a number", "tampered sheet id", "stage the call lacks",
                                  "unknown stage", "submit another sheet", "submit a stale version"])
def test_bad_requests_are_refused_in_japanese_and_change_nothing(client, db, factory, scene, case):
    call, aid = scene["call"], clear(client, scene)
    assert client.post(sheet_url(aid), data=sheet_form(client, call, aid, score=3)).status_code == 302
    path, overrides, status, words = bad_requests(client, db, factory, scene)[case]
    data = {**sheet_form(client, call, aid, score=4), **overrides}
    before = state(db)
    response = client.post(path, data=data)
    assert response.status_code == status
    assert words in response.text, response.text[:2000]
    assert state(db) == before


def test_scoring_what_is_not_yours_to_score_is_refused(client, db, factory, scene):
    call, other = scene["call"], scene["other"]
    aid = clear(client, scene)
    data = sheet_form(client, call, aid, score=3)
    others = assignment_of(db, other, scene["proposal"])
    before = state(db)
    # Another member's assignment: it does not exist for this reviewer.
    response = client.post(sheet_url(others.id), data=data)
    assert response.status_code == 404 and "見つかりません" in response.text

    # A proposal not yet cleared: refused, not redirected.
    second = release(factory, db, call, title="二件目")
    waiting = assignment_of(db, scene["member"], second)
    before = state(db)
    response = client.post(sheet_url(waiting.id), data=data)
    assert response.status_code == 403 and "利害関係がないことを確認" in response.text
    assert state(db) == before

    # After the window closes.
    call.scoring_closes_at = now_utc() - timedelta(minutes=1)
    db.commit()
    before = state(db)
    response = client.post(sheet_url(aid), data=data)
    assert response.status_code == 403 and "採点期間は終了しました" in response.text
    assert state(db) == before
    page = client.get(sheet_url(aid)).text
    assert "採点期間は終了しました" in page and 'type="radio"' not in page

    # A recused assignment is gone.
    conflict_declaration.declare_conflict(db, db.get(Assignment, aid), "", now_utc())
    db.commit()
    before = state(db)
    assert client.post(sheet_url(aid), data=data).status_code == 404
    assert state(db) == before


def test_posts_without_csrf_change_nothing(client, db, scene):
    call, aid = scene["call"], scene["assignment"].id
    before = state(db)
    assert client.post(f"/review/assignments/{aid}/clear", data={}).status_code == 400
    assert client.post(f"/review/assignments/{aid}/conflict", data={"note": "x"}).status_code == 400
    assert state(db) == before


# -- the panel's view -----------------------------------------------------------------------

def submit_directly(db, call, member, proposal, score, comment="", note=""):
    assignment = assignment_of(db, member, proposal)
    now = now_utc()
    conflict_declaration.confirm_no_conflict(db, assignment, now)
    data = SheetInput(scores={c.id: ScoreInput(score, f"{member.pseudonym}の理由") for c in call.criteria},
                      comment_for_group=comment, panel_note=note)
    scoring.submit_sheet(db, scoring.save_draft(db, assignment, scoring.Stage.DOCUMENT, data, now), now)
    db.commit()


def test_others_scores_show_only_after_own_submission_and_the_close(client, db, factory, scene):
    call, aid = scene["call"], clear(client, scene)
    submit_directly(db, call, scene["other"], scene["proposal"], 2, "他委員の講評", "他委員のメモ")
    panel = f"/review/assignments/{aid}/panel"
    for _ in range(2):
        response = client.get(panel)
        assert response.status_code == 403 and "ご自身の採点を提出し" in response.text
        assert "他委員の講評" not in client.get(sheet_url(aid)).text
        call.scoring_closes_at = now_utc() - timedelta(minutes=1)  # closed, but not submitted by me
        db.commit()
    call.scoring_closes_at = now_utc() + timedelta(days=1)
    db.commit()
    client.post(sheet_url(aid), data=sheet_form(client, call, aid, score=5, action="save"))
    sheet = db.scalars(select(ReviewSheet).join(Assignment).where(Assignment.id == aid)).one()
    scoring.submit_sheet(db, sheet, now_utc())
    db.commit()
    assert client.get(panel).status_code == 403  # scoring still open
    call.scoring_closes_at = now_utc() - timedelta(minutes=1)
    db.commit()
    page = client.get(panel)
    assert page.status_code == 200
    text = page.text
    assert f"{scene['member'].pseudonym}（あなた）" in text and scene["other"].pseudonym in text
    assert "他委員の講評" in text and "他委員のメモ" in text and f"{scene['other'].pseudonym}の理由" in text
    assert scene["reviewer"].display_name not in text and scene["other"].user.display_name not in text
    assert ">18</td>" in text and ">45</td>" in text  # weighted totals: 2 x 9 and 5 x 9
    assert "委員全員の採点を見る" in client.get(f"/review/assignments/{aid}").text


# -- the second stage -------------------------------------------------------------------------

def test_the_revision_starts_from_the_submitted_first_stage(client, db, factory, login):
    now = now_utc()
    call = factory.scoring_call(has_presentation=True, allow_revision_after_presentation=True)
    reviewer = factory.reviewer()
    member = factory.panel_member(call, reviewer)
    proposal = release(factory, db, call)
    submit_directly(db, call, member, proposal, 3)
    call.scoring_closes_at = now - timedelta(hours=1)
    call.presentation_opens_at, call.presentation_closes_at = now - timedelta(minutes=30), now + timedelta(days=1)
    db.commit()
    login(reviewer)
    aid = assignment_of(db, member, proposal).id
    first = call.criteria[0]

    index = client.get("/review/").text
    assert "二次審査（公開プレゼンテーション）" in index and "一次審査（プレゼン後の見直し）" in index
    page = client.get(sheet_url(aid, "document_revised")).text
    assert "写してあります" in page and f'id="score-{first.id}-3" value="3" checked' in page
    data = sheet_form(client, call, aid, "document_revised", score=3, reason=f"{member.pseudonym}の理由")
    data[f"score-{first.id}"] = "5"
    assert client.post(sheet_url(aid, "document_revised"), data=data).status_code == 302
    db.expire_all()
    sheets = {s.stage.value: {x.criterion_id: x.score for x in s.scores} for s in db.scalars(select(ReviewSheet))}
    assert sheets["document"][first.id] == 3 and sheets["document_revised"][first.id] == 5
    page = client.get(sheet_url(aid)).text  # the first stage stays as submitted
    assert "提出済み" in page and 'type="radio"' not in page

    data = sheet_form(client, call, aid, "presentation", score=4)
    assert client.post(sheet_url(aid, "presentation"), data=data).status_code == 302
    db.expire_all()
    assert {s.stage.value for s in db.scalars(select(ReviewSheet))} == {"document", "document_revised",
                                                                         "presentation"}
