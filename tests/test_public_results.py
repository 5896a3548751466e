"""The public results pages, their JSON/CSV/PDF twins, the process log pages
and the calls list: every URL, as an anonymous visitor, before and after
publication, and with odd input.

Most tests publish a results document of the agreed shape directly (a
``Publication`` row), so the pages are tested against the contract; the
end-to-end test at the bottom publishes through the real engine.
"""
from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from portal.domain.log import chain, process_log, published_log, signing
from portal.domain.timeutil import now_utc
from portal.files.objectstore import store_of
from portal.models import Publication

SECRET_NAME = "ないしょの不採択の会"
CONSENTED_NAME = "公表に同意した会"
ADOPTED_NAME = "みなと見守りの会"
PDF_BYTES = b"%PDF-1.4\n% results of the test call\n%%EOF\n"
LOG_PDF_BYTES = b"%PDF-1.4\n% process log of the test call\n%%EOF\n"


# -- building a published call -------------------------------------------------------

def _criteria(call) -> list[dict]:
    return [{"key": str(c.position), "name": c.name, "description": c.description, "weight": str(int(c.weight)),
             "min": c.scale_min, "max": c.scale_max} for c in call.criteria]


def _row(proposal, criteria, sheets, *, rank, outcome, group_name, title=True, reason="", departs=False,
         recommended=None):
    """One proposal of the results document, with its figures computed
    from the reviewers' sheets exactly as docs/aggregation.md says (mean)."""
    weights = {c["key"]: Decimal(c["weight"]) for c in criteria}
    reviewers = []
    for pseudonym, scores in sheets:
        total = sum(weights[k] * v for k, v in scores.items())
        reviewers.append({"reviewer": pseudonym, "scores": scores, "total": str(total)})
    n = len(sheets)
    means = {k: str((Decimal(sum(s[k] for _, s in sheets)) / n).quantize(Decimal("0.01"))) for k in weights}
    score = (sum(Decimal(r["total"]) for r in reviewers) / n).quantize(Decimal("0.01"))
    maximum = sum(weights[c["key"]] * c["max"] for c in criteria)
    labels = {"adopted": "採択", "conditional": "条件付き採択", "not_adopted": "不採択"}
    return {
        "code": proposal.anonymous_code, "rank": rank,
        "recommended": outcome != "not_adopted" if recommended is None else recommended,
        "decision": {"outcome": outcome, "label": labels[outcome], "reason": reason,
                     "conditions": "報告書を提出すること" if outcome == "conditional" else ""},
        "departs": departs, "group_name": group_name,
        "title": proposal.title if title else None, "summary": "地域の見守りを市と協働で行います。" if title else None,
        "requested_amount": proposal.requested_amount, "scorer_count": n, "criterion_means": means,
        "score": str(score), "share_of_max": str((score / maximum).quantize(Decimal("0.0001"))),
        "review_comment": "地域への波及効果が期待できる。", "reviewers": reviewers,
    }


def write_pdf(app, data: bytes) -> str:
    name = uuid.uuid4().hex
    store_of(app).put(name, data)
    return name


def publish_document(factory, call, document: dict, *, version: int = 1, reason: str = "") -> Publication:
    session = factory.session
    head = process_log.head(session, call)
    document = dict(document, version=version)
    row = Publication(
        call_id=call.id, version=version, published_at=now_utc(), reason=reason, results=document,
        results_sha256=chain.sha256_hex(chain.canonical_json(document)),
        results_pdf_name=write_pdf(factory.app, PDF_BYTES), log_pdf_name=write_pdf(factory.app, LOG_PDF_BYTES),
        head_seq=head.seq, head_hash=head.hash, head_signature="c2lnbmF0dXJl",
    )
    call.results_published_at = now_utc()
    session.add(row)
    session.commit()
    return row


