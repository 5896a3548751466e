"""Genuine published calls and one shared list of tampered copies, for both
verifiers: ``scripts/verify_log.py`` (tests/test_verify_cases_script.py) and
the browser verifier (tests/e2e/test_verify_in_browser.py).

``generate(out_dir)`` builds the demo data in a database of its own (its own
instance folder, so its own signing key), through the real verbs, and
downloads every published file of every call with results from the real
public addresses (a Flask test client, the bytes a visitor gets). Then it
writes, for each case below, a copy of one call's files with one file
changed the way a forger would. ``manifest.json`` lists them:

    {"key": "public-key.pem",
     "genuine": {slug: [file, ...]},
     "cases": {name: {"what": Japanese description, "files": [file, ...]}}}

Run as ``python -m tests.verify_cases --write OUT`` in the environment
``generate`` prepares; tests call ``generate``.
"""
from __future__ import annotations

import base64
import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE_URL = "https://kyodo.city.example.jp"

# name -> what a forger did (Japanese, as the reports say it)
CASES = {
    "revealed-score": "公開された採点の点数を1点変えた",
    "total": "結果のJSONで委員の合計点を変えた",
    "rank": "結果のJSONで順位を変えた",
    "decision": "結果のJSONで決定（採択・不採択）を変えた",
    "removed-entry": "記録を1件削除した",
    "reordered-entries": "記録の順序を入れ替えた",
    "signature-byte": "署名の1バイトを反転した",
    "replaced-key": "公開鍵を別の鍵に差し替え、その鍵で署名し直した",
    "pdf-byte": "結果のPDFの1バイトを変えた",
    "json-byte": "結果のJSONの総評の1文字を変えた",
    "csv-byte": "結果のCSVの点数を1つ変えた",
    "departure-without-reason": "推薦と異なる決定の理由を消した",
    "decimal-score": "公開された採点の点数を 4 から 4.0 と書き換えた（数値としては同じ）",
    "duplicate-key": "結果のJSONで同じ項目（得点）を二度書き、後のほうを変えた",
    "project-document-byte": "採択事業の協定書・事業の文書（PDF）の1バイトを変えた",
}


