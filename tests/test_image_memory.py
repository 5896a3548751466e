"""Hostile uploads against a real server process (tests/upload_server.py),
its memory read from /proc: six PNGs of 6000×6000 pixels (about 150 KB
each, 144 MB each once decoded) sent at once, then six of the largest size
still accepted. Every upload gets an answer below 500 and the server, its
decoding children included, grows by well under 600 MB, because images are
bounded from their header and a machine decodes only
MAX_CONCURRENT_DECODES at a time. The decoding happens in child processes
(portal/files/decoder.py): the web process itself hardly grows, and
answers other requests while the images are decoded."""
from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image

from portal.files.decode_budget import MAX_CONCURRENT_DECODES, MAX_DECODE_BYTES

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
GROWTH_LIMIT = 600 * MB
WEB_GROWTH_LIMIT = 100 * MB  # the upload bodies and the clean copies, no pixels
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")


def png(size: tuple[int, int], mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (30, 120, 200, 255)[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the decoder's server and its children)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    for member in [pid, *descendants(pid)]:
        try:
            total += status_kib(member, "VmRSS")
        except (OSError, AssertionError):
            pass  # a child that has just exited
    return total


class Browser:
    """One person's cookies over plain http.client (as a browser sends them)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers={**({"Cookie": cookie} if cookie else {}),
                                                                 **(headers or {})})
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def token(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, page[:300]
        return CSRF.search(page).group(1)

    def post_form(self, path: str, fields: dict):
        body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                 "Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("upload-server")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    process = subprocess.Popen([sys.executable, "-m", "tests.upload_server", str(directory)], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=(directory / "server.log").open("wb"),
                               text=True, start_new_session=True)
    try:
        line = process.stdout.readline()
        if not line:
            pytest.fail("the server did not start:\n" + (directory / "server.log").read_text(errors="replace"))
        info = json.loads(line)
        browser = Browser(info["port"])
        status, _ = browser.post_form("/login", {"email": info["email"], "password": info["password"],
                                                 "csrf_token": browser.token("/login")})
        assert status == 302
        yield process, browser, info["proposal_id"], directory
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def upload(browser: Browser, proposal_id: int, token: str, data: bytes, filename: str):
    body, content_type = multipart({"csrf_token": token}, "file", filename, data)
    return browser.request("POST", f"/proposals/{proposal_id}/attachments", body, {"Content-Type": content_type})


def six_at_once(process, browser, proposal_id, data: bytes, filename: str):
    """Six uploads released together, and a page asked for while they are
    handled; (statuses, pages, growth in bytes of the resident memory of the
    server with its children, growth of the web process alone, the status of
    the other page)."""
    token = browser.token(f"/proposals/{proposal_id}/edit")
    before, before_web = tree_rss_kib(process.pid), status_kib(process.pid, "VmRSS")
    # Reset the web process's peak (VmHWM) to its present size, and sample
    # as well in case the kernel does not allow the reset.
    try:
        Path(f"/proc/{process.pid}/clear_refs").write_text("5")
    except OSError:
        pass
    peak, peak_web, done = [before], [before_web], threading.Event()

    def sample():
        while not done.is_set():
            peak.append(tree_rss_kib(process.pid))
            peak_web.append(status_kib(process.pid, "VmRSS"))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    barrier, results = threading.Barrier(7), []
    other = []

    def send():
        barrier.wait()
        results.append(upload(browser, proposal_id, token, data, filename))

    def read_another_page():
        barrier.wait()
        time.sleep(0.2)  # the uploads are being handled
        other.append(Browser(browser.port).request("GET", "/")[0])

    threads = [threading.Thread(target=send) for _ in range(6)] + [threading.Thread(target=read_another_page)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    done.set()
    sampler.join()
    high_web = max(max(peak_web), status_kib(process.pid, "VmHWM"))
    return ([s for s, _ in results], [p for _, p in results], (max(peak) - before) * 1024,
            (high_web - before_web) * 1024, other)


def test_six_huge_pngs_at_once_are_refused_with_the_limit_and_memory_stays_low(server):
    process, browser, proposal_id, directory = server
    data = png((6000, 6000))
    assert len(data) < 200_000  # a small file that claims 144 MB of pixels
    warm = upload(browser, proposal_id, browser.token(f"/proposals/{proposal_id}/edit"), png((600, 400)), "warm.png")
    assert warm[0] == 302, warm[1][:500]
    statuses, pages, growth, _web, other = six_at_once(process, browser, proposal_id, data, "huge.png")
    print(f"6 × 6000×6000 PNG ({len(data):,} bytes): statuses {statuses}, server growth {growth / MB:.0f} MB")
    assert other == [200]
    assert statuses == [422] * 6, (directory / "server.log").read_text(errors="replace")[-2000:]
    for page in pages:
        assert "画素数が大きすぎます" in page and "6,000×6,000画素" in page and "5,000×5,000画素まで" in page
        assert "提案書の作成・編集" in page  # the editor with the saved proposal, not an error page
    assert growth < GROWTH_LIMIT


def test_six_of_the_largest_accepted_pngs_at_once_queue_and_memory_stays_bounded(server):
    process, browser, proposal_id, directory = server
    side = 5000  # 25 MP in colour: 200 MB, the most one decode may take
    data = png((side, side), "RGB")
    statuses, pages, growth, web_growth, other = six_at_once(process, browser, proposal_id, data, "large.png")
    print(f"6 × {side}×{side} PNG ({len(data):,} bytes): statuses {statuses}, "
          f"server and children grew {growth / MB:.0f} MB, the web process {web_growth / MB:.0f} MB")
    assert all(status < 500 for status in statuses), (directory / "server.log").read_text(errors="replace")[-2000:]
    assert statuses.count(302) == 6, [p[:300] for p in pages]
    # At most MAX_CONCURRENT_DECODES decodes of at most MAX_DECODE_BYTES each.
    assert MAX_CONCURRENT_DECODES * MAX_DECODE_BYTES < GROWTH_LIMIT
    assert growth < GROWTH_LIMIT
    # The pixels were decoded in the children, not in the web process, which
    # served another page meanwhile.
    assert growth > MAX_DECODE_BYTES // 2 and web_growth < WEB_GROWTH_LIMIT
    assert other == [200]
