"""Every route, as every role: anonymous, applicant, another applicant,
reviewer, conflicted reviewer and staff. The expectations come from the
audience of the route (its URL area), not from a hand-kept list, so a new
route is covered the day it is added.

- /admin/...: staff only (others 403, anonymous to the login page);
- /review/...: reviewers only; a conflicted reviewer gets 404 for the
  proposal they are kept from;
- applicant pages: the owning group only; another group gets 404 for the
  first group's proposals and files (IDs cannot be guessed into other
  people's data); staff and reviewers 403 (staff may download files);
- public and login pages: everyone;
- no answer is ever a 500, and GET and POST are both walked (POST with a
  valid CSRF token and an empty form).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.errors import MESSAGES
from portal.models import Assignment, Conflict, ConflictSource, ConflictStatus, StoredFile

from portal.domain.adoption import departments
from portal.domain.timeutil import now_utc

from .adoption_support import department_account
from .conftest import csrf_token_from

ROLES = ("anonymous", "applicant", "other_applicant", "reviewer", "conflicted_reviewer", "staff")
ROLES += ("department",)  # 担当課: an account of the department the first proposal is assigned to
SKIPPED_ENDPOINTS = {"static", "auth.logout"}  # logout would end the walk's own login
ALLOWED = "allowed"
FORBIDDEN = "forbidden"
HIDDEN = "hidden"  # 404: not theirs
LOGIN = "login"
GENERIC_403 = MESSAGES[403][1]
SIGNED_IN_ANY_ROLE = {"auth.resend_confirmation", "auth.account_security",
                      # the second-factor steps: without a password step first, back to the login page
                      "auth.second_factor_code", "auth.enrol"}


@dataclass
class World:
    call_id: int
    slug: str
    proposal_id: int
    other_proposal_id: int
    file_id: int
    assignment_id: int
    users: dict


@pytest.fixture()
def world(seed, db) -> World:
    with seed() as f:
        call = f.scoring_call()
        first = f.submitted(call, name="みなと見守りの会")
        second = f.submitted(call, name="さくら子ども食堂")
        reviewer, conflicted = f.reviewer(), f.reviewer()
        f.panel_member(call, reviewer)
        conflicted_member = f.panel_member(call, conflicted)
        db.add(Conflict(panel_member_id=conflicted_member.id, proposal_id=first.id,
                        source=ConflictSource.STAFF, status=ConflictStatus.CONFIRMED, reason="テスト"))
        first.title = "川沿い見守りカフェ事業"
        db.commit()
        f.released(first)
        f.released(second)
        assignment = db.scalars(select(Assignment).where(
            Assignment.proposal_id == first.id,
            Assignment.panel_member.has(user_id=reviewer.id))).one()
        document = db.scalars(select(StoredFile).where(StoredFile.group_id == first.group_id)
                              .order_by(StoredFile.id)).first()
        users = {"applicant": first.group.account, "other_applicant": second.group.account,
                 "reviewer": reviewer, "conflicted_reviewer": conflicted, "staff": f.staff()}
        department, users["department"] = department_account(db, "福祉総務課")
        departments.assign(db, first, department, staff=None, now=now_utc())
        db.commit()
        return World(call.id, call.slug, first.id, second.id, document.id, assignment.id,
                     {role: user.email for role, user in users.items()})


def login_as(client: FlaskClient, email: str) -> None:
    token = csrf_token_from(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": "correct-horse-battery", "csrf_token": token})
    assert response.status_code == 302, response.text[:300]


def fill(rule, world: World) -> str | None:
    values = {}
    for name in rule.arguments:
        if name in ("call_id",):
            values[name] = world.call_id
        elif name == "slug":
            values[name] = world.slug
        elif name == "proposal_id":
            values[name] = world.proposal_id
        elif name == "assignment_id":
            values[name] = world.assignment_id
        elif name == "file_id":
            values[name] = world.file_id
        elif name in ("revision", "version"):
            values[name] = 1
        else:
            values[name] = 1 if isinstance(rule._converters.get(name), IntegerConverter) else "x"
    try:
        return rule.build(values, append_unknown=False)[1]
    except Exception:  # noqa: BLE001 - a rule we cannot fill is reported by the caller
        return None


def audience(path: str, endpoint: str) -> str:
    if path.startswith("/admin"):
        return "staff"
    if path.startswith("/review"):
        return "reviewer"
    if endpoint.startswith("applicant."):
        return "applicant"
    if path.startswith("/department/"):
        return "department"
    if path.startswith("/projects/"):
        return "project"  # an adopted project's shared pages: staff, its department, its group
    return "public"


def expected(role: str, path: str, endpoint: str, rule) -> str:
    area = audience(path, endpoint)
    if endpoint in SIGNED_IN_ANY_ROLE:
        return LOGIN if role == "anonymous" else ALLOWED
    if area == "public":
        return ALLOWED
    if role == "anonymous":
        return LOGIN
    if area == "staff":
        return ALLOWED if role == "staff" else FORBIDDEN
    if area == "department":
        return ALLOWED if role == "department" else FORBIDDEN
    if area == "project":
        if role in ("staff", "applicant", "department"):
            return ALLOWED
        return HIDDEN if role == "other_applicant" else FORBIDDEN
    if role == "department":  # applicant pages: no group; a file is not theirs
        return HIDDEN if "file_id" in rule.arguments else FORBIDDEN
    if area == "reviewer":
        if role == "reviewer":
            return ALLOWED
        if role == "conflicted_reviewer":
            return HIDDEN if "assignment_id" in rule.arguments else ALLOWED
        return FORBIDDEN
    # applicant pages; a file that is not yours is not there (404)
    if endpoint == "applicant.download_file" and role == "staff":
        return ALLOWED
    if "file_id" in rule.arguments and role in ("reviewer", "conflicted_reviewer"):
        return HIDDEN
    if role == "applicant":
        return ALLOWED
    if role == "other_applicant":
        return HIDDEN if {"proposal_id", "file_id"} & set(rule.arguments) else ALLOWED
    return FORBIDDEN


def denied(response) -> bool:
    """The access rule's 403 (a refusal for the state of things, such as a
    closed deadline, is a 403 too but says why in its own words)."""
    return response.status_code == 403 and GENERIC_403 in response.get_data(as_text=True)


def to_login(response) -> bool:
    return (response.status_code == 302 and "/login" in response.headers.get("Location", "")) \
        or response.status_code == 401


def matches(outcome: str, response) -> bool:
    if response.status_code >= 500:
        return False
    if outcome == LOGIN:
        return to_login(response)
    if outcome == FORBIDDEN:
        return denied(response)
    if outcome == HIDDEN:
        return response.status_code == 404
    return not denied(response) and not to_login(response)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_its_audience_expects(app, db, world, role):
    client = app.test_client()
    if role != "anonymous":
        login_as(client, world.users[role])
    token = csrf_token_from(client.get("/login" if role == "anonymous" else "/").text)
    mismatches, walked = [], 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.startswith("dev."):
            continue
        path = fill(rule, world)
        assert path is not None, f"cannot build a URL for {rule.rule}"
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
            walked += 1
            outcome = expected(role, path, rule.endpoint, rule)
            if not matches(outcome, response):
                mismatches.append(f"{method} {path} ({rule.endpoint}): expected {outcome}, got {response.status_code}")
    assert walked > 40
    assert not mismatches, "\n".join(mismatches)


def test_conflicted_reviewer_never_sees_the_proposal_not_even_its_title(app, db, world):
    client = app.test_client()
    login_as(client, world.users["conflicted_reviewer"])
    first = db.get(Assignment, world.assignment_id)
    code, title = first.proposal.anonymous_code, first.proposal.title
    pages = [client.get("/review/")]
    for link in set(re.findall(r'href="(/review/[^"]+)"', pages[0].text)):
        pages.append(client.get(link))
    for page in pages:
        assert page.status_code < 500
        assert code not in page.text
        assert title not in page.text


# -- routes added with issue 12 ---------------------------------------------------------

EXPORT_ENDPOINTS = {"admin.export_scores_xlsx", "admin.export_sheets_csv", "admin.export_ranking_csv"}


@pytest.mark.parametrize("role", ROLES)
def test_the_score_exports_are_walked_and_staff_only(app, db, world, role):
    """The exports carry every score before publication: the walk above
    covers them as /admin routes; here each one is named, so renaming or
    moving one out of /admin cannot drop it from the matrix."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint in EXPORT_ENDPOINTS}
    assert set(rules) == EXPORT_ENDPOINTS
    client = app.test_client()
    if role != "anonymous":
        login_as(client, world.users[role])
    for endpoint, rule in sorted(rules.items()):
        path = fill(rule, world)
        assert audience(path, endpoint) == "staff"
        response = client.get(path)
        outcome = expected(role, path, endpoint, rule)
        assert matches(outcome, response), (endpoint, role, response.status_code)
        if role == "staff":
            assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