def generate(out_dir: Path) -> dict:
    out_dir = Path(out_dir)
    env = {**os.environ, "PORTAL_ENV": "development",
           "DATABASE_URL": f"sqlite:///{out_dir / 'cases.sqlite3'}", "PORTAL_INSTANCE_DIR": str(out_dir / "instance"),
           "PORTAL_UPLOAD_DIR": str(out_dir / "uploads"), "PORTAL_BASE_URL": BASE_URL,
           "PORTAL_RESULTS_PAGE_CACHE_SECONDS": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("LOG_SIGNING_KEY_PATH", None)
    flask = Path(sys.executable).parent / "flask"
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 600}
    done = subprocess.run([str(flask), "--app", "wsgi", "db-upgrade"], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([sys.executable, "-m", "tests.verify_cases", "--write", str(out_dir)], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- inside the app

def _download(client, out: Path, slug: str) -> list[str]:
    """Every public file of a call with results, under the names a browser saves."""
    from portal.db import db_session
    from portal.domain.results import publication
    from portal.models import Call

    call = db_session.query(Call).filter_by(slug=slug).one()
    versions = [row.version for row in publication.publications(db_session, call)]
    urls = [f"/calls/{slug}/log.json", f"/calls/{slug}/guidelines.json"]
    for v in versions:
        urls += [f"/calls/{slug}/results/v{v}.json", f"/calls/{slug}/results/v{v}.csv",
                 f"/calls/{slug}/results/v{v}.pdf", f"/calls/{slug}/log/v{v}.pdf"]
    # the agreements and project documents the log vouches for, from where they are served
    log = client.get(f"/calls/{slug}/log.json").get_json()
    urls += [path for path, *_ in _project_documents(log)]
    names = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        name = url.removeprefix(f"/calls/{slug}/").replace("/", "-")
        (out / name).write_bytes(response.data)
        names.append(name)
    return names


def _project_documents(log: dict) -> list:
    import importlib.util

    spec = importlib.util.spec_from_file_location("verify_log_script", ROOT / "scripts" / "verify_log.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.project_documents(log)


def _tamper(files: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """One changed copy of ``files`` (one call's) per case."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from portal.domain.log import signing

    log_name = "log.json"
    results_name = next(n for n in sorted(files) if n.startswith("results-v") and n.endswith(".json"))
    log = json.loads(files[log_name])
    results = json.loads(files[results_name])

    def with_log(doc):
        return {**files, log_name: json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")}

    def with_results(doc):
        return {**files, results_name: json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")}

    cases: dict[str, dict[str, bytes]] = {}
    doc = copy.deepcopy(log)
    reveal = doc["commitments_revealed"][0]
    first = sorted(reveal["scores"])[0]
    reveal["scores"][first] = reveal["scores"][first] % 5 + 1
    cases["revealed-score"] = with_log(doc)

    doc = copy.deepcopy(results)
    scored = next(p for p in doc["proposals"] if p["reviewers"])
    scored["reviewers"][0]["total"] = str(int(float(scored["reviewers"][0]["total"])) + 1)
    cases["total"] = with_results(doc)

    doc = copy.deepcopy(results)
    doc["proposals"][0]["rank"], doc["proposals"][1]["rank"] = doc["proposals"][1]["rank"], doc["proposals"][0]["rank"]
    if doc["proposals"][0]["rank"] == doc["proposals"][1]["rank"]:
        doc["proposals"][0]["rank"] += 1
    cases["rank"] = with_results(doc)

    doc = copy.deepcopy(results)
    decision = doc["proposals"][-1]["decision"]
    flipped = "not_adopted" if decision["outcome"] in ("adopted", "conditional") else "adopted"
    decision.update(outcome=flipped, label={"adopted": "採択", "not_adopted": "不採択"}[flipped])
    cases["decision"] = with_results(doc)

    doc = copy.deepcopy(log)
    del doc["entries"][len(doc["entries"]) // 2]
    cases["removed-entry"] = with_log(doc)

    doc = copy.deepcopy(log)
    middle = len(doc["entries"]) // 2
    doc["entries"][middle], doc["entries"][middle + 1] = doc["entries"][middle + 1], doc["entries"][middle]
    cases["reordered-entries"] = with_log(doc)

    doc = copy.deepcopy(log)
    signature = bytearray(base64.b64decode(doc["head"]["signature"]))
    signature[10] ^= 0x01
    doc["head"]["signature"] = base64.b64encode(bytes(signature)).decode("ascii")
    cases["signature-byte"] = with_log(doc)

    doc = copy.deepcopy(log)
    forger = Ed25519PrivateKey.generate()
    doc["public_key_pem"] = forger.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    doc["head"]["signature"] = signing.sign_head(forger, doc["head"]["hash"], doc["head"]["seq"])
    cases["replaced-key"] = with_log(doc)

    pdf_name = results_name.replace(".json", ".pdf")
    pdf = bytearray(files[pdf_name])
    pdf[len(pdf) // 2] ^= 0x01
    cases["pdf-byte"] = {**files, pdf_name: bytes(pdf)}

    doc = copy.deepcopy(results)
    doc["general_comment"] = (doc.get("general_comment") or "") + "。"
    cases["json-byte"] = with_results(doc)

    csv_name = results_name.replace(".json", ".csv")
    lines = files[csv_name].decode("utf-8").split("\r\n")
    cells = lines[1].split(",")
    cells[13] = str(int(cells[13]) % 5 + 1)  # 点数
    lines[1] = ",".join(cells)
    cases["csv-byte"] = {**files, csv_name: "\r\n".join(lines).encode("utf-8")}

    doc = copy.deepcopy(results)
    departing = next((p for p in doc["proposals"] if p.get("departs")), None)
    if departing is None:  # make one: the forger flips a decision and gives no reason
        departing = doc["proposals"][-1]
        adopted = departing["decision"]["outcome"] in ("adopted", "conditional")
        departing["decision"].update(outcome="not_adopted" if adopted else "adopted",
                                     label="不採択" if adopted else "採択")
        departing["departs"] = True
    departing["decision"]["reason"] = ""
    cases["departure-without-reason"] = with_results(doc)
    text = files[log_name].decode("utf-8")
    reveal = json.loads(text)["commitments_revealed"][0]
    first = sorted(reveal["scores"])[0]
    start = text.index('"commitments_revealed"')
    tail, done = re.subn(rf'"{first}": {reveal["scores"][first]}(?=\s*[,}}])',
                         f'"{first}": {reveal["scores"][first]}.0', text[start:], count=1)
    assert done == 1 and json.loads(text[:start] + tail)["commitments_revealed"][0]["scores"] == reveal["scores"]
    cases["decimal-score"] = {**files, log_name: (text[:start] + tail).encode("utf-8")}

    text = files[results_name].decode("utf-8")
    score = json.loads(text)["proposals"][0]["score"]
    marker = f'"score": "{score}",'
    assert marker in text
    cases["duplicate-key"] = {**files, results_name: text.replace(
        marker, marker + f' "score": "{score[:-1]}9",', 1).encode("utf-8")}
    project_file = sorted(n for n in files if n.startswith("projects-"))[-1]
    pdf = bytearray(files[project_file])
    pdf[len(pdf) // 2] ^= 0x01
    cases["project-document-byte"] = {**files, project_file: bytes(pdf)}
    assert set(cases) == set(CASES)
    return cases


def write(out_dir: Path) -> None:
    from portal import create_app
    from portal.db import db_session
    from portal.demo import load_demo_data
    from portal.domain.results import publication
    from portal.domain.timeutil import now_utc
    from portal.models import Call, Publication

    app = create_app()
    with app.app_context():
        load_demo_data(db_session)
        db_session.commit()
        # A correction, so that a genuine call has two versions and a correction entry.
        finished = db_session.query(Call).filter(Call.results_published_at.is_not(None)).order_by(Call.id).first()
        publication.publish(db_session, finished, None, now_utc(), "講評の誤字を訂正しました。",
                            settings=publication.Settings.for_app(app))
        db_session.commit()
        slugs = sorted({slug for (slug,) in db_session.query(Call.slug).join(Publication,
                                                                             Publication.call_id == Call.id)})
        client = app.test_client()
        manifest: dict = {"key": "public-key.pem", "genuine": {}, "cases": {}}
        (out_dir / "public-key.pem").write_bytes(client.get("/transparency/public-key.pem").data)
        for slug in slugs:
            folder = out_dir / "genuine" / slug
            folder.mkdir(parents=True)
            manifest["genuine"][slug] = _download(client, folder, slug)
        # the call whose files are tampered with: one with an adopted project's documents
        chosen = next((slug for slug in slugs if any(n.startswith("projects-") for n in manifest["genuine"][slug])),
                      slugs[0])
        base = out_dir / "genuine" / chosen
        files = {name: (base / name).read_bytes() for name in manifest["genuine"][chosen]}
        for name, changed in _tamper(files).items():
            folder = out_dir / "cases" / name
            folder.mkdir(parents=True)
            for file_name, data in changed.items():
                (folder / file_name).write_bytes(data)
            manifest["cases"][name] = {"what": CASES[name], "files": sorted(changed)}
        (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write(Path(sys.argv[2]))
    else:
        sys.exit("usage: python -m tests.verify_cases --write OUT")


# ---------------------------------------------------------------- random results documents

def random_documents(seed: int, count: int) -> list[dict]:
    """Results documents (the fields the figures need) whose every figure the
    portal's own aggregation computed, from random criteria, rules and
    scores with many ties: both verifiers must recompute exactly these
    (tests/test_verify_recompute.py, tests/e2e/test_verify_in_browser.py)."""
    import random
    from decimal import Decimal

    from portal.domain.results.aggregation import (
        AggregationRules,
        CriterionRule,
        ProposalInfo,
        ScoreSheet,
        VetoRule,
        aggregate,
    )
    from portal.domain.results.result_json import decimal_text

    rng = random.Random(seed)
    documents = []
    while len(documents) < count:
        criteria = [CriterionRule(str(i), f"基準{i}", Decimal(rng.choice(["1", "2", "2.5", "3", "4", "0.5", "1.25"])),
                                  rng.choice([0, 1]), rng.choice([3, 5])) for i in range(rng.randint(1, 4))]
        keys = [c.key for c in criteria]
        maximum = sum(c.weight * c.scale_max for c in criteria)
        threshold = rng.choice(["none", "points", "share"])
        veto_key = rng.choice(keys)
        rules = AggregationRules(
            method=rng.choice(["mean", "trimmed_mean"]), trim_min_scorers=rng.choice([3, 4, 5]),
            threshold_points=(maximum * Decimal(rng.choice(["0.4", "0.55", "0.6"])) if threshold == "points" else None),
            threshold_share=Decimal(rng.choice(["0.5", "0.6", "0.65"])) if threshold == "share" else None,
            veto=VetoRule(veto_key, rng.choice([0, 1, 2])) if rng.random() < 0.4 else None,
            tie_breaks=tuple(rng.sample(keys, rng.randint(0, len(keys)))),
            budget_total=rng.choice([None, 300_000, 700_000, 1_000_000]), budget_policy=rng.choice(["skip", "stop"]),
            decimals=rng.choice([0, 1, 2]))
        codes = rng.sample(range(1, 120), rng.randint(2, 8))
        reviewers = [f"委員{chr(0x41 + i)}" for i in range(rng.randint(1, 6))]
        infos = [ProposalInfo(f"提案{n:02d}", f"提案{n:02d}", rng.choice([100_000, 250_000, 300_000]),
                              min_scorers=rng.choice([None, None, 2, len(reviewers)])) for n in codes]
        sheets, conflicts = [], set()
        for info in infos:
            for reviewer in reviewers:
                if rng.random() < 0.15:
                    conflicts.add((reviewer, info.key))
                    continue
                low = rng.randint(0, 1)
                sheets.append(ScoreSheet(reviewer, info.key, {c.key: max(c.scale_min, min(c.scale_max, rng.randint(
                    c.scale_min + low, c.scale_min + low + 2))) for c in criteria}))
        try:
            result = aggregate(criteria, rules, infos, sheets, conflicts)
        except Exception:  # an impossible combination (e.g. a threshold above the maximum): draw again
            continue
        by_pair = {(s.reviewer_key, s.proposal_key): dict(s.scores) for s in sheets}
        proposals = []
        for row in result.proposals:
            proposals.append({
                "code": row.code, "requested_amount": row.requested_amount, "min_scorers": row.min_scorers,
                "scorer_count": row.scorer_count, "trimmed": row.trimmed, "score": decimal_text(row.score),
                "share_of_max": decimal_text(row.share_of_max),
                "criterion_means": {k: decimal_text(v) for k, v in row.criterion_means.items()},
                "passes_threshold": row.passes_threshold, "vetoed": row.vetoed, "rank": row.rank,
                "tied_with": list(row.tied_with), "tie_break_used": row.tie_break_used,
                "recommended": row.recommended, "reasons": list(row.reasons), "departs": False,
                "decision": {"outcome": "adopted" if row.recommended else "not_adopted", "reason": ""},
                "reviewers": [{"reviewer": r, "scores": by_pair[(r, row.key)], "total": decimal_text(total),
                               "dropped": r in (row.dropped_low, row.dropped_high)}
                              for r, total in row.reviewer_totals.items()],
            })
        documents.append({
            "criteria": [{"key": c.key, "name": c.name, "weight": decimal_text(c.weight), "min": c.scale_min,
                          "max": c.scale_max} for c in criteria],
            "rules": {"method": rules.method, "trim_min_scorers": rules.trim_min_scorers,
                      "threshold_points": decimal_text(rules.threshold_points),
                      "threshold_share": decimal_text(rules.threshold_share),
                      "veto": None if rules.veto is None else {"criterion_key": rules.veto.criterion_key,
                                                               "at_or_below": rules.veto.at_or_below,
                                                               "quorum": "majority"},
                      "tie_breaks": list(rules.tie_breaks), "budget_total": rules.budget_total,
                      "budget_policy": rules.budget_policy, "decimals": rules.decimals, "rounding": rules.rounding,
                      "max_possible": decimal_text(result.max_possible),
                      "threshold_effective": decimal_text(result.threshold_points)},
            "budget_used": result.budget_used,
            "proposals": proposals,
        })
    return documents
