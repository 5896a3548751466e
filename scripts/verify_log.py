#!/usr/bin/env python3
"""審査プロセス記録の検証 / Verify a published process log and the documents it vouches for.

    python verify_log.py r7-kyodo-model-log.json
    python verify_log.py r7-kyodo-model-log.json r7-kyodo-model-results-v1.json \
        r7-kyodo-model-results-v1.csv r7-kyodo-model-results-v1.pdf --public-key public-key.pem

A citizen downloads the log (/calls/<slug>/log.json) a city publishes and,
optionally, its results files, and runs this file on them. It checks that
  1. every entry's SHA-256 hash is right and each links to the one before;
  2. the head (last entry) is the one the city signed with its Ed25519 key;
  3. every sealed score matches the scores and salt revealed at publication,
     and no seal was left unrevealed unless a logged reopen superseded it;
  4. each results JSON given is the one the log recorded, its rules are the
     signed rules, its decisions the logged decisions, its scores the
     revealed scores, and every figure recomputes from them;
  5. every CSV, PDF and 募集要項 (guidelines.json) given has a SHA-256 the
     log (or a checked results JSON) recorded, a concluded agreement's or a
     project document's PDF included;
  6. with --site URL, every agreement and project document the log vouches
     for is fetched from where the city serves it and has the logged hash.
Exit code 0 when everything holds, 1 otherwise. docs/log-format.md is the
specification; the browser verifier (static/js/verify-*.js) is a third
implementation, and the portal's tests give both the same tampered files.

Deliberately standalone: only the Python standard library (3.8+), plus the
`cryptography` package for the signature if it is installed (without it the
signature is reported as unchecked). It does NOT import the portal's code:
the point is that someone who does not trust the city's software can read
these lines, run them, and reach the same answer. So the canonical
encoding and the checks below are a second, independent implementation of
portal/domain/log/ and portal/domain/results/aggregation.py, following
docs/log-format.md and docs/aggregation.md; the portal's tests run both on
the same documents to keep them in agreement.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from fractions import Fraction

try:  # optional: only the signature check needs it
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

FIRST_SEQ = 1
GENESIS_PREV = "0" * 64
HEAD_PURPOSE = "kyodo-portal/log-head/v1"
MAX_SAFE_INTEGER = 2**53 - 1
TIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")


class Unencodable(ValueError):
    pass


# -- the canonical encoding (docs/log-format.md, section 2) -------------------

def _check_plain(value, path="$"):
    """Only null, true/false, integers within +-(2**53-1), strings, arrays and
    objects: the same rule the portal applies before hashing."""
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise Unencodable(path + ": integer too large")
        return
    if isinstance(value, float):
        raise Unencodable(path + ": decimal numbers are not allowed")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, path + "." + key)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_plain(item, "%s[%d]" % (path, index))
        return
    raise Unencodable(path + ": unexpected value")


def canonical_json(value):
    _check_plain(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise Unencodable("string is not valid Unicode")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def entry_hash(entry):
    return sha256_hex(canonical_json({
        "prev": entry["prev"], "seq": entry["seq"], "kind": entry["kind"],
        "at": entry["at"], "payload": entry["payload"],
    }))


def commitment_of(scores, salt_hex):
    return sha256_hex(canonical_json({"salt": salt_hex, "scores": scores}))


def head_message(head_hash, seq):
    return canonical_json({"purpose": HEAD_PURPOSE, "seq": seq, "hash": head_hash})


# -- reading the file strictly ---------------------------------------------------

def _no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate key %r" % key)
        obj[key] = value
    return obj


def _no_constants(name):
    raise ValueError("%s is not allowed" % name)


def load_document(data):
    """Parse bytes as UTF-8 JSON, refusing duplicate keys and NaN/Infinity,
    so that no two readers can see two different documents."""
    text = data.decode("utf-8")
    return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)


def pem_to_der(pem):
    body = re.sub(r"-----(BEGIN|END) PUBLIC KEY-----|\s", "", pem)
    return base64.b64decode(body, validate=True)


# -- the checks ------------------------------------------------------------------

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_chain(entries, problems):
    previous = None
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not _is_int(entry.get("seq")) or not isinstance(entry.get("payload"), dict) \
                or not all(isinstance(entry.get(k), str) for k in ("kind", "at", "prev", "hash")):
            problems.append(('chain', None, "記録 %d の形式が不正です / entry #%d is malformed" % (index + 1, index + 1)))
            return False
        seq = entry["seq"]
        expected_seq = FIRST_SEQ if previous is None else previous["seq"] + 1
        if seq != expected_seq:
            problems.append(('chain', seq, "番号が連続していません / non-contiguous seq (expected %d)" % expected_seq))
        expected_prev = GENESIS_PREV if previous is None else previous["hash"]
        if entry["prev"] != expected_prev:
            problems.append(('chain', seq, "前の記録とつながっていません / broken link to the previous entry"))
        try:
            computed = entry_hash(entry)
        except Unencodable as error:
            problems.append(('chain', seq, "符号化できません / cannot encode: %s" % error))
        else:
            if computed != entry["hash"]:
                problems.append(('chain', seq, "ハッシュが一致しません / wrong hash (stored %s, computed %s)"
                                 % (entry["hash"], computed)))
        if not TIME_PATTERN.match(entry["at"]):
            problems.append(('chain', seq, "時刻の形式が不正です / bad time %r" % entry["at"]))
        elif previous is not None and TIME_PATTERN.match(previous["at"]) and entry["at"] < previous["at"]:
            problems.append(('chain', seq, "時刻が前の記録より前です / time goes backwards"))
        if previous is None and entry["kind"] != "call_published":
            problems.append(('chain', seq, "最初の記録が募集開始ではありません / first entry is not call_published"))
        previous = entry
    return True


def check_reveals(entries, reveals, problems):
    """Returns (revealed, superseded, scores_revealed_logged)."""
    seals = {e["seq"]: e for e in entries if e["kind"] == "score_sealed"}
    live, superseded = {}, set()
    for entry in entries:
        payload = entry["payload"]
        # One live seal per (reviewer, proposal, stage); no "stage" means the
        # first stage, "document" (docs/log-format.md, section 5).
        stage = payload.get("stage")
        key = (str(payload.get("reviewer")), str(payload.get("proposal_code")),
               str("document" if stage is None else stage))
        if entry["kind"] == "score_sealed":
            if key in live:
                problems.append(('scores', entry["seq"], "再開の記録なしに再封印されています / sealed again without a logged reopen"))
            live[key] = entry["seq"]
        elif entry["kind"] == "score_reopened":
            target = payload.get("supersedes_seq")
            if live.get(key) != target:
                problems.append(('scores', entry["seq"], "再開の対象が有効な封印ではありません / reopen does not point at a live seal"))
            else:
                superseded.add(target)
                del live[key]
    seen = set()
    for reveal in reveals:
        seq = reveal.get("seq") if isinstance(reveal, dict) else None
        if not _is_int(seq) or not isinstance(reveal.get("salt"), str):
            problems.append(('scores', None, "公開点数の形式が不正です / malformed revealed commitment"))
            continue
        if seq in seen:
            problems.append(('scores', seq, "同じ封印が二度公開されています / revealed twice"))
            continue
        seen.add(seq)
        seal = seals.get(seq)
        if seal is None:
            problems.append(('scores', seq, "対応する封印の記録がありません / no score_sealed entry with this seq"))
            continue
        if not HEX64.match(reveal["salt"]):
            problems.append(('scores', seq, "ソルトの形式が不正です / salt must be 64 lowercase hex digits"))
            continue
        try:
            computed = commitment_of(reveal.get("scores"), reveal["salt"])
        except Unencodable as error:
            problems.append(('scores', seq, "符号化できません / cannot encode: %s" % error))
            continue
        if computed != seal["payload"].get("commitment"):
            problems.append(('scores', seq, "公開された点数が封印と一致しません / revealed scores or salt do not match the seal"))
    logged = any(e["kind"] == "scores_revealed" for e in entries)
    if logged:
        for seq in sorted(set(seals) - superseded - seen):
            problems.append(('scores', seq, "封印された点数が公開されていません / sealed scores were never revealed"))
    return len(seen & set(seals)), len(superseded), logged


def check_signature(doc, head, trusted_pem, problems):
    """'valid', 'invalid' or 'unchecked'."""
    pem = doc.get("public_key_pem")
    if not isinstance(pem, str):
        problems.append(('signature', None, "公開鍵がありません / public_key_pem is missing"))
        return "invalid"
    if trusted_pem is not None:
        try:
            same = pem_to_der(pem) == pem_to_der(trusted_pem)
        except ValueError:
            same = False
        if not same:
            problems.append(('signature', None, "文書の公開鍵が指定の鍵と違います / the document's key is not the key you gave"))
            return "invalid"
    if not HAVE_CRYPTOGRAPHY:
        return "unchecked"
    try:
        key = load_pem_public_key(pem.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
        key.verify(base64.b64decode(head.get("signature", ""), validate=True),
                   head_message(head.get("hash"), head.get("seq")))
    except (InvalidSignature, ValueError, TypeError, Unencodable):
        problems.append(('signature', None, "署名が正しくありません / the head signature does not verify"))
        return "invalid"
    return "valid"


def verify(doc, trusted_pem=None):
    """All checks; returns (problems, facts). problems: [(category, seq or None, text)]."""
    problems = []
    facts = {"entries": 0, "signature": "unchecked", "revealed": 0, "superseded": 0,
             "scores_revealed_logged": False, "fingerprint": None}
    if not isinstance(doc, dict):
        return [("document", None, "文書の形式が不正です / the document is not a JSON object")], facts
    entries, head, reveals = doc.get("entries"), doc.get("head"), doc.get("commitments_revealed")
    if not isinstance(entries, list) or not entries or not isinstance(head, dict) or not isinstance(reveals, list):
        return [("document", None, "文書の形式が不正です / entries, head or commitments_revealed missing")], facts
    facts["entries"] = len(entries)
    if isinstance(doc.get("public_key_pem"), str):
        try:
            facts["fingerprint"] = sha256_hex(pem_to_der(doc["public_key_pem"]))
        except ValueError:
            pass
    if not check_chain(entries, problems):
        return problems, facts
    call = doc.get("call")
    if not isinstance(call, dict) or call.get("ref") != entries[0]["payload"].get("call_ref"):
        problems.append(("chain", entries[0]["seq"], "文書の募集と最初の記録が一致しません / call.ref differs from the first entry"))
    last = entries[-1]
    if head.get("seq") != last["seq"] or head.get("hash") != last["hash"]:
        problems.append(("signature", None, "先頭が最後の記録と一致しません / head does not match the last entry (seq %d)" % last["seq"]))
    facts["signature"] = check_signature(doc, head, trusted_pem, problems)
    facts["revealed"], facts["superseded"], facts["scores_revealed_logged"] = check_reveals(entries, reveals, problems)
    return problems, facts


# -- the published documents (docs/log-format.md, section 6) ----------------------

def _frac(text):
    """An exact number from a decimal string ("2.5") or an int; never a float."""
    if _is_int(text) or isinstance(text, Fraction):
        return Fraction(text)
    if not isinstance(text, str) or not re.match(r"-?\d+(\.\d+)?\Z", text):
        raise ValueError("not a decimal number: %r" % (text,))
    return Fraction(text)


def _places(text):
    return len(text.partition(".")[2]) if isinstance(text, str) else 0


def fixed(value, places, rounding="ROUND_HALF_UP"):
    """``value`` (a Fraction) rounded once to ``places`` decimals, as text."""
    scaled = abs(value) * 10 ** places
    whole = scaled.numerator // scaled.denominator
    rest = scaled - whole
    if rounding == "ROUND_HALF_UP":
        up = rest >= Fraction(1, 2)
    elif rounding == "ROUND_HALF_EVEN":
        up = rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1)
    else:
        raise ValueError("unsupported rounding %r" % rounding)
    digits = str(whole + (1 if up else 0)).rjust(places + 1, "0")
    sign = "-" if value < 0 and int(digits) else ""
    return sign + (digits[:-places] + "." + digits[-places:] if places else digits)


def code_order(code):
    """Natural order of anonymous codes: 提案9 before 提案10."""
    parts = re.split(r"([0-9]+)", code)
    return (tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), code)


def _rules_of(entries, before_seq):
    """The criteria and rules last signed before ``before_seq``."""
    found = None
    for e in entries:
        if e["seq"] < before_seq and e["kind"] in ("call_published", "criteria_changed") and "criteria" in e["payload"]:
            found = e
    if found is None:
        return None, {}
    rules = {r.get("field"): r.get("value") for r in found["payload"].get("rules") or [] if isinstance(r, dict)}
    return found["payload"]["criteria"], rules


def _same_number(text, value):
    if (text in ("", None)) != (value in ("", None)):
        return False
    return text in ("", None) or _frac(text) == _frac(value)


def check_signed_rules(entries, results, before_seq, say):
    criteria, rules = _rules_of(entries, before_seq)
    if criteria is None:
        return say("公表より前に審査基準の記録がありません / no signed criteria before publication")
    published = [(c.get("key"), c.get("name"), _frac(c.get("weight")) * 100, c.get("min"), c.get("max"))
                 for c in results["criteria"]]
    signed = [(c.get("key"), c.get("label"), Fraction(c.get("weight")), c.get("min"), c.get("max")) for c in criteria]
    if published != signed:
        say("公表した審査基準・重みが記録（署名済み）と一致しません / criteria or weights differ from the signed log")
    r = results["rules"]
    veto = r.get("veto") or {}
    pairs = [
        ("aggregation_method", r.get("method"), rules.get("aggregation_method")),
        ("trim_min_scorers", str(r.get("trim_min_scorers")), rules.get("trim_min_scorers")),
        ("tie_break_positions", ",".join(r.get("tie_breaks") or []), rules.get("tie_break_positions")),
        ("budget_policy", r.get("budget_policy"), rules.get("budget_policy")),
        ("score_decimals", str(r.get("decimals")), rules.get("score_decimals")),
        ("veto_criterion_position", veto.get("criterion_key", ""), rules.get("veto_criterion_position")),
        ("veto_at_or_below", "" if not veto else str(veto.get("at_or_below")), rules.get("veto_at_or_below")),
        ("rounding", r.get("rounding"), rules.get("rounding", "ROUND_HALF_UP")),
    ]
    for name, mine, theirs in pairs:
        if mine != theirs and not (name.startswith("veto") and not veto and theirs in ("", None)):
            say("ルール %s が記録（署名済み）と一致しません / rule %s differs from the signed log (%r, signed %r)"
                % (name, name, mine, theirs))
    for name, field in (("threshold_points", "threshold_points"), ("threshold_share", "threshold_share")):
        if not _same_number(r.get(name), rules.get(field)):
            say("ルール %s が記録（署名済み）と一致しません / rule %s differs from the signed log" % (name, name))
    budget = rules.get("budget_total")
    if (r.get("budget_total") or 0) != (int(budget) if budget else 0):
        say("予算総額が記録（署名済み）と一致しません / budget_total differs from the signed log")


def counted_scores(entries, reveals, results):
    """(reviewer, proposal code) -> the revealed scores that count: per pair,
    the first of ``rules.counted_stages`` with a live, revealed seal."""
    r = results["rules"]
    stages = r.get("counted_stages") or (["presentation"] if r.get("deciding_stage") == "presentation"
                                         else ["document_revised", "document"])
    revealed = {x.get("seq"): x.get("scores") for x in reveals if isinstance(x, dict)}
    live = {}
    for e in entries:
        p = e["payload"]
        key = (p.get("reviewer"), p.get("proposal_code"), p.get("stage") or "document")
        if e["kind"] == "score_sealed":
            live[key] = e["seq"]
        elif e["kind"] == "score_reopened" and live.get(key) == p.get("supersedes_seq"):
            del live[key]
    counted = {}
    for (reviewer, code, stage), seq in live.items():
        if stage in stages and seq in revealed:
            best = counted.get((reviewer, code))
            if best is None or stages.index(stage) < best[0]:
                counted[(reviewer, code)] = (stages.index(stage), revealed[seq], seq)
    return {pair: (scores, seq) for pair, (_rank, scores, seq) in counted.items()}


def recompute(results):
    """Every figure of a results document from its criteria, rules and the
    reviewers' scores (docs/aggregation.md). Returns {code: figures}, totals."""
    rules, criteria = results["rules"], results["criteria"]
    decimals, rounding = rules["decimals"], rules.get("rounding", "ROUND_HALF_UP")
    weights = {c["key"]: _frac(c["weight"]) for c in criteria}
    total_places = max([_places(c["weight"]) for c in criteria] or [0])
    maximum = sum(weights[c["key"]] * c["max"] for c in criteria)
    if rules.get("threshold_points") is not None:
        threshold = _frac(rules["threshold_points"])
    elif rules.get("threshold_share") is not None:
        threshold = _frac(rules["threshold_share"]) * maximum
    else:
        threshold = None
    veto, ties = rules.get("veto"), rules.get("tie_breaks") or []
    out = {}
    for p in results["proposals"]:
        reviewers = p["reviewers"]
        totals = {r["reviewer"]: sum(weights[k] * r["scores"][k] for k in weights) for r in reviewers}
        n = len(reviewers)
        # Fewer valid sheets than the proposal requires (採点不成立): no rank, no recommendation.
        under = n == 0 or (p.get("min_scorers") is not None and n < p["min_scorers"])
        row = {"scorer_count": n, "trimmed": False, "under": under, "score": None, "share_of_max": None, "criterion_means": {},
               "passes_threshold": False, "vetoed": False,
               "totals": {name: fixed(t, total_places) for name, t in totals.items()}, "extremes": None}
        if n:
            kept = sorted(totals.values())
            if rules["method"] == "trimmed_mean" and n >= rules["trim_min_scorers"]:
                row["trimmed"], row["extremes"] = True, (kept[0], kept[-1])
                kept = kept[1:-1]
            exact = sum(kept) / len(kept)
            score = fixed(exact, decimals, rounding)
            row.update(score=score, share_of_max=fixed(exact / maximum, decimals + 2, rounding),
                       criterion_means={k: fixed(Fraction(sum(r["scores"][k] for r in reviewers), n), decimals,
                                                 rounding) for k in weights},
                       passes_threshold=threshold is None or _frac(score) >= threshold)
            if veto:
                count = sum(1 for r in reviewers if r["scores"][veto["criterion_key"]] <= veto["at_or_below"])
                row["vetoed"] = 2 * count > n
        out[p["code"]] = row
    ranked = sorted((c for c in out if not out[c]["under"]),
                    key=lambda c: (tuple(-_frac(x) for x in _figures(out[c], ties)), code_order(c)))
    for position, code in enumerate(ranked):
        before = ranked[position - 1] if position else None
        same = before is not None and _figures(out[before], ties) == _figures(out[code], ties)
        out[code]["rank"] = out[before]["rank"] if same else position + 1
    for code in out:
        out[code].setdefault("rank", None)
        out[code]["tied_with"] = [c for c in ranked if c != code and out[code]["rank"] is not None
                                  and out[c]["rank"] == out[code]["rank"]]
        out[code]["tie_break_used"] = None
    for position, code in enumerate(ranked):
        levels = []
        for other in ranked[max(position - 1, 0):position] + ranked[position + 1:position + 2]:
            a, b = _figures(out[code], ties), _figures(out[other], ties)
            if a[0] == b[0]:
                levels += [i - 1 for i in range(1, len(a)) if a[i] != b[i]][:1]
        if levels:
            out[code]["tie_break_used"] = ties[max(levels)]
    used, stopped, budget = 0, False, rules.get("budget_total")
    amounts = {p["code"]: p["requested_amount"] for p in results["proposals"]}
    for code in ranked + [c for c in out if c not in ranked]:
        row = out[code]
        row["recommended"], over = False, False
        eligible = not row["under"] and row["passes_threshold"] and not row["vetoed"]
        if eligible:
            if budget is None:
                row["recommended"] = True
            elif stopped or used + amounts[code] > budget:
                over, stopped = True, stopped or rules.get("budget_policy") == "stop"
            else:
                row["recommended"], used = True, used + amounts[code]
        row["reasons"] = (["no_scorers"] if not row["scorer_count"] else ["under_minimum"] if row["under"] else
                          (["below_threshold"] if not row["passes_threshold"] else [])
                          + (["vetoed"] if row["vetoed"] else []) + (["over_budget"] if over else []))
    return out, {"max_possible": maximum, "threshold_effective": threshold, "budget_used": used}


