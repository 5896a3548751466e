"""Finding what identifies an applicant group in text that reviewers will see.

find_identifiers() proposes findings and apply_redactions() replaces the
confirmed ones with a neutral mark. What is searched and how is
``matcher.py``; the kinds and marks are ``kinds.py``. A finding is sure
("high": redacted by default) or a pointer ("low": the official decides),
with the reason shown to staff.

Offsets are Python string indexes (code points) into the original text.
Pure Python: no Flask, no database.
"""
from __future__ import annotations

from ..refusals import WrongState
from .identity import HIGH, LOW
from .kinds import (  # noqa: F401  (the names other modules import from here)
    ADDRESS,
    CONFIDENCE_RANK,
    EMAIL,
    EXTRA_TERM,
    GROUP_NAME,
    KIND_LABELS,
    KIND_RANK,
    PERSON,
    PHONE,
    PLACE,
    POSTAL_CODE,
    REPLACEMENTS,
    SNS,
    URL,
    Finding,
    GroupIdentity,
)
from .matcher import Matcher, Raw

__all__ = ["HIGH", "LOW"]


class StaleFindingError(WrongState):
    """A finding no longer matches the text it is applied to (the text changed)."""


_JOINED_KINDS = frozenset((GROUP_NAME, PLACE, EXTRA_TERM))


def _bound_by_no(text: str, cluster: list[Raw], cluster_end: int, item: Raw) -> bool:
    """'中央地区の子育てひろば': two pointers of the same level joined by の are
    one expression, decided (and redacted) as one."""
    return (text[cluster_end:item[0]] == "の" and item[2] in _JOINED_KINDS
            and all(r[2] in _JOINED_KINDS and r[3] == item[3] for r in cluster))


def _merge(field_name: str, text: str, raw: list[Raw]) -> list[Finding]:
    """Overlapping findings become one over their union, named after the
    strongest: high confidence first, then the longest, then _KIND_RANK.
    Redacting the union is the safe side: both parts identified someone."""
    findings: list[Finding] = []
    raw.sort(key=lambda r: (r[0], -r[1]))
    cluster: list[Raw] = []
    cluster_end = -1

    def flush() -> None:
        if not cluster:
            return
        best = max(cluster, key=lambda r: (CONFIDENCE_RANK[r[3]], r[1] - r[0], -KIND_RANK[r[2]]))
        start = min(r[0] for r in cluster)
        end = max(r[1] for r in cluster)
        findings.append(Finding(field_name, start, end, text[start:end], best[2],
                                REPLACEMENTS[best[2]], best[3], best[4]))

    for item in raw:
        if cluster and (item[0] < cluster_end or _bound_by_no(text, cluster, cluster_end, item)):
            cluster.append(item)
            cluster_end = max(cluster_end, item[1])
        else:
            flush()
            cluster = [item]
            cluster_end = item[1]
    flush()
    return findings


def find_identifiers(
    fields: dict[str, str], identity: GroupIdentity, *, family_names: bool = True
) -> list[Finding]:
    """Everything in `fields` that may identify the group, sorted by (field, start).

    `fields` maps a field key (or an attachment key such as 'file:12') to its
    text. Family names alone are reported at low confidence; pass
    family_names=False to leave them out.
    """
    matcher = Matcher(identity, family_names)
    findings: list[Finding] = []
    for field_name, text in fields.items():
        if text:
            findings.extend(_merge(field_name, text, matcher.find(text)))
    findings.sort(key=lambda f: (f.field, f.start))
    return findings


def apply_redactions(text: str, findings: list[Finding]) -> str:
    """`text` with each finding replaced by its mark. Pass only the confirmed
    findings of this one field. Overlapping findings are replaced as one.
    Raises StaleFindingError if a finding does not match the text."""
    spans: list[tuple[int, int, str]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if not (0 <= f.start < f.end <= len(text)) or text[f.start:f.end] != f.text:
            raise StaleFindingError(f"{f.field}: {f.start}-{f.end} no longer reads {f.text!r}")
        if spans and f.start < spans[-1][1]:
            start, end, mark = spans[-1]
            spans[-1] = (start, max(end, f.end), mark)
        else:
            spans.append((f.start, f.end, f.replacement))
    out = []
    for start, end, mark in reversed(spans):  # from the end, so offsets stay valid
        out.append(text[end:])
        out.append(mark)
        text = text[:start]
    out.append(text)
    return "".join(reversed(out))


def redact_fields(fields: dict[str, str], findings: list[Finding]) -> dict[str, str]:
    """Every field with its confirmed findings applied."""
    by_field: dict[str, list[Finding]] = {}
    for f in findings:
        by_field.setdefault(f.field, []).append(f)
    return {key: apply_redactions(text, by_field.get(key, [])) for key, text in fields.items()}
