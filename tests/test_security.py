"""Security headers on every kind of response, no inline script or style in
any page, CSRF on every form post, and a production config that refuses to
run without a real secret."""
from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

import config
from portal import create_app
from portal import db as database
from portal.auth.tokens import make_reset_token
from portal.models import (
    Group,
    LoginSession,
    LoginThrottle,
    OutboxMessage,
    Proposal,
    ProposalStatus,
    User,
)

from .conftest import csrf_token_from
from .journey import PASSWORD, Journey, proposal_form, version_of

ROOT = Path(__file__).resolve().parent.parent
CSRF_MESSAGE = "画面の有効期限が切れたか、不正な送信の可能性があります"


@pytest.fixture()
def journey(client, db, seed):
    """A complete applicant journey; every page it saw is in journey.pages."""
    with seed() as f:
        call = f.call(title="令和8年度 市民提案型協働モデル事業（検査）")
        slug = call.slug
    walk = Journey(client, db)
    walk.get("home", "/")
    walk.get("calls", "/calls")
    walk.get("login page", "/login")
    walk.get("forgot page", "/password/forgot")
    walk.register_and_confirm()
    walk.fill_profile()
    walk.keep("profile with errors", client.post("/profile", data={
        "csrf_token": csrf_token_from(client.get("/profile").text),
        "postal_code": "12", "founded_on": "いつか", "member_count": "多数", "kind": "unknown"}))
    proposal_id = walk.write_proposal(slug)
    editor = client.get(f"/proposals/{proposal_id}/edit")
    bad_edit = proposal_form(csrf_token_from(editor.text), int(version_of(editor.text)),
                             **{"expense-0-amount": "-5", "title": "あ" * 60})
    walk.keep("editor with errors", client.post(f"/proposals/{proposal_id}/edit", data=bad_edit))
    fixed = client.get(f"/proposals/{proposal_id}/edit")
    client.post(f"/proposals/{proposal_id}/edit",
                data=proposal_form(csrf_token_from(fixed.text), int(version_of(fixed.text))))
    walk.submit(proposal_id)
    walk.receipt_pdf(proposal_id)
    walk.get("withdraw page", f"/proposals/{proposal_id}/withdraw")
    walk.get("404 page", "/no-such-page")
    walk.get("404 proposal", "/proposals/999999")
    walk.get("json 404", "/no-such-page", headers={"Accept": "application/json"})
    walk.keep("csrf 400 page", client.post("/profile", data={"name": "x"}))
    walk.keep("json csrf 400", client.post(f"/proposals/{proposal_id}/autosave", data={},
                                           headers={"Accept": "application/json"}))
    walk.keep("405 page", client.put("/login"))
    walk.get("static css", "/static/css/app.css")
    walk.get("static js", "/static/js/proposal-editor.js")
    walk.get("dev outbox", "/dev/outbox")
    # Pages only someone logged out sees.
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/mypage").text)})
    walk.keep("register with errors", client.post("/register", data={
        "csrf_token": csrf_token_from(client.get("/register").text), "email": "x"}))
    walk.keep("login failed", client.post("/login", data={
        "csrf_token": csrf_token_from(client.get("/login").text), "email": walk.email, "password": "nope-nope-1"}))
    walk.get("confirm failed", "/confirm/garbled")
    walk.get("reset failed", "/password/reset/garbled")
    walk.journey_proposal_id = proposal_id
    return walk


# --- headers -------------------------------------------------------------------------

def assert_security_headers(label, response):
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp, f"{label}: no CSP"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, label
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", label
    assert directives.get("script-src") == "script-src 'self'", label
    assert directives.get("style-src") == "style-src 'self'", label
    assert directives.get("object-src") == "object-src 'none'", label
    assert response.headers.get("X-Content-Type-Options") == "nosniff", label
    assert response.headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "no-referrer",
                                                        "same-origin", "strict-origin"), label
    assert response.headers.get("X-Frame-Options") == "DENY", label


