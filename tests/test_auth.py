"""Accounts: registration, email confirmation, login and logout, password
reset, throttling and safe redirects, all through the test client."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlencode

import argon2
import itsdangerous.timed
import pytest
from sqlalchemy import select

from portal.auth.routes import MAILS_PER_HOUR, REGISTRATION_SUBJECT
from portal.auth.tokens import make_confirm_token, make_reset_token
from portal.models import Group, LoginSession, LoginThrottle, OutboxMessage, User

from .conftest import csrf_token_from
from .factories import Factory

GOOD_PASSWORD = "kyodo-teian-2026"


def field_error(html: str, field_id: str) -> str | None:
    """The message printed next to a field (the <p id="...-error">)."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else None


def register(client, **overrides):
    token = csrf_token_from(client.get("/register").text)
    data = {"csrf_token": token, "email": "minato-mimamori@example.jp", "password": GOOD_PASSWORD,
            "password_confirm": GOOD_PASSWORD, "privacy": "y"}
    data.update(overrides)
    return client.post("/register", data={k: v for k, v in data.items() if v is not None})


def post_login(client, email, password, next_=None, ip="127.0.0.1"):
    environ = {"REMOTE_ADDR": ip}
    url = "/login" if next_ is None else "/login?" + urlencode({"next": next_})
    token = csrf_token_from(client.get(url, environ_base=environ).text)
    return client.post(url, data={"csrf_token": token, "email": email, "password": password},
                       environ_base=environ)


@pytest.fixture()
def applicant(seed):
    """applicant(**kw) -> a detached User, made outside any request's app
    context so each request below has its own flask.g, as in production."""

    def make(**kwargs):
        with seed() as f:
            return f.applicant(**kwargs)

    return make


def logged_in(client) -> bool:
    """The dashboard answers 200 only with a live login."""
    return client.get("/mypage").status_code == 200


def latest_mail(db, recipient: str) -> OutboxMessage | None:
    return db.scalar(select(OutboxMessage).where(OutboxMessage.recipient == recipient)
                     .order_by(OutboxMessage.id.desc()))


def link_from(mail: OutboxMessage, path: str) -> str:
    match = re.search(rf"http://localhost({re.escape(path)}\S+)", mail.body)
    assert match, mail.body
    return match.group(1)


# --- registration ---------------------------------------------------------------

def test_register_creates_account_and_group_and_sends_the_confirmation(client, db):
    response = register(client, email="  Minato-Mimamori@Example.JP ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/sent"
    user = db.scalar(select(User).where(User.email == "minato-mimamori@example.jp"))
    assert user is not None, "the address is stored trimmed and lower-cased"
    assert db.scalar(select(Group).where(Group.account_id == user.id)) is not None
    assert user.email_confirmed_at is None
    assert "メールアドレスの確認" in latest_mail(db, user.email).subject
    # No login yet: a known address gets the same answer, and that one cannot log in.
    assert not logged_in(client)
    assert "確認メールを送りました" in client.get("/register/sent").text


def test_register_shows_japanese_messages_next_to_fields_and_keeps_typed_values(client, db):
    response = register(client, email="not-an-address", password="short", password_confirm="different",
                        privacy=None)
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "email") == "メールアドレスの形式が正しくありません（例: info@example.jp）。"
    assert field_error(html, "password") == "パスワードは10文字以上にしてください。"
    assert field_error(html, "password_confirm") == "パスワードが一致しません。"
    assert field_error(html, "privacy") == "同意いただけない場合は登録できません。"
    # The summary at the top links each message to its field.
    assert 'href="#email"' in html and 'href="#privacy"' in html
    # What was typed stays, except the passwords.
    assert 'value="not-an-address"' in html
    assert 'value="short"' not in html and 'value="different"' not in html
    assert db.scalar(select(User).where(User.email == "not-an-address")) is None


def test_register_requires_each_field(client, db):
    response = register(client, email="", password="", password_confirm="")
    assert response.status_code == 422
    for field_id in ("email", "password", "password_confirm"):
        assert field_error(response.text, field_id) == "必須項目です。入力してください。"


def test_register_rejects_guessable_passwords(client, db):
    response = register(client, password="1234567890", password_confirm="1234567890")
    assert response.status_code == 422
    assert "推測されやすいパスワード" in field_error(response.text, "password")


def test_register_privacy_consent_is_required(client, db):
    response = register(client, privacy=None)
    assert response.status_code == 422
    assert field_error(response.text, "privacy") == "同意いただけない場合は登録できません。"
    assert db.scalar(select(User).where(User.email == "minato-mimamori@example.jp")) is None


