"""Both verifiers check the adopted projects' documents where the city
serves them (docs/log-format.md, revision 1.3): every concluded agreement
and every project document (the evaluation included) fetched by the
address built from the log alone must hash to the logged document_sha256;
a changed or missing document fails, in the script (scripts/verify_log.py)
and in the browser verifier's code (static/js/verify-*.js, run here with
node on the same log and bytes)."""
from __future__ import annotations

import base64
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from portal.domain.adoption import evaluation as ev
from portal.domain.log import signing
from portal.domain.results import publication
from portal.domain.timeutil import now_utc
from portal.files.objectstore import current_store
from portal.models import Proposal

from .results_support import use_temporary_key
from .test_project_work import running_project

ROOT = Path(__file__).resolve().parents[1]


def script():
    spec = importlib.util.spec_from_file_location("verify_log_script", ROOT / "scripts" / "verify_log.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def evaluated(app, db, seed, monkeypatch, tmp_path):
    settings = use_temporary_key(app, monkeypatch, tmp_path)
    with seed() as f:
        p = running_project(db, f)
        proposal = db.get(Proposal, p.pid)
        for side in ev.SIDES:
            ev.save(db, proposal, side, scores={str(i): 3 for i in range(11)}, comments={}, overall="", user=None,
                    now=now_utc(), submit=True)
        ev.publish(db, proposal, render=lambda pr, c: b"%PDF-1.4 evaluation of " + pr.anonymous_code.encode(),
                   store=current_store(), user=None, now=now_utc())
        db.commit()
        doc = publication.log_document(db, proposal.call, settings.key)
        pem = signing.public_key_pem(settings.key)
    return p, doc, pem


def fetcher(client):
    def fetch(path):
        response = client.get(path)
        if response.status_code != 200:
            raise OSError(f"HTTP {response.status_code}")
        return response.data
    return fetch


def test_the_script_fetches_and_hashes_every_agreement_and_project_document(app, evaluated):
    p, doc, _pem = evaluated
    verify = script()
    paths = [path for path, *_ in verify.project_documents(doc)]
    assert paths[0] == f"/calls/{p.slug}/projects/{p.code}/agreement.pdf"
    assert paths[1].startswith(f"/calls/{p.slug}/projects/{p.code}/documents/") and len(paths) == 2
    problems = []
    assert verify.check_served_documents(doc, fetcher(app.test_client()), problems) == 2 and problems == []

    def tampered(path):
        data = bytearray(fetcher(app.test_client())(path))
        data[-1] ^= 1
        return bytes(data)
    problems = []
    verify.check_served_documents(doc, tampered, problems)
    assert len(problems) == 2 and all("一致しません" in text for _c, _s, text in problems)

    def missing(path):
        raise OSError("HTTP 404")
    problems = []
    verify.check_served_documents(doc, missing, problems)
    assert len(problems) == 2 and "取得できません" in problems[0][2]


NODE_RUNNER = r"""  // the browser verifier under node: the same functions the page calls (URLs as the page encodes them)
const fs = require('fs');
globalThis.window = globalThis;
for (const f of ['verify-core.js', 'verify-results.js']) eval(fs.readFileSync(process.argv[2] + '/' + f, 'utf8'));
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
(async () => {
  const docs = window.KyodoVerifyCore.projectDocuments(input.log);
  const served = docs.map(d => ({ path: d.path, digest: d.digest, label: d.label, entry: d.entry,
    bytes: input.bytes[decodeURIComponent(d.path)] === null ? null : Uint8Array.from(Buffer.from(input.bytes[decodeURIComponent(d.path)], 'base64')).buffer }));
  const report = await window.KyodoVerify.verifyBundle({ log: input.log, results: [], guidelines: [], blobs: [],
    served: served, unknown: [], trustedPem: input.pem });
  console.log(JSON.stringify({ paths: docs.map(d => decodeURIComponent(d.path)), problems: report.problems.map(p => p.text) }));
})();
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_browser_verifier_rejects_a_changed_or_missing_project_document(app, evaluated, tmp_path):
    p, doc, pem = evaluated
    client = app.test_client()
    paths = [path for path, *_ in script().project_documents(doc)]
    genuine = {path: base64.b64encode(client.get(path).data).decode() for path in paths}

    def run(served):
        done = subprocess.run(["node", "-e", NODE_RUNNER, "-", str(ROOT / "static" / "js")],
                              input=json.dumps({"log": doc, "pem": pem, "bytes": served}),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    ok = run(genuine)
    assert ok["paths"] == paths and ok["problems"] == []
    changed = dict(genuine)
    data = bytearray(base64.b64decode(changed[paths[1]]))
    data[-1] ^= 1
    changed[paths[1]] = base64.b64encode(bytes(data)).decode()
    assert any("一致しません" in text for text in run(changed)["problems"])
    assert any("取得できません" in text for text in run({**genuine, paths[0]: None})["problems"])
