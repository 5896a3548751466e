"""A real job worker (``flask worker``) in a process of its own, for tests.

``queued_app`` switches a test app from the immediate queue to a real one
(a SQLite file, or Redis on 127.0.0.1:6379 under a queue name of its own);
``Worker`` starts the worker on the same database, queue, files and signing
key, and stops it (or kills it, as a crash would)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

from portal.jobs.queue import init_jobs

REPO = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/0"


def queue_url(kind: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.sqlite3'}" if kind == "sqlite" else REDIS_URL


def use_real_queue(app, url: str) -> None:
    app.config.update(JOB_QUEUE_URL=url, JOB_QUEUE_NAME=f"portal-test-{uuid.uuid4().hex[:10]}")
    init_jobs(app)


def forget_queue(app) -> None:
    """Remove what a Redis queue of this test left (SQLite's file goes with tmp_path)."""
    if app.config["JOB_QUEUE_URL"].startswith("redis"):
        client = redis.Redis.from_url(app.config["JOB_QUEUE_URL"])
        for key in client.scan_iter(f"huey*{app.config['JOB_QUEUE_NAME']}*"):
            client.delete(key)
        client.close()


class Worker:
    def __init__(self, app, log_path: Path, **extra_env):
        config = app.config
        self.env = {
            **os.environ, "PORTAL_ENV": "testing",
            "TEST_DATABASE_URL": str(config["DATABASE_URL"]),
            "TEST_JOB_QUEUE_URL": config["JOB_QUEUE_URL"], "JOB_QUEUE_NAME": config["JOB_QUEUE_NAME"],
            "PORTAL_UPLOAD_DIR": str(config["UPLOAD_DIR"]),
            "LOG_SIGNING_KEY_PATH": str(config.get("LOG_SIGNING_KEY_PATH") or ""),
            "PORTAL_BASE_URL": config["PUBLIC_BASE_URL"],
            **{key: str(value) for key, value in extra_env.items()},
        }
        for key in ("MAIL_SERVER", "MAIL_PORT", "OBJECT_STORE_URL", "OBJECT_STORE_ENDPOINT_URL",
                    "OBJECT_STORE_REGION", "OBJECT_STORE_ACCESS_KEY_ID", "OBJECT_STORE_SECRET_ACCESS_KEY"):
            if config.get(key):
                self.env[key] = str(config[key])
        self.env["MAIL_USE_TLS"] = "1" if config.get("MAIL_USE_TLS") else "0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "2"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """As a crash: SIGKILL, no clean-up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def wait_for(predicate, seconds: float = 90, what: str = "", worker: Worker | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{worker.output()}" if worker else ""))
