"""The written-variants corpus of issue 14 (tests/anonymity_corpus/): every
identifying piece a determined or careless applicant writes is caught, at
the level expected ("redact": a sure hit, redacted by default; "flag": at
least offered to the official), and ordinary text is left alone. The
figures in docs/anonymisation.md come from the same scoring
(bench/anonymity_figures.py). Pure Python."""
from __future__ import annotations

import pytest

from bench.anonymity_figures import corpus_figures, demo_figures, load_groups, load_variants, score_variant

VARIANTS = load_variants()
GROUPS = load_groups()


def test_the_corpus_is_large_and_covers_every_kind():
    assert len(VARIANTS) >= 60
    assert len({v["id"] for v in VARIANTS}) == len(VARIANTS)
    kinds = {v["kind"] for v in VARIANTS}
    assert {"number", "address", "name", "online", "mixed", "negative"} <= kinds
    for variant in VARIANTS:
        for piece in [e["text"] for e in variant["expect"]] + variant.get("keep", []):
            assert piece in variant["text"], (variant["id"], piece)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v["id"] for v in VARIANTS])
def test_each_variant(variant):
    result = score_variant(variant, GROUPS[variant["group"]])
    assert result.missed == [], "not caught at all"
    assert result.too_weak == [], "only flagged, but must be redacted by default"
    assert result.kept_hit == [], "ordinary text was flagged"


def test_full_recall_and_high_precision_on_the_corpus():
    figures = corpus_figures()
    assert figures.caught == figures.expected and figures.at_level == figures.expected
    assert figures.precision >= 0.95, [(r.variant["id"], [f.text for f in r.false_findings])
                                       for r in figures.results if r.false_findings]


def test_every_finding_says_why():
    for variant in VARIANTS:
        for finding in score_variant(variant, GROUPS[variant["group"]]).findings:
            assert finding.reason, (variant["id"], finding.text)


def test_the_demo_texts_do_not_flood_the_official():
    demo = demo_figures()
    assert demo.characters > 5000
    # About one flag per 400 characters (the figure is in docs/anonymisation.md).
    assert demo.per_10k(len(demo.flags)) < 30
    # Flags the demo's staff keep as not identifying (森田 of the river 森田川): rare.
    assert demo.per_10k(len(demo.false_flags)) < 2
    # The demo's own identifying text is caught as sure hits.
    assert {f.text for _key, f in demo.sure} >= {"白浜の松林を守る会", "わんわんパトロール"}
