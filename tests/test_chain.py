"""The public process log: a realistic call from 募集 to 公表, verified by the
domain core and by the standalone citizen script, then tampered with in
every way we can think of; each tampering must fail both, loudly."""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.domain.log import chain, signing
from portal.domain.log.chain import (
    CanonicalError,
    ChainError,
    Entry,
    PayloadRefused,
    append,
    canonical_json,
    entry_hash,
    verify_chain,
)
from portal.domain.log.published_log import export_document, verify_document
from portal.domain.log.seals import Reveal, commit_scores, new_salt, verify_commitment

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "verify_log.py"

_spec = importlib.util.spec_from_file_location("verify_log_script", SCRIPT)
verifier = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verifier)

START = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # 令和8年4月1日 9:00 JST
CRITERIA = [
    {"key": "public_benefit", "label": "公益性", "weight": 4, "max": 5},
    {"key": "necessity", "label": "必要性", "weight": 4, "max": 5},
    {"key": "collaboration", "label": "協働の効果", "weight": 4, "max": 5},
    {"key": "feasibility", "label": "実現可能性", "weight": 4, "max": 5},
    {"key": "budget", "label": "予算の妥当性", "weight": 4, "max": 5},
]
CALL = {"ref": "2026-kyodo", "title": "令和8年度 市民提案型協働モデル事業"}
SIGNING_KEY = Ed25519PrivateKey.generate()


def build_log(*, reopen: bool = False):
    """The whole story of one call; returns (entries, reveals)."""
    entries: list[Entry] = []
    reveals: list[Reveal] = []
    clock = iter(START + timedelta(days=day, hours=hour) for day in range(200) for hour in (1, 5))

    def log(kind, payload):
        return append(entries, kind, next(clock), payload)

    def seal(reviewer, code, scores):
        salt = new_salt()
        entry = log(chain.SCORE_SEALED, {"reviewer": reviewer, "proposal_code": code,
                                         "commitment": commit_scores(scores, salt)})
        reveals.append(Reveal(entry.seq, scores, salt))
        return entry

    log(chain.CALL_PUBLISHED, {
        "call_ref": CALL["ref"], "title": CALL["title"], "fiscal_year": 2026,
        "opens_at": START, "closes_at": datetime(2026, 6, 30, 8, 0, tzinfo=UTC),
        "budget_cap_yen": 500_000, "criteria": CRITERIA,
        "rules": {"method": "mean_of_members", "threshold_percent": 60,
                  "veto": "majority_public_benefit_1_or_2", "tie_break": "public_benefit"},
        "document_sha256": "a" * 64,
    })
    changed = copy.deepcopy(CRITERIA)
    changed[4]["weight"] = 2
    log(chain.CRITERIA_CHANGED, {"criteria": changed, "document_sha256": "b" * 64,
                                 "reason": "審査委員会の意見により「予算の妥当性」の配点を変更（募集締切前）"})
    for code in ("A-01", "A-02", "A-03"):
        log(chain.PROPOSAL_RECEIVED, {"proposal_code": code})
    log(chain.INTAKE_DECIDED, {"proposal_code": "A-01", "outcome": "accepted"})
    log(chain.INTAKE_DECIDED, {"proposal_code": "A-02", "outcome": "accepted"})
    log(chain.INTAKE_DECIDED, {"proposal_code": "A-03", "outcome": "not_accepted",
                               "reason": "対象外事業（施設の整備を主とする）"})
    log(chain.RELEASED_TO_REVIEWERS, {"proposal_codes": ["A-01", "A-02"]})
    log(chain.REVIEWER_ASSIGNED, {"reviewer": "R1", "proposal_codes": ["A-01", "A-02"]})
    log(chain.REVIEWER_ASSIGNED, {"reviewer": "R2", "proposal_codes": ["A-01", "A-02"]})
    log(chain.REVIEWER_RECUSED, {"reviewer": "R2", "proposal_code": "A-02",
                                 "ground": "conflict_of_interest"})
    first = seal("R1", "A-01", {"public_benefit": 4, "necessity": 5, "collaboration": 3,
                                "feasibility": 4, "budget": 3})
    seal("R2", "A-01", {"public_benefit": 5, "necessity": 4, "collaboration": 4,
                        "feasibility": 3, "budget": 4})
    seal("R1", "A-02", {"public_benefit": 2, "necessity": 3, "collaboration": 2,
                        "feasibility": 3, "budget": 2})
    if reopen:  # after the 公開プレゼンテーション R1 revises A-01, through the log
        log(chain.SCORE_REOPENED, {"reviewer": "R1", "proposal_code": "A-01",
                                   "supersedes_seq": first.seq,
                                   "reason": "公開プレゼンテーション後の採点見直し"})
        seal("R1", "A-01", {"public_benefit": 5, "necessity": 5, "collaboration": 4,
                            "feasibility": 4, "budget": 3})
        reveals = [r for r in reveals if r.seq != first.seq]
    log(chain.SCORING_CLOSED, {"sealed_count": len(reveals)})
    log(chain.SCORES_REVEALED, {"revealed_count": len(reveals)})
    log(chain.DECISION_RECORDED, {
        "outcomes": [
            {"proposal_code": "A-01", "result": "adopted", "reason": "公益性と協働の効果が高い"},
            {"proposal_code": "A-02", "result": "not_adopted", "reason": "基準点（60%）に達しなかった"},
        ],
        "basis": "審査委員会の報告に基づき市長が決定（予算の成立を条件とする）",
    })
    log(chain.RESULTS_PUBLISHED, {"url": "https://www.city.example.jp/kyodo/r8/results",
                                  "document_sha256": "c" * 64})
    return entries, reveals


