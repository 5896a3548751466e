"""The shared tampering cases (tests/verify_cases.py) against the citizen's
script: every genuine published call verifies with all its files, and every
tampered copy fails. tests/e2e/test_verify_in_browser.py gives the browser
verifier the same files."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .verify_cases import CASES, generate

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "verify_log.py"


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    out = tmp_path_factory.mktemp("verify-cases")
    return out, generate(out)


def run(folder: Path, files: list[str], key: Path) -> subprocess.CompletedProcess:
    ordered = ["log.json"] + [name for name in files if name != "log.json"]
    return subprocess.run([sys.executable, str(SCRIPT), *ordered, "--public-key", str(key), "--require-signature"],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def test_every_genuine_published_call_verifies_with_every_file(cases):
    out, manifest = cases
    assert manifest["genuine"], "the demo publishes results for at least one call"
    for slug, files in manifest["genuine"].items():
        assert {"log.json", "guidelines.json", "results-v1.json", "results-v1.csv", "results-v1.pdf",
                "log-v1.pdf"} <= set(files)
    # The demo's finished call, corrected once by tests/verify_cases.py: both versions verify.
    assert {"results-v2.json", "results-v2.csv", "results-v2.pdf", "log-v2.pdf"} <= set(manifest["genuine"]["r7-kyodo-model"])
    for slug, files in manifest["genuine"].items():
        done = run(out / "genuine" / slug, files, out / manifest["key"])
        assert done.returncode == 0, done.stdout + done.stderr
        assert "検証成功 / VERIFIED" in done.stdout
        assert f"[OK] 公表文書 / Published files: {len(files) - 1} 件" in done.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_tampered_copy_fails(cases, name):
    out, manifest = cases
    case = manifest["cases"][name]
    done = run(out / "cases" / name, case["files"], out / manifest["key"])
    assert done.returncode == 1, f"{name} ({case['what']}) was accepted:\n{done.stdout}"
    assert "検証失敗 / VERIFICATION FAILED" in done.stdout


def test_a_recomputation_catches_a_figure_even_without_the_hash(cases, tmp_path):
    """An older log has no results_sha256: the figures are still recomputed."""
    import json

    out, manifest = cases
    folder = out / "cases" / "rank"
    log = json.loads((folder / "log.json").read_text(encoding="utf-8"))
    for entry in log["entries"]:
        entry["payload"].pop("results_sha256", None)
    (tmp_path / "log.json").write_text(json.dumps(log, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "results-v1.json").write_bytes((folder / "results-v1.json").read_bytes())
    done = subprocess.run([sys.executable, str(SCRIPT), "log.json", "results-v1.json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "rank が再計算と一致しません" in done.stdout
