"""What a verification found: every problem with the entry where it occurs,
and the figures a verifier reports (entries, head, signature, reveals).
Shared by the chain, the seals and the published document's checks."""
from __future__ import annotations

from dataclasses import dataclass, field

@dataclass(frozen=True)
class Problem:
    seq: int | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "document"
        return f"[{self.code}] {where}: {self.message}"


@dataclass
class VerificationReport:
    problems: list[Problem] = field(default_factory=list)
    entry_count: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    signature: str = "unchecked"  # "valid" | "invalid" | "unchecked"
    revealed: int = 0
    superseded: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, seq: int | None, code: str, message: str) -> None:
        self.problems.append(Problem(seq, code, message))