def build_document(key=SIGNING_KEY, **options) -> dict:
    entries, reveals = build_log(**options)
    return export_document(CALL, entries, reveals, key)


DOCUMENT = build_document()
CITY_KEY_PEM = DOCUMENT["public_key_pem"]


def rechain(doc: dict, key: Ed25519PrivateKey) -> dict:
    """A forger with a key of their own: recompute every link and re-sign."""
    prev = chain.GENESIS_PREV
    for entry in doc["entries"]:
        entry["prev"] = prev
        entry["hash"] = prev = entry_hash(prev, entry["seq"], entry["kind"], entry["at"], entry["payload"])
    last = doc["entries"][-1]
    doc["head"] = {"seq": last["seq"], "hash": last["hash"],
                   "signature": signing.sign_head(key, last["hash"], last["seq"])}
    doc["public_key_pem"] = signing.public_key_pem(key)
    return doc


def run_script(tmp_path, doc, *args, python_prefix=()):
    path = tmp_path / "results-log.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    # -I: isolated, from another directory, so the script cannot lean on the portal.
    program = list(python_prefix) or [str(SCRIPT)]
    command = [sys.executable, "-I", *program, str(path), *args]
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8",
                          cwd=tmp_path, timeout=60)


def assert_both_fail(tmp_path, doc, *args, trusted=None):
    report = verify_document(doc, trusted_public_key_pem=trusted)
    assert not report.ok
    problems, _facts = verifier.verify(doc, trusted)
    assert problems
    result = run_script(tmp_path, doc, *args)
    assert result.returncode == 1, result.stdout
    assert "VERIFICATION FAILED" in result.stdout
    assert "PROBLEMS FOUND" in result.stdout or "cannot read" in result.stdout
    return report, result


# -- the whole story verifies ---------------------------------------------------

def test_realistic_log_verifies_in_core_and_script(tmp_path):
    entries = [Entry.from_dict(e) for e in DOCUMENT["entries"]]
    assert [e.kind for e in entries][:2] == [chain.CALL_PUBLISHED, chain.CRITERIA_CHANGED]
    assert sum(e.kind == chain.SCORE_SEALED for e in entries) == 3
    assert verify_chain(entries).ok
    report = verify_document(DOCUMENT, trusted_public_key_pem=CITY_KEY_PEM)
    assert report.ok, report.problems
    assert (report.signature, report.revealed, report.superseded) == ("valid", 3, 0)
    assert report.head_seq == len(entries) and report.head_hash == entries[-1].hash

    key_file = tmp_path / "city-key.pem"
    key_file.write_text(CITY_KEY_PEM, encoding="ascii")
    result = run_script(tmp_path, DOCUMENT, "--public-key", str(key_file), "--require-signature")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "検証成功 / VERIFIED" in result.stdout
    assert signing.key_fingerprint(CITY_KEY_PEM) in result.stdout


