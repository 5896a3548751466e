"""The anonymisation figures in docs/anonymisation.md (issue 14).

* Recall and precision on the written variants of tests/anonymity_corpus/
  (what a determined or careless applicant writes, with the redactions
  expected: "redact" must be a sure hit, redacted by default; "flag" may be
  a pointer the official decides).
* Flags per 10,000 characters on the demo's proposal texts: how much an
  official has to judge, and how many sure hits the scan makes there.

Run: .venv/bin/python -m bench.anonymity_figures [--list]
(--list prints every finding on the demo texts, to judge them by hand).
Pure Python: no app, no database; tests/test_anonymity_corpus.py uses the
same scoring.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from portal.domain.anonymity.anonymise import GroupIdentity, find_identifiers
from portal.domain.anonymity.kinds import Finding

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "anonymity_corpus"


def load_groups() -> dict[str, GroupIdentity]:
    raw = json.loads((CORPUS / "groups.json").read_text(encoding="utf-8"))
    return {key: GroupIdentity(**value) for key, value in raw.items()}


def load_variants() -> list[dict]:
    return json.loads((CORPUS / "variants.json").read_text(encoding="utf-8"))


def _covered(start: int, end: int, findings: list[Finding]) -> bool:
    return all(any(f.start <= i < f.end for f in findings) for i in range(start, end))


@dataclass
class VariantResult:
    variant: dict
    findings: list[Finding]
    missed: list[str] = field(default_factory=list)  # not covered at all
    too_weak: list[str] = field(default_factory=list)  # "redact" expected, only flagged
    kept_hit: list[str] = field(default_factory=list)  # a "keep" string that was touched
    false_findings: list[Finding] = field(default_factory=list)  # touching no expected piece


def score_variant(variant: dict, identity: GroupIdentity) -> VariantResult:
    text = variant["text"]
    findings = find_identifiers({"text": text}, identity)
    sure = [f for f in findings if f.confidence == "high"]
    result = VariantResult(variant, findings)
    spans = []
    for expected in variant["expect"]:
        start = text.index(expected["text"])
        end = start + len(expected["text"])
        spans.append((start, end))
        if not _covered(start, end, findings):
            result.missed.append(expected["text"])
        elif expected["level"] == "redact" and not _covered(start, end, sure):
            result.too_weak.append(expected["text"])
    for keep in variant.get("keep", []):
        start = text.index(keep)
        if any(f.start < start + len(keep) and start < f.end for f in findings):
            result.kept_hit.append(keep)
    result.false_findings = [f for f in findings if not any(f.start < e and s < f.end for s, e in spans)]
    return result


@dataclass
class CorpusFigures:
    variants: int
    expected: int
    caught: int  # covered by any finding
    at_level: int  # covered at the expected level
    findings: int
    true_findings: int
    results: list[VariantResult]

    @property
    def recall(self) -> float:
        return self.caught / self.expected if self.expected else 1.0

    @property
    def recall_at_level(self) -> float:
        return self.at_level / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.true_findings / self.findings if self.findings else 1.0


def corpus_figures() -> CorpusFigures:
    groups = load_groups()
    results = [score_variant(v, groups[v["group"]]) for v in load_variants()]
    expected = sum(len(r.variant["expect"]) for r in results)
    missed = sum(len(r.missed) for r in results)
    weak = sum(len(r.too_weak) for r in results)
    findings = sum(len(r.findings) for r in results)
    false = sum(len(r.false_findings) for r in results)
    return CorpusFigures(len(results), expected, expected - missed, expected - missed - weak, findings,
                         findings - false, results)


# --- the demo texts --------------------------------------------------------------

def demo_texts() -> list[tuple[str, GroupIdentity, dict[str, str]]]:
    """(group key, identity, reviewer-visible texts) of every demo proposal."""
    from portal.demo import content

    groups = {g.key: g for g in content.GROUPS}
    proposals = [*content.FINISHED_PROPOSALS]
    proposals += [value for name, value in vars(content).items()
                  if isinstance(value, content.DemoProposal) and value not in proposals]
    out = []
    for proposal in proposals:
        group = groups[proposal.group]
        identity = GroupIdentity(
            name=group.name, name_kana=group.name_kana, representative_name=group.representative_name,
            contact_name=group.contact_name, postal_code=group.postal_code, address=group.address,
            phone=group.phone, emails=[group.email], website=group.website)
        texts = dict(proposal.texts)
        for i, (item, group_role, city_role) in enumerate(proposal.roles):
            texts[f"roles.{i}"] = "\n".join((item, group_role, city_role))
        for i, (_category, _amount, note) in enumerate([*proposal.income, *proposal.expense]):
            texts[f"budget.{i}"] = note
        out.append((group.key, identity, texts))
    return out


@dataclass
class DemoFigures:
    characters: int
    sure: list[tuple[str, Finding]]
    flags: list[tuple[str, Finding]]

    @property
    def false_flags(self) -> list[tuple[str, Finding]]:
        """Flags the demo's own staff keep as not identifying
        (portal/demo/build.py KEPT_FINDINGS, e.g. 森田 of the river 森田川)."""
        from portal.demo.build import KEPT_FINDINGS

        return [(key, f) for key, f in [*self.flags, *self.sure] if (key, f.text) in KEPT_FINDINGS]

    def per_10k(self, count: int) -> float:
        return count * 10000 / self.characters if self.characters else 0.0


def demo_figures() -> DemoFigures:
    characters, sure, flags = 0, [], []
    for key, identity, texts in demo_texts():
        characters += sum(len(t) for t in texts.values())
        for finding in find_identifiers(texts, identity):
            (sure if finding.confidence == "high" else flags).append((key, finding))
    return DemoFigures(characters, sure, flags)


def main(argv: list[str]) -> None:
    corpus = corpus_figures()
    print(f"corpus: {corpus.variants} variants, {corpus.expected} expected redactions")
    print(f"  recall (caught, any level): {corpus.caught}/{corpus.expected} = {corpus.recall:.1%}")
    print(f"  recall at the expected level: {corpus.at_level}/{corpus.expected} = {corpus.recall_at_level:.1%}")
    print(f"  precision: {corpus.true_findings}/{corpus.findings} = {corpus.precision:.1%}")
    for r in corpus.results:
        if r.missed or r.too_weak or r.kept_hit or r.false_findings:
            print(f"  {r.variant['id']}: missed={r.missed} weak={r.too_weak} kept_hit={r.kept_hit} "
                  f"false={[(f.text, f.confidence) for f in r.false_findings]}")
    demo = demo_figures()
    print(f"demo: {demo.characters} characters")
    print(f"  flags to decide: {len(demo.flags)} = {demo.per_10k(len(demo.flags)):.1f} per 10,000 characters")
    print(f"  sure hits: {len(demo.sure)} = {demo.per_10k(len(demo.sure)):.1f} per 10,000 characters")
    false = demo.false_flags
    print(f"  false flags (kept by the demo's staff): {len(false)} = {demo.per_10k(len(false)):.1f} per 10,000 "
          f"characters {[f.text for _key, f in false]}")
    if "--list" in argv:
        for label, rows in (("flag", demo.flags), ("sure", demo.sure)):
            for key, f in rows:
                print(f"  {label} {key} {f.field}: {f.text!r} ({f.kind}) {f.reason}")


if __name__ == "__main__":
    main(sys.argv[1:])
