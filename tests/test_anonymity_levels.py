"""Issue 14, items 1 and 2 through the app: the profile's 通称・略称 and
活動拠点 feed the scan (reviewers never see them); sure hits are redacted by
default, pointers are flagged with their reason and must each be decided,
and the server refuses a release while one is undecided, also when the
request is forced past the screen."""
from __future__ import annotations

from sqlalchemy import select

from portal.domain.anonymity import redaction, review_copy
from portal.domain.anonymity.release import ReleaseRefused, release_for_review
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.models import FindingStatus, Group, Proposal, ProposalStatus, RedactionFinding, ReviewCopy

from .conftest import csrf_token_from
from .test_anonymisation_flow import base, findings, make_world, post
from .test_profile import post_profile, profile_client  # noqa: F401  (fixture)

import pytest


def test_the_profile_keeps_aliases_and_bases(profile_client, db):  # noqa: F811
    client, user_id = profile_client
    response = post_profile(client, aliases="わんパト\n\n ＷＰ隊 ", activity_bases="港南コミュニティハウス\n港南小学校")
    assert response.status_code == 302
    group = db.scalars(select(Group).where(Group.account_id == user_id)).one()
    db.refresh(group)
    assert group.aliases == ["わんパト", "ＷＰ隊"] and group.activity_bases == ["港南コミュニティハウス", "港南小学校"]
    page = client.get("/profile")
    assert "通称・略称" in page.text and "わんパト" in page.text and "港南小学校" in page.text


def test_too_many_lines_is_a_japanese_message_and_keeps_the_input(profile_client, db):  # noqa: F811
    client, _user_id = profile_client
    typed = "\n".join(f"拠点{i}" for i in range(60))
    response = post_profile(client, activity_bases=typed)
    assert response.status_code == 422
    assert "50行まで入力できます" in response.text and "拠点59" in response.text


@pytest.fixture()
def world(seed, db):
    with seed() as f:
        w = make_world(f, db)
        proposal = db.get(Proposal, w.proposal_id)
        group = proposal.group
        group.aliases = ["見守りカフェ"]
        group.activity_bases = ["中央いこいの家"]
        db.commit()
        return w


def test_sure_hits_are_redacted_and_pointers_wait_with_their_reason(client, login, db, world):
    login(world.staff)
    assert post(client, world, "/scan").status_code == 302
    rows = findings(db, world)
    by_text = {r.text: r for r in rows}
    # The 通称 from the profile is a sure hit (title: みなと見守りの会の見守りカフェ事業).
    cafe = [r for r in rows if r.location == "field:title" and "見守りカフェ" in r.text]
    assert cafe and all(r.status == FindingStatus.REDACT and r.confidence == "high" for r in cafe)
    # 中央地区 (the town of the group's address) is a pointer: undecided, with its reason.
    pointer = by_text["中央地区"]
    assert pointer.confidence == "low" and pointer.status == FindingStatus.PENDING
    assert pointer.reason == "団体の所在地の町名「中央」と同じ地名"
    page = client.get(base(world))
    assert "理由：団体の所在地の町名「中央」と同じ地名" in page.text and "要判断" in page.text


def _check_image(client, world, db):
    for attachment in review_copy.review_attachments(db, db.get(Proposal, world.proposal_id)):
        if review_copy.needs_eye_check(attachment):
            assert post(client, world, f"/attachments/{attachment.id}", checked_by_eye="y").status_code == 302


def test_release_is_refused_until_every_pointer_is_decided(client, login, db, world):
    login(world.staff)
    post(client, world, "/scan")
    _check_image(client, world, db)
    release_url = f"/admin/calls/{world.call_id}/anonymise/release"
    token = csrf_token_from(client.get(f"/admin/calls/{world.call_id}/anonymise").text)
    refused = client.post(release_url, data={"csrf_token": token, "proposal_id": str(world.proposal_id)})
    assert refused.status_code == 409 and "決めていない検出" in refused.text
    db.expire_all()
    assert db.get(Proposal, world.proposal_id).status == ProposalStatus.ACCEPTED
    pending = [r for r in findings(db, world) if r.status == FindingStatus.PENDING]
    assert pending and all(r.confidence == "low" for r in pending)
    for row in pending:
        assert post(client, world, f"/findings/{row.id}", decision="dismiss" if row.kind == "person" else "redact") \
            .status_code == 302
    released = client.post(release_url, data={"csrf_token": token, "proposal_id": str(world.proposal_id)})
    assert released.status_code == 302
    db.expire_all()
    copy = db.scalars(select(ReviewCopy).where(ReviewCopy.proposal_id == world.proposal_id)).one()
    background = next(f["text"] for f in copy.content["fields"] if f["key"] == "background")
    assert "中央地区" not in background and "＜場所＞" in background


def test_a_forced_release_is_refused_by_the_server(app, db, world):
    """No screen at all: the verb itself refuses before a scan, and with a
    pointer undecided after one; a sure hit put back to undecided too."""
    proposal = db.get(Proposal, world.proposal_id)
    with pytest.raises(ReleaseRefused):
        release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    redaction.scan(db, proposal, None, now_utc(), store=store_of(app))
    for attachment in review_copy.review_attachments(db, proposal):
        redaction.set_attachment(db, attachment, excluded=True, checked_by_eye=False)
    with pytest.raises(ReleaseRefused) as refused:
        release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    assert "決めていない検出" in refused.value.message
    for row in review_copy.findings_of(db, proposal):
        if row.status == FindingStatus.PENDING:
            redaction.decide_finding(db, row, FindingStatus.REDACT, None, now_utc())
    sure = next(r for r in review_copy.findings_of(db, proposal) if r.confidence == "high")
    redaction.decide_finding(db, sure, FindingStatus.PENDING, None, now_utc())
    with pytest.raises(ReleaseRefused):
        release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    redaction.decide_finding(db, sure, FindingStatus.REDACT, None, now_utc())
    assert release_for_review(db, [proposal], None, now_utc(), store=store_of(app))
    assert db.scalars(select(RedactionFinding).where(RedactionFinding.proposal_id == proposal.id,
                                                     RedactionFinding.status == FindingStatus.PENDING)).all() == []