def test_times_are_utc_strings_and_the_call_dates_survive():
    first = DOCUMENT["entries"][0]
    assert first["at"] == "2026-04-01T01:00:00.000000Z"
    assert first["payload"]["closes_at"] == "2026-06-30T08:00:00.000000Z"
    assert first["prev"] == "0" * 64 and first["seq"] == 1


def test_reopen_supersedes_a_seal_and_still_verifies(tmp_path):
    doc = build_document(reopen=True)
    report = verify_document(doc)
    assert report.ok, report.problems
    assert (report.revealed, report.superseded) == (3, 1)
    assert run_script(tmp_path, doc).returncode == 0


def test_a_second_seal_without_reopen_is_caught(tmp_path):
    entries, reveals = build_log()
    forged = [e.to_dict() for e in entries]
    sealed = next(e for e in forged if e["kind"] == chain.SCORE_SEALED)
    salt, scores = new_salt(), {"public_benefit": 1}
    resealed = {**sealed, "payload": {**sealed["payload"], "commitment": commit_scores(scores, salt)}}
    forged.insert(forged.index(sealed) + 1, resealed)
    for seq, entry in enumerate(forged, start=1):
        entry["seq"] = seq
    doc = rechain({"call": CALL, "entries": forged, "commitments_revealed": []}, SIGNING_KEY)
    doc["commitments_revealed"] = [{"seq": sealed["seq"] + 1, "scores": scores, "salt": salt.hex()}] + [
        {**r.to_dict(), "seq": r.seq + 1} for r in reveals if r.seq != sealed["seq"]
    ]
    report, result = assert_both_fail(tmp_path, doc)
    assert "resealed_without_reopen" in {p.code for p in report.problems}
    assert "sealed again without a logged reopen" in result.stdout


# -- tampering ----------------------------------------------------------------

def _change_payload(doc):
    doc["entries"][3]["payload"]["proposal_code"] = "A-09"


def _delete_entry(doc):
    del doc["entries"][5]


def _reorder(doc):
    doc["entries"][3], doc["entries"][4] = doc["entries"][4], doc["entries"][3]


def _change_revealed_score(doc):
    doc["commitments_revealed"][0]["scores"]["budget"] += 1


def _change_salt(doc):
    doc["commitments_revealed"][1]["salt"] = new_salt().hex()


def _swap_signature(doc):
    # A real signature by the city's key, but over an earlier head.
    earlier = doc["entries"][-2]
    doc["head"]["signature"] = signing.sign_head(SIGNING_KEY, earlier["hash"], earlier["seq"])


def _sign_with_another_key(doc):
    doc["head"]["signature"] = signing.sign_head(Ed25519PrivateKey.generate(),
                                               doc["head"]["hash"], doc["head"]["seq"])


def _change_head_seq(doc):
    doc["head"]["seq"] -= 1


def _drop_a_reveal(doc):
    del doc["commitments_revealed"][2]


def _float_in_payload(doc):
    doc["entries"][0]["payload"]["budget_cap_yen"] = 500000.0


def _truncate_tail(doc):
    del doc["entries"][-1]


def _change_time(doc):
    doc["entries"][6]["at"] = "2026-04-04T01:00:00.000001Z"


TAMPERINGS = [_change_payload, _delete_entry, _reorder, _change_revealed_score, _change_salt,
              _swap_signature, _sign_with_another_key, _change_head_seq, _drop_a_reveal,
              _float_in_payload, _truncate_tail, _change_time]


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__.strip("_"))
def test_tampering_fails_both_verifiers(tmp_path, tamper):
    doc = copy.deepcopy(DOCUMENT)
    tamper(doc)
    assert_both_fail(tmp_path, doc)


