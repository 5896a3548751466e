"""The 審査会 and its papers (issue 12 item 4), through real HTTP, a real
database and real PDFs read back with pdftotext:

- a member's packet holds only the released, anonymised copies of the
  proposals assigned to them, never a conflicted one, never the live
  proposal or a group's name; a member gets only their own;
- the meeting view and packet (ranking, totals by pseudonym, spread,
  standard deviation, disagreement flags) only after scoring is over; the
  chair and staff only; notes stored and never public;
- minutes: a public and a closed part, published only after the results,
  the PDF's SHA-256 in the process log equal to the served PDF's;
- the 二次審査 running order by code, public once published;
- every PDF passes the layout check (no text over text, nothing outside
  the page)."""
from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import select

from portal.domain.log import chain, process_log
from portal.domain.meeting import view
from portal.domain.results import publication
from portal.domain.timeutil import now_utc, to_jst
from portal.models import ChairNote, Meeting, PresentationSlot, ReviewCopy

from .conftest import csrf_token_from
from .pdf_layout_support import assert_clean_layout
from .results_support import build, close_scoring, decide_as_recommended, score, use_temporary_key

LIVE_TITLE = "公開前の本当の事業名ＬＩＶＥ"
REDACTED_TEXT = "伏せた本文〔団体名〕で活動します"


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return "".join(out.stdout.decode("utf-8").split())


@pytest.fixture()
def world(factory, db):
    """Three members (委員A is the chair), three proposals; 委員C has a
    confirmed conflict with the first. Scores chosen so that the first
    proposal's totals are far apart (spread), the second has one member two
    levels from the median on one criterion, the third agrees."""
    s = build(factory, reviewers=3, proposals=3, conflicts=[(2, 0)])
    s.members[0].is_chair = True
    for proposal in s.proposals:  # the live proposal changes after release; the packet must not follow
        proposal.title = LIVE_TITLE
    first_copy = db.scalar(select(ReviewCopy).where(ReviewCopy.proposal_id == s.proposals[1].id))
    first_copy.content = {**first_copy.content,
                          "fields": [{"key": "background", "label": "事業の背景", "text": REDACTED_TEXT}]}
    db.commit()
    score(db, s, 0, 0, [5, 5, 5, 5, 5])
    score(db, s, 1, 0, [1, 1, 1, 1, 1])
    score(db, s, 0, 1, [4, 4, 4, 4, 4])
    score(db, s, 1, 1, [4, 4, 4, 4, 4])
    score(db, s, 2, 1, [4, 4, 4, 4, 2])
    score(db, s, 0, 2, [3, 3, 3, 3, 3])
    score(db, s, 1, 2, [3, 3, 3, 3, 4])
    score(db, s, 2, 2, [3, 3, 3, 3, 5])
    s.extra["staff"] = factory.staff()
    return s