def test_register_with_a_known_address_answers_as_for_a_new_one(client, applicant, db):
    applicant(email="taken@example.jp")
    response = register(client, email="TAKEN@example.jp")
    assert response.status_code == 302 and response.headers["Location"] == "/register/sent"
    assert "このメールアドレスは登録済みです" not in client.get("/register/sent").text
    assert len(db.scalars(select(User).where(User.email == "taken@example.jp")).all()) == 1
    assert REGISTRATION_SUBJECT in latest_mail(db, "taken@example.jp").subject


def test_register_race_on_the_same_address_is_the_same_answer_not_a_500(client, applicant, db, monkeypatch):
    """Two registrations at once both pass the lookup; the unique index decides."""
    applicant(email="race@example.jp")
    monkeypatch.setattr("portal.auth.routes.email_taken", lambda email: False)
    response = register(client, email="race@example.jp")
    assert response.status_code == 302 and response.headers["Location"] == "/register/sent"
    assert len(db.scalars(select(User).where(User.email == "race@example.jp")).all()) == 1
    assert REGISTRATION_SUBJECT in latest_mail(db, "race@example.jp").subject


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1"', html)


def session_apart_from_csrf(app, response) -> tuple[dict, str]:
    """What the answer's session cookie holds (no login, no message), bar
    the CSRF token, and the cookie's attributes."""
    cookie = response.headers.get("Set-Cookie", "")
    value, _, attributes = cookie.partition(";")
    content = app.session_interface.get_signing_serializer(app).loads(value.partition("=")[2]) if value else {}
    content.pop("csrf_token", None)
    return content, attributes


def headers_apart_from_the_cookie(response) -> dict:
    return {name: value for name, value in response.headers.items() if name != "Set-Cookie"}


def test_register_answers_alike_for_a_new_and_a_known_address_and_mails_each(app, applicant, db, monkeypatch):
    known = applicant(email="known@example.jp")
    hashes = []
    original_hash = argon2.PasswordHasher.hash
    monkeypatch.setattr(argon2.PasswordHasher, "hash",
                        lambda self, *a, **kw: hashes.append(1) or original_hash(self, *a, **kw))
    answers = {}
    for email in ("new@example.jp", "known@example.jp"):
        browser = app.test_client()
        hashes.clear()
        posted = register(browser, email=email)
        answers[email] = (posted, browser.get(posted.headers["Location"]), len(hashes))
    (new_post, new_page, new_hashes), (known_post, known_page, known_hashes) = answers.values()

    # The same answer: status, headers and page, down to the byte, apart from CSRF tokens.
    assert new_post.status_code == known_post.status_code == 302
    assert session_apart_from_csrf(app, new_post) == session_apart_from_csrf(app, known_post)
    assert headers_apart_from_the_cookie(new_post) == headers_apart_from_the_cookie(known_post)
    assert new_post.data == known_post.data
    assert new_page.status_code == known_page.status_code == 200
    assert dict(new_page.headers) == dict(known_page.headers)
    assert without_csrf_tokens(new_page.text) == without_csrf_tokens(known_page.text)
    assert "確認メールを送りました" in new_page.text
    # The same work: the password is hashed for the known address too.
    assert new_hashes == known_hashes == 1

    # The new address gets the confirmation link ...
    new_mails = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "new@example.jp")).all()
    assert len(new_mails) == 1 and "メールアドレスの確認" in new_mails[0].subject
    assert "/confirm/" in new_mails[0].body
    # ... the known one what happened, where to log in or reset, and nothing changed.
    known_mails = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "known@example.jp")).all()
    assert len(known_mails) == 1
    notice = known_mails[0]
    assert REGISTRATION_SUBJECT in notice.subject
    assert "アカウント登録のお申し込みがありました" in notice.body
    assert "http://localhost/login\n" in notice.body
    assert "http://localhost/password/forgot\n" in notice.body
    assert "お心当たりのない場合は、このメールを破棄してください" in notice.body
    assert "/confirm/" not in notice.body and "/password/reset/" not in notice.body
    db.expire_all()
    assert db.get(User, known.id).password_hash == known.password_hash
    assert post_login(app.test_client(), "known@example.jp", Factory.PASSWORD).status_code == 302


def test_register_notices_to_a_known_address_are_capped_per_hour(client, applicant, db):
    applicant(email="often@example.jp")
    for _ in range(MAILS_PER_HOUR + 2):
        response = register(client, email="often@example.jp")
        assert response.status_code == 302 and response.headers["Location"] == "/register/sent"
    mails = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "often@example.jp")).all()
    assert len(mails) == MAILS_PER_HOUR