def _figures(row, ties):
    return (row["score"], *(row["criterion_means"][k] for k in ties))


FIGURES = ("scorer_count", "trimmed", "score", "share_of_max", "criterion_means", "passes_threshold", "vetoed",
           "rank", "tied_with", "tie_break_used", "recommended", "reasons")


def check_figures(results, say):
    try:
        mine, overall = recompute(results)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
        return say("公表した点数から再計算できません / cannot recompute the figures: %s" % error)
    for p in results["proposals"]:
        row = mine[p["code"]]
        for name in FIGURES:
            if p.get(name) != row[name]:
                say("%s の %s が再計算と一致しません / %s of %s: published %r, recomputed %r"
                    % (p["code"], name, name, p["code"], p.get(name), row[name]))
        for r in p["reviewers"]:
            if r.get("total") != row["totals"][r["reviewer"]]:
                say("%s の %s の合計点が再計算と一致しません / total of %s for %s: published %r, recomputed %r"
                    % (p["code"], r["reviewer"], r["reviewer"], p["code"], r.get("total"), row["totals"][r["reviewer"]]))
        dropped = sorted(_frac(r["total"]) for r in p["reviewers"] if r.get("dropped"))
        expected = [] if row["extremes"] is None else list(row["extremes"])
        if dropped != expected:
            say("%s の除外した最高・最低の合計点が正しくありません / %s: the dropped totals are not one lowest and one highest"
                % (p["code"], p["code"]))
        decision = p.get("decision") or {}
        departs = (decision.get("outcome") in ("adopted", "conditional")) != row["recommended"]
        if p.get("departs") != departs:
            say("%s の「推薦と異なる」の表示が正しくありません / %s: departs is wrong" % (p["code"], p["code"]))
        if departs and not (decision.get("reason") or "").strip():
            say("%s は推薦と異なる決定なのに理由がありません / %s departs from the recommendation without a reason"
                % (p["code"], p["code"]))
    rules = results["rules"]
    if not _same_number(rules.get("max_possible"), overall["max_possible"]) \
            or (rules.get("threshold_effective") is None) != (overall["threshold_effective"] is None) \
            or (overall["threshold_effective"] is not None
                and _frac(rules["threshold_effective"]) != overall["threshold_effective"]) \
            or results.get("budget_used") != overall["budget_used"]:
        say("満点・合格基準点・予算の使用額が再計算と一致しません / max_possible, threshold or budget_used differs")