def test_problems_are_listed_with_their_seq():
    entries = [Entry.from_dict(e) for e in DOCUMENT["entries"]]
    changed = [*entries[:3], Entry(**{**entries[3].__dict__, "payload": {"proposal_code": "A-09"}}), *entries[4:]]
    assert [(p.seq, p.code) for p in verify_chain(changed).problems] == [(4, "wrong_hash")]

    deleted = entries[:5] + entries[6:]
    assert [(p.seq, p.code) for p in verify_chain(deleted).problems] == [(7, "seq_gap"), (7, "broken_link")]

    reordered = [*entries[:3], entries[4], entries[3], *entries[5:]]
    codes = {(p.seq, p.code) for p in verify_chain(reordered).problems}
    assert {(5, "seq_gap"), (5, "broken_link"), (4, "seq_gap"), (4, "broken_link")} <= codes


def test_times_going_backwards_are_reported_even_in_a_rechained_forgery():
    doc = copy.deepcopy(DOCUMENT)
    doc["entries"][4]["at"] = "2026-04-01T00:00:00.000000Z"
    rechain(doc, SIGNING_KEY)
    report = verify_chain([Entry.from_dict(e) for e in doc["entries"]])
    assert [(p.seq, p.code) for p in report.problems] == [(5, "time_backwards")]
    assert any("time goes backwards" in text for _c, _s, text in verifier.verify(doc)[0])


def test_a_forger_with_their_own_key_is_caught_by_the_citys_published_key(tmp_path):
    doc = copy.deepcopy(DOCUMENT)
    doc["entries"][-2]["payload"]["outcomes"][1]["result"] = "adopted"
    rechain(doc, Ed25519PrivateKey.generate())
    # The key inside the document proves nothing by itself: the forgery is
    # self-consistent, which is why the script prints the key's fingerprint
    # and takes --public-key.
    assert verify_document(doc).ok
    key_file = tmp_path / "city-key.pem"
    key_file.write_text(CITY_KEY_PEM, encoding="ascii")
    report, result = assert_both_fail(tmp_path, doc, "--public-key", str(key_file), trusted=CITY_KEY_PEM)
    assert report.signature == "invalid"
    assert "not the key you gave" in result.stdout


