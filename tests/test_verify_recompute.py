"""The citizen's script recomputes every figure exactly as the portal's
aggregation does, on random criteria, rules and scores with many ties
(tests/verify_cases.random_documents); the browser verifier gets the same
documents in tests/e2e/test_verify_in_browser.py."""
from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

from .verify_cases import random_documents

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "verify_log.py"


def verifier():
    spec = importlib.util.spec_from_file_location("verify_log_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_recomputes_what_the_portal_computed():
    script = verifier()
    documents = random_documents(seed=15, count=300)
    features = {"trimmed": 0, "tie_break_used": 0, "tied_with": 0, "over_budget": 0, "vetoed": 0, "under_minimum": 0}
    for index, document in enumerate(documents):
        problems = []
        script.check_figures(document, problems.append)
        assert problems == [], (index, problems, document)
        for p in document["proposals"]:
            features["trimmed"] += p["trimmed"]
            features["tie_break_used"] += p["tie_break_used"] is not None
            features["tied_with"] += bool(p["tied_with"])
            features["over_budget"] += "over_budget" in p["reasons"]
            features["vetoed"] += p["vetoed"]
            features["under_minimum"] += "under_minimum" in p["reasons"]
    assert all(features.values()), features  # the random documents reach every rule


def test_the_script_notices_a_changed_figure_in_a_random_document():
    script = verifier()
    for document in random_documents(seed=16, count=40):
        ranked = [p for p in document["proposals"] if p["rank"] is not None]
        if not ranked:
            continue
        changed = copy.deepcopy(document)
        changed["proposals"][0]["recommended"] = not changed["proposals"][0]["recommended"]
        problems = []
        script.check_figures(changed, problems.append)
        assert problems
