#!/usr/bin/env python3
"""審査プロセス記録の検証 / Verify a published process log.

    python verify_log.py results-log.json
    python verify_log.py results-log.json --public-key city-log-key.pem --require-signature

A citizen downloads the JSON a city publishes with its results and runs this
file on it. It checks that
  1. every entry's SHA-256 hash is right and each links to the one before;
  2. the head (last entry) is the one the city signed with its Ed25519 key;
  3. every sealed score matches the scores and salt revealed at publication,
     and no seal was left unrevealed unless a logged reopen superseded it.
Exit code 0 when everything holds, 1 otherwise.

Deliberately standalone: only the Python standard library (3.8+), plus the
`cryptography` package for the signature if it is installed (without it the
signature is reported as unchecked). It does NOT import the portal's code:
the point is that someone who does not trust the city's software can read
these ~300 lines, run them, and reach the same answer. So the canonical
encoding and the checks below are a second, independent implementation of
portal/domain/chain.py, following docs/log-format.md; the portal's tests
run both on the same documents to keep them in agreement.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys

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


# -- the command -------------------------------------------------------------------

SIGNATURE_TEXT = {
    "valid": "[OK] 署名 / Signature: 正しい / valid",
    "invalid": "[NG] 署名 / Signature: 不正 / INVALID",
    "unchecked": "[--] 署名 / Signature: 未確認 / UNCHECKED (cryptography が未導入です / the `cryptography` "
                 "package is not installed: pip install cryptography)",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description="審査プロセス記録の検証 / verify a published process log")
    parser.add_argument("document", help="downloaded JSON, e.g. results-log.json")
    parser.add_argument("--public-key", metavar="PEM",
                        help="the city's public key obtained separately (its web page or 公報)")
    parser.add_argument("--require-signature", action="store_true",
                        help="fail when the signature cannot be checked")
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")

    try:
        with open(args.document, "rb") as handle:
            doc = load_document(handle.read())
        trusted = None
        if args.public_key:
            with open(args.public_key, encoding="ascii") as handle:
                trusted = handle.read()
    except (OSError, ValueError) as error:
        print("!!! 読み込めません / cannot read: %s" % error)
        print("結果 / Result: 検証失敗 / VERIFICATION FAILED")
        return 1

    problems, facts = verify(doc, trusted)
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
