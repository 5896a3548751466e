"""Tampering: change a log row, a sealed score or salt, a published figure
or a stored PDF directly in the database or on disk, bypassing the app,
and verification fails loudly (``flask verify-log`` exits non-zero and
names each problem); change an exported document and the published
verifiers (published_log.verify_document, scripts/verify_log.py) fail.

Raw SQL runs on the test's own connection inside a savepoint: the test
data lives in a transaction that is rolled back afterwards, which another
connection could not see."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import JSON, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from portal.domain.log import chain, published_log, signing, verification
from portal.domain.results import publication
from portal.domain.timeutil import now_utc
from portal.models import Assignment, LogEntry, ReviewScore, ReviewSheet, ScoreReopen

from .results_support import build, close_scoring, decide_as_recommended, score, use_temporary_key

VERIFY_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "verify_log.py"


@pytest.fixture()
def settings(app, monkeypatch, tmp_path):
    return use_temporary_key(app, monkeypatch, tmp_path)


@pytest.fixture()
def scored(factory, db):
    s = build(factory, reviewers=2, proposals=2)
    score(db, s, 0, 0, [5, 4, 3, 4, 2])  # 34
    score(db, s, 1, 0, [4, 4, 4, 3, 3])  # 33 -> 33.50
    score(db, s, 0, 1, [2, 2, 2, 2, 2])  # 18
    score(db, s, 1, 1, [3, 3, 3, 3, 3])  # 27 -> 22.50
    close_scoring(db, s)
    s.extra["staff"] = factory.staff()
    return s


@pytest.fixture()
def published(db, scored, settings):
    decide_as_recommended(db, scored, scored.extra["staff"])
    publication.publish(db, scored.call, scored.extra["staff"], now_utc(), settings=settings)
    db.commit()
    return scored


def verify_log(app, s):
    return app.test_cli_runner().invoke(args=["verify-log", "--call", s.call.slug])


def raw(db, sql: str, **params):
    """Raw SQL on the test's connection, in a savepoint (a refused statement
    would otherwise end the transaction on PostgreSQL)."""
    statement = text(sql)
    if isinstance(params.get("doc"), dict):
        statement = statement.bindparams(bindparam("doc", type_=JSON))
    with db.begin_nested():
        db.connection().execute(statement, params)
    db.expire_all()


def sheet_of(db, s, member: int, proposal: int) -> ReviewSheet:
    return db.scalars(select(ReviewSheet).join(Assignment).where(
        Assignment.panel_member_id == s.members[member].id,
        Assignment.proposal_id == s.proposals[proposal].id)).one()


def insider_rewrites_score(db, sheet: ReviewSheet, new_score: int) -> None:
    """What an insider with database access can do without the app: record
    a reopen row (no public log entry), flip the sheet to draft, change a
    score, flip it back. The triggers allow each step; only the seal in the
    public log still remembers the original scores."""
    db.add(ScoreReopen(sheet_id=sheet.id, reason="（記録なし）", previous_commitment=sheet.commitment,
                       reopened_at=now_utc()))
    db.flush()
    raw(db, "UPDATE review_sheets SET status = 'draft' WHERE id = :id", id=sheet.id)
    first = min(sheet.scores, key=lambda s: s.criterion_id)
    raw(db, "UPDATE review_scores SET score = :score WHERE id = :id", score=new_score, id=first.id)
    raw(db, "UPDATE review_sheets SET status = 'submitted' WHERE id = :id", id=sheet.id)
    db.commit()


def test_an_untouched_call_verifies(app, db, published):
    outcome = verify_log(app, published)
    assert outcome.exit_code == 0, outcome.output
    assert "検証成功" in outcome.output and published.call.slug in outcome.output


def test_the_database_refuses_to_update_or_delete_a_log_row(db, scored):
    row = db.scalars(select(LogEntry).where(LogEntry.call_id == scored.call.id).order_by(LogEntry.seq)).first()
    with pytest.raises(DBAPIError):
        raw(db, "UPDATE log_entries SET kind = 'correction' WHERE id = :id", id=row.id)
    with pytest.raises(DBAPIError):
        raw(db, "DELETE FROM log_entries WHERE id = :id", id=row.id)
    assert db.get(LogEntry, row.id).kind == chain.CALL_PUBLISHED


def test_a_score_changed_after_sealing_fails_verification_before_publication(app, db, scored, settings):
    sheet = sheet_of(db, scored, 0, 0)
    insider_rewrites_score(db, sheet, 1)
    assert db.scalars(select(ReviewScore.score).where(ReviewScore.sheet_id == sheet.id)
                      .order_by(ReviewScore.criterion_id)).first() == 1
    outcome = verify_log(app, scored)
    assert outcome.exit_code == 1
    assert "検証失敗" in outcome.output
    assert f"{scored.members[0].pseudonym}・{scored.code(0)}" in outcome.output
    assert "保存された点数またはソルトが封印" in outcome.output


def test_a_score_changed_after_publication_fails_every_check_that_sees_it(app, db, published, settings):
    insider_rewrites_score(db, sheet_of(db, published, 1, 1), 5)
    outcome = verify_log(app, published)
    assert outcome.exit_code == 1
    assert "保存された点数またはソルトが封印" in outcome.output
    assert "commitment_mismatch" in outcome.output  # the revealed scores no longer match the seal
    assert "データベースの採点と合いません" in outcome.output  # nor the published figures


def test_a_salt_changed_fails_verification(app, db, scored, settings):
    sheet = sheet_of(db, scored, 1, 0)
    db.add(ScoreReopen(sheet_id=sheet.id, reason="", previous_commitment=sheet.commitment, reopened_at=now_utc()))
    db.flush()
    raw(db, "UPDATE review_sheets SET status = 'draft' WHERE id = :id", id=sheet.id)
    raw(db, "UPDATE review_sheets SET salt = :salt, status = 'submitted' WHERE id = :id", salt="ab" * 32, id=sheet.id)
    db.commit()
    outcome = verify_log(app, scored)
    assert outcome.exit_code == 1 and "ソルトが封印" in outcome.output


def test_a_published_figure_changed_in_the_database_fails_verification(app, db, published):
    row = publication.latest(db, published.call)
    document = copy.deepcopy(row.results)
    document["proposals"][0]["score"] = "44.50"
    raw(db, "UPDATE publications SET results = :doc WHERE id = :id", doc=document, id=row.id)
    db.commit()
    outcome = verify_log(app, published)
    assert outcome.exit_code == 1
    assert "結果文書（JSON）のSHA-256" in outcome.output
    assert f"{published.code(0)} の score: 公表 44.50" in outcome.output


def test_a_published_figure_changed_together_with_its_hash_is_still_caught(app, db, published):
    row = publication.latest(db, published.call)
    document = copy.deepcopy(row.results)
    document["proposals"][0]["reviewers"][0]["scores"]["0"] = 1
    digest = chain.sha256_hex(chain.canonical_json(document))
    raw(db, "UPDATE publications SET results = :doc, results_sha256 = :digest WHERE id = :id",
        doc=document, digest=digest, id=row.id)
    db.commit()
    outcome = verify_log(app, published)
    assert outcome.exit_code == 1
    assert "公表した数値が公表した点数と合いません" in outcome.output
    assert "データベース" in outcome.output
    # The log recorded the document's digest at publication (results_sha256): a
    # new digest stored beside the document does not match it.
    assert "保存された結果文書（JSON）のSHA-256が公表の記録と一致しません" in outcome.output


def test_every_published_document_is_pinned_by_the_log(db, published, settings):
    """results_published records the SHA-256 of the results JSON (canonical),
    the CSV, the results PDF and the log PDF of its version (docs/log-format.md, section 6)."""
    row = publication.latest(db, published.call)
    entry = next(e for e in reversed(process_log_entries(db, published)) if e.kind == chain.RESULTS_PUBLISHED)
    assert entry.payload["version"] == row.version == 1
    assert entry.payload["results_sha256"] == row.results_sha256 == chain.sha256_hex(chain.canonical_json(row.results))
    assert entry.payload["csv_sha256"] == chain.sha256_hex(publication.csv_bytes(row.results))
    assert entry.payload["document_sha256"] == chain.sha256_hex(
        publication.stored_pdf_bytes(settings.store, row.results_pdf_name))
    assert entry.payload["log_pdf_sha256"] == row.results["log_pdf_sha256"] == chain.sha256_hex(
        publication.stored_pdf_bytes(settings.store, row.log_pdf_name))


def process_log_entries(db, s):
    from portal.domain.log import process_log

    return process_log.entries(db, s.call)


def test_a_stored_pdf_changed_on_disk_fails_verification(app, db, published, settings):
    row = publication.latest(db, published.call)
    stored = publication.stored_pdf_bytes(settings.store, row.results_pdf_name)
    settings.store.put(row.results_pdf_name, stored.replace(b"%%EOF", b"%%EOF\n% changed"))
    outcome = verify_log(app, published)
    assert outcome.exit_code == 1 and "結果のPDFのSHA-256が記録と一致しません" in outcome.output


def test_an_exported_log_document_changed_fails_both_verifiers(db, published, settings, tmp_path):
    document = publication.log_document(db, published.call, settings.key)
    trusted = signing.public_key_pem(settings.key)
    key_file = tmp_path / "city.pem"
    key_file.write_text(trusted)
    assert published_log.verify_document(document, trusted).ok
    assert _script(document, key_file, tmp_path).returncode == 0

    payload_changed = copy.deepcopy(document)
    decision = next(e for e in payload_changed["entries"] if e["kind"] == chain.DECISION_RECORDED)
    decision["payload"]["outcomes"][0]["result"] = "not_adopted"
    report = published_log.verify_document(payload_changed, trusted)
    assert not report.ok and any(p.code == "wrong_hash" and p.seq == decision["seq"] for p in report.problems)
    assert _script(payload_changed, key_file, tmp_path).returncode == 1

    score_changed = copy.deepcopy(document)
    score_changed["commitments_revealed"][0]["scores"]["0"] = 1 + (score_changed["commitments_revealed"][0]
                                                                   ["scores"]["0"] % 5)
    report = published_log.verify_document(score_changed, trusted)
    assert [p.code for p in report.problems] == ["commitment_mismatch"]
    failed = _script(score_changed, key_file, tmp_path)
    assert failed.returncode == 1 and "検証失敗" in failed.stdout


def test_an_exported_results_document_changed_is_caught_by_recomputation(db, published):
    document = copy.deepcopy(publication.results_document(db, published.call))
    assert verification.document_problems(document) == []
    document["proposals"][1]["criterion_means"]["3"] = "4.50"
    problems = verification.document_problems(document)
    assert problems and "criterion_means" in problems[0]


def _script(document, key_file, tmp_path):
    path = tmp_path / "results-log.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, str(VERIFY_SCRIPT), str(path), "--public-key", str(key_file)],
                          capture_output=True, text=True, timeout=120)
