"""The production server as it runs: real gunicorn with gunicorn.conf.py,
PORTAL_ENV=production, two workers, on a free loopback port, a temporary
SQLite database migrated first. Requests come in as nginx sends them
(X-Forwarded-For / X-Forwarded-Proto). The server is always stopped.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_SECRET_KEY = "test-only-secret-key-for-the-gunicorn-test-0123456789"
VISITOR = "203.0.113.7"  # TEST-NET-3: only ever a header value here
START_SECONDS = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path: Path, port: int, **changes) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PORTAL_", "MAIL_")) and key not in ("DATABASE_URL", "SECRET_KEY",
                                                                      "LOG_SIGNING_KEY_PATH", "TEST_DATABASE_URL")}
    env.update({
        "PORTAL_ENV": "production",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PORTAL_INSTANCE_DIR": str(tmp_path / "instance"),
        "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads"),
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_WORKERS": "2",
        "PORTAL_THREADS": "2",
        "PORTAL_BASE_URL": "https://kyodo.example.jp",
    })
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def _gunicorn(env: dict, log_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(REPO / "gunicorn.conf.py")],
        cwd=log_dir, env=env, stdin=subprocess.DEVNULL,
        stdout=(log_dir / "access.log").open("wb"), stderr=(log_dir / "error.log").open("wb"),
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the master and its workers only
            process.wait(timeout=10)


def _wait_until_listening(process: subprocess.Popen, port: int, log_dir: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("gunicorn exited early:\n" + (log_dir / "error.log").read_text(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("gunicorn did not start listening:\n" + (log_dir / "error.log").read_text(errors="replace"))


class Server:
    def __init__(self, port: int, log_dir: Path, process: subprocess.Popen):
        self.port, self.log_dir, self.process = port, log_dir, process

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
        """A request as nginx forwards it: the visitor's address and HTTPS."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Host": "kyodo.example.jp", "X-Forwarded-For": VISITOR,
                                                     "X-Forwarded-Proto": "https", **(headers or {})})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    port = _free_port()
    env = _environment(tmp_path, port)
    migrate = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db-upgrade"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    process = _gunicorn(env, tmp_path)
    try:
        _wait_until_listening(process, port, tmp_path)
        yield Server(port, tmp_path, process)
    finally:
        _stop(process)


def test_the_home_page_through_gunicorn(server):
    status, headers, body = server.get("/")
    assert status == 200, body[:500]
    assert headers["content-type"].startswith("text/html")
    assert "協働事業提案ポータル" in body.decode("utf-8")
    assert headers["cache-control"] == "no-store"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["strict-transport-security"].startswith("max-age=")


def test_a_static_file_through_gunicorn_is_versioned_and_immutable(server):
    _status, _headers, body = server.get("/")
    match = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', body.decode("utf-8"))
    assert match, "the stylesheet link has no version"
    status, headers, css = server.get(match.group(1))
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert css == (REPO / "static" / "css" / "app.css").read_bytes()
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    status, _headers, empty = server.get(match.group(1), headers={"If-None-Match": headers["etag"]})
    assert status == 304 and empty == b""


def test_secure_cookies_are_set_behind_the_https_proxy(server):
    status, headers, _body = server.get("/login")
    assert status == 200
    cookie = headers["set-cookie"]
    assert cookie.startswith("portal_session=") and "Secure" in cookie and "HttpOnly" in cookie


def test_two_workers_and_an_access_log_with_the_visitor_and_the_time(server):
    server.get("/calls")
    deadline = time.monotonic() + 10
    line = ""
    while time.monotonic() < deadline and not line:
        lines = [entry for entry in (server.log_dir / "access.log").read_text(errors="replace").splitlines()
                 if '"GET /calls HTTP/1.1" 200' in entry]
        line = lines[-1] if lines else ""
        time.sleep(0.1)
    assert line, "no access log line for GET /calls"
    # The visitor's address from X-Forwarded-For (post_worker_init's
    # ProxyFix), not nginx's 127.0.0.1; the request time in microseconds.
    assert line.startswith(VISITOR + " "), line
    assert re.search(r" \d+us$", line), line
    booted = re.findall(r"Booting worker with pid", (server.log_dir / "error.log").read_text(errors="replace"))
    assert len(booted) == 2


def test_gunicorn_refuses_to_start_production_without_a_secret_key(tmp_path):
    env = _environment(tmp_path, _free_port(), SECRET_KEY=None, PORTAL_WORKERS="1")
    process = _gunicorn(env, tmp_path)
    try:
        process.wait(timeout=START_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail("gunicorn kept running without SECRET_KEY")
    finally:
        _stop(process)
    assert process.returncode != 0
    assert "SECRET_KEY" in (tmp_path / "error.log").read_text(errors="replace")


def test_make_serve_prod_refuses_without_a_secret_key():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    result = subprocess.run(["make", "--no-print-directory", "serve-prod"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY が設定されていません" in result.stderr
    assert "gunicorn" not in result.stdout  # refused before starting anything


def test_production_refuses_to_start_without_its_public_address(monkeypatch):
    """Mail links and published documents are built on PORTAL_BASE_URL; a
    production server without it would fall back to the request's Host
    header, which anyone can set."""
    from config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "k" * 48)
    for bad in ("", "kyodo.example.jp", "https://", "javascript:alert(1)", "https://kyodo.example.jp/ x"):
        monkeypatch.setattr(ProductionConfig, "PUBLIC_BASE_URL", bad)
        with pytest.raises(RuntimeError, match="PORTAL_BASE_URL"):
            ProductionConfig.check()
    for good in ("https://kyodo.example.jp", "https://www.city.example.lg.jp/kyodo/"):
        monkeypatch.setattr(ProductionConfig, "PUBLIC_BASE_URL", good)
        ProductionConfig.check()
