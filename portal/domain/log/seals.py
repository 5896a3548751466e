"""Sealed scores: a submitted sheet's scores are committed with a random
salt (SHA-256 over the canonical JSON) when the sheet is sealed; at
publication the scores and salts are revealed, and anyone can check each
reveal against its seal and that no live seal was left unrevealed."""
from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .chain import DEFAULT_STAGE, HEX64, SCORE_REOPENED, SCORE_SEALED, SCORES_REVEALED, Entry, canonical_json, sha256_hex
from .report import Problem


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def commit_scores(scores: Mapping, salt: bytes) -> str:
    """SHA-256 hex over canonical_json({"salt": salt_hex, "scores": scores})."""
    return sha256_hex(canonical_json({"salt": bytes(salt).hex(), "scores": scores}))


def verify_commitment(commitment: str, scores: Mapping, salt: bytes | str) -> bool:
    if isinstance(salt, str) and not HEX64.match(salt):
        return False  # one spelling only: 64 lowercase hex digits
    try:
        salt_bytes = bytes.fromhex(salt) if isinstance(salt, str) else bytes(salt)
        computed = commit_scores(scores, salt_bytes)
    except (ValueError, TypeError):
        return False
    return computed == commitment


@dataclass(frozen=True)
class Reveal:
    """The scores and salt behind one score_sealed entry, published at the end."""
    seq: int
    scores: dict
    salt: bytes

    def to_dict(self) -> dict:
        return {"seq": self.seq, "scores": self.scores, "salt": self.salt.hex()}


def seal_key(payload: Mapping) -> tuple:
    """Whose seal this is: (reviewer, proposal_code, stage); a payload
    without "stage" is a first-stage seal ("document")."""
    stage = payload.get("stage")
    return (payload.get("reviewer"), payload.get("proposal_code"), DEFAULT_STAGE if stage is None else stage)


def check_reveals(entries: Sequence[Entry], reveals: Sequence[Mapping]) -> tuple[list[Problem], int, int]:
    """Each reveal matches its seal; once scores_revealed is logged, every
    seal not superseded by a later score_reopened has been revealed; a
    second seal of the same (reviewer, proposal, stage) needs a reopen in
    between. Two stages give two live seals side by side."""
    problems: list[Problem] = []
    seals = {e.seq: e for e in entries if e.kind == SCORE_SEALED}
    live: dict[tuple, int] = {}
    superseded: set[int] = set()
    for entry in entries:
        key = seal_key(entry.payload)
        if entry.kind == SCORE_SEALED:
            if key in live:
                problems.append(Problem(entry.seq, "resealed_without_reopen",
                                        f"再開の記録なしに再封印されています / sealed again without a reopen (earlier seal seq {live[key]})"))
            live[key] = entry.seq
        elif entry.kind == SCORE_REOPENED:
            target = entry.payload.get("supersedes_seq")
            if live.get(key) != target:
                problems.append(Problem(entry.seq, "bad_reopen",
                                        f"再開の対象が有効な封印ではありません / reopen does not point at this reviewer's live seal (supersedes_seq {target!r})"))
            else:
                superseded.add(target)
                del live[key]
    seen: set = set()
    for reveal in reveals:
        seq = reveal.get("seq") if isinstance(reveal, Mapping) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            problems.append(Problem(None, "malformed_reveal", f"公開点数の形式が不正です / malformed reveal: {reveal!r}"))
            continue
        if seq in seen:
            problems.append(Problem(seq, "duplicate_reveal", "同じ封印が二度公開されています / revealed twice"))
            continue
        seen.add(seq)
        seal = seals.get(seq)
        if seal is None:
            problems.append(Problem(seq, "reveal_without_seal",
                                    "対応する封印の記録がありません / no score_sealed entry with this seq"))
        elif not verify_commitment(seal.payload.get("commitment", ""), reveal.get("scores"), reveal.get("salt", "")):
            problems.append(Problem(seq, "commitment_mismatch",
                                    "公開された点数が封印と一致しません / revealed scores or salt do not match the sealed commitment"))
    if any(e.kind == SCORES_REVEALED for e in entries):
        for seq in sorted(set(seals) - superseded - seen):
            problems.append(Problem(seq, "missing_reveal",
                                    "封印された点数が公開されていません / sealed scores were never revealed"))
    return problems, len(seen & set(seals)), len(superseded)
