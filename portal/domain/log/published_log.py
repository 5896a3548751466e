"""The process log as the city publishes it (``log.json``, format in
docs/log-format.md): exporting it with a signed head, and every check a
verifier runs on it — the chain, the call, the head, the signature and the
revealed seals."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .chain import FORMAT, ChainError, Entry, verify_chain
from .report import VerificationReport
from .seals import Reveal, check_reveals
from .signing import key_fingerprint, public_key_pem, sign_head, verify_head_signature


def export_document(call: Mapping, entries: Sequence[Entry], reveals: Iterable[Reveal],
                    private_key: Ed25519PrivateKey) -> dict:
    """The JSON a city publishes (docs/log-format.md), head signed now."""
    if not entries:
        raise ChainError("nothing to publish: the log is empty")
    head = entries[-1]
    return {
        "format": FORMAT,
        "call": dict(call),
        "public_key_pem": public_key_pem(private_key),
        "head": {"seq": head.seq, "hash": head.hash,
                 "signature": sign_head(private_key, head.hash, head.seq)},
        "entries": [entry.to_dict() for entry in entries],
        "commitments_revealed": [reveal.to_dict() for reveal in sorted(reveals, key=lambda r: r.seq)],
    }


def verify_document(doc: Mapping, trusted_public_key_pem: str | None = None) -> VerificationReport:
    """All checks on a published document; ``trusted_public_key_pem`` is the
    key the city published elsewhere (the one inside the document proves
    nothing on its own)."""
    try:
        entries = [Entry.from_dict(item) for item in doc["entries"]]
        head, call, reveals = doc["head"], doc["call"], list(doc["commitments_revealed"])
        key_pem = doc["public_key_pem"]
        head_seq, head_hash, signature = head["seq"], head["hash"], head["signature"]
    except (KeyError, TypeError, ValueError) as error:
        report = VerificationReport()
        report.add(None, "malformed", f"文書の形式が不正です / malformed document: {error!r}")
        return report
    report = verify_chain(entries)
    if not entries:
        report.add(None, "empty", "記録がありません / the document has no entries")
    elif not isinstance(call, Mapping) or call.get("ref") != entries[0].payload.get("call_ref"):
        report.add(entries[0].seq, "call_mismatch", "文書の募集と最初の記録が一致しません / call.ref differs from the first entry's call_ref")
    if entries and (head_seq != entries[-1].seq or head_hash != entries[-1].hash):
        report.add(head_seq if isinstance(head_seq, int) else None, "head_mismatch",
                   f"先頭が最後の記録と一致しません / head does not match the last entry (seq {entries[-1].seq})")
    valid = verify_head_signature(key_pem, head_hash, head_seq, signature)
    if trusted_public_key_pem is not None and valid:
        valid = key_fingerprint(key_pem) == key_fingerprint(trusted_public_key_pem)
    report.signature = "valid" if valid else "invalid"
    if not valid:
        report.add(None, "bad_signature", "署名を確認できません / head signature does not verify with the published key")
    problems, report.revealed, report.superseded = check_reveals(entries, reveals)
    report.problems.extend(problems)
    return report
