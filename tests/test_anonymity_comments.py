"""Issue 14, item 3: reviewer comments are scanned for names of people and
organisations (the reviewer's own affiliation included) before they reach
the group or the public, and staff confirm or edit a flagged one."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain.anonymity.comments import KnownName, scan_comment
from portal.domain.results import decisions, publication
from portal.domain.timeutil import now_utc
from portal.models import Assignment, CommentCheck, Decision

AFFILIATION = "新潟みなと大学 地域連携センター"
NAMING = "私の勤める新潟みなと大学でも同様の調査をしました。山田さんの熱意が伝わります。"
PLAIN = "地域の課題がよく整理されており、計画も具体的です。"


def test_scan_finds_known_and_likely_names():
    known = [KnownName("新潟みなと大学", "審査委員の所属"), KnownName("みなと見守りの会", "応募団体の名称")]
    text = ("私の勤める新潟みなと大学でも同様の調査をしました。山田さんや田中先生、株式会社みなと商事、"
            "みなと商工会議所とも連携を。ミナト見守りの会の皆様、関係者の皆さんに感謝します。大学や病院との連携も。")
    flags = [(f.text, f.reason) for f in scan_comment(text, known)]
    assert flags == [
        ("新潟みなと大学", "審査委員の所属"),
        ("山田さん", "人名の可能性（敬称・役職つき）"),
        ("田中先生", "人名の可能性（敬称・役職つき）"),
        ("株式会社みなと商事", "団体・組織名の可能性"),
        ("みなと商工会議所", "団体・組織名の可能性"),
        ("ミナト見守りの会", "応募団体の名称"),
    ]
    assert scan_comment(PLAIN, known) == []


@pytest.fixture()
def published(factory):
    """One proposal scored by two reviewers (one naming her own university),
    decided and published with the real verbs."""
    from portal.domain.panel import conflict_declaration
    from portal.domain.scoring import scoring

    session = factory.session
    call = factory.scoring_call()
    members = [factory.panel_member(call, affiliations=[AFFILIATION, "新潟みなと大学"]), factory.panel_member(call)]
    proposal = factory.submitted(call)
    factory.released(proposal)
    now = now_utc()
    for member, comment in zip(members, (NAMING, PLAIN)):
        assignment = session.scalars(select(Assignment).where(
            Assignment.proposal_id == proposal.id, Assignment.panel_member_id == member.id)).one()
        conflict_declaration.confirm_no_conflict(session, assignment, now)
        data = scoring.SheetInput(scores={c.id: scoring.ScoreInput(4, "理由") for c in call.criteria},
                                  comment_for_group=comment)
        scoring.submit_sheet(session, scoring.save_draft(session, assignment, scoring.Stage.DOCUMENT, data, now), now)
    call.scoring_closes_at = now_utc()
    session.commit()
    staff = factory.staff()
    decisions.record_decision(session, call, proposal, outcome="adopted", staff=staff, now=now_utc())
    decisions.finalise(session, call, staff, now_utc())
    publication.publish(session, call, staff, now_utc(), settings=publication.Settings.for_app(factory.app))
    session.commit()
    return {"call": call, "proposal": proposal, "members": members, "staff": staff}


def test_a_flagged_comment_waits_for_staff_before_the_group_reads_it(client, factory, login, csrf, published):
    proposal, call = published["proposal"], published["call"]
    named, plain = published["members"]
    login(proposal.group.account)
    page = client.get(f"/proposals/{proposal.id}/feedback").get_data(as_text=True)
    assert PLAIN in page and "新潟みなと大学" not in page and "山田さん" not in page
    client.post("/logout", data={"csrf_token": csrf(f"/proposals/{proposal.id}")})

    login(published["staff"])
    url = f"/admin/calls/{call.id}/results/{proposal.id}/comments"
    check = client.get(url)
    html = check.get_data(as_text=True)
    assert check.status_code == 200
    assert "「新潟みなと大学」：審査委員の所属" in html and "「山田さん」：人名の可能性（敬称・役職つき）" in html
    assert "要確認（団体にまだ表示しません）" in html
    source = next(s for s in html.split('name="source" value="')[1:]).split('"')[0]
    empty = client.post(url, data={"csrf_token": csrf(url), "source": source, "action": "edit", "edited_text": "  "})
    assert empty.status_code == 422 and "団体に伝える講評を入力してください。" in empty.get_data(as_text=True)
    edited = "同様の調査の例もあり、熱意が伝わる提案です。"
    done = client.post(url, data={"csrf_token": csrf(url), "source": source, "action": "edit", "edited_text": edited})
    assert done.status_code == 302
    rows = factory.session.scalars(select(CommentCheck).order_by(CommentCheck.id)).all()
    assert [(r.source, r.status, r.decided_by_id) for r in rows] == [(source, "edited", published["staff"].id)]
    client.post("/logout", data={"csrf_token": csrf(url)})

    login(proposal.group.account)
    page = client.get(f"/proposals/{proposal.id}/feedback").get_data(as_text=True)
    assert edited in page and PLAIN in page and "新潟みなと大学" not in page


def test_confirming_as_written_shows_it_to_the_group(client, factory, login, csrf, published):
    proposal, call = published["proposal"], published["call"]
    login(published["staff"])
    url = f"/admin/calls/{call.id}/results/{proposal.id}/comments"
    html = client.get(url).get_data(as_text=True)
    source = html.split('name="source" value="')[1].split('"')[0]
    assert client.post(url, data={"csrf_token": csrf(url), "source": source, "action": "confirm"}).status_code == 302
    assert client.post(url, data={"csrf_token": csrf(url), "source": "sheet:999999", "action": "confirm"}) \
        .status_code == 404
    client.post("/logout", data={"csrf_token": csrf(url)})
    login(proposal.group.account)
    assert NAMING in client.get(f"/proposals/{proposal.id}/feedback").get_data(as_text=True)


def test_the_public_review_comment_needs_a_confirmation_when_it_names_someone(client, factory, login, csrf,
                                                                               published):
    proposal, call = published["proposal"], published["call"]
    login(published["staff"])
    url = f"/admin/calls/{call.id}/results/{proposal.id}/decision"
    typed = "新潟みなと大学の知見も生かし、山田さんを中心に進めてください。"
    refused = client.post(url, data={"csrf_token": csrf(url), "outcome": "adopted", "review_comment": typed})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "「新潟みなと大学」（審査委員の所属）" in html and typed in html  # nothing typed is lost
    factory.session.expire_all()
    assert factory.session.scalars(select(Decision.review_comment)).one() == ""
    saved = client.post(url, data={"csrf_token": csrf(url), "outcome": "adopted", "review_comment": typed,
                                   "names_confirmed": "y"})
    assert saved.status_code == 302
    factory.session.expire_all()
    assert factory.session.scalars(select(Decision.review_comment)).one() == typed


def test_the_general_comment_needs_a_confirmation_when_it_names_someone(client, factory, login, csrf, published):
    """The 総評 is published with the results too: a reviewer's affiliation
    or a group's name in it is caught the same way, and what was typed stays."""
    call = published["call"]
    group_name = published["proposal"].group.name
    login(published["staff"])
    url = f"/admin/calls/{call.id}/results/comment"
    typed = f"新潟みなと大学の委員からは、{group_name}の取り組みを高く評価する意見がありました。"
    refused = client.post(url, data={"csrf_token": csrf(f"/admin/calls/{call.id}/results"), "general_comment": typed})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "「新潟みなと大学」（審査委員の所属）" in html and f"「{group_name}」（応募団体の名称）" in html
    assert typed in html and "総評の人名・団体名を確認しました" in html
    factory.session.expire_all()
    assert factory.session.get(type(call), call.id).general_comment == ""
    plain = "いずれも地域に根ざした提案でした。"
    assert client.post(url, data={"csrf_token": csrf(f"/admin/calls/{call.id}/results"),
                                  "general_comment": plain}).status_code == 302
    confirmed = client.post(url, data={"csrf_token": csrf(f"/admin/calls/{call.id}/results"),
                                       "general_comment": typed, "names_confirmed": "y"})
    assert confirmed.status_code == 302
    factory.session.expire_all()
    assert factory.session.get(type(call), call.id).general_comment == typed
