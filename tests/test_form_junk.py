"""Every form a member of staff or a reviewer can reach, posted with junk:
empty values, very long text, negative and huge numbers, control
characters, markup, and made-up choices. The answer is a page that says
what is wrong (or a refusal), never a 500.

The forms are found by crawling from /admin/ and /review/, so a new form is
covered the day it is added.
"""
from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from portal.domain.timeutil import now_utc
from portal.models import Assignment, AssignmentStatus

from .test_access_matrix import login_as, world  # noqa: F401 - the fixture is used by name

JUNK = {
    "empty": "",
    "long": "あ" * 20_000,
    "negative": "-1",
    "huge": "99999999999999999999999",
    "control": "\x00\x1b[31m\u202e",
    "markup": '<script>alert(1)</script>"\'><img src=x>',
    "date": "2026-02-30T25:61",
}
MAX_PAGES = 120
SKIPPED_ACTIONS = ("/logout",)


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form":
            self._form = {"action": attributes.get("action") or "", "method": (attributes.get("method") or "get").lower(),
                          "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea") and attributes.get("name"):
            name = attributes["name"]
            kind = (attributes.get("type") or "").lower()
            if name == "csrf_token" or kind == "hidden":
                self._form["fields"].setdefault(name, attributes.get("value") or "")
            else:
                self._form["fields"].setdefault(name, None)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def crawl(client, start: str, area: str):
    seen, queue, forms = set(), deque([start]), {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code < 500, f"GET {path} -> {response.status_code}"
        if "text/html" not in response.content_type:
            continue
        parser = FormParser()
        parser.feed(response.get_data(as_text=True))
        for link in parser.links:
            target = urlsplit(urljoin(path, link))
            if not target.netloc and target.path.startswith(area) and target.path not in seen:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
        for form in parser.forms:
            if form["method"] != "post":
                continue
            action = urlsplit(urljoin(path, form["action"] or path)).path
            if action.startswith(SKIPPED_ACTIONS):
                continue
            forms.setdefault((action, tuple(sorted(form["fields"]))), form["fields"])
    return seen, forms


@pytest.mark.parametrize("role,start", [("staff", "/admin/"), ("reviewer", "/review/")])
def test_junk_in_every_form_never_gives_a_500(app, db, world, role, start):  # noqa: F811
    if role == "reviewer":
        # Past the 利害関係なし step, so the scoring forms are reachable too.
        for assignment in db.scalars(select(Assignment).where(Assignment.status == AssignmentStatus.ASSIGNED)):
            assignment.status, assignment.cleared_at = AssignmentStatus.CLEARED, now_utc()
        db.commit()
    client = app.test_client()
    login_as(client, world.users[role])
    pages, forms = crawl(client, start, start)
    assert len(pages) > 3 and len(forms) > 2, f"the crawl found too little: {sorted(pages)}"
    failures = []
    for (action, _), fields in forms.items():
        for label, value in JUNK.items():
            data = {name: (given if name == "csrf_token" or given else value) for name, given in fields.items()}
            # Hidden fields are tampered with as well, except the CSRF token.
            data = {name: (v if name == "csrf_token" else value) for name, v in data.items()}
            response = client.post(action, data=data)
            if response.status_code >= 500:
                failures.append(f"POST {action} with {label}: {response.status_code}")
    assert not failures, "\n".join(failures)
