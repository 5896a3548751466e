"""審査結果の通知: a group's private page with its own averages, rank and
the reviewers' comments, only for the owning group and only after the
results are published."""
from __future__ import annotations

import pytest

from portal.domain.results import publication
from portal.domain.timeutil import now_utc

from .test_public_results import SECRET_NAME, Tables, RealPublished


@pytest.fixture()
def decided(factory):
    """Scored and decided, not yet published."""
    return RealPublished(factory, publish=False)


def _publish(factory, decided):
    decided.publication = publication.publish(factory.session, decided.call, decided.staff, now_utc(),
                                              settings=decided.settings)
    decided.document = decided.publication.results
    factory.session.commit()


def _owner(proposal):
    return proposal.group.account


def test_feedback_waits_for_publication_then_shows_the_groups_own_figures(client, factory, login, decided):
    proposal = decided.consented
    login(_owner(proposal))
    url = f"/proposals/{proposal.id}/feedback"
    before = client.get(url)
    assert before.status_code == 404
    assert "公表後" in before.get_data(as_text=True)
    assert url not in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)

    _publish(factory, decided)
    assert url in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    entry = next(p for p in decided.document["proposals"] if p["code"] == proposal.anonymous_code)
    means = {row[0]: row[1] for row in Tables(html).tables[f"審査項目ごとの平均点（{entry['scorer_count']}人の平均）"][1:]}
    assert means == {c["name"]: entry["criterion_means"][c["key"]] for c in decided.document["criteria"]}
    ranked = sum(1 for p in decided.document["proposals"] if p["rank"] is not None)
    assert ranked == 3 and f"{ranked}件中 {entry['rank']}位" in html
    assert entry["score"] in html
    # The reviewers' comments for this group, under their pseudonyms only.
    for member in decided.members:
        assert f"<dt>{member.pseudonym}</dt>" in html
        assert f"{member.pseudonym}からconsentedへの講評です。" in html
        assert member.user.display_name not in html
    assert "adoptedへの講評" not in html and "secretへの講評" not in html  # other groups' comments
    assert "の理由" not in html  # per-criterion reasons and panel notes stay with the panel
    assert "consentedの講評：地域への波及効果が期待できる。" in html


def test_only_the_owning_group_sees_the_feedback(client, factory, login, csrf, decided):
    _publish(factory, decided)
    url = f"/proposals/{decided.secret.id}/feedback"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(_owner(decided.adopted))  # another group
    response = client.get(url)
    assert response.status_code == 404
    assert SECRET_NAME not in response.get_data(as_text=True)
    assert "secretへの講評" not in response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf(f"/proposals/{decided.adopted.id}")})
    login(decided.staff)  # staff use their own pages, not the group's
    assert client.get(url).status_code == 403


def test_a_proposal_that_was_not_scored_has_no_feedback(client, factory, login, decided):
    late = factory.submitted(decided.call)  # submitted, never released to the panel
    _publish(factory, decided)
    login(_owner(late))
    assert client.get(f"/proposals/{late.id}/feedback").status_code == 404
    assert f"/proposals/{late.id}/feedback" not in client.get(f"/proposals/{late.id}").get_data(as_text=True)


def test_unknown_or_odd_proposal_ids_are_404(client, factory, login):
    login(factory.applicant())
    for path in ("/proposals/0/feedback", "/proposals/99999999/feedback", "/proposals/99999999999999/feedback",
                 "/proposals/-1/feedback", "/proposals/abc/feedback"):
        assert client.get(path).status_code == 404, path