class Published:
    """A call with three scored proposals and a published results document:
    one adopted, one not adopted whose group did not consent to its name being
    published, one not adopted that consented."""

    def __init__(self, factory, **call_overrides):
        self.call = call = factory.scoring_call(**call_overrides)
        self.adopted = factory.submitted(call, name=ADOPTED_NAME)
        self.secret = factory.submitted(call, name=SECRET_NAME)
        self.consented = factory.submitted(call, name=CONSENTED_NAME)
        self.consented.name_publication_consent = True
        self.secret.title = "ひみつの事業名"
        factory.session.commit()
        criteria = _criteria(call)
        keys = [c["key"] for c in criteria]
        self.rows = [
            _row(self.adopted, criteria, [("委員A", dict.fromkeys(keys, 5)), ("委員B", dict(zip(keys, [4, 4, 5, 3, 4])))],
                 rank=1, outcome="adopted", group_name=ADOPTED_NAME),
            _row(self.consented, criteria, [("委員A", dict.fromkeys(keys, 3)), ("委員B", dict(zip(keys, [3, 2, 3, 3, 2])))],
                 rank=2, outcome="not_adopted", group_name=CONSENTED_NAME, title=False,
                 reason="予算の範囲を超えるため。"),
            _row(self.secret, criteria, [("委員A", dict.fromkeys(keys, 2)), ("委員B", dict(zip(keys, [1, 2, 2, 1, 3])))],
                 rank=3, outcome="not_adopted", group_name=None, title=False),
        ]
        head = process_log.head(factory.session, call)
        self.document = {
            "format": "kyodo-portal/results/v1", "version": 1,
            "call": {"ref": call.slug, "title": call.title, "fiscal_year": call.fiscal_year,
                     "url": f"http://localhost/calls/{call.slug}/results"},
            "published_at": chain.utc_timestamp(now_utc()),
            "rules": {"method": "mean", "decimals": 2, "formula": "得点＝各委員の重み付き合計の平均"},
            "criteria": criteria,
            "counts": {"received": 3, "accepted": 3, "released": 3, "adopted": 1},
            "general_comment": "いずれも地域に根ざした提案でした。",
            "roster": [{"name": "協働 太郎", "title": "大学教授", "chair": False}],
            "proposals": self.rows,
            "log_head": {"seq": head.seq, "hash": head.hash, "signature": "c2lnbmF0dXJl"},
            "public_key_pem": _public_key_pem(factory),
            "verification": {},
        }
        self.publication = publish_document(factory, call, self.document)
        self.document = self.publication.results


def _public_key_pem(factory) -> str:
    from portal.domain.log import signing

    return signing.public_key_pem(signing.key_for_app(factory.app))


@pytest.fixture()
def published(factory):
    return Published(factory)


def results_urls(slug: str) -> list[str]:
    return [f"/calls/{slug}/results", f"/calls/{slug}/results.json", f"/calls/{slug}/results.csv",
            f"/calls/{slug}/results.pdf", f"/calls/{slug}/results/v1", f"/calls/{slug}/results/v1.json",
            f"/calls/{slug}/results/v1.csv", f"/calls/{slug}/results/v1.pdf"]


# -- reading HTML tables ---------------------------------------------------------------

