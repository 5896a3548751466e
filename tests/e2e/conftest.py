"""End-to-end fixtures: the portal running in its own process, a headless
Debian chromium, and checks every page must pass (axe, no CSP errors).

These tests never use the unit-test ``app``/``db`` fixtures: those bind the
global session factory to a test transaction, and the server here is a
separate process with its own SQLite file.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask_cmd() -> list[str]:
    flask = VENV_BIN / "flask"
    if flask.exists():
        return [str(flask), "--app", "wsgi"]
    return [sys.executable, "-m", "flask", "--app", "wsgi"]


class LiveServer:
    def __init__(self, url: str, env: dict, log_path: Path, seed: dict):
        self.url = url
        self.env = env
        self.log_path = log_path
        self.seed = seed

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-5000:]

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite3'}",
        "PORTAL_INSTANCE_DIR": str(tmp),
        "PORTAL_UPLOAD_DIR": str(tmp / "uploads"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("MAIL_SERVER", None)
    env.pop("SECRET_KEY", None)
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 120}
    upgraded = subprocess.run([*_flask_cmd(), "db-upgrade"], **run)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    seeded = subprocess.run([sys.executable, "-m", "tests.e2e.seed"], **run)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])

    port = _free_port()
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*_flask_cmd(), "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    # The job worker beside it, as `make run` starts it (publication and mail
    # run there, on the SQLite queue file in the instance folder).
    with open(tmp / "worker.log", "wb") as worker_log:
        worker = subprocess.Popen([*_flask_cmd(), "worker"], cwd=ROOT, env=env, stdout=worker_log,
                                  stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", env, log_path, seed)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"the portal exited at start:\n{server.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the portal did not answer on port {port}:\n{server.log()}")
                time.sleep(0.1)
        yield server
    finally:
        for child in (process, worker):
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@pytest.fixture(autouse=True)
def server_errors(live_server):
    """A traceback in the server's log during a test fails that test."""
    offset = live_server.log_size()
    yield
    written = live_server.log_since(offset)
    assert "Traceback" not in written, f"the portal logged an error:\n{written[-4000:]}"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


class PageProblems:
    """Console errors about CSP and uncaught script errors, per test."""

    def __init__(self):
        self.items: list[str] = []

    def attach(self, page) -> None:
        def on_console(message):
            text = message.text
            if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
                self.items.append(f"CSP ({page.url}): {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.items.append(f"script error ({page.url}): {error}"))


# Reports a CSP violation even where chromium would not log one to the console.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', function (e) {
  console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture()
def new_page(browser, live_server):
    """new_page(phone=False) -> a page in a fresh browser context (own
    cookies and storage); CSP violations and script errors fail the test."""
    contexts = []
    problems = PageProblems()

    def make(phone: bool = False, context=None):
        if context is None:
            options = PHONE if phone else DESKTOP
            context = browser.new_context(base_url=live_server.url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                          accept_downloads=True, **options)
            context.set_default_timeout(10_000)
            context.add_init_script(CSP_LISTENER)
            contexts.append(context)
        page = context.new_page()
        problems.attach(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.items, "\n".join(problems.items)


class A11yLog:
    """Runs axe on a page and keeps every violation; assert_clean() reports all."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.reports: list[str] = []
        self.checked: list[str] = []

    def check(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        results = self.axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        self.checked.append(name)
        violations = results.response["violations"]
        print(f"axe {name}: {len(violations)} violations, {len(results.response.get('passes', []))} rules passed")
        if violations:
            self.reports.append(f"--- {name} ({page.url}) ---\n{format_violations(violations)}")

    def assert_clean(self) -> None:
        assert not self.reports, "accessibility violations:\n" + "\n".join(self.reports)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:8]:
            lines.append(f"    at {', '.join(str(t) for t in node['target'])}")
            lines.append(f"       {node.get('html', '')[:200]}")
            summary = node.get("failureSummary") or ""
            for line in summary.splitlines():
                lines.append(f"       {line}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


@pytest.fixture()
def a11y():
    return A11yLog()


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/mypage")


@pytest.fixture()
def account(live_server):
    """account('counter') -> the seeded login with its own draft proposal."""

    def get(key: str) -> dict:
        return live_server.seed["accounts"][key]

    return get