def test_passwords_are_stored_as_argon2id(client, db):
    register(client)
    user = db.scalar(select(User).where(User.email == "minato-mimamori@example.jp"))
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash


# --- email confirmation -----------------------------------------------------------

def test_confirmation_link_from_the_outbox_confirms(client, db):
    register(client)
    mail = latest_mail(db, "minato-mimamori@example.jp")
    assert mail is not None and "メールアドレスの確認" in mail.subject
    response = client.get(link_from(mail, "/confirm/"))
    assert response.status_code == 302
    db.expire_all()
    user = db.scalar(select(User).where(User.email == "minato-mimamori@example.jp"))
    assert user.email_confirmed_at is not None


def test_confirmation_link_works_without_a_login(client, app, db):
    register(client)
    link = link_from(latest_mail(db, "minato-mimamori@example.jp"), "/confirm/")
    other_browser = app.test_client()
    response = other_browser.get(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    db.expire_all()
    assert db.scalar(select(User).where(User.email == "minato-mimamori@example.jp")).email_confirmed


@pytest.mark.parametrize("token", ["garbled", "eyJ1aWQiOjF9.AAAAAA.BBBBBBBB", "あいう"])
def test_garbled_confirmation_token_gets_a_japanese_page(client, db, token):
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 400
    assert "メールアドレスを確認できませんでした" in response.text


def test_expired_confirmation_token_is_refused(client, app, applicant, db, monkeypatch):
    user = applicant(confirmed=False)
    eight_days_ago = int(time.time()) - 8 * 24 * 3600
    with app.test_request_context(), monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        old_token = make_confirm_token(user)
    with app.test_request_context():
        fresh_token = make_confirm_token(user)
    response = client.get(f"/confirm/{old_token}")
    assert response.status_code == 400
    assert "有効期限（7日間）が切れた" in response.text
    db.expire_all()
    assert not db.get(User, user.id).email_confirmed
    # Control: the same link made today works.
    assert client.get(f"/confirm/{fresh_token}").status_code == 302
    db.expire_all()
    assert db.get(User, user.id).email_confirmed


def test_a_reset_token_is_not_a_confirmation_token(client, app, applicant, db):
    user = applicant(confirmed=False)
    with app.test_request_context():
        token = make_reset_token(user)
    assert client.get(f"/confirm/{token}").status_code == 400


# --- login and logout ---------------------------------------------------------------

def test_login_and_logout(client, applicant, db):
    user = applicant()
    response = post_login(client, user.email.upper(), Factory.PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/mypage"
    assert logged_in(client)
    token = csrf_token_from(client.get("/mypage").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert not logged_in(client)
    assert client.get("/mypage").headers["Location"].startswith("/login?next=")


def test_wrong_password_gets_one_japanese_message_for_both_cases(client, applicant, db):
    user = applicant()
    wrong = post_login(client, user.email, "wrong-password-123")
    unknown = post_login(client, "nobody@example.jp", "wrong-password-123")
    assert wrong.status_code == unknown.status_code == 401
    message = "メールアドレスまたはパスワードが正しくありません。"
    assert message in wrong.text and message in unknown.text
    assert 'value="wrong-password-123"' not in wrong.text
    assert f'value="{user.email}"' in wrong.text


def test_logout_ends_the_session_on_the_server(client, app, applicant, db):
    user = applicant()
    post_login(client, user.email, Factory.PASSWORD)
    cookie = client.get_cookie("portal_session").value

    # Control: the captured cookie is a working login in another browser.
    replay = app.test_client()
    replay.set_cookie("portal_session", cookie)
    assert logged_in(replay)

    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/mypage").text)})
    assert not logged_in(client)

    # The old cookie, replayed after logout, no longer logs anyone in.
    stolen = app.test_client()
    stolen.set_cookie("portal_session", cookie)
    assert not logged_in(stolen)
    record = db.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    db.refresh(record)
    assert record.revoked_at is not None


def test_idle_login_sessions_expire(client, applicant, db, app):
    user = applicant()
    post_login(client, user.email, Factory.PASSWORD)
    assert logged_in(client)
    idle = app.config["LOGIN_SESSION_IDLE_SECONDS"]
    for record in db.scalars(select(LoginSession).where(LoginSession.user_id == user.id)):
        record.last_seen_at -= timedelta(seconds=idle + 60)
    db.commit()
    assert not logged_in(client)


def test_login_is_required_and_scripts_get_json_401(client, applicant, db):
    page = client.get("/profile")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=%2Fprofile"
    autosave = client.post("/proposals/1/autosave", headers={"Accept": "application/json"},
                           data={"csrf_token": csrf_token_from(client.get("/login").text)})
    assert autosave.status_code == 401
    assert autosave.json["ok"] is False
    assert "ログイン" in autosave.json["message"]


# --- next= --------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.com",
    "https://evil.com",
    "http://localhost.evil.com/",
    "/\\evil.com",
    "\\\\evil.com",
    "/\t/evil.com",
    "javascript:alert(1)",
    " /profile",
    "evil.com",
])
def test_login_next_rejects_anything_but_a_local_path(client, applicant, db, target):
    user = applicant()
    response = post_login(client, user.email, Factory.PASSWORD, next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/mypage"


@pytest.mark.parametrize("target", ["/profile", "/proposals/12/edit?tab=budget"])
def test_login_next_accepts_a_local_path(client, applicant, db, target):
    user = applicant()
    response = post_login(client, user.email, Factory.PASSWORD, next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_next_survives_a_failed_attempt_and_the_form_posts_back_to_it(client, applicant, db):
    user = applicant()
    first = client.get("/profile")  # redirected to /login?next=%2Fprofile
    page = client.get(first.headers["Location"])
    assert form_next(page.text) == "/profile"
    failed = post_login(client, user.email, "wrong-password-123", next_="/profile")
    assert failed.status_code == 401
    assert form_next(failed.text) == "/profile"
    ok = post_login(client, user.email, Factory.PASSWORD, next_="/profile")
    assert ok.headers["Location"] == "/profile"


def form_next(html: str) -> str | None:
    """The next= the login form posts back to (from its action attribute)."""
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    action = unescape(re.search(r'<form method="post" action="([^"]*)"', html).group(1))
    assert urlsplit(action).path == "/login"
    return parse_qs(urlsplit(action).query).get("next", [None])[0]


def test_login_page_drops_an_unsafe_next_from_its_form(client, db):
    page = client.get("/login?next=//evil.com")
    assert form_next(page.text) is None
    assert "evil.com" not in page.text


def test_logged_in_user_visiting_login_goes_to_next(client, applicant, login, db):
    login(applicant())
    assert client.get("/login?next=/profile").headers["Location"] == "/profile"
    assert client.get("/login?next=//evil.com").headers["Location"] == "/mypage"


# --- password reset -------------------------------------------------------------------

def forgot(client, email):
    token = csrf_token_from(client.get("/password/forgot").text)
    return client.post("/password/forgot", data={"csrf_token": token, "email": email}, follow_redirects=True)


def test_forgot_password_answers_the_same_for_unknown_addresses(client, applicant, db):
    user = applicant()
    known = forgot(client, user.email)
    unknown = forgot(client, "nobody@example.jp")
    assert known.status_code == unknown.status_code == 200
    assert known.request.path == unknown.request.path == "/login"
    message = "登録されているアドレスであれば、再設定用のメールを送りました。"
    assert message in known.text and message in unknown.text
    assert latest_mail(db, user.email) is not None
    assert latest_mail(db, "nobody@example.jp") is None


def test_a_reset_link_does_not_follow_a_forged_host_header(client, app, applicant, db, monkeypatch):
    """As production builds mail links (config.ProductionConfig): on the
    configured address, whatever Host the request claimed."""
    from config import ProductionConfig

    assert ProductionConfig.MAIL_LINKS_FROM_BASE_URL is True
    monkeypatch.setitem(app.config, "MAIL_LINKS_FROM_BASE_URL", True)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://kyodo.example.jp")
    user = applicant()
    forged = {"Host": "evil.example"}
    token = csrf_token_from(client.get("/password/forgot", headers=forged).text)
    client.post("/password/forgot", data={"csrf_token": token, "email": user.email}, headers=forged)
    body = latest_mail(db, user.email).body
    assert "https://kyodo.example.jp/password/reset/" in body and "evil.example" not in body


def test_reset_mails_to_one_address_are_limited(client, applicant, db):
    user = applicant()
    for _ in range(5):
        response = forgot(client, user.email)
        assert "登録されているアドレスであれば" in response.text  # the same answer every time
    mails = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == user.email)).all()
    assert len(mails) == 3


def test_password_reset_flow(client, app, applicant, db):
    user = applicant()
    # A login elsewhere, which the reset must end.
    elsewhere = app.test_client()
    post_login(elsewhere, user.email, Factory.PASSWORD)
    assert logged_in(elsewhere)

    forgot(client, user.email)
    link = link_from(latest_mail(db, user.email), "/password/reset/")
    page = client.get(link)
    assert page.status_code == 200 and "新しいパスワードの設定" in page.text
    mismatch = client.post(link, data={"csrf_token": csrf_token_from(page.text), "password": "new-password-2026",
                                       "password_confirm": "other-password-2026"})
    assert mismatch.status_code == 422
    assert field_error(mismatch.text, "password_confirm") == "パスワードが一致しません。"

    done = client.post(link, data={"csrf_token": csrf_token_from(page.text), "password": "new-password-2026",
                                   "password_confirm": "new-password-2026"})
    assert done.status_code == 302 and done.headers["Location"] == "/login"

    assert not logged_in(elsewhere), "a password reset ends every other login"
    assert post_login(client, user.email, Factory.PASSWORD).status_code == 401
    assert post_login(app.test_client(), user.email, "new-password-2026").status_code == 302

    # The link is spent once the password has changed.
    again = app.test_client().get(link)
    assert again.status_code == 400
    assert "リンクが無効です" in again.text
    db.expire_all()
    assert db.get(User, user.id).password_hash.startswith("$argon2id$")


def test_reset_link_expires_after_two_hours(client, app, applicant, db, monkeypatch):
    user = applicant()
    three_hours_ago = int(time.time()) - 3 * 3600
    with app.test_request_context(), monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: three_hours_ago)
        old_token = make_reset_token(user)
    with app.test_request_context():
        fresh_token = make_reset_token(user)
    assert client.get(f"/password/reset/{old_token}").status_code == 400
    assert client.get(f"/password/reset/{fresh_token}").status_code == 200