def test_every_response_carries_the_security_headers(journey, app):
    kinds = {response.mimetype for _, response in journey.pages}
    assert {"text/html", "application/json", "text/css", "application/pdf"} <= kinds
    statuses = {response.status_code for _, response in journey.pages}
    assert {200, 400, 404, 405, 422} <= statuses
    for label, response in journey.pages:
        assert_security_headers(label, response)
        assert "Strict-Transport-Security" not in response.headers, f"{label}: HSTS outside production"


def test_personal_responses_are_not_stored_in_caches_but_static_files_may_be(journey):
    for label, response in journey.pages:
        cache = response.headers.get("Cache-Control", "")
        if label.startswith("static"):
            assert "no-store" not in cache, label
        else:
            assert cache == "no-store", (label, cache)


def test_unexpected_errors_get_headers_and_a_japanese_page_without_a_traceback(client, db, app, monkeypatch):
    def broken():
        raise RuntimeError("secret internal detail")

    monkeypatch.setitem(app.view_functions, "public.calls", broken)
    page = client.get("/calls")
    assert page.status_code == 500
    assert "システムで問題が発生しました" in page.text
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    assert_security_headers("500 page", page)
    as_json = client.get("/calls", headers={"Accept": "application/json"})
    assert as_json.status_code == 500
    assert as_json.json["ok"] is False and "システム" in as_json.json["error"]
    assert_security_headers("500 json", as_json)


@pytest.mark.parametrize("accept, json", [
    ("application/json", True),
    ("application/json, text/plain, */*", True),
    ("application/json; charset=utf-8", True),
    ("*/*", False),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
    ("text/html, application/json", False),
    (None, False),
])
def test_errors_answer_json_only_to_clients_that_prefer_it(client, db, accept, json):
    response = client.get("/no-such-page", headers={"Accept": accept} if accept else {})
    assert response.status_code == 404
    if json:
        assert response.mimetype == "application/json"
        assert response.json == {"ok": False, "error": "ページが見つかりません", "message": "URLが正しいか確認してください。"}
    else:
        assert response.mimetype == "text/html"
        assert "ページが見つかりません" in response.text


def test_http_errors_keep_their_status_and_headers(client, db):
    not_allowed = client.put("/login")
    assert not_allowed.status_code == 405
    assert "POST" in not_allowed.headers["Allow"]
    assert "この操作はできません" in not_allowed.text
    beyond = client.get("/static/css/app.css", headers={"Range": "bytes=99999999-"})
    assert beyond.status_code == 416, "a bad Range is not a 400"
    assert "Content-Range" in beyond.headers


# --- production ----------------------------------------------------------------------

@pytest.fixture()
def production_app(app, database_url, tmp_path, monkeypatch):
    """The app under ProductionConfig (a real key patched in). create_app
    rebinds the shared session; the test app's binding is restored after."""
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "p" * 40)
    monkeypatch.setattr(config.ProductionConfig, "PUBLIC_BASE_URL", "https://kyodo.example.jp")
    production = create_app("production", {"DATABASE_URL": database_url, "UPLOAD_DIR": tmp_path,
                                           "SERVER_NAME": "localhost"})
    yield production
    production.extensions["engine"].dispose()
    database.bind(app.extensions["engine"])


