"""The login throttle under concurrency, against the real database (own
connections, real commits, one test client per attacker thread): a burst of
attempts from one address gets no more password or code checks than the
limit allows, and a correct password or code sent while the limit is taken
up by attempts still being checked is refused, not checked."""
from __future__ import annotations

import threading
import time

import argon2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from portal.auth import second_factor, totp
from portal.domain.timeutil import now_utc
from portal.models import LoginSession

from .conftest import csrf_token_from
from .factories import Factory

ATTACKER = "203.0.113.50"
ELSEWHERE = "198.51.100.60"
BURST = 20


@pytest.fixture()
def committed(isolated_app):
    return isolated_app, sessionmaker(bind=isolated_app.extensions["engine"], expire_on_commit=False)


class Checks:
    """Counts the calls of a checking function; ``hold`` keeps each call
    waiting (the work of argon2 stretched out) until ``release`` or a timeout,
    so every attempt that got through the throttle is in flight at once."""

    def __init__(self, original, hold=False, delay=0.0):
        self.original, self.hold, self.delay = original, hold, delay
        self.count = 0
        self.lock = threading.Lock()
        self.released = threading.Event()

    def wrap(self):
        checks = self

        def counted(*args, **kwargs):
            with checks.lock:
                checks.count += 1
            if checks.hold:
                checks.released.wait(10)
            elif checks.delay:
                time.sleep(checks.delay)
            return checks.original(*args, **kwargs)

        return counted

    def wait_for(self, count, seconds=15):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if self.count >= count:
                    return True
            time.sleep(0.01)
        return False


def make_user(app, Session, kind="applicant"):
    with app.app_context(), Session() as session:
        factory = Factory(session, app)
        if kind == "applicant":
            user = factory.applicant()
        else:
            user = factory.staff()
            user.second_factor_waived = False
            user.totp_secret = totp.new_secret()
            user.totp_confirmed_at = now_utc()
            session.commit()
        return user.id, user.email, user.totp_secret


def login_form(client, ip=ATTACKER, path="/login"):
    page = client.get(path, environ_base={"REMOTE_ADDR": ip})
    assert page.status_code == 200, page.status_code
    return csrf_token_from(page.text)


def post(client, path, data, ip=ATTACKER):
    return client.post(path, data=data, environ_base={"REMOTE_ADDR": ip})


