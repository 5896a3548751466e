"""The public verification page, the documents only it needs (the 募集要項
as hashed, every version's log PDF), the readable log page, and publishing
only with a real public address (no localhost in published documents)."""
from __future__ import annotations

import hashlib

import pytest

from portal.domain.log import chain
from portal.domain.results import publication
from portal.domain.results.publication import PublicationRefused
from portal.domain.timeutil import now_utc

from .results_support import build, close_scoring, decide_as_recommended, score, use_temporary_key


@pytest.fixture()
def published(app, factory, db, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://kyodo.city.example.jp")
    settings = use_temporary_key(app, monkeypatch, tmp_path)
    s = build(factory, reviewers=2, proposals=2)
    score(db, s, 0, 0, [5, 4, 3, 4, 2])
    score(db, s, 1, 0, [4, 4, 4, 3, 3])
    score(db, s, 0, 1, [2, 2, 2, 2, 2])
    score(db, s, 1, 1, [3, 3, 3, 3, 3])
    close_scoring(db, s)
    s.extra["staff"] = factory.staff()
    decide_as_recommended(db, s, s.extra["staff"])
    publication.publish(db, s.call, s.extra["staff"], now_utc(), settings=settings)
    db.commit()
    s.extra["settings"] = settings
    return s


def log_of(client, slug) -> dict:
    response = client.get(f"/calls/{slug}/log.json")
    assert response.status_code == 200
    return response.get_json()


def test_every_published_document_is_served_and_hashed_in_the_log(client, published):
    slug = published.call.slug
    log = log_of(client, slug)
    guidelines = client.get(f"/calls/{slug}/guidelines.json")
    assert guidelines.status_code == 200 and guidelines.mimetype == "application/json"
    assert hashlib.sha256(guidelines.data).hexdigest() == log["entries"][0]["payload"]["document_sha256"]
    entry = next(e for e in log["entries"] if e["kind"] == "results_published")["payload"]
    assert entry["version"] == 1
    results = client.get(f"/calls/{slug}/results/v1.json").get_json()
    assert hashlib.sha256(chain.canonical_json(results)).hexdigest() == entry["results_sha256"]
    assert hashlib.sha256(client.get(f"/calls/{slug}/results/v1.csv").data).hexdigest() == entry["csv_sha256"]
    assert hashlib.sha256(client.get(f"/calls/{slug}/results/v1.pdf").data).hexdigest() == entry["document_sha256"]
    log_pdf = client.get(f"/calls/{slug}/log/v1.pdf")
    assert log_pdf.status_code == 200 and log_pdf.data.startswith(b"%PDF")
    assert hashlib.sha256(log_pdf.data).hexdigest() == entry["log_pdf_sha256"] == results["log_pdf_sha256"]
    assert client.get(f"/calls/{slug}/log/v2.pdf").status_code == 404
    assert client.get(f"/calls/{slug}/log/v0.pdf").status_code == 404
    rules = {r["field"]: r["value"] for r in log["entries"][0]["payload"]["rules"]}
    assert rules["rounding"] == "ROUND_HALF_UP" and rules["veto_quorum"] == "majority"
    assert results["rules"]["counted_stages"] == ["document_revised", "document"]


def test_no_localhost_in_published_documents(client, published):
    slug = published.call.slug
    for url in (f"/calls/{slug}/log.json", f"/calls/{slug}/results/v1.json", f"/calls/{slug}/results/v1.csv"):
        data = client.get(url).data
        assert b"localhost" not in data, url
    assert "https://kyodo.city.example.jp/calls/" in client.get(f"/calls/{slug}/results/v1.json").get_data(as_text=True)


def test_publication_is_refused_without_a_public_address(app, factory, db, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "")
    settings = use_temporary_key(app, monkeypatch, tmp_path)
    assert settings.base_url == ""
    s = build(factory, reviewers=2, proposals=1)
    score(db, s, 0, 0, [5, 4, 3, 4, 2])
    score(db, s, 1, 0, [4, 4, 4, 3, 3])
    close_scoring(db, s)
    staff = factory.staff()
    decide_as_recommended(db, s, staff)
    with pytest.raises(PublicationRefused, match="PORTAL_BASE_URL"):
        publication.publish(db, s.call, staff, now_utc(), settings=settings)
    db.rollback()
    assert publication.latest(db, s.call) is None


def test_production_has_no_localhost_default(monkeypatch):
    from config import ProductionConfig

    assert ProductionConfig.PUBLIC_BASE_URL in ("", __import__("os").environ.get("PORTAL_BASE_URL"))


def test_the_verification_page_says_what_the_log_proves_and_does_not(client, published):
    page = client.get("/transparency/verify").get_data(as_text=True)
    assert "記録で確かめられること" in page and "記録では確かめられないこと" in page
    assert "審査委員が公正に採点したかどうか" in page
    assert "js/verify-core.js" in page and "<script>" not in page  # no inline script under the CSP
    slug = published.call.slug
    page = client.get(f"/transparency/verify?call={slug}").get_data(as_text=True)
    assert f'data-call="{slug}"' in page and 'data-versions="1"' in page
    assert client.get("/transparency/verify?call=%00").status_code == 200  # an odd slug: the page without a call


def test_results_and_log_pages_link_the_verification_and_offer_the_button(client, published):
    slug = published.call.slug
    for url in (f"/calls/{slug}/results", f"/calls/{slug}/log"):
        page = client.get(url).get_data(as_text=True)
        assert f"/transparency/verify?call={slug}" in page, url
        assert "data-verify-call" in page and 'data-versions="1"' in page, url


def test_the_log_page_reads_as_sentences_with_weights_as_published(client, published):
    slug = published.call.slug
    page = client.get(f"/calls/{slug}/log").get_data(as_text=True)
    member = published.members[0].pseudonym
    assert f"{member}が{published.code(0)}の採点（一次審査）を封印しました。" in page
    assert "（重み×2、1〜5点）" in page and "重み×200" not in page
    assert "令和" in page and "（日本時間）" in page
    sealed = client.get(f"/calls/{slug}/log?kind=score_sealed").get_data(as_text=True)
    assert sealed.count('class="log-entry"') == 4
    assert "「採点の封印」の記録 4件を表示しています。" in sealed
    everything = client.get(f"/calls/{slug}/log?kind=nonsense").get_data(as_text=True)
    assert everything.count('class="log-entry"') == len(log_of(client, slug)["entries"])