class Tables(HTMLParser):
    """{caption: [[cell text, ...], ...]} for every table on a page."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption = self._row = self._cell = None
        self._rows: list = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._cell = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "caption":
            self._caption, self._cell = "".join(self._cell).strip(), None
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._rows.append(self._row)
            self._row = None
        elif tag == "table":
            self.tables[self._caption] = self._rows

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


# -- before publication ------------------------------------------------------------------

def test_results_are_404_before_publication_saying_when_they_are_due(client, factory):
    call = factory.scoring_call()
    factory.submitted(call)
    for url in results_urls(call.slug):
        response = client.get(url)
        assert response.status_code == 404, url
        if url.endswith("/results"):
            text = response.get_data(as_text=True)
            assert "まだ公表されていません" in text and "公表予定" in text
            assert "令和" in text  # the due date, in Japanese
    assert client.get(f"/calls/{call.slug}/log.pdf").status_code == 404


def test_the_log_is_public_from_the_calls_publication_on(client, factory):
    call = factory.scoring_call()
    proposal = factory.submitted(call, name=SECRET_NAME)
    page = client.get(f"/calls/{call.slug}/log")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "提案の受付" in html and "募集の開始" in html  # kinds in Japanese
    assert proposal.anonymous_code in html
    head = process_log.head(factory.session, call)
    assert head.hash in html and "日本時間" in html
    assert "verify_log.py" in html and "--public-key" in html
    assert SECRET_NAME not in html

    twin = client.get(f"/calls/{call.slug}/log.json")
    assert twin.status_code == 200 and twin.mimetype == "application/json"
    document = twin.get_json()
    assert [e["seq"] for e in document["entries"]] == list(range(1, head.seq + 1))
    assert document["head"]["hash"] == head.hash
    assert published_log.verify_document(document).ok
    assert signing.key_fingerprint(document["public_key_pem"]) in html


def test_an_unpublished_call_has_no_public_page_at_all(client, factory):
    call = factory.call(published=False)
    for url in [*results_urls(call.slug), f"/calls/{call.slug}/log", f"/calls/{call.slug}/log.json"]:
        assert client.get(url).status_code == 404, url
    assert call.title not in client.get("/calls").get_data(as_text=True)


# -- after publication ---------------------------------------------------------------------

def test_every_results_url_answers_with_its_type(client, published):
    slug = published.call.slug
    page = client.get(f"/calls/{slug}/results")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "public" in page.headers["Cache-Control"]

    twin = client.get(f"/calls/{slug}/results.json")
    assert twin.status_code == 200 and twin.mimetype == "application/json"
    assert twin.get_json() == published.document
    assert twin.headers["ETag"] and "max-age" in twin.headers["Cache-Control"]
    assert client.get(f"/calls/{slug}/results.json",
                      headers={"If-None-Match": twin.headers["ETag"]}).status_code == 304

    table = client.get(f"/calls/{slug}/results.csv")
    assert table.status_code == 200
    assert table.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert table.data.startswith(b"\xef\xbb\xbf")
    assert re.match(rf'attachment; filename="?{slug}-results-v1\.csv"?', table.headers["Content-Disposition"])

    pdf = client.get(f"/calls/{slug}/results.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == PDF_BYTES  # the stored file, not a new rendering
    log_pdf = client.get(f"/calls/{slug}/log.pdf")
    assert log_pdf.status_code == 200 and log_pdf.mimetype == "application/pdf" and log_pdf.data == LOG_PDF_BYTES

    versioned = client.get(f"/calls/{slug}/results/v1.json")
    assert versioned.get_json() == published.document
    assert "immutable" in versioned.headers["Cache-Control"]
    assert client.get(f"/calls/{slug}/results/v1.pdf").data == PDF_BYTES
    assert client.get(f"/calls/{slug}/results/v1").status_code == 200


def test_the_results_page_shows_the_numbers_of_the_json(client, published):
    slug = published.call.slug
    document = client.get(f"/calls/{slug}/results.json").get_json()
    html = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    tables = Tables(html).tables
    ranking = tables["全提案の得点と決定（得点の高い順）"]
    header, rows = ranking[0], {row[1].split()[0]: row for row in ranking[1:]}
    assert len(rows) == len(document["proposals"]) == 3
    for p in document["proposals"]:
        row = dict(zip(header, rows[p["code"]]))
        assert row["順位"] == str(p["rank"])
        assert row["得点"] == p["score"]
        assert row["採点者数"] == f"{p['scorer_count']}人"
        assert row["決定"].rstrip("＊") == p["decision"]["label"]
        assert row["満点比"] == f"{Decimal(p['share_of_max']).scaleb(2):f}%"
        # The per-criterion figures are on the proposal's own page, linked from its code.
        link = re.search(rf'<a href="([^"]+)">{p["code"]}</a>', html).group(1)
        detail_html = client.get(link).get_data(as_text=True)
        detail = Tables(detail_html).tables
        means = {row[0]: row[2] for row in detail[f"{p['code']} の審査項目ごとの平均点"][1:-1]}
        assert means == {c["name"]: p["criterion_means"][c["key"]] for c in document["criteria"]}
        assert p["review_comment"] in detail_html and p["decision"]["label"] in detail_html
        reviewers = detail[f"{p['code']} の審査委員ごとの採点"]
        for reviewer_row, reviewer in zip(reviewers[1:], p["reviewers"]):
            assert reviewer_row[0] == reviewer["reviewer"]
            assert reviewer_row[1:-1] == [str(reviewer["scores"][c["key"]]) for c in document["criteria"]]
            assert reviewer_row[-1] == reviewer["total"]
    counts = {row[0]: row[1] for row in tables["提案の件数"]}
    assert counts["提出された提案"] == f"{document['counts']['received']}件"
    assert counts["受付・形式審査で受理された提案"] == f"{document['counts']['accepted']}件"
    assert counts["採択された事業"] == f"{document['counts']['adopted']}件"
    adopted = document["proposals"][0]
    assert adopted["title"] in html and adopted["group_name"] in html
    assert f"{adopted['requested_amount']:,}円" in html
    assert document["general_comment"] in html and adopted["review_comment"] in html
    assert document["log_head"]["hash"] in html
    assert "協働 太郎" in html  # the roster


def test_unconsented_names_of_groups_not_adopted_never_appear(client, published):
    slug = published.call.slug
    urls = [*results_urls(slug), f"/calls/{slug}/log", f"/calls/{slug}/log.json", "/calls",
            f"/calls/{slug}"]
    # Each proposal's own page, of the latest version and of version 1.
    urls += [f"/calls/{slug}/results{v}/p/{p.anonymous_code}" for v in ("", "/v1")
             for p in (published.secret, published.consented, published.adopted)]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.data.decode("utf-8", errors="replace")
        assert SECRET_NAME not in body, url
        assert "ひみつの事業名" not in body, url
    html = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert CONSENTED_NAME in html and ADOPTED_NAME in html
    assert published.secret.anonymous_code in html


def test_anonymous_visitors_and_signed_in_users_read_the_same_pages(client, published, factory, login):
    slug = published.call.slug
    anonymous = client.get(f"/calls/{slug}/results")
    assert anonymous.status_code == 200 and "public" in anonymous.headers["Cache-Control"]
    login(factory.applicant())
    signed_in = client.get(f"/calls/{slug}/results")
    assert signed_in.status_code == 200
    # Their menu is personal: not for shared caches.
    assert "public" not in signed_in.headers["Cache-Control"]
    assert "Cookie" in signed_in.headers.get("Vary", "")


def test_a_correction_makes_a_new_version_and_keeps_the_old_one(client, published, factory):
    slug = published.call.slug
    corrected = json.loads(json.dumps(published.document))
    corrected["general_comment"] = "訂正後の総評です。"
    publish_document(factory, published.call, corrected, version=2, reason="総評の誤字を訂正しました。")

    latest = client.get(f"/calls/{slug}/results.json").get_json()
    assert latest["version"] == 2 and latest["general_comment"] == "訂正後の総評です。"
    html = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert "第2版" in html and "総評の誤字を訂正しました。" in html
    assert f"/calls/{slug}/results/v1" in html
    first = client.get(f"/calls/{slug}/results/v1.json").get_json()
    assert first["version"] == 1 and first["general_comment"] == published.document["general_comment"]
    old_page = client.get(f"/calls/{slug}/results/v1").get_data(as_text=True)
    assert "以前の版" in old_page
    assert client.get(f"/calls/{slug}/results/v2.json").get_json() == latest
    assert client.get(f"/calls/{slug}/results/v3.json").status_code == 404
    assert "v2" in client.get(f"/calls/{slug}/results.csv").headers["Content-Disposition"]


@pytest.mark.parametrize("path", [
    "/calls/no-such-call/results", "/calls/no-such-call/results.json", "/calls/no-such-call/log",
    "/calls/no-such-call/log.json", "/calls/no-such-call/results/v1.pdf",
    "/calls/%00/results", "/calls/%00/log.json", "/calls/" + "x" * 300 + "/results",
    "/calls/%E3%81%82%FF/results.json", "/calls/..%2F..%2Fetc/results", "/calls/'%20OR%201=1--/log",
    "/calls/%F0%9F%98%80/results.csv",
])
def test_unknown_or_odd_slugs_are_404_never_500(client, published, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("suffix", ["v0.json", "v99.json", "v2147483647.pdf", "v99999999999999999999.json",
                                    "v-1.json", "v1.xml", "vx.json", "v1.json/", "v01.csv"])
def test_odd_versions_never_give_500(client, published, suffix):
    response = client.get(f"/calls/{published.call.slug}/results/{suffix}")
    assert response.status_code in (200, 404, 308), suffix
    if suffix != "v01.csv":
        assert response.status_code != 200


def test_the_public_key_is_the_one_in_the_documents(client, published):
    response = client.get("/transparency/public-key.pem")
    assert response.status_code == 200
    assert response.mimetype == "application/x-pem-file"
    pem = response.get_data(as_text=True)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    log = client.get(f"/calls/{published.call.slug}/log.json").get_json()
    assert signing.key_fingerprint(pem) == signing.key_fingerprint(log["public_key_pem"])
    script = client.get("/transparency/verify_log.py")
    assert script.status_code == 200 and b"def main" in script.data


def test_calls_are_listed_by_fiscal_year_with_results_and_log_links(client, published, factory):
    older = factory.call(fiscal_year=2024, title="令和6年度の募集", closes_in=timedelta(days=-200),
                         opens_in=timedelta(days=-260))
    html = client.get("/calls").get_data(as_text=True)
    assert '<h2 id="fy2026">令和8年度</h2>' in html and '<h2 id="fy2024">令和6年度</h2>' in html
    assert html.index('id="fy2026"') < html.index(published.call.title) < html.index('id="fy2024"') \
        < html.index(older.title)
    assert f'href="/calls/{published.call.slug}/results"' in html
    assert f'href="/calls/{published.call.slug}/log"' in html
    assert f'href="/calls/{older.slug}/results"' not in html  # not published yet
    assert f'href="/calls/{older.slug}/log"' in html


def test_the_call_page_links_its_log_and_once_published_its_results(client, published, factory):
    html = client.get(f"/calls/{published.call.slug}").get_data(as_text=True)
    assert f'href="/calls/{published.call.slug}/results"' in html
    assert f'href="/calls/{published.call.slug}/log"' in html
    # the adopted projects' own pages (agreement, work, reports, evaluation), from the call and the results
    projects = f'href="/calls/{published.call.slug}/projects"'
    assert projects in html
    assert projects in client.get(f"/calls/{published.call.slug}/results").get_data(as_text=True)
    assert client.get(f"/calls/{published.call.slug}/projects").status_code == 200
    pending = factory.call()
    html = client.get(f"/calls/{pending.slug}").get_data(as_text=True)
    assert f'href="/calls/{pending.slug}/results"' not in html
    assert f'href="/calls/{pending.slug}/projects"' not in html
    assert f'href="/calls/{pending.slug}/log"' in html


def test_log_page_after_publication_links_the_pdf_and_results(client, published):
    html = client.get(f"/calls/{published.call.slug}/log").get_data(as_text=True)
    assert f"/calls/{published.call.slug}/log.pdf" in html
    assert f"/calls/{published.call.slug}/results" in html


# -- through the real engine ---------------------------------------------------------------

SCORES = {  # per proposal role: (委員A's scores, 委員B's scores), criteria in position order
    "adopted": ([5, 5, 5, 5, 5], [4, 4, 5, 3, 4]),
    "consented": ([3, 3, 3, 3, 3], [3, 2, 3, 3, 2]),
    "secret": ([2, 2, 2, 2, 2], [1, 2, 2, 1, 3]),
}


class RealPublished:
    """The same three proposals, scored by two reviewers with the real
    scoring verbs, decided, finalised and published by ``publication.publish``
    (PDFs rendered and stored, log revealed and signed)."""

    def __init__(self, factory, *, reviewers=2, publish=True):
        from portal.domain.panel import conflict_declaration
        from portal.domain.results import decisions, publication
        from portal.domain.scoring import scoring
        from portal.models import Assignment

        session = factory.session
        self.call = call = factory.scoring_call(publish_roster=True, threshold_share=Decimal("0.6"),
                                                general_comment="いずれも地域に根ざした提案でした。")
        self.members = [factory.panel_member(call) for _ in range(reviewers)]
        self.members[0].public_title = "大学教授"
        self.adopted = factory.submitted(call, name=ADOPTED_NAME)
        self.consented = factory.submitted(call, name=CONSENTED_NAME)
        self.secret = factory.submitted(call, name=SECRET_NAME)
        self.consented.name_publication_consent = True
        session.commit()
        roles = {"adopted": self.adopted, "consented": self.consented, "secret": self.secret}
        for proposal in roles.values():
            factory.released(proposal)
        now = now_utc()
        for role, proposal in roles.items():
            for index, member in enumerate(self.members):
                assignment = session.scalars(select(Assignment).where(
                    Assignment.proposal_id == proposal.id, Assignment.panel_member_id == member.id)).one()
                conflict_declaration.confirm_no_conflict(session, assignment, now)
                values = SCORES[role][index % 2]
                data = scoring.SheetInput(
                    scores={c.id: scoring.ScoreInput(values[c.position], f"{c.name}の理由") for c in call.criteria},
                    comment_for_group=f"{member.pseudonym}から{role}への講評です。")
                sheet = scoring.save_draft(session, assignment, scoring.Stage.DOCUMENT, data, now)
                scoring.submit_sheet(session, sheet, now)
        call.scoring_closes_at = now_utc()  # scoring is over
        session.commit()
        staff = factory.staff()
        now = now_utc()
        for role, proposal in roles.items():
            decisions.record_decision(
                session, call, proposal, outcome="adopted" if role == "adopted" else "not_adopted",
                review_comment=f"{role}の講評：地域への波及効果が期待できる。", staff=staff, now=now)
        decisions.finalise(session, call, staff, now)
        self.staff = staff
        self.settings = publication.Settings.for_app(factory.app)
        if publish:
            self.publication = publication.publish(session, call, staff, now, settings=self.settings)
            self.document = self.publication.results
        session.commit()


@pytest.fixture()
def real(factory):
    return RealPublished(factory)


def _csv_rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


def _check_the_stored_document_and_files(client, real):
    from portal.domain.results import publication

    slug = real.call.slug
    assert client.get(f"/calls/{slug}/results.json").get_json() == real.document
    pdf = client.get(f"/calls/{slug}/results.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    stored = publication.results_pdf_bytes(_session(), real.call, store=real.settings.store)
    assert pdf.data == stored and pdf.data.startswith(b"%PDF")
    # The log names the results PDF by its SHA-256: the download is that very file.
    log = client.get(f"/calls/{slug}/log.json").get_json()
    published = [e for e in log["entries"] if e["kind"] == "results_published"][-1]
    assert published["payload"]["document_sha256"] == chain.sha256_hex(pdf.data)
    assert chain.sha256_hex(client.get(f"/calls/{slug}/results/v1.pdf").data) == published["payload"]["document_sha256"]
    log_pdf = client.get(f"/calls/{slug}/log.pdf")
    assert log_pdf.status_code == 200 and log_pdf.data.startswith(b"%PDF")
    assert chain.sha256_hex(log_pdf.data) == real.document["log_pdf_sha256"]


def _session():
    from portal.db import db_session

    return db_session


def test_csv_round_trips_to_the_json_and_recomputes_the_ranking(client, real, tmp_path):
    slug = real.call.slug
    document = client.get(f"/calls/{slug}/results.json").get_json()
    response = client.get(f"/calls/{slug}/results.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response.data)
    weights = {c["key"]: Decimal(c["weight"]) for c in document["criteria"]}
    recomputed = {}
    for p in document["proposals"]:
        mine = [r for r in rows if r["提案コード"] == p["code"]]
        assert {r["順位"] for r in mine} == {str(p["rank"])}
        assert {r["得点"] for r in mine} == {p["score"]}
        assert {r["満点に対する割合"] for r in mine} == {p["share_of_max"]}
        assert {r["採点した委員数"] for r in mine} == {str(p["scorer_count"])}
        assert {r["決定"] for r in mine} == {p["decision"]["label"]}
        by_reviewer: dict[str, dict[str, int]] = {}
        for r in mine:
            by_reviewer.setdefault(r["委員"], {})[r["基準番号"]] = int(r["点数"])
        assert by_reviewer == {r["reviewer"]: r["scores"] for r in p["reviewers"]}
        # Recompute with the published rules (method "mean", 2 places, half up).
        totals = [sum(weights[k] * v for k, v in scores.items()) for scores in by_reviewer.values()]
        for reviewer, total in zip(by_reviewer, totals):
            assert {r["委員の合計点"] for r in mine if r["委員"] == reviewer} == \
                {next(x["total"] for x in p["reviewers"] if x["reviewer"] == reviewer)}
            assert Decimal(next(x["total"] for x in p["reviewers"] if x["reviewer"] == reviewer)) == total
        score = (sum(totals) / len(totals)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert str(score) == p["score"]
        for key in weights:
            mean = Decimal(sum(s[key] for s in by_reviewer.values())) / len(by_reviewer)
            assert str(mean.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")) == p["criterion_means"][key]
        recomputed[p["code"]] = score
    ranking = sorted(recomputed, key=lambda code: -recomputed[code])
    assert ranking == [p["code"] for p in sorted(document["proposals"], key=lambda p: p["rank"])]
    assert document["rules"]["method"] == "mean" and document["rules"]["decimals"] == 2
    _check_the_documented_recompute_script(client, real, tmp_path)


def _check_the_documented_recompute_script(client, real, tmp_path):
    """docs/transparency.md tells citizens to run this; it must say OK."""
    import subprocess
    import sys
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "transparency.md").read_text(encoding="utf-8")
    script = re.search(r"<!-- recompute-begin -->\n```python\n(.*?)```\n<!-- recompute-end -->", text, re.S).group(1)
    (tmp_path / "recompute.py").write_text(script, encoding="utf-8")
    (tmp_path / "results.csv").write_bytes(client.get(f"/calls/{real.call.slug}/results.csv").data)
    run = subprocess.run([sys.executable, str(tmp_path / "recompute.py"), str(tmp_path / "results.csv")],
                         capture_output=True, text=True, check=True)
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 3 and all(line.endswith("OK") for line in lines), run.stdout
    # And it notices a changed score.
    rows = _csv_rows((tmp_path / "results.csv").read_bytes())
    rows[0]["点数"] = str(int(rows[0]["点数"]) - 1)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "results.csv").write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))
    run = subprocess.run([sys.executable, str(tmp_path / "recompute.py"), str(tmp_path / "results.csv")],
                         capture_output=True, text=True, check=True)
    assert "DIFFERS" in run.stdout


def test_real_results_page_and_pdf_show_the_json_numbers_and_hide_unconsented_names(client, real, tmp_path):
    import subprocess

    slug = real.call.slug
    document = real.document
    html = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    tables = Tables(html).tables
    ranking = tables["全提案の得点と決定（得点の高い順）"]
    rows = {row[1].split()[0]: dict(zip(ranking[0], row)) for row in ranking[1:]}
    for p in document["proposals"]:
        assert rows[p["code"]]["得点"] == p["score"]
        assert rows[p["code"]]["満点比"] == f"{Decimal(p['share_of_max']).scaleb(2):f}%"
    adopted = next(p for p in document["proposals"] if p["decision"]["outcome"] == "adopted")
    assert adopted["group_name"] == ADOPTED_NAME and ADOPTED_NAME in html and adopted["title"] in html
    assert CONSENTED_NAME in html
    assert document["log_head"]["hash"] in html
    assert document["verification"]["public_key_fingerprint"] in html
    pdf = tmp_path / "results.pdf"
    pdf.write_bytes(client.get(f"/calls/{slug}/results.pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for p in document["proposals"]:
        assert p["score"] in text
    for name, body in [("html", html), ("pdf", text)] + [
            (url, client.get(url).data.decode("utf-8", errors="replace"))
            for url in (f"/calls/{slug}/results.json", f"/calls/{slug}/results.csv", f"/calls/{slug}/log",
                        f"/calls/{slug}/log.json", "/calls", f"/calls/{slug}/results/v1")]:
        assert SECRET_NAME not in body, name
        assert real.secret.title not in body or real.secret.title == real.adopted.title, name
    log_pdf = tmp_path / "log.pdf"
    log_pdf.write_bytes(client.get(f"/calls/{slug}/log.pdf").data)
    log_text = subprocess.run(["pdftotext", str(log_pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert SECRET_NAME not in log_text


def test_real_publication_serves_stored_files_and_a_log_that_verifies(client, real, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    slug = real.call.slug
    (tmp_path / "log.json").write_bytes(client.get(f"/calls/{slug}/log.json").data)
    (tmp_path / "public-key.pem").write_bytes(client.get("/transparency/public-key.pem").data)
    (tmp_path / "verify_log.py").write_bytes(client.get("/transparency/verify_log.py").data)
    script = Path(__file__).resolve().parents[1] / "scripts" / "verify_log.py"
    assert (tmp_path / "verify_log.py").read_bytes() == script.read_bytes()
    run = subprocess.run([sys.executable, str(tmp_path / "verify_log.py"), str(tmp_path / "log.json"),
                          "--public-key", str(tmp_path / "public-key.pem")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
    assert "VERIFIED" in run.stdout
    document = json.loads((tmp_path / "log.json").read_text(encoding="utf-8"))
    assert document["commitments_revealed"]  # the sealed scores are public now
    html = client.get(f"/calls/{slug}/log").get_data(as_text=True)
    assert "採点の封印" in html and "採点の公開" in html and "結果の公表" in html and "決定の記録" in html
    assert document["head"]["hash"] in html and document["head"]["signature"] in html
    _check_the_stored_document_and_files(client, real)


def test_a_real_correction_keeps_version_one(client, real, factory):
    from portal.domain.results import publication

    session = factory.session
    real.call.general_comment = "訂正後の総評です。"
    publication.publish(session, real.call, real.staff, now_utc(), "総評の誤字を訂正しました。",
                        settings=real.settings)
    session.commit()
    slug = real.call.slug
    latest = client.get(f"/calls/{slug}/results.json").get_json()
    assert latest["version"] == 2 and latest["general_comment"] == "訂正後の総評です。"
    assert client.get(f"/calls/{slug}/results/v1.json").get_json() == real.document
    html = client.get(f"/calls/{slug}/results").get_data(as_text=True)
    assert "総評の誤字を訂正しました。" in html and "第2版" in html
    assert client.get(f"/calls/{slug}/results/v1.pdf").data != client.get(f"/calls/{slug}/results.pdf").data