def run_at_once(targets):
    """Start every target at the same moment; their results in order."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)
    errors: list = []

    def run(index, target):
        barrier.wait()
        try:
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    return threads, results, errors


def join(threads):
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)


def logins_of(Session, user_id) -> int:
    with Session() as session:
        return session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user_id))


def test_a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(committed, monkeypatch):
    app, Session = committed
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT_AND_IP"]
    user_id, email, _ = make_user(app, Session)
    clients = [app.test_client() for _ in range(BURST)]
    tokens = [login_form(c) for c in clients]
    # argon2 stretched out, as with the production cost (about 1.7 s).
    checks = Checks(argon2.PasswordHasher.verify, delay=0.3)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", checks.wrap())

    threads, responses, errors = run_at_once([
        lambda c=c, t=t: post(c, "/login", {"csrf_token": t, "email": email, "password": "wrong-guess-123"})
        for c, t in zip(clients, tokens)])
    join(threads)
    assert not errors, errors

    statuses = sorted(r.status_code for r in responses)
    assert checks.count <= limit
    assert statuses == [401] * checks.count + [429] * (BURST - checks.count), statuses
    assert checks.count == limit, "the throttle let fewer through than it allows"
    blocked = next(r for r in responses if r.status_code == 429)
    assert "ログインの失敗が続いたため" in blocked.text

    # Once the limit is reached, the right password from that address is refused unchecked ...
    late = app.test_client()
    answer = post(late, "/login", {"csrf_token": login_form(late), "email": email, "password": Factory.PASSWORD})
    assert answer.status_code == 429
    assert checks.count == limit
    # ... while the real user, elsewhere, logs in.
    real = app.test_client()
    answer = post(real, "/login", {"csrf_token": login_form(real, ELSEWHERE), "email": email,
                                   "password": Factory.PASSWORD}, ip=ELSEWHERE)
    assert answer.status_code == 302
    assert logins_of(Session, user_id) == 1


def test_a_right_password_sent_while_the_limit_is_in_flight_is_refused(committed, monkeypatch):
    """The five wrong guesses are still inside argon2 (nothing recorded as a
    failure yet, which is where the old count-then-check let the right
    password through): the right password is already refused."""
    app, Session = committed
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT_AND_IP"]
    user_id, email, _ = make_user(app, Session)
    clients = [app.test_client() for _ in range(BURST)]
    tokens = [login_form(c) for c in clients]
    right = app.test_client()
    right_token = login_form(right)
    checks = Checks(argon2.PasswordHasher.verify, hold=True)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", checks.wrap())

    threads, responses, errors = run_at_once([
        lambda c=c, t=t: post(c, "/login", {"csrf_token": t, "email": email, "password": "wrong-guess-123"})
        for c, t in zip(clients, tokens)])
    try:
        assert checks.wait_for(limit), f"only {checks.count} checks began"
        time.sleep(0.3)  # the rest of the burst has had its chance
        assert checks.count == limit
        answer = post(right, "/login", {"csrf_token": right_token, "email": email, "password": Factory.PASSWORD})
    finally:
        checks.released.set()
        join(threads)
    assert not errors, errors
    assert answer.status_code == 429, answer.status_code
    assert checks.count == limit
    assert sorted(r.status_code for r in responses) == [401] * limit + [429] * (BURST - limit)
    assert logins_of(Session, user_id) == 0


def test_a_burst_of_wrong_codes_gets_no_more_checks_than_the_limit(committed, monkeypatch):
    app, Session = committed
    limit = app.config["LOGIN_FAILURES_PER_ACCOUNT_AND_IP"]
    user_id, email, secret = make_user(app, Session, kind="staff")
    # Each attacker client has passed the password step (the password is known).
    clients, tokens = [], []
    for _ in range(BURST + 1):
        client = app.test_client()
        answer = post(client, "/login", {"csrf_token": login_form(client), "email": email,
                                         "password": Factory.PASSWORD})
        assert answer.headers["Location"] == "/login/code"
        clients.append(client)
        tokens.append(login_form(client, path="/login/code"))
    right, right_token = clients.pop(), tokens.pop()
    wrong = "000000" if totp.code_at(secret, time.time()) != "000000" else "111111"
    checks = Checks(second_factor.check_code, hold=True)
    monkeypatch.setattr(second_factor, "check_code", checks.wrap())

    threads, responses, errors = run_at_once([
        lambda c=c, t=t: post(c, "/login/code", {"csrf_token": t, "code": wrong})
        for c, t in zip(clients, tokens)])
    try:
        assert checks.wait_for(limit), f"only {checks.count} checks began"
        time.sleep(0.3)
        assert checks.count == limit
        # The right code, while the guesses are in flight.
        answer = post(right, "/login/code", {"csrf_token": right_token, "code": totp.code_at(secret, time.time())})
    finally:
        checks.released.set()
        join(threads)
    assert not errors, errors
    assert answer.status_code == 429
    assert "確認コードの誤りが続いたため" in answer.text
    assert checks.count == limit
    assert sorted(r.status_code for r in responses) == [401] * limit + [429] * (BURST - limit)
    assert logins_of(Session, user_id) == 0


def test_a_spray_over_many_accounts_gets_no_more_checks_than_the_address_allows(committed, monkeypatch):
    """One guess each at many addresses: the per-account limit never trips,
    the per-address one holds under concurrency too."""
    from portal.auth import routes

    app, Session = committed
    cap = app.config["LOGIN_FAILURES_PER_IP"]
    spray = cap + 10
    clients = [app.test_client() for _ in range(spray)]
    tokens = [login_form(c) for c in clients]
    checks = Checks(routes.verify_password, delay=0.2)
    monkeypatch.setattr(routes, "verify_password", checks.wrap())

    threads, responses, errors = run_at_once([
        lambda c=c, t=t, n=n: post(c, "/login", {"csrf_token": t, "email": f"victim{n}@example.jp",
                                                 "password": "wrong-guess-123"})
        for n, (c, t) in enumerate(zip(clients, tokens))])
    join(threads)
    assert not errors, errors
    assert checks.count == cap
    assert sorted(r.status_code for r in responses) == [401] * cap + [429] * (spray - cap)
