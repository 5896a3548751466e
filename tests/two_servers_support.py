"""Machinery for tests/test_two_servers.py: two real gunicorn servers over
one database, one Redis queue and one S3 store, and a small HTTP client
with a cookie jar of its own (so a cookie can be copied from one server's
browser to the other, or replayed after a logout)."""
from __future__ import annotations

import http.client
import os
import re
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from .test_production_server import _free_port, _gunicorn, _stop, _wait_until_listening  # noqa: F401

SECRET_KEY = "two-servers-test-secret-key-0123456789abcdef"
CACHE_SECONDS = 5  # RESULTS_PAGE_CACHE_SECONDS, the documented default, set explicitly for both servers
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Settings that must not leak from the test's own environment into the servers.
_DROPPED = ("DATABASE_URL", "SECRET_KEY", "LOG_SIGNING_KEY_PATH", "JOB_QUEUE_URL", "JOB_QUEUE_NAME")
_DROPPED_PREFIXES = ("PORTAL_", "MAIL_", "TEST_", "OBJECT_STORE_")


def server_environment(tmp_path: Path, name: str, port: int, shared: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(_DROPPED_PREFIXES) and key not in _DROPPED}
    env.update(shared)
    env.update({
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_INSTANCE_DIR": str(tmp_path / name / "instance"),
        # A disk of its own: anything shared must come through the object store.
        "PORTAL_UPLOAD_DIR": str(tmp_path / name / "uploads"),
        "PORTAL_WORKERS": "2",
        "PORTAL_THREADS": "2",
    })
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    return env


@dataclass
class Server:
    name: str
    port: int
    log_dir: Path
    process: object = None

    def log(self) -> str:
        return (self.log_dir / "error.log").read_text(errors="replace")[-4000:]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """What a reader sees: without the <wbr> between Japanese phrases
        (portal/phrase_templates.py; tests/conftest.py does the same)."""
        return self.body.decode("utf-8", errors="replace").replace("<wbr>", "")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Browser:
    """A browser: cookies of its own, sent to whichever server it asks.
    ``forwarded_for`` is the visitor's address as nginx would pass it."""
    forwarded_for: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, server: Server, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Response:
        sent = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
        if self.forwarded_for:
            sent["X-Forwarded-For"] = self.forwarded_for
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read())
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    self._remember(value)
            return response
        finally:
            connection.close()

    def _remember(self, header: str) -> None:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            gone = morsel["max-age"] == "0" or "1970" in morsel["expires"] or morsel.value == ""
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, server: Server, path: str) -> Response:
        return self.request(server, "GET", path)

    def post(self, server: Server, path: str, fields: dict) -> Response:
        return self.request(server, "POST", path, urlencode(fields, doseq=True).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, server: Server, path: str, fields: dict, name: str, filename: str, data: bytes,
                  content_type: str) -> Response:
        boundary = uuid.uuid4().hex
        parts = []
        for key, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(server, "POST", path, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def csrf(self, server: Server, path: str = "/login") -> str:
        page = self.get(server, path)
        assert page.status == 200, (path, page.status, page.text[:300])
        match = CSRF_RE.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, server: Server, email: str, password: str) -> Response:
        token = self.csrf(server, "/login")
        return self.post(server, "/login", {"email": email, "password": password, "csrf_token": token})