def check_results(doc, results, files, say):
    """One published results document against the signed log: its digest,
    its basis, the signed rules, the decisions, the revealed scores and the
    recomputed figures; and which other files it vouches for."""
    entries = doc["entries"]
    version = results.get("version")
    published = [e for e in entries if e["kind"] == "results_published"]
    if not _is_int(version) or not 1 <= version <= len(published):
        return say("第%s版の公表の記録がありません / no results_published entry for version %r" % (version, version))
    entry = published[version - 1]
    payload = entry["payload"]
    if payload.get("version", version) != version:
        say("公表の記録の版が一致しません / results_published names another version")
    try:
        digest = sha256_hex(canonical_json(results))
    except Unencodable as error:
        return say("結果のJSONを符号化できません / cannot encode the results JSON: %s" % error)
    if "results_sha256" in payload and digest != payload["results_sha256"]:
        say("結果のJSONが記録のハッシュと一致しません（公表後に変更されています）/ the results JSON differs from its hash "
            "in the log (seq %d)" % entry["seq"], entry["seq"])
    basis = results.get("log_head") or {}
    at = [e for e in entries if e["seq"] == basis.get("seq")]
    if not at or at[0]["hash"] != basis.get("hash") or basis.get("seq") >= entry["seq"]:
        say("結果の根拠とした記録の先頭が記録と一致しません / log_head is not an entry before the publication")
    elif HAVE_CRYPTOGRAPHY and not _signature_ok(doc.get("public_key_pem"), basis):
        say("結果の根拠とした記録の先頭の署名が正しくありません / log_head's signature does not verify")
    check_signed_rules(entries, results, entry["seq"], say)
    decided = [e for e in entries if e["kind"] == "decision_recorded" and e["seq"] < entry["seq"]]
    if not decided:
        say("公表より前に決定の記録がありません / no decision_recorded before the publication")
    else:
        logged = {o.get("proposal_code"): (o.get("result"), o.get("reason") or "")
                  for o in decided[-1]["payload"].get("outcomes") or []}
        shown = {p.get("code"): ((p.get("decision") or {}).get("outcome"), (p.get("decision") or {}).get("reason") or "")
                 for p in results["proposals"]}
        for code in sorted(set(logged) | set(shown), key=lambda c: code_order(str(c))):
            if logged.get(code) != shown.get(code):
                say("%s の決定が記録（seq %d）と一致しません / the decision on %s differs from the log"
                    % (code, decided[-1]["seq"], code), decided[-1]["seq"])
    counted = counted_scores(entries, doc["commitments_revealed"], results)
    shown = {(r.get("reviewer"), p.get("code")): r.get("scores") for p in results["proposals"] for r in p["reviewers"]}
    for pair in sorted(set(counted) | set(shown), key=lambda x: (code_order(str(x[1])), str(x[0]))):
        if pair not in counted:
            say("%s の %s の点数に対応する公開された封印がありません / no revealed seal for %s on %s" % (pair[1], pair[0], pair[0], pair[1]))
        elif counted[pair][0] != shown.get(pair):
            say("%s の %s の公表した点数が封印（seq %d）と一致しません / published scores differ from the sealed ones"
                % (pair[1], pair[0], counted[pair][1]), counted[pair][1])
    check_figures(results, say)
    return {payload.get("document_sha256"): "結果のPDF（第%d版）" % version,
            payload.get("csv_sha256"): "結果のCSV（第%d版）" % version,
            results.get("log_pdf_sha256"): "記録のPDF（第%d版）" % version}


