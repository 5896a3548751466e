"""継続 (issue 16 item 8): a draft proposal marks itself as continuing an
earlier adopted project of the same group; staff see which and its
evaluation; reviewers see only that it is a continuation and the earlier
evaluation's grade — never the earlier project's code, title or group."""
from __future__ import annotations

from sqlalchemy import select

from portal.domain.adoption import evaluation as ev
from portal.domain.proposals import workflow
from portal.domain.timeutil import now_utc
from portal.files.objectstore import current_store
from portal.models import Assignment, AssignmentStatus, Proposal

from .adoption_support import signed_in, token_of
from .test_project_work import running_project


def test_a_continuation_is_marked_seen_by_staff_and_anonymous_to_reviewers(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
        earlier = db.get(Proposal, p.pid)
        earlier.title = "みなと川沿い見守りネットワーク事業"
        for side in ev.SIDES:
            ev.save(db, earlier, side, scores={str(i): 4 for i in range(11)}, comments={}, overall="",
                    user=None, now=now_utc(), submit=True)
        ev.publish(db, earlier, render=lambda pr, c: b"%PDF-1.4 evaluation", store=current_store(), user=None,
                   now=now_utc())
        group_name = earlier.group.name
        new_call = f.call()
        draft = f.proposal(p.group, new_call, declarations=True)
        other_draft = f.proposal(p.other_group, new_call, declarations=True)
        member = f.panel_member(new_call)
        db.commit()
        draft_id, other_id, reviewer = draft.id, other_draft.id, member.user
    group = signed_in(app, p.group)
    url = f"/proposals/{draft_id}/continuation"
    page = group.get(url)
    assert page.status_code == 200 and "みなと川沿い見守りネットワーク事業" in page.text
    token = token_of(group, url)
    assert group.post(url, data={"csrf_token": token, "earlier": "abc"}).status_code == 422
    assert group.post(url, data={"csrf_token": token, "earlier": str(draft_id)}).status_code == 422
    assert group.post(url, data={"csrf_token": token, "earlier": str(p.pid)}).status_code == 302
    # another group cannot name this project as its own earlier one, nor see this page
    other = signed_in(app, p.other_group)
    other_url = f"/proposals/{other_id}/continuation"
    refused = other.post(other_url, data={"csrf_token": token_of(other, other_url), "earlier": str(p.pid)})
    assert refused.status_code == 422 and "継続元" in refused.text
    assert other.get(url).status_code == 404

    with app.app_context():
        proposal = db.get(Proposal, draft_id)
        workflow.submit_proposal(db, proposal, p.group, proposal.version, now_utc())
        db.commit()
    staff = signed_in(app, p.staff)  # at intake: which project, and its evaluation
    intake = staff.get(f"/admin/calls/{db.get(Proposal, draft_id).call_id}/intake/{draft_id}")
    assert intake.status_code == 200 and f'href="/admin/adoption/proposals/{draft_id}/continuation"' in intake.text
    seen = staff.get(f"/admin/adoption/proposals/{draft_id}/continuation")
    earlier_code = db.get(Proposal, p.pid).anonymous_code
    assert seen.status_code == 200 and earlier_code in seen.text and "優良" in seen.text and "80.0" in seen.text
    with seed() as f:
        f.released(db.get(Proposal, draft_id))
        assignment = db.scalars(select(Assignment).where(Assignment.proposal_id == draft_id)
                                .order_by(Assignment.id)).first()
        assignment.status = AssignmentStatus.CLEARED
        db.commit()
        assignment_id = assignment.id
    review = signed_in(app, reviewer).get(f"/review/assignments/{assignment_id}")
    assert review.status_code == 200
    assert "以前の採択事業を継続する提案です" in review.text and "前の事業の評価：優良" in review.text
    for secret in (earlier_code, "みなと川沿い見守りネットワーク事業", group_name):
        assert secret not in review.text, secret
    # a submitted proposal's continuation no longer changes
    assert group.post(url, data={"csrf_token": token, "earlier": "none"}).status_code == 409
