"""A small browser for the benchmarks, on the standard library only:
cookies, keep-alive connections, forms read from the HTML, latencies and
status codes recorded per kind of request. Used by ``bench.deadline``; it
only ever connects where the caller checked it may (127.0.0.1)."""
from __future__ import annotations

import http.client
import re
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

# gunicorn closes an idle keep-alive connection after a few seconds; a browser opens a
# new one rather than write into a socket the server may be closing.
IDLE_RECONNECT_SECONDS = 1.0


class CookieJar:
    """One browser's cookies, shared by its connections (a double click
    comes from the same browser).

    In production the portal marks its cookies ``Secure`` and sits behind
    TLS; here it is reached over plain http on loopback, where a browser
    would drop such a cookie. This jar keeps and returns it anyway, and
    ignores Path and Domain: there is one site and every cookie is for "/"."""

    def __init__(self):
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def take(self, set_cookie_headers: list[str]) -> None:
        with self._lock:
            for header in set_cookie_headers:
                pair, *attributes = header.split(";")
                name, _, value = pair.strip().partition("=")
                attrs = {a.strip().split("=", 1)[0].lower(): a.strip().partition("=")[2] for a in attributes}
                expired = attrs.get("max-age") == "0" or "1970" in attrs.get("expires", "")
                if expired or value == "":
                    self._values.pop(name, None)
                else:
                    self._values[name] = value

    def header(self) -> str:
        with self._lock:
            return "; ".join(f"{name}={value}" for name, value in self._values.items())


@dataclass
class Response:
    status: int
    location: str
    text: str


class DeadlineReached(Exception):
    pass


class Recorder:
    """Status counts and latencies per kind of request, from every thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self.statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.requests_in_deadline_phase = 0
        self.deadline_phase = False

    def add(self, kind: str, status: str, milliseconds: float) -> None:
        with self._lock:
            self.statuses[kind][status] += 1
            self.latencies[kind].append(milliseconds)
            if self.deadline_phase:
                self.requests_in_deadline_phase += 1


class Browser:
    """One connection to the portal; several may share a cookie jar."""

    def __init__(self, host: str, port: int, jar: CookieJar, recorder: Recorder, deadline: float,
                 request_timeout: float):
        self.host, self.port, self.jar, self.recorder = host, port, jar, recorder
        self.deadline, self.request_timeout = deadline, request_timeout
        self.connection: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, kind: str, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Response | None:
        """The response, or None after a timeout or a broken connection
        (counted under ``error:<name>``); never retried."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineReached()
        timeout = max(0.1, min(self.request_timeout, remaining))
        if self.connection is not None and time.monotonic() - self.last_used > IDLE_RECONNECT_SECONDS:
            self.close()
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        elif self.connection.sock is not None:
            self.connection.sock.settimeout(timeout)
        else:
            self.connection.timeout = timeout
        all_headers = {"User-Agent": "portal-bench-deadline", "Accept-Language": "ja", **(headers or {})}
        if cookies := self.jar.header():
            all_headers["Cookie"] = cookies
        started = time.monotonic()
        try:
            self.connection.request(method, path, body=body, headers=all_headers)
            answer = self.connection.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as error:
            self.recorder.add(kind, f"error:{type(error).__name__}", (time.monotonic() - started) * 1000)
            self.close()
            return None
        elapsed = (time.monotonic() - started) * 1000
        self.last_used = time.monotonic()
        self.jar.take(answer.headers.get_all("Set-Cookie") or [])
        self.recorder.add(kind, str(answer.status), elapsed)
        if answer.will_close:
            self.close()
        location = answer.headers.get("Location") or ""
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        return Response(answer.status, location, data.decode("utf-8", "replace"))

    def get(self, kind: str, path: str) -> Response | None:
        return self.request(kind, "GET", path, headers={"Accept": "text/html"})

    def post_form(self, kind: str, path: str, fields: list[tuple[str, str]]) -> Response | None:
        """An HTML form's post: application/x-www-form-urlencoded."""
        return self.request(kind, "POST", path, body=urlencode(fields).encode("utf-8"),
                            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})

    def post_multipart(self, kind: str, path: str, fields: list[tuple[str, str]],
                       headers: dict | None = None) -> Response | None:
        """What ``fetch(url, {body: new FormData(form)})`` sends."""
        boundary = "----portalbench" + secrets.token_hex(12)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
            for name, value in fields
        ]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(kind, "POST", path, body=body,
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})})


class FormReader(HTMLParser):
    """The forms of a page and what a browser would post from each:
    inputs, checked boxes, textareas and the selected options, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: list | None = None
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"attrs": a, "fields": [], "choices": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            kind, name = (a.get("type") or "text").lower(), a.get("name")
            if not name or kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                value = a["value"] if a.get("value") is not None else "on"
                self._form["choices"].append((name, value))
                if "checked" in a:
                    self._form["fields"].append((name, value))
            else:
                self._form["fields"].append((name, a.get("value") or ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], []]
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": [], "selected": "selected" in a}

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            text = "".join(self._textarea[1])
            # HTML drops one newline right after <textarea>.
            self._form["fields"].append((self._textarea[0], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            option = self._option
            value = option["value"] if option["value"] is not None else "".join(option["text"]).strip()
            self._select["options"].append((value, option["selected"]))
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = next((value for value, selected in options if selected), options[0][0] if options else None)
            if chosen is not None:
                self._form["fields"].append((self._select["name"], chosen))
            self._select = None
        elif tag == "form":
            self._form = None


def find_form(html: str, *, form_id: str | None = None, action_suffix: str | None = None) -> dict | None:
    reader = FormReader()
    reader.feed(html)
    reader.close()
    for form in reader.forms:
        attrs = form["attrs"]
        if form_id is not None and attrs.get("id") == form_id:
            return form
        if action_suffix is not None and (attrs.get("action") or "").split("?")[0].endswith(action_suffix):
            return form
    return None


def field_value(fields: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in fields if key == name), None)


def with_value(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(key, value if key == name else old) for key, old in fields]


RECEIPT_ON_RECEIPT_PAGE = re.compile(r'id="receipt-number">([^<]+)<')
RECEIPT_ON_DETAIL_PAGE = re.compile(r"受付番号</dt><dd>([^<]+)</dd>")


def receipt_number_in(html: str) -> str | None:
    match = RECEIPT_ON_RECEIPT_PAGE.search(html) or RECEIPT_ON_DETAIL_PAGE.search(html)
    return match.group(1).strip() if match else None


# --------------------------------------------------------------------------- one applicant

