"""Publication: refused until the scoring is over and the decisions are
final; then the results document, the PDFs (stored once, A4, IPAex, PDF/UA,
the JSON's numbers), the signed log with every seal revealed, corrections
as new versions, the CSV twin, scheduled publication, and PDFs that fetch
nothing whatever the text says."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sys
from datetime import timedelta
from decimal import Decimal

import pikepdf
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

import portal.pdf
from portal.domain.log import chain, process_log, published_log, signing, verification
from portal.domain.results import decisions, publication
from portal.domain.timeutil import now_utc
from portal.mail import send_mail
from portal.models import DecisionOutcome, LogEntry, OutboxMessage, ProposalStatus, Publication

from .results_support import build, close_scoring, decide_as_recommended, score, use_temporary_key
from .test_pdf import embedded_fonts, pdf_text

A4_POINTS = (595.28, 841.89)


@pytest.fixture()
def settings(app, monkeypatch, tmp_path):
    return use_temporary_key(app, monkeypatch, tmp_path)


def scored_call(factory, db, **overrides):
    """提案0: (34 + 33 + 37) / 3 = 34.67, recommended (>= 22.5 = 45 × 0.5).
    提案1: (9 + 18 + 18) / 3 = 15.00, not recommended."""
    s = build(factory, reviewers=3, proposals=2, threshold_share=Decimal("0.5"), **overrides)
    score(db, s, 0, 0, [5, 4, 3, 4, 2], comment="担い手が明確です。")
    score(db, s, 1, 0, [4, 4, 4, 3, 3])
    score(db, s, 2, 0, [3, 5, 4, 4, 5])
    score(db, s, 0, 1, [1, 1, 1, 1, 1])
    score(db, s, 1, 1, [2, 2, 2, 2, 2])
    score(db, s, 2, 1, [2, 2, 2, 2, 2])
    close_scoring(db, s)
    s.extra["staff"] = factory.staff()
    return s


@pytest.fixture()
def ready(factory, db):
    s = scored_call(factory, db)
    s.call.general_comment = "どの提案も地域の課題に真剣に向き合っていました。"
    decide_as_recommended(db, s, s.extra["staff"], comment="講評の本文です。")
    return s


def publish(db, s, settings, reason="", mails=None):
    row = publication.publish(db, s.call, s.extra["staff"], now_utc(), reason, settings=settings,
                              mailer=send_mail if mails is None else (lambda *m: mails.append(m)))
    db.commit()
    return row


def floats_in(value, path="$"):
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in floats_in(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in floats_in(v, f"{path}[{i}]")]
    return []


def log_count(db, call):
    return db.scalar(select(func.count()).select_from(LogEntry).where(LogEntry.call_id == call.id))


# -- refusals ---------------------------------------------------------------------

def test_publication_is_refused_until_scoring_is_over_and_decisions_are_final(factory, db, settings):
    s = build(factory, reviewers=1, proposals=2)
    score(db, s, 0, 0, [4, 4, 4, 4, 4])
    score(db, s, 0, 1, [3, 3, 3, 3, 3])
    staff = factory.staff()
    entries = log_count(db, s.call)
    with pytest.raises(publication.PublicationRefused, match="採点期間"):
        publication.publish(db, s.call, staff, now_utc(), settings=settings)
    close_scoring(db, s)
    with pytest.raises(publication.PublicationRefused, match="決定が入力されていない"):
        publication.publish(db, s.call, staff, now_utc(), settings=settings)
    for proposal in s.proposals:
        decisions.record_decision(db, s.call, proposal, outcome=DecisionOutcome.ADOPTED, staff=staff, now=now_utc())
    with pytest.raises(publication.PublicationRefused, match="確定"):
        publication.publish(db, s.call, staff, now_utc(), settings=settings)
    assert db.scalars(select(Publication)).all() == []
    assert log_count(db, s.call) == entries
    assert all(p.status == ProposalStatus.REVIEW for p in s.proposals)
    decisions.finalise(db, s.call, staff, now_utc())
    assert publication.publish(db, s.call, staff, now_utc(), settings=settings).version == 1


# -- the first publication --------------------------------------------------------------

def test_publishing_stores_signed_documents_reveals_the_seals_and_tells_the_groups(db, ready, settings):
    before = publication.log_document(db, ready.call, settings.key)
    assert before["commitments_revealed"] == []  # nothing revealed before publication
    assert published_log.verify_document(before, signing.public_key_pem(settings.key)).ok

    row = publish(db, ready, settings)
    assert row.version == 1 and row.reason == ""
    entries = process_log.entries(db, ready.call)
    assert [e.kind for e in entries[-2:]] == [chain.SCORES_REVEALED, chain.RESULTS_PUBLISHED]
    seals = [e for e in entries if e.kind == chain.SCORE_SEALED]
    assert entries[-2].payload == {"revealed_count": len(seals)} and len(seals) == 6
    # The log pins the stored results PDF; the head is signed with the city's key.
    pdf = publication.results_pdf_bytes(db, ready.call, store=settings.store)
    assert entries[-1].payload["document_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert entries[-1].payload["url"].endswith(f"/calls/{ready.call.slug}/results/v1.pdf")
    assert (row.head_seq, row.head_hash) == (entries[-1].seq, entries[-1].hash)
    assert signing.verify_head_signature(signing.public_key_pem(settings.key), row.head_hash, row.head_seq,
                                       row.head_signature)
    assert row.results_sha256 == hashlib.sha256(chain.canonical_json(row.results)).hexdigest()
    # Stored once: downloads are the same bytes.
    assert publication.results_pdf_bytes(db, ready.call, store=settings.store) == pdf
    log_pdf = publication.log_pdf_bytes(db, ready.call, store=settings.store)
    assert hashlib.sha256(log_pdf).hexdigest() == row.results["log_pdf_sha256"]
    # The log as published now reveals every seal and verifies with the city's key.
    after = publication.log_document(db, ready.call, settings.key)
    assert sorted(r["seq"] for r in after["commitments_revealed"]) == [e.seq for e in seals]
    report = published_log.verify_document(after, signing.public_key_pem(settings.key))
    assert report.ok and report.revealed == 6
    # Proposals, call and mail.
    assert all(p.status == ProposalStatus.RESULTS for p in ready.proposals)
    assert ready.call.results_published_at is not None
    sent = db.scalars(select(OutboxMessage).where(OutboxMessage.subject.contains("審査結果を公表しました"))).all()
    assert sorted(m.recipient for m in sent) == sorted(p.group.contact_email for p in ready.proposals)
    assert verification.verify_call(db, ready.call, settings.key, settings.store).ok


def test_the_results_document_follows_the_contract(db, ready, settings):
    document = publish(db, ready, settings).results
    assert floats_in(document) == []
    assert document["format"] == "kyodo-portal/results/v1" and document["version"] == 1
    assert document["call"]["ref"] == ready.call.slug and document["call"]["url"].endswith("/results")
    assert document["counts"] == {"received": 2, "accepted": 2, "released": 2, "adopted": 1}
    assert document["general_comment"] == "どの提案も地域の課題に真剣に向き合っていました。"
    assert document["roster"] is None
    assert [c["key"] for c in document["criteria"]] == ["0", "1", "2", "3", "4"]
    assert document["criteria"][0] == {"key": "0", "name": "公益性", "description": "公益性の説明", "weight": "2",
                                       "min": 1, "max": 5}
    assert "平均" in document["rules"]["formula"] and document["rules"]["method"] == "mean"
    adopted, other = document["proposals"]
    assert adopted["code"] == ready.code(0) and adopted["rank"] == 1 and adopted["recommended"]
    assert adopted["score"] == "34.67" and adopted["share_of_max"] == "0.7704" and adopted["scorer_count"] == 3
    assert adopted["criterion_means"] == {"0": "4.00", "1": "4.33", "2": "3.67", "3": "3.67", "4": "3.33"}
    assert adopted["decision"] == {"outcome": "adopted", "label": "採択", "reason": "", "conditions": ""}
    assert adopted["group_name"] == ready.proposals[0].group.name and adopted["summary"] == "目的の内容です。"
    assert adopted["reviewers"][0] == {"reviewer": "委員A", "scores": {"0": 5, "1": 4, "2": 3, "3": 4, "4": 2},
                                       "total": "34", "dropped": False}
    assert adopted["review_comment"] == "講評の本文です。"
    # Not adopted and no consent: anonymous code only.
    assert other["score"] == "15.00" and not other["recommended"]
    assert other["group_name"] is None and other["title"] is None and other["summary"] is None
    assert other["decision"]["outcome"] == "not_adopted" and other["decision"]["reason"]
    head = document["log_head"]
    assert signing.verify_head_signature(document["public_key_pem"], head["hash"], head["seq"], head["signature"])
    assert document["verification"]["public_key_fingerprint"] == signing.key_fingerprint(document["public_key_pem"])
    assert document["verification"]["log_json_url"].endswith(f"/calls/{ready.call.slug}/log.json")
    # Anyone can recompute every figure from the document alone.
    assert verification.document_problems(document) == []


def test_the_pdf_is_a4_tagged_with_the_font_embedded_and_carries_the_json_numbers(db, ready, settings):
    document = publish(db, ready, settings).results
    pdf = publication.results_pdf_bytes(db, ready.call, store=settings.store)
    for page in PdfReader(io.BytesIO(pdf)).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == \
            (round(A4_POINTS[0]), round(A4_POINTS[1]))
    assert any("IPAex" in name for name, _key in embedded_fonts(pdf))
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert opened.Root.MarkInfo.Marked  # tagged
        assert "/StructTreeRoot" in opened.Root
        assert opened.open_metadata().get("pdfuaid:part") == "1"
    text = pdf_text(pdf)
    compact = "".join(text.split())
    assert ready.call.title in text and "審査結果" in text
    assert document["log_head"]["hash"] in compact  # the footer, on every page
    assert document["verification"]["log_url"] in compact
    for p in document["proposals"]:
        assert p["code"] in text and p["score"] in text
        assert f"{Decimal(p['share_of_max']).scaleb(2)}%" in text
        for mean in p["criterion_means"].values():
            assert mean in text
        for reviewer in p["reviewers"]:
            assert f"{reviewer['reviewer']} {reviewer['total']}" in text
    assert re.search(r"(?m)^1\s*/\s*\d+$", text)  # page numbers
    log_text = pdf_text(publication.log_pdf_bytes(db, ready.call, store=settings.store))
    assert "審査プロセスの記録" in log_text and document["log_head"]["hash"] in "".join(log_text.split())


def test_roster_and_consented_names(factory, db, settings):
    s = scored_call(factory, db, publish_roster=True, consent=(1,))
    s.members[0].public_title = "大学教授"
    decide_as_recommended(db, s, s.extra["staff"])
    document = publish(db, s, settings).results
    # Names are never paired with the pseudonyms the scores are published under.
    assert all(set(entry) == {"name", "title", "chair"} for entry in document["roster"])
    titled = [entry for entry in document["roster"] if entry["title"] == "大学教授"]
    assert [entry["name"] for entry in titled] == [s.members[0].user.display_name]
    # 提案1 was not adopted, but its group agreed to be named.
    assert document["proposals"][1]["group_name"] == s.proposals[1].group.name


# -- corrections ----------------------------------------------------------------------------

def test_a_correction_needs_a_reason_makes_a_new_version_and_keeps_the_old_one(db, ready, settings):
    first = publish(db, ready, settings)
    first_pdf = publication.results_pdf_bytes(db, ready.call, 1, store=settings.store)
    first_document = dict(first.results)
    with pytest.raises(publication.PublicationRefused, match="訂正の理由"):
        publication.publish(db, ready.call, ready.extra["staff"], now_utc(), settings=settings)
    decisions.record_decision(db, ready.call, ready.proposals[1], outcome=DecisionOutcome.CONDITIONAL,
                              reason="委員会の再審議により、規模を縮小して採択します。", conditions="事業費を半額とすること。",
                              staff=ready.extra["staff"], now=now_utc())
    with pytest.raises(publication.PublicationRefused, match="確定"):
        publication.publish(db, ready.call, ready.extra["staff"], now_utc(), "決定の訂正", settings=settings)
    decisions.finalise(db, ready.call, ready.extra["staff"], now_utc())
    second = publish(db, ready, settings, reason="提案の決定を訂正しました。")
    assert second.version == 2 and second.reason == "提案の決定を訂正しました。"
    corrections = [e for e in process_log.entries(db, ready.call) if e.kind == chain.CORRECTION]
    assert len(corrections) == 1 and corrections[0].payload["corrects_seq"] == first.head_seq
    assert corrections[0].payload["reason"] == "提案の決定を訂正しました。"
    assert second.results["proposals"][1]["decision"]["outcome"] == "conditional"
    assert second.results["proposals"][1]["departs"] is True
    assert second.results["counts"]["adopted"] == 2
    # Version 1 is kept as it was, and still verifies.
    assert publication.results_pdf_bytes(db, ready.call, 1, store=settings.store) == first_pdf
    assert publication.results_document(db, ready.call, 1) == first_document
    assert publication.results_document(db, ready.call)["version"] == 2
    assert verification.verify_call(db, ready.call, settings.key, settings.store).problems == []


# -- the CSV twin ------------------------------------------------------------------------------

def test_the_csv_has_a_bom_and_every_score_to_recompute_the_ranking(db, ready, settings):
    document = publish(db, ready, settings).results
    data = publication.csv_bytes(document)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 2 * 3 * 5  # proposals × reviewers × criteria
    for p in document["proposals"]:
        mine = [r for r in rows if r["提案コード"] == p["code"]]
        totals = {}
        for r in mine:
            totals[r["委員"]] = totals.get(r["委員"], Decimal(0)) + Decimal(r["重み"]) * int(r["点数"])
        mean = sum(totals.values()) / len(totals)
        assert mean.quantize(Decimal("0.01")) == Decimal(p["score"])
        assert {r["委員の合計点"] for r in mine} == {t["total"] for t in p["reviewers"]}


# -- scheduled publication -------------------------------------------------------------------

def test_publish_due_publishes_what_is_due_and_reports_what_is_not(app, factory, db, settings):
    due = scored_call(factory, db)
    decide_as_recommended(db, due, due.extra["staff"])
    due.call.results_scheduled_at = now_utc() - timedelta(minutes=5)
    undecided = scored_call(factory, db)
    undecided.call.results_scheduled_at = now_utc() - timedelta(minutes=5)
    later = scored_call(factory, db)
    decide_as_recommended(db, later, later.extra["staff"])
    later.call.results_scheduled_at = now_utc() + timedelta(days=1)
    db.commit()
    outcome = app.test_cli_runner().invoke(args=["publish-due"])
    assert outcome.exit_code == 1
    assert f"公表しました  {due.call.slug}" in outcome.output
    assert undecided.call.slug in outcome.output and "決定が入力されていない" in outcome.output
    published = {row.call_id for row in db.scalars(select(Publication))}
    assert published == {due.call.id}


# -- nothing is fetched ---------------------------------------------------------------------------

_WATCHED: list[str] = []
_OPENED: list[str] = []


def _audit(event, args):
    if event == "open" and _WATCHED and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if any(watched in path for watched in _WATCHED):
            _OPENED.append(path)


sys.addaudithook(_audit)  # inert unless a test watches a path


@pytest.fixture()
def fetchers(monkeypatch):
    made: list[portal.pdf.RefusingURLFetcher] = []

    class Recording(portal.pdf.RefusingURLFetcher):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(portal.pdf, "RefusingURLFetcher", Recording)
    return made


def test_text_that_looks_like_html_or_css_is_printed_and_nothing_is_fetched(factory, db, settings, fetchers,
                                                                             tmp_path):
    secret = tmp_path / "secret-do-not-read.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    img = f'<img src="file://{secret}">'
    s = scored_call(factory, db, titles=[img, "普通の事業名"])
    s.proposals[0].purpose = f'<div style="background:url(file://{secret})">目的</div>'
    s.call.general_comment = (f'</p><style>@import url("file://{secret}"); '
                              f'body {{ background: url(file://{secret}) }}</style>')
    decide_as_recommended(db, s, s.extra["staff"], comment=f'<link rel="stylesheet" href="file://{secret}">講評')
    _WATCHED.append(secret.name)
    try:
        publish(db, s, settings)
    finally:
        _WATCHED.clear()
    assert _OPENED == []
    assert fetchers and all(f.refused == [] for f in fetchers), [f.refused for f in fetchers]
    text = pdf_text(publication.results_pdf_bytes(db, s.call, store=settings.store))
    compact = "".join(text.split())
    assert "TOP-SECRET-CONTENT" not in text
    assert "".join(img.split()) in compact  # printed as the text it is
    assert "@importurl(" in compact and "<linkrel=" in compact


# -- through the staff page -------------------------------------------------------------------

def test_scheduling_and_publishing_through_the_staff_page(client, login, csrf, db, ready, settings):
    login(ready.extra["staff"])
    page = f"/admin/calls/{ready.call.id}/results"
    token = csrf(page)
    scheduled = client.post(f"{page}/schedule", data={"csrf_token": token, "scheduled_at": "2030-04-01T10:00"})
    assert scheduled.status_code == 302
    assert ready.call.results_scheduled_at.isoformat() == "2030-04-01T01:00:00+00:00"  # 10:00 in Tokyo
    bad = client.post(f"{page}/schedule", data={"csrf_token": token, "scheduled_at": "来年の春"})
    assert bad.status_code == 422 and "来年の春" in bad.get_data(as_text=True)

    published = client.post(f"{page}/publish", data={"csrf_token": token})
    assert published.status_code == 302
    row = publication.latest(db, ready.call)
    assert row.version == 1 and row.published_by_id == ready.extra["staff"].id
    html = client.get(page).get_data(as_text=True)
    assert "第1版" in html and "訂正して第2版を公表する" in html
    # A correction without a reason is refused and changes nothing.
    refused = client.post(f"{page}/publish", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 409 and "訂正の理由" in refused.get_data(as_text=True)
    assert [p.version for p in publication.publications(db, ready.call)] == [1]
