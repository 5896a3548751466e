"""A group decides whether its name may be published if it is not adopted,
until the results are out."""
from __future__ import annotations

from portal.domain.timeutil import now_utc
from portal.models import Proposal

from .conftest import csrf_token_from


def test_the_group_gives_and_withdraws_consent_until_results_are_published(client, login, factory, db):
    call = factory.call()
    proposal = factory.submitted(call)
    owner = proposal.group.account
    login(owner)
    page = client.get(f"/proposals/{proposal.id}")
    assert "審査結果での団体名の公表" in page.text
    token = csrf_token_from(page.text)

    response = client.post(f"/proposals/{proposal.id}/name-consent", data={"csrf_token": token, "consent": "yes"})
    assert response.status_code == 302
    assert db.get(Proposal, proposal.id).name_publication_consent is True
    client.post(f"/proposals/{proposal.id}/name-consent", data={"csrf_token": token, "consent": "no"})
    assert db.get(Proposal, proposal.id).name_publication_consent is False

    refused = client.post(f"/proposals/{proposal.id}/name-consent", data={"csrf_token": token, "consent": "maybe"})
    assert refused.status_code == 400 and "選んでください" in refused.text
    assert db.get(Proposal, proposal.id).name_publication_consent is False

    call.results_published_at = now_utc()
    db.commit()
    late = client.post(f"/proposals/{proposal.id}/name-consent", data={"csrf_token": token, "consent": "yes"})
    assert late.status_code == 403 and "公表後は変更できません" in late.text
    assert db.get(Proposal, proposal.id).name_publication_consent is False


def test_another_group_cannot_touch_the_setting(client, login, factory, db):
    call = factory.call()
    proposal = factory.submitted(call)
    other = factory.applicant()
    login(other)
    token = csrf_token_from(client.get("/dashboard").text)
    response = client.post(f"/proposals/{proposal.id}/name-consent", data={"csrf_token": token, "consent": "yes"})
    assert response.status_code == 404
    assert db.get(Proposal, proposal.id).name_publication_consent is False
