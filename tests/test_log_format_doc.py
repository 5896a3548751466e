"""docs/log-format.md describes every key a real ``log.json`` holds, and
docs/transparency.md every key of a real results JSON: real calls are
published (the demo, through the real verbs, and a call with a correction
built here), their documents read from the public addresses, and every key
at every level, every event kind and every rule field name must appear in
the document (as `key`). The worked example in docs/log-format.md section 9
must be the demo's real data."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from portal.domain.log import chain
from portal.domain.log.process_log import rules_payload
from portal.domain.results import publication
from portal.domain.timeutil import now_utc

from .results_support import build, close_scoring, decide_as_recommended, score, use_temporary_key
from .verify_cases import generate

DOCS = Path(__file__).resolve().parents[1] / "docs"
LOG_FORMAT = (DOCS / "log-format.md").read_text(encoding="utf-8")
TRANSPARENCY = (DOCS / "transparency.md").read_text(encoding="utf-8")


def keys_of(value, skip_maps_under=("scores", "criterion_means")) -> set[str]:
    """Every object key at any depth, and every rule's field name; the keys
    of a score map (criterion keys "0", "1", ...) are data, not format."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            if key in skip_maps_under and isinstance(item, dict):
                continue
            found |= keys_of(item, skip_maps_under)
        if set(value) == {"field", "value"}:
            found.add(value["field"])
    elif isinstance(value, list):
        for item in value:
            found |= keys_of(item, skip_maps_under)
    return found


def undocumented(keys, text: str) -> list[str]:
    return sorted(key for key in keys if f"`{key}`" not in text and f"`{key}[]`" not in text)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("doc-cases")
    manifest = generate(out)
    return {slug: {name: out / "genuine" / slug / name for name in files}
            for slug, files in manifest["genuine"].items()}


@pytest.fixture()
def corrected_log(app, client, factory, db, monkeypatch, tmp_path):
    """A call published twice (a correction), read from its public address."""
    settings = use_temporary_key(app, monkeypatch, tmp_path)
    s = build(factory, reviewers=3, proposals=2)
    for member, values in enumerate(([5, 4, 3, 4, 2], [4, 4, 4, 3, 3], [3, 3, 3, 3, 3])):
        score(db, s, member, 0, values)
        score(db, s, member, 1, [2, 2, 2, 2, 2])
    close_scoring(db, s)
    staff = factory.staff()
    decide_as_recommended(db, s, staff)
    publication.publish(db, s.call, staff, now_utc(), settings=settings)
    publication.publish(db, s.call, staff, now_utc(), "講評の誤字を訂正しました。", settings=settings)
    db.commit()
    slug = s.call.slug
    log = client.get(f"/calls/{slug}/log.json")
    results = client.get(f"/calls/{slug}/results/v2.json")
    assert log.status_code == results.status_code == 200
    return log.get_json(), results.get_json()


def test_every_key_of_a_real_log_is_described(demo_files, corrected_log):
    logs = [json.loads(files["log.json"].read_bytes()) for files in demo_files.values()] + [corrected_log[0]]
    kinds = {entry["kind"] for log in logs for entry in log["entries"]}
    assert {"call_published", "score_sealed", "scores_revealed", "results_published", "correction",
            "decision_recorded", "reviewer_recused"} <= kinds
    keys = set().union(*(keys_of(log) for log in logs)) | kinds
    assert {"version", "results_sha256", "csv_sha256", "log_pdf_sha256", "rounding", "veto_quorum",
            "budget_cap_per_proposal", "weight"} <= keys
    assert undocumented(keys, LOG_FORMAT) == []


def test_every_kind_payload_key_and_rule_the_portal_can_write_is_described(factory):
    call = factory.scoring_call()
    fields = {rule["field"] for rule in rules_payload(call)}
    payload_keys = set().union(*chain.PUBLIC_PAYLOAD_KEYS.values())
    assert undocumented(set(chain.KINDS) | payload_keys | fields, LOG_FORMAT) == []


def test_every_key_of_a_real_results_document_is_described(demo_files, corrected_log):
    documents = [json.loads(files["results-v1.json"].read_bytes()) for files in demo_files.values()]
    documents.append(corrected_log[1])
    keys = set().union(*(keys_of(doc) for doc in documents))
    assert {"counted_stages", "log_pdf_sha256", "reviewers"} <= keys
    assert undocumented(keys, TRANSPARENCY) == []


def _between(begin: str, end: str) -> str:
    block = LOG_FORMAT.split(f"<!-- {begin} -->", 1)[1].split(f"<!-- {end} -->", 1)[0]
    return re.search(r"```\n(.*?)\n```", block, re.S).group(1)


def _after(marker: str) -> str:
    return re.match(r"`([0-9a-f]{64})`", LOG_FORMAT.split(f"<!-- {marker} -->", 1)[1]).group(1)


def test_the_worked_example_is_the_demo_data(demo_files):
    files = demo_files["r7-kyodo-model"]
    log = json.loads(files["log.json"].read_bytes())
    first = log["entries"][0]
    line = _between("example-entry-begin", "example-entry-end")
    assert line.encode("utf-8") == chain.canonical_json({k: first[k] for k in ("at", "kind", "payload", "prev", "seq")})
    assert _after("example-hash") == first["hash"] == hashlib.sha256(line.encode("utf-8")).hexdigest()
    assert hashlib.sha256(files["guidelines.json"].read_bytes()).hexdigest() == first["payload"]["document_sha256"]

    reveal = json.loads(_between("example-reveal-begin", "example-reveal-end"))
    assert _after("example-commitment") == hashlib.sha256(chain.canonical_json(reveal)).hexdigest()
    # Codes, pseudonyms and salts are drawn at random: find the example by its scores.
    results = json.loads(files["results-v1.json"].read_bytes())
    found = [p for p in results["proposals"]
             if sorted(r["total"] for r in p["reviewers"]) == ["77", "83", "84", "88"]]
    assert len(found) == 1
    proposal = found[0]
    assert (proposal["score"], proposal["share_of_max"], proposal["rank"], proposal["conflicted_count"]) == \
        ("83.00", "0.8300", 1, 1)
    reviewer = next(r for r in proposal["reviewers"] if r["total"] == "88")
    assert reviewer["scores"] == reveal["scores"]
    seals = {e["seq"]: e["payload"] for e in log["entries"] if e["kind"] == "score_sealed"}
    assert any(seals[r["seq"]]["reviewer"] == reviewer["reviewer"]
               and seals[r["seq"]]["proposal_code"] == proposal["code"] and r["scores"] == reveal["scores"]
               for r in log["commitments_revealed"])