def test_garbled_reset_token_gets_a_japanese_page(client, db):
    response = client.get("/password/reset/nonsense")
    assert response.status_code == 400
    assert "リンクが無効です" in response.text


# --- throttling ---------------------------------------------------------------------

def test_five_failures_throttle_that_address_but_not_the_real_user(client, app, applicant, db):
    user = applicant()
    attacker = "203.0.113.7"
    for _ in range(5):
        assert post_login(client, user.email, "guess-password-1", ip=attacker).status_code == 401
    blocked = post_login(client, user.email, Factory.PASSWORD, ip=attacker)
    assert blocked.status_code == 429
    assert "ログインの失敗が続いたため" in blocked.text
    assert blocked.headers["Retry-After"] == str(app.config["LOGIN_FAILURE_WINDOW_SECONDS"])

    # The real user, from elsewhere, is not locked out.
    real = app.test_client()
    response = post_login(real, user.email, Factory.PASSWORD, ip="198.51.100.20")
    assert response.status_code == 302
    assert logged_in(real)


def test_throttle_lifts_after_the_window(client, app, applicant, db):
    user = applicant()
    for _ in range(5):
        post_login(client, user.email, "guess-password-1", ip="203.0.113.8")
    assert post_login(client, user.email, Factory.PASSWORD, ip="203.0.113.8").status_code == 429
    window = app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    for counter in db.scalars(select(LoginThrottle)):
        counter.window_started_at -= timedelta(seconds=window + 1)
    db.commit()
    assert post_login(client, user.email, Factory.PASSWORD, ip="203.0.113.8").status_code == 302