def test_production_sends_hsts_and_secure_cookies(production_app):
    client = production_app.test_client()
    for path in ("/login", "/static/css/app.css", "/no-such-page"):
        response = client.get(path)
        assert response.headers["Strict-Transport-Security"].startswith("max-age="), path
        assert int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 31536000
        assert_security_headers(path, response)
    cookie = production_app.test_client().get("/login").headers["Set-Cookie"]
    assert cookie.startswith("portal_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie, cookie
    assert production_app.config["SESSION_COOKIE_SECURE"] is True
    assert production_app.config["DEV_OUTBOX"] is False
    assert client.get("/dev/outbox").status_code == 404


def test_testing_session_cookie_is_httponly_and_samesite(client, db):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests and development


@pytest.mark.parametrize("key", [None, "", "short-key", "x" * 31])
def test_production_refuses_a_missing_or_short_secret_key(monkeypatch, key):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig.check()
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_accepts_a_32_character_key(monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "k" * 32)
    monkeypatch.setattr(config.ProductionConfig, "PUBLIC_BASE_URL", "https://kyodo.example.jp")
    config.ProductionConfig.check()
    monkeypatch.setattr(config.ProductionConfig, "SESSION_COOKIE_SECURE", False)
    with pytest.raises(RuntimeError, match="SESSION_COOKIE_SECURE"):
        config.ProductionConfig.check()


@pytest.mark.parametrize("secret, ok", [(None, False), ("too-short", False), ("s" * 48, True)])
def test_production_reads_the_secret_from_the_environment(secret, ok):
    """The real path: a fresh interpreter importing config with the env var."""
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["PORTAL_BASE_URL"] = "https://kyodo.example.jp"
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = subprocess.run([sys.executable, "-c", "import config; config.ProductionConfig.check()"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) is ok, result.stderr
    if not ok:
        assert "32文字以上の SECRET_KEY" in result.stderr


# --- no inline script or style -------------------------------------------------------

class InlineFinder(HTMLParser):
    """Collects what a strict CSP would block or what needs 'unsafe-inline'."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value for name, value in attrs}
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if not names.get("src"):
                self.problems.append("<script> without src")
            self._in_script = True
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        for name, value in names.items():
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"javascript: URL in {name}")
        if tag == "link" and "stylesheet" in (names.get("rel") or "") and "//" in (names.get("href") or ""):
            self.problems.append("stylesheet from another origin")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script body")


def inline_problems(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def test_the_scanner_finds_what_it_looks_for():
    bad = ('<div style="color:red" onclick="x()"><style>p{}</style><script>alert(1)</script>'
           '<a href="javascript:alert(1)">x</a><script src="/static/js/a.js"></script></div>')
    assert sorted(inline_problems(bad)) == sorted([
        "style= on <div>", "onclick= on <div>", "<style> element", "<script> without src",
        "inline script body", "javascript: URL in href"])


def test_no_page_in_the_journey_has_inline_script_or_style(journey):
    html_pages = [(label, r) for label, r in journey.pages if r.mimetype == "text/html"]
    assert len(html_pages) >= 25
    labels = {label for label, _ in html_pages}
    for expected in ("register", "profile with errors", "editor", "editor with errors", "confirm", "receipt",
                     "detail", "withdraw page", "login failed", "confirm failed", "reset failed", "404 page",
                     "csrf 400 page"):
        assert expected in labels
    problems = {label: inline_problems(r.get_data(as_text=True)) for label, r in html_pages}
    assert {label: found for label, found in problems.items() if found} == {}


def test_every_page_is_japanese(journey):
    for label, response in journey.pages:
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            assert '<html lang="ja">' in text, label
        elif response.mimetype == "application/json":
            assert response.json["message"].isascii() is False, label


# --- CSRF ----------------------------------------------------------------------------

def counts(db):
    db.expire_all()
    return {model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (User, Group, LoginThrottle, LoginSession, OutboxMessage, Proposal)}


def assert_csrf_refused(response, json=False):
    assert response.status_code == 400
    if json:
        assert CSRF_MESSAGE in response.json["message"]
    else:
        assert CSRF_MESSAGE in response.text


@pytest.mark.parametrize("token", ["missing", "forged", "other session"])
def test_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(client, app, db, seed, token):
    with seed() as f:
        user = f.applicant(email="csrf@example.jp")
        call = f.call()
        draft = f.proposal(user, call)
        ids = {"user": user.id, "draft": draft.id, "slug": call.slug}
    bad_token = {"missing": None, "forged": "Ijg3ZjE2ZDM2In0.ZZZZZZ.not-a-real-signature",
                 "other session": csrf_token_from(app.test_client().get("/login").text)}[token]

    def post(path, data=None, **kwargs):
        data = dict(data or {})
        if bad_token is not None:
            data["csrf_token"] = bad_token
        return client.post(path, data=data, **kwargs)

    # Logged out: the account forms.
    before = counts(db)
    assert_csrf_refused(post("/register", {"email": "new@example.jp", "password": PASSWORD,
                                           "password_confirm": PASSWORD, "privacy": "y"}))
    assert_csrf_refused(post("/login", {"email": "csrf@example.jp", "password": "wrong-password-1"}))
    assert_csrf_refused(post("/login", {"email": "csrf@example.jp", "password": "correct-horse-battery"}))
    assert_csrf_refused(post("/password/forgot", {"email": "csrf@example.jp"}))
    password_hash = db.get(User, ids["user"]).password_hash
    with app.test_request_context():
        reset_link = f"/password/reset/{make_reset_token(db.get(User, ids['user']))}"
    assert_csrf_refused(post(reset_link, {"password": "new-password-2026", "password_confirm": "new-password-2026"}))
    assert counts(db) == before
    assert db.get(User, ids["user"]).password_hash == password_hash
    assert client.get("/mypage").status_code == 302, "the refused login did not log in"

    # Logged in: every applicant form.
    client.post("/login", data={"csrf_token": csrf_token_from(client.get("/login").text),
                                "email": "csrf@example.jp", "password": "correct-horse-battery"})
    assert client.get("/mypage").status_code == 200
    before = counts(db)
    group_name = db.scalar(select(Group.name).where(Group.account_id == ids["user"]))
    pid = ids["draft"]
    assert_csrf_refused(post("/profile", {"name": "書き換えられた団体"}))
    assert_csrf_refused(post(f"/calls/{ids['slug']}/propose"))
    assert_csrf_refused(post(f"/proposals/{pid}/edit", {"version": "1", "title": "書き換え"}))
    assert_csrf_refused(post(f"/proposals/{pid}/autosave", {"version": "1", "title": "書き換え"},
                             headers={"Accept": "application/json"}), json=True)
    assert_csrf_refused(post(f"/proposals/{pid}/submit", {"version": "1"}))
    assert_csrf_refused(post(f"/proposals/{pid}/delete"))
    assert_csrf_refused(post("/confirm/resend"))
    assert_csrf_refused(post("/logout"))
    assert counts(db) == before
    assert db.scalar(select(Group.name).where(Group.account_id == ids["user"])) == group_name
    proposal = db.get(Proposal, pid)
    assert proposal.title != "書き換え" and proposal.status == ProposalStatus.DRAFT
    assert client.get("/mypage").status_code == 200, "the refused logout did not log out"


def test_withdraw_without_csrf_changes_nothing(client, db, seed, login):
    with seed() as f:
        user = f.applicant()
        proposal = f.proposal(user, f.call(), status=ProposalStatus.SUBMITTED)
        pid = proposal.id
    login(user)
    response = client.post(f"/proposals/{pid}/withdraw", data={"reason": "やめます"})
    assert_csrf_refused(response)
    db.expire_all()
    assert db.get(Proposal, pid).status == ProposalStatus.SUBMITTED


@pytest.mark.parametrize("value", [None, "", "prod", "Development"])
def test_an_unset_or_unknown_environment_refuses_to_start(monkeypatch, value):
    # A bare `gunicorn wsgi:app` must never come up as development (known
    # key, /dev/outbox with live reset links, the second-factor waiver).
    if value is None:
        monkeypatch.delenv("PORTAL_ENV", raising=False)
    else:
        monkeypatch.setenv("PORTAL_ENV", value)
    with pytest.raises(RuntimeError, match="PORTAL_ENV"):
        create_app()


def test_development_is_only_what_is_asked_for(monkeypatch, production_app):
    assert production_app.config["ALLOW_SECOND_FACTOR_WAIVER"] is False
    assert "dev.outbox" not in production_app.view_functions
    assert config.DevelopmentConfig.DEV_OUTBOX and config.DevelopmentConfig.ALLOW_SECOND_FACTOR_WAIVER