def test_unreadable_json_fails_loudly(tmp_path):
    path = tmp_path / "results-log.json"
    path.write_text('{"entries": [], "entries": []}', encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", str(SCRIPT), str(path)],
                            capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert result.returncode == 1
    assert "duplicate key" in result.stdout and "VERIFICATION FAILED" in result.stdout


# -- without the cryptography package ------------------------------------------

NO_CRYPTOGRAPHY = ("-c", "import runpy, sys; sys.modules['cryptography'] = None; "
                   f"sys.argv = [{str(SCRIPT)!r}] + sys.argv[1:]; "
                   f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')")


def test_without_cryptography_the_signature_is_unchecked_but_the_rest_is(tmp_path):
    result = run_script(tmp_path, DOCUMENT, python_prefix=NO_CRYPTOGRAPHY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "UNCHECKED" in result.stdout and "pip install cryptography" in result.stdout

    strict = run_script(tmp_path, DOCUMENT, "--require-signature", python_prefix=NO_CRYPTOGRAPHY)
    assert strict.returncode == 1 and "VERIFICATION FAILED" in strict.stdout

    doc = copy.deepcopy(DOCUMENT)
    _change_salt(doc)
    assert run_script(tmp_path, doc, python_prefix=NO_CRYPTOGRAPHY).returncode == 1


# -- what may enter the log -------------------------------------------------------

def test_floats_have_no_canonical_encoding():
    with pytest.raises(CanonicalError):
        canonical_json({"score": 3.5})
    with pytest.raises(CanonicalError):
        canonical_json({"big": 2**53})
    with pytest.raises(CanonicalError):
        canonical_json({"at": datetime(2026, 4, 1)})  # naive
    entries, _ = build_log()
    with pytest.raises(PayloadRefused, match="floats"):
        append(entries, chain.CORRECTION, START + timedelta(days=300),
               {"corrects_seq": 1, "reason": "予算額の訂正", "correction": {"field": "budget_cap_yen", "value": 1.5}})


def test_personal_data_keys_are_refused():
    entries, _ = build_log()
    later = START + timedelta(days=300)
    refused = [
        (chain.PROPOSAL_RECEIVED, {"proposal_code": "A-04", "representative_name": "山田太郎"}),
        (chain.INTAKE_DECIDED, {"proposal_code": "A-04", "outcome": "returned",
                                "reason": "連絡先 yamada@example.jp に確認"}),
        (chain.INTAKE_DECIDED, {"proposal_code": "A-04", "outcome": "returned",
                                "reason": "代表者（０２５−２２６−１１１１）に確認"}),
        (chain.CORRECTION, {"corrects_seq": 3, "reason": "訂正", "correction": {"address": "新潟市中央区"}}),
        (chain.REVIEWER_RECUSED, {"reviewer": "R1", "proposal_code": "A-01", "ground": "友人が代表者"}),
        ("reviewer_renamed", {"reviewer": "R1"}),
    ]
    for kind, payload in refused:
        with pytest.raises(PayloadRefused):
            append(entries, kind, later, payload)
    length = len(entries)
    assert len(entries) == length  # nothing was appended


def test_append_keeps_the_chain_rules():
    entries: list[Entry] = []
    with pytest.raises(ChainError, match="call_published"):
        append(entries, chain.PROPOSAL_RECEIVED, START, {"proposal_code": "A-01"})
    append(entries, chain.CALL_PUBLISHED, START, {"call_ref": "x"})
    with pytest.raises(ChainError, match="backwards"):
        append(entries, chain.PROPOSAL_RECEIVED, START - timedelta(seconds=1), {"proposal_code": "A-01"})
    with pytest.raises(CanonicalError):
        append(entries, chain.PROPOSAL_RECEIVED, "2026-04-01 09:00", {"proposal_code": "A-01"})
    second = append(entries, chain.PROPOSAL_RECEIVED, START, {"proposal_code": "A-01"})
    assert (second.seq, second.prev_hash) == (2, entries[0].hash)


def test_a_rechained_log_with_a_personal_key_is_still_refused_by_the_core():
    doc = copy.deepcopy(DOCUMENT)
    doc["entries"][2]["payload"]["representative_name"] = "山田太郎"
    rechain(doc, SIGNING_KEY)
    report = verify_chain([Entry.from_dict(e) for e in doc["entries"]])
    assert [(p.seq, p.code) for p in report.problems] == [(3, "payload_refused")]


# -- the encoding, commitments and keys, as documented ---------------------------

def test_entry_hash_is_sha256_of_the_documented_bytes():
    payload = {"proposal_code": "A-01"}
    expected = (b'{"at":"2026-04-01T01:00:00.000000Z","kind":"proposal_received",'
                b'"payload":{"proposal_code":"A-01"},"prev":"' + b"0" * 64 + b'","seq":1}')
    assert canonical_json({"prev": "0" * 64, "seq": 1, "kind": "proposal_received",
                           "at": "2026-04-01T01:00:00.000000Z", "payload": payload}) == expected
    assert entry_hash("0" * 64, 1, "proposal_received", "2026-04-01T01:00:00.000000Z", payload) \
        == hashlib.sha256(expected).hexdigest() \
        == "158ad8a1cef280438b33d08f3c4a6c250b55600111d5aa4b7eb7c3a94f279cf8"  # docs/log-format.md
    assert canonical_json({"label": "公益性"}) == '{"label":"公益性"}'.encode()


def test_commitments():
    salt = bytes(range(32))
    scores = {"public_benefit": 4, "budget": 3}
    commitment = commit_scores(scores, salt)
    assert commitment == "daa726cc6d00ef410fe59562c62f6a3d35bdcc3118a3bb0b6442a58bf655a424"  # the docs
    assert verify_commitment(commitment, scores, salt)
    assert verify_commitment(commitment, scores, salt.hex())
    assert not verify_commitment(commitment, {**scores, "budget": 4}, salt)
    assert not verify_commitment(commitment, scores, salt.hex().upper())
    assert not verify_commitment(commitment, scores, "zz")
    assert len(new_salt()) == 32 and new_salt() != new_salt()
    assert verifier.commitment_of(scores, salt.hex()) == commitment


def test_signing_key_is_created_private_and_reused(tmp_path):
    path = tmp_path / "instance" / "log-signing-key.pem"
    key = signing.load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing.public_key_pem(signing.load_or_create_key(path)) == signing.public_key_pem(key)
    assert [p.name for p in path.parent.iterdir()] == ["log-signing-key.pem"]
    signature = signing.sign_head(key, "f" * 64, 7)
    assert signing.verify_head_signature(signing.public_key_pem(key), "f" * 64, 7, signature)
    assert not signing.verify_head_signature(signing.public_key_pem(key), "f" * 64, 8, signature)
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError):
        signing.load_or_create_key(path)


def _sh(command, cwd):
    return subprocess.run(["sh", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed")
def test_by_hand_with_jq_and_sha256sum_as_documented(tmp_path):
    (tmp_path / "results-log.json").write_text(json.dumps(DOCUMENT, ensure_ascii=False, indent=2),
                                               encoding="utf-8")
    for index in (0, 1, 2, 12):
        digest = _sh(f"jq -jcS '.entries[{index}] | {{at,kind,payload,prev,seq}}' results-log.json | sha256sum",
                     tmp_path)
        assert digest.stdout.split()[0] == DOCUMENT["entries"][index]["hash"]
    reveal = DOCUMENT["commitments_revealed"][0]
    sealed = DOCUMENT["entries"][reveal["seq"] - 1]
    digest = _sh("jq -jcS '.commitments_revealed[0] | {salt, scores}' results-log.json | sha256sum", tmp_path)
    assert digest.stdout.split()[0] == sealed["payload"]["commitment"]


@pytest.mark.skipif(not all(shutil.which(tool) for tool in ("jq", "openssl", "base64")),
                    reason="jq, openssl or base64 not installed")
def test_by_hand_with_openssl_as_documented(tmp_path):
    (tmp_path / "results-log.json").write_text(json.dumps(DOCUMENT, ensure_ascii=False, indent=2),
                                               encoding="utf-8")
    (tmp_path / "city-log-key.pem").write_text(CITY_KEY_PEM, encoding="ascii")
    result = _sh(
        "jq -jcS '{purpose: \"kyodo-portal/log-head/v1\", seq: .head.seq, hash: .head.hash}' "
        "results-log.json > head.msg && "
        "jq -r '.head.signature' results-log.json | base64 -d > head.sig && "
        "openssl pkeyutl -verify -pubin -inkey city-log-key.pem -rawin -in head.msg -sigfile head.sig",
        tmp_path)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout, result.stderr
    assert (tmp_path / "head.msg").read_bytes() == signing.head_message(DOCUMENT["head"]["hash"],
                                                                       DOCUMENT["head"]["seq"])


# -- any single-byte change to a payload breaks verification ---------------------

DOCUMENT_BYTES = canonical_json(DOCUMENT)
PAYLOAD_SPANS = []
for _entry in DOCUMENT["entries"]:
    _start = DOCUMENT_BYTES.index(canonical_json(_entry))
    _payload = canonical_json(_entry["payload"])
    _offset = DOCUMENT_BYTES.index(b'"payload":' + _payload, _start) + len(b'"payload":')
    PAYLOAD_SPANS.append((_offset, len(_payload)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_byte_change_in_a_payload_breaks_verification(data):
    offset, length = data.draw(st.sampled_from(PAYLOAD_SPANS), label="payload")
    position = offset + data.draw(st.integers(0, length - 1), label="byte")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != DOCUMENT_BYTES[position]), label="value")
    mutated = DOCUMENT_BYTES[:position] + bytes([new]) + DOCUMENT_BYTES[position + 1:]
    try:
        doc = verifier.load_document(mutated)
    except ValueError:  # not UTF-8 or not JSON: refused outright
        return
    assume(doc != DOCUMENT)  # e.g. \u001f -> \u001F spells the same text
    assert verifier.verify(doc)[0]
    assert not verify_document(doc).ok


# -- two stages: one live seal per (reviewer, proposal, stage) ---------------------

def _two_stage_log(extra=None):
    """R1 seals A-01 in the first stage (without "stage", as older logs do),
    the second stage, and the revised first stage; then ``extra`` adds more."""
    entries: list[Entry] = []
    reveals: list[Reveal] = []
    clock = iter(START + timedelta(hours=hour) for hour in range(100))

    def log(kind, payload):
        return append(entries, kind, next(clock), payload)

    def seal(stage, scores):
        salt = new_salt()
        payload = {"reviewer": "R1", "proposal_code": "A-01", "commitment": commit_scores(scores, salt)}
        if stage is not None:
            payload["stage"] = stage
        entry = log(chain.SCORE_SEALED, payload)
        reveals.append(Reveal(entry.seq, scores, salt))
        return entry

    log(chain.CALL_PUBLISHED, {"call_ref": CALL["ref"], "title": CALL["title"], "fiscal_year": 2026,
                               "opens_at": START, "closes_at": START + timedelta(days=30),
                               "budget_cap_yen": 500_000, "criteria": CRITERIA, "document_sha256": "a" * 64})
    seals = {
        "document": seal(None, {"0": 3, "1": 4}),
        "presentation": seal("presentation", {"0": 4, "1": 4}),
        "document_revised": seal("document_revised", {"0": 4, "1": 5}),
    }
    if extra:
        extra(log, seal, seals, reveals)
    log(chain.SCORES_REVEALED, {"revealed_count": len(reveals)})
    return export_document(CALL, entries, reveals, SIGNING_KEY)


def test_two_stages_give_two_live_seals_and_verify_in_core_and_script(tmp_path):
    doc = _two_stage_log()
    report = verify_document(doc)
    assert report.ok, report.problems
    assert (report.revealed, report.superseded) == (3, 0)
    assert run_script(tmp_path, doc).returncode == 0


def test_a_reopen_supersedes_only_the_seal_of_its_stage(tmp_path):
    def reopen_presentation(log, seal, seals, reveals):
        log(chain.SCORE_REOPENED, {"reviewer": "R1", "proposal_code": "A-01", "stage": "presentation",
                                   "supersedes_seq": seals["presentation"].seq, "reason": "記入誤りの訂正"})
        reveals[:] = [r for r in reveals if r.seq != seals["presentation"].seq]
        seal("presentation", {"0": 5, "1": 4})

    doc = _two_stage_log(reopen_presentation)
    report = verify_document(doc)
    assert report.ok, report.problems
    assert (report.revealed, report.superseded) == (3, 1)
    result = run_script(tmp_path, doc)
    assert result.returncode == 0, result.stdout


def _reseal_same_stage(stage):
    def extra(log, seal, seals, reveals):
        seal(stage, {"0": 1, "1": 1})
    return extra


@pytest.mark.parametrize("stage", ["document", None, "presentation"])
def test_a_second_seal_in_the_same_stage_without_reopen_is_caught(tmp_path, stage):
    # "document" and a missing stage are the same stage.
    report, result = assert_both_fail(tmp_path, _two_stage_log(_reseal_same_stage(stage)))
    assert [p.code for p in report.problems] == ["resealed_without_reopen"]
    assert "sealed again without a logged reopen" in result.stdout


def test_a_reopen_of_another_stages_seal_is_caught(tmp_path):
    def wrong_stage(log, seal, seals, reveals):
        log(chain.SCORE_REOPENED, {"reviewer": "R1", "proposal_code": "A-01", "stage": "presentation",
                                   "supersedes_seq": seals["document"].seq, "reason": "誤り"})

    report, result = assert_both_fail(tmp_path, _two_stage_log(wrong_stage))
    assert "bad_reopen" in {p.code for p in report.problems}
    assert "reopen does not point at a live seal" in result.stdout


def test_an_unknown_stage_is_refused_by_the_core():
    with pytest.raises(PayloadRefused):
        chain.check_public_payload(chain.SCORE_SEALED, {"reviewer": "R1", "proposal_code": "A-01",
                                                        "stage": "final", "commitment": "a" * 64})