def test_per_address_cap_across_accounts(client, app, applicant, db):
    user = applicant()
    sprayer = "203.0.113.9"
    cap = app.config["LOGIN_FAILURES_PER_IP"]
    for n in range(cap):
        # A different account each time: the per-account limit never trips.
        assert post_login(client, f"victim{n}@example.jp", "guess-password-1", ip=sprayer).status_code == 401
    blocked = post_login(client, user.email, Factory.PASSWORD, ip=sprayer)
    assert blocked.status_code == 429
    assert "ログインの失敗が続いたため" in blocked.text
    assert post_login(app.test_client(), user.email, Factory.PASSWORD, ip="198.51.100.21").status_code == 302


def test_right_passwords_give_the_address_its_attempt_back(app, applicant, db):
    """Each attempt is counted before the check; a right one is given back,
    so an office behind one address is not locked out by its own logins."""
    user = applicant()
    office = "203.0.113.10"
    for _ in range(app.config["LOGIN_FAILURES_PER_IP"] + 5):
        assert post_login(app.test_client(), user.email, Factory.PASSWORD, ip=office).status_code == 302
    counters = {c.account_key: c.attempts for c in db.scalars(select(LoginThrottle)
                                                               .where(LoginThrottle.ip_address == office))}
    assert counters == {user.email: 0, "": 0}