def _signature_ok(pem, head):
    try:
        key = load_pem_public_key(pem.encode("ascii"))
        key.verify(base64.b64decode(head.get("signature", ""), validate=True),
                   head_message(head.get("hash"), head.get("seq")))
    except (InvalidSignature, ValueError, TypeError, AttributeError, Unencodable):
        return False
    return True


def kind_of(name, data):
    """What a given file is, from its content."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"-----BEGIN PUBLIC KEY-----"):
        return "key"
    if data.startswith(b"\xef\xbb\xbf\xe6\x8f\x90\xe6\xa1\x88"):  # BOM + 提案
        return "csv"
    return "json"


def check_files(doc, others, problems):
    """Every other file given: results JSONs, CSVs, PDFs, 募集要項 JSON."""
    vouched, checked = {}, []
    jsons = [(n, d) for n, d in others if d is not None and not isinstance(d, bytes)]
    blobs = [(n, d) for n, d in others if isinstance(d, bytes)]
    for name, data in jsons:
        def say(text, seq=None, name=name):
            problems.append(("files", seq, "%s: %s" % (name, text)))
        if isinstance(data, dict) and data.get("format") == "kyodo-portal/results/v1":
            try:
                vouched.update(check_results(doc, data, others, say) or {})
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                say("結果のJSONの形式が不正です / malformed results JSON: %r" % (error,))
            checked.append(name)
        elif isinstance(data, dict) and set(data) == {"title", "guidelines"}:
            digests = [e["payload"].get("document_sha256") for e in doc["entries"]
                       if e["kind"] in ("call_published", "criteria_changed")]
            if not digests or sha256_hex(canonical_json(data)) != digests[-1]:
                say("募集要項が記録のハッシュと一致しません / the guidelines differ from the last hash in the log")
            checked.append(name)
        else:
            say("検証できない種類のファイルです / not a file this verifier knows")
    for e in doc["entries"]:
        if e["kind"] == "results_published":
            for field, label in (("document_sha256", "結果のPDF"), ("csv_sha256", "結果のCSV"),
                                 ("log_pdf_sha256", "記録のPDF")):
                vouched.setdefault(e["payload"].get(field), label)
    for _path, digest, label, _seq in project_documents(doc):
        vouched.setdefault(digest, label)
    for name, data in blobs:
        digest = sha256_hex(data)
        if digest not in vouched or digest is None:
            problems.append(("files", None, "%s: 記録・結果にあるどのハッシュとも一致しません（変更されたか、別の文書です）"
                             " / matches no hash in the log or the results" % name))
        checked.append(name)
    return checked


# -- the adopted projects' documents (docs/log-format.md, revision note 5) ----------

def project_documents(doc):
    """(path, SHA-256, label, seq) of every document the log vouches for
    after adoption, with the address the city serves it at: a concluded
    agreement (``agreement_concluded``, the last one of each project) at
    /calls/<ref>/projects/<code>/agreement.pdf, every published project
    document (``project_document_published``) at
    /calls/<ref>/projects/<code>/documents/<sha256>.pdf, and the public
    part of each meeting's minutes (``minutes_published``) at
    /calls/<ref>/minutes/<meeting>.pdf."""
    ref = str((doc.get("call") or {}).get("ref", ""))
    agreements, found = {}, []
    for e in doc.get("entries") or []:
        p = e.get("payload") or {}
        code, digest = str(p.get("proposal_code", "")), p.get("document_sha256")
        if not isinstance(digest, str) or not HEX64.match(digest):
            continue
        if e.get("kind") == "agreement_concluded":
            agreements[code] = ("/calls/%s/projects/%s/agreement.pdf" % (ref, code), digest,
                                "協定書（%s）" % code, e.get("seq"))
        elif e.get("kind") == "project_document_published":
            found.append(("/calls/%s/projects/%s/documents/%s.pdf" % (ref, code, digest), digest,
                          "事業の文書（%s, %s）" % (code, p.get("document_kind", "?")), e.get("seq")))
        elif e.get("kind") == "minutes_published" and isinstance(p.get("meeting"), int):
            found.append(("/calls/%s/minutes/%d.pdf" % (ref, p["meeting"]), digest,
                          "議事録（第%d回）" % p["meeting"], e.get("seq")))
    return list(agreements.values()) + found


def check_served_documents(doc, fetch, problems):
    """Fetch every project document from where the city serves it and
    compare its SHA-256 with the log. ``fetch(path) -> bytes`` (raises
    OSError when it cannot). Returns how many were checked."""
    count = 0
    for path, digest, label, seq in project_documents(doc):
        try:
            data = fetch(path)
        except (OSError, ValueError) as error:
            problems.append(("served", seq, "%s を取得できません / cannot fetch %s: %s" % (label, path, error)))
            continue
        if sha256_hex(data) != digest:
            problems.append(("served", seq, "%s が記録のハッシュと一致しません（公開後に変えられています） / %s differs "
                                            "from the hash in the log" % (label, path)))
        count += 1
    return count


def url_fetcher(site):
    import urllib.request

    def fetch(path):
        with urllib.request.urlopen(site.rstrip("/") + path, timeout=60) as response:  # noqa: S310 (the city's own site)
            return response.read()
    return fetch


# -- the command -------------------------------------------------------------------

SIGNATURE_TEXT = {
    "valid": "[OK] 署名 / Signature: 正しい / valid",
    "invalid": "[NG] 署名 / Signature: 不正 / INVALID",
    "unchecked": "[--] 署名 / Signature: 未確認 / UNCHECKED (cryptography が未導入です / the `cryptography` "
                 "package is not installed: pip install cryptography)",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description="審査プロセス記録の検証 / verify a published process log")
    parser.add_argument("document", help="the downloaded log, e.g. r7-kyodo-model-log.json")
    parser.add_argument("others", nargs="*", metavar="FILE",
                        help="published documents to check against the log: results JSON, CSV, PDFs, "
                             "the 募集要項 JSON (guidelines.json)")
    parser.add_argument("--public-key", metavar="PEM",
                        help="the city's public key obtained separately (its web page or 公報)")
    parser.add_argument("--site", metavar="URL",
                        help="the city's portal, e.g. https://kyodo.city.example.jp: fetch every agreement and "
                             "project document the log vouches for and compare its SHA-256")
    parser.add_argument("--require-signature", action="store_true",
                        help="fail when the signature cannot be checked")
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")

    others = []
    try:
        with open(args.document, "rb") as handle:
            doc = load_document(handle.read())
        trusted = None
        if args.public_key:
            with open(args.public_key, encoding="ascii") as handle:
                trusted = handle.read()
        for name in args.others:
            with open(name, "rb") as handle:
                data = handle.read()
            others.append((name, load_document(data) if kind_of(name, data) == "json" else data))
    except (OSError, ValueError) as error:
        print("!!! 読み込めません / cannot read: %s" % error)
        print("結果 / Result: 検証失敗 / VERIFICATION FAILED")
        return 1

    problems, facts = verify(doc, trusted)
    checked = check_files(doc, others, problems) if others and not any(p[0] == "document" for p in problems) else []
    served = None
    if args.site and not any(p[0] == "document" for p in problems):
        served = check_served_documents(doc, url_fetcher(args.site), problems)
    call = doc.get("call") if isinstance(doc, dict) and isinstance(doc.get("call"), dict) else {}
    print("検証対象 / Document: %s" % args.document)
    print("募集 / Call: %s %s" % (call.get("ref", "?"), call.get("title", "")))
    print("記録数 / Entries: %d" % facts["entries"])
    if facts["fingerprint"]:
        print("公開鍵の指紋 / Key fingerprint (SHA-256): %s" % facts["fingerprint"])
        if not args.public_key:
            print("    市が別に公表している指紋と同じか確かめてください / compare it with the one the city publishes")
    def mark(*categories):
        return "NG" if any(p[0] in categories for p in problems) else "OK"

    print("[%s] ハッシュ連鎖 / Hash chain: %d 件 / %d entries" % (mark("document", "chain"), facts["entries"], facts["entries"]))
    head = doc.get("head") if isinstance(doc, dict) and isinstance(doc.get("head"), dict) else {}
    print("[%s] 先頭 / Head: seq %s, %s" % (mark("document", "signature"), head.get("seq", "?"), head.get("hash", "?")))
    print(SIGNATURE_TEXT[facts["signature"]])
    if facts["scores_revealed_logged"] or mark("scores") == "NG":
        print("[%s] 封印された採点 / Sealed scores: 公開 %d 件、再開で置換 %d 件 / %d revealed, %d superseded by reopen"
              % (mark("scores"), facts["revealed"], facts["superseded"], facts["revealed"], facts["superseded"]))
    else:
        print("[--] 封印された採点 / Sealed scores: まだ公開されていません / not revealed yet")

    if others:
        print("[%s] 公表文書 / Published files: %d 件 / %d checked against the log"
              % (mark("files", "document"), len(checked), len(checked)))
    if served is not None:
        print("[%s] 事業の文書（公開中） / Served project documents: %d 件 / %d fetched and hashed"
              % (mark("served"), served, served))
    failed = bool(problems) or (args.require_signature and facts["signature"] != "valid")
    if problems:
        print()
        print("!!! 問題が見つかりました / PROBLEMS FOUND: %d" % len(problems))
        for _category, seq, text in problems:
            print("  - %s: %s" % ("seq %d" % seq if seq is not None else "文書 / document", text))
    if args.require_signature and facts["signature"] == "unchecked":
        print("!!! --require-signature: 署名を確認できませんでした / the signature could not be checked")
    print()
    if failed:
        print("結果 / Result: 検証失敗 / VERIFICATION FAILED")
        return 1
    if facts["signature"] == "unchecked":
        print("結果 / Result: 連鎖と採点は正しい、署名は未確認 / chain and scores verified, signature UNCHECKED")
    else:
        print("結果 / Result: 検証成功 / VERIFIED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