def sign_in(app, user):
    """A fresh client signed in as ``user``. The factory keeps an app context
    open, so flask-login's cached user (in ``g``) is dropped first."""
    client = app.test_client()
    page = get(client, "/login")
    fresh()
    response = client.post("/login", data={"email": user.email, "password": "correct-horse-battery",
                                           "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    return client


def public_client(app):
    return app.test_client()


def fresh():
    """Each request on its own (see the ``seed`` fixture): the factory's app
    context would otherwise share flask-login's user and the CSRF token in ``g``."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def get(client, url):
    fresh()
    return client.get(url)


def post(client, url, data=None):
    token = csrf_token_from(get(client, "/").get_data(as_text=True))
    fresh()
    return client.post(url, data={"csrf_token": token, **(data or {})})


def test_the_meeting_view_waits_for_the_end_of_scoring_then_flags_disagreement(db, world):
    before = view.build(db, world.call, now_utc())
    assert not before.ready and "採点期間が終わるまで" in before.message
    world.call.scoring_closed_at = now_utc() - timedelta(minutes=1)  # the secretariat's early close counts
    db.commit()
    mv = view.build(db, world.call, now_utc())
    assert mv.ready and mv.max_total == Decimal(45)
    rows = {row.code: row for row in mv.rows}
    far, one_off, agreed = (rows[world.code(i)] for i in range(3))
    assert far.spread == Decimal(36) and far.totals[2] == ("委員C", None)  # the conflicted member has no total
    assert any("満点45点の30%以上" in f for f in far.flags)
    assert one_off.spread == Decimal(2) and any("予算の妥当性" in f and "委員C" in f for f in one_off.flags)
    assert agreed.flags == [] and agreed.totals == [("委員A", Decimal(27)), ("委員B", Decimal(28)),
                                                    ("委員C", Decimal(29))]
    assert agreed.stdev == Decimal("0.82")  # sqrt(2/3), exact until rounded once
    assert agreed.levels[4] == ("予算の妥当性", [3, 4, 5]) and far.levels[0] == ("公益性", [5, 1, None])
    assert view.stdev([Decimal(1)]) is None


def test_a_member_gets_only_their_own_packet_and_never_a_conflicted_proposal(app, db, world, login):
    client = sign_in(app, world.members[2].user)
    index = get(client, "/review/")
    assert f"/review/calls/{world.call.id}/papers" in index.text
    papers = get(client, f"/review/calls/{world.call.id}/papers")
    assert f"/review/calls/{world.call.id}/packet.pdf" in papers.text
    assert "審査会の画面（委員長）" not in index.text + papers.text  # not the chair
    packet = get(client, f"/review/calls/{world.call.id}/packet.pdf")
    assert packet.status_code == 200 and packet.mimetype == "application/pdf"
    assert packet.headers["Cache-Control"] == "no-store"
    text = pdf_text(packet.data)
    assert "委員C" in text and world.code(1) in text and world.code(2) in text
    assert world.code(0) not in text  # the conflicted proposal: not even its code
    assert "".join(REDACTED_TEXT.split()) in text  # the released copy, not the live proposal
    assert "ＬＩＶＥ" not in text
    for proposal in world.proposals:
        assert proposal.group.name not in text
    assert "公益性" in text and "やや優れている" in text and "採点用紙" in text and "理由" in text
    assert_clean_layout(packet.data, "packet_member")
    # another member's packet: no URL names a member on the review side; the staff one is 403
    assert get(client, f"/admin/calls/{world.call.id}/papers/members/{world.members[0].id}.pdf").status_code == 403
    # the chair's meeting view is not theirs
    assert get(client, f"/review/calls/{world.call.id}/meeting").status_code == 404
    assert post(client, f"/review/calls/{world.call.id}/meeting/notes/{world.proposals[2].id}",
                {"note": "x"}).status_code == 404


def test_staff_download_each_members_packet(db, world, client, login):
    login(world.extra["staff"])
    papers = get(client, f"/admin/calls/{world.call.id}/papers")
    assert papers.status_code == 200 and "委員Aの審査資料（PDF）" in papers.text
    chair_packet = get(client, f"/admin/calls/{world.call.id}/papers/members/{world.members[0].id}.pdf")
    text = pdf_text(chair_packet.data)
    assert all(world.code(i) in text for i in range(3)) and "委員A" in text
    assert get(client, f"/admin/calls/{world.call.id}/papers/members/999999.pdf").status_code == 404


def test_the_meeting_view_and_packet_for_staff_and_the_chair_with_notes(app, db, world, client, login):
    login(world.extra["staff"])
    url = f"/admin/calls/{world.call.id}/meeting"
    early = get(client, url)
    assert early.status_code == 200 and "採点期間が終わるまで" in early.text
    refused = get(client, url + "/packet.pdf")
    assert refused.status_code == 403 and "採点期間が終わるまで" in refused.text
    close_scoring(db, world)
    page = get(client, url)
    assert page.status_code == 200 and "2段階以上離れているとき" in page.text and "相違あり" in page.text
    assert "0.82" in page.text
    target = world.proposals[0].id
    saved = post(client, f"{url}/notes/{target}", {"note": "委員長メモ：差が大きいので再確認"})
    assert saved.status_code == 302
    assert db.scalar(select(ChairNote.note).where(ChairNote.proposal_id == target)) == "委員長メモ：差が大きいので再確認"
    too_long = post(client, f"{url}/notes/{target}", {"note": "あ" * 2001})
    assert too_long.status_code == 302 and "2000字以内" in get(client, url).text
    assert post(client, f"{url}/notes/999999", {"note": "x"}).status_code == 404
    packet = get(client, url + "/packet.pdf")
    assert packet.status_code == 200
    text = pdf_text(packet.data)
    assert "審査会資料" in text and "委員A" in text and "委員B" in text and world.code(0) in text
    assert "意見の相違" in text and "0.82" in text and "委員長メモ" not in text
    assert "提案ごとの評価段階（委員別）" in text and "予算の妥当性" in text
    for proposal in world.proposals:
        assert proposal.group.name not in text
    assert_clean_layout(packet.data, "packet_meeting")

    chair = sign_in(app, world.members[0].user)
    assert "審査会の画面（委員長）" in get(chair, "/review/").text
    assert f"/review/calls/{world.call.id}/meeting" in get(chair, f"/review/calls/{world.call.id}/papers").text
    seen = get(chair, f"/review/calls/{world.call.id}/meeting")
    assert seen.status_code == 200 and "委員長メモ：差が大きいので再確認" in seen.text
    assert post(chair, f"/review/calls/{world.call.id}/meeting/notes/{target}",
                {"note": "議長が追記"}).status_code == 302
    assert db.scalar(select(ChairNote.note).where(ChairNote.proposal_id == target)) == "議長が追記"


def test_minutes_are_published_after_the_results_with_their_hash_in_the_log(app, db, world, client, login,
                                                                            monkeypatch, tmp_path):
    staff = world.extra["staff"]
    login(staff)
    base = f"/admin/calls/{world.call.id}/minutes"
    bad = post(client, base, {"held_at": "来週", "agenda": "議題"})
    assert bad.status_code == 400 and "日時を「2026-06-30 17:00」の形で" in bad.text and "議題" in bad.text
    empty = post(client, base)
    assert empty.status_code == 400 and "必須項目です" in empty.text
    junk = post(client, base, {"held_at": "2026-02-30 10:00", "attendee_ids": "abc", "place": "あ" * 201})
    assert junk.status_code == 400 and "存在しない日時です" in junk.text and "200字以内" in junk.text
    held = to_jst(now_utc() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    created = post(client, base, {
        "held_at": held, "place": "市役所本庁舎 第1会議室",
        "attendee_ids": [str(world.members[0].id), str(world.members[1].id), "999999"],
        "other_attendees": "事務局（市民協働課）", "agenda": "一次審査の結果について",
        "discussion": "提案ごとの得点の差について意見を交わした。", "decisions": "推薦のとおり決定する。",
        "closed_notes": "非公開ＣＬＯＳＥＤの内容"})
    assert created.status_code == 302
    meeting = db.scalar(select(Meeting).where(Meeting.call_id == world.call.id))
    assert meeting.number == 1 and meeting.attendee_ids == sorted([world.members[0].id, world.members[1].id])
    edit = f"{base}/{meeting.id}"
    assert "議事録は審査結果の公表後に公開できます" in get(client, edit).text
    early = post(client, f"{edit}/publish")
    assert early.status_code == 302 and "議事録は審査結果の公表後に公開できます" in get(client, edit).text
    assert get(client, f"/calls/{world.call.slug}/minutes/1").status_code == 404

    close_scoring(db, world)
    decide_as_recommended(db, world, staff)
    publication.publish(db, world.call, staff, now_utc(), settings=use_temporary_key(app, monkeypatch, tmp_path))
    db.commit()
    assert post(client, f"{edit}/publish").status_code == 302
    db.refresh(meeting)
    assert meeting.published_at is not None
    entry = [e for e in process_log.entries(db, world.call) if e.kind == chain.MINUTES_PUBLISHED]
    assert len(entry) == 1 and entry[0].payload == {"meeting": 1, "document_sha256": meeting.pdf_sha256}

    public = public_client(app)
    served = get(public, f"/calls/{world.call.slug}/minutes/1.pdf")
    assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == entry[0].payload["document_sha256"]
    text = pdf_text(served.data)
    assert "一次審査の結果について" in text and "委員A（委員長）" in text and "第1会議室" in text
    assert "ＣＬＯＳＥＤ" not in text
    assert_clean_layout(served.data, "minutes")
    html = get(public, f"/calls/{world.call.slug}/minutes/1")
    assert html.status_code == 200 and "推薦のとおり決定する。" in html.text and "ＣＬＯＳＥＤ" not in html.text
    assert meeting.pdf_sha256 in html.text
    results_page = get(public, f"/calls/{world.call.slug}/results")
    assert f"/calls/{world.call.slug}/minutes/1" in results_page.text
    assert "第1回審査会の議事録（公開部分）を公開しました" in get(public, f"/calls/{world.call.slug}/log").text
    # published: the public part is fixed, the closed part may still change
    post(client, edit, {"held_at": held, "agenda": "書き換え", "closed_notes": "追記した非公開メモ"})
    db.refresh(meeting)
    assert meeting.agenda == "一次審査の結果について" and meeting.closed_notes == "追記した非公開メモ"
    assert post(client, f"{edit}/publish").status_code == 302
    assert len([e for e in process_log.entries(db, world.call) if e.kind == chain.MINUTES_PUBLISHED]) == 1

    # The verifier builds the minutes' address from the log alone and compares the bytes served.
    from .test_verify_project_documents import script

    verify = script()
    log_doc = json.loads(get(public, f"/calls/{world.call.slug}/log.json").data)
    assert [(path, digest) for path, digest, _label, _seq in verify.project_documents(log_doc)] == [
        (f"/calls/{world.call.slug}/minutes/1.pdf", meeting.pdf_sha256)]
    problems: list = []
    assert verify.check_served_documents(log_doc, lambda path: get(public, path).data, problems) == 1
    assert problems == []
    assert verify.check_served_documents(log_doc, lambda path: get(public, path).data + b"%", problems) == 1
    assert problems and problems[0][0] == "served"


def test_the_presentation_running_order_by_code(app, db, factory, client, login):
    s = build(factory, reviewers=2, proposals=3, has_presentation=True)
    staff = factory.staff()
    login(staff)
    url = f"/admin/calls/{s.call.id}/presentations"
    public_url = f"/calls/{s.call.slug}/presentations"
    assert get(public_client(app), public_url).status_code == 404
    day = to_jst(now_utc() + timedelta(days=7)).strftime("%Y-%m-%d")
    ok = post(client, url, {"proposal_id": s.proposals[1].id, "starts_at": f"{day} 13:00",
                            "ends_at": f"{day} 13:20", "room": "大会議室"})
    assert ok.status_code == 302
    clash = post(client, url, {"proposal_id": s.proposals[0].id, "starts_at": f"{day} 13:10",
                               "ends_at": f"{day} 13:30", "room": "大会議室"})
    assert clash.status_code == 400 and f"{s.code(1)}の時間と重なっています" in clash.text
    backwards = post(client, url, {"proposal_id": s.proposals[0].id, "starts_at": f"{day} 14:00",
                                   "ends_at": f"{day} 13:30", "room": "大会議室"})
    assert backwards.status_code == 400 and "終了は開始より後" in backwards.text
    junk = post(client, url, {"proposal_id": "abc", "starts_at": "x", "ends_at": ""})
    assert junk.status_code == 400 and "一覧から選んでください" in junk.text
    assert post(client, url, {"proposal_id": s.proposals[0].id, "starts_at": f"{day} 13:20",
                              "ends_at": f"{day} 13:40", "room": "大会議室"}).status_code == 302
    assert post(client, url + "/publish", {"note": "傍聴できます。"}).status_code == 302
    page = get(public_client(app), public_url)
    assert page.status_code == 200 and "傍聴できます。" in page.text
    assert f'href="{public_url}"' in get(public_client(app), f"/calls/{s.call.slug}").text  # linked from the call
    assert page.text.index(s.code(1)) < page.text.index(s.code(0))  # running order by time
    for proposal in s.proposals:
        assert proposal.group.name not in page.text and proposal.title not in page.text
    slot = db.scalar(select(PresentationSlot).where(PresentationSlot.proposal_id == s.proposals[0].id))
    assert post(client, f"{url}/{slot.id}/delete").status_code == 302
    assert s.code(0) not in get(public_client(app), public_url).text
    assert post(client, url + "/unpublish").status_code == 302
    assert get(public_client(app), public_url).status_code == 404
    assert f'href="{public_url}"' not in get(public_client(app), f"/calls/{s.call.slug}").text
