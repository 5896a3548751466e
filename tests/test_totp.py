"""The second factor for staff and reviewers: RFC vectors, the login flow
with its pending state, enrolment, replay, throttling and recovery codes."""
from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest
from sqlalchemy import func, select

from config import DevelopmentConfig, ProductionConfig, TestingConfig
from portal.auth import recovery, second_factor, totp
from portal.domain.timeutil import now_utc
from portal.models import LoginSession, LoginThrottle, RecoveryCode, User

from .conftest import csrf_token_from
from .factories import Factory
from .test_auth import post_login

# --- the algorithm --------------------------------------------------------------

RFC4226_KEY = b"12345678901234567890"
RFC4226_HOTP = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]


@pytest.mark.parametrize("counter,expected", list(enumerate(RFC4226_HOTP)))
def test_hotp_matches_rfc4226_appendix_d(counter, expected):
    assert totp.hotp(RFC4226_KEY, counter) == expected


# RFC 6238 appendix B: (time, TOTP for SHA1, SHA256, SHA512), 8 digits.
RFC6238_VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SEEDS = {
    hashlib.sha1: b"12345678901234567890",
    hashlib.sha256: b"12345678901234567890123456789012",
    hashlib.sha512: b"1234567890123456789012345678901234567890123456789012345678901234",
}


@pytest.mark.parametrize("moment,sha1,sha256,sha512", RFC6238_VECTORS)
def test_totp_matches_rfc6238_appendix_b(moment, sha1, sha256, sha512):
    step = totp.step_at(moment)
    assert totp.hotp(SEEDS[hashlib.sha1], step, digits=8) == sha1
    assert totp.hotp(SEEDS[hashlib.sha256], step, digits=8, digest=hashlib.sha256) == sha256
    assert totp.hotp(SEEDS[hashlib.sha512], step, digits=8, digest=hashlib.sha512) == sha512
    # The portal's own path: a base32 secret, 6 digits (the last six of the RFC's eight).
    secret = base64.b32encode(SEEDS[hashlib.sha1]).decode()
    assert totp.code_at(secret, moment) == sha1[-6:]


def test_matching_step_accepts_one_step_of_drift_and_never_an_old_step():
    secret = totp.new_secret()
    now = 1_700_000_000.0
    step = totp.step_at(now)
    for offset in (-1, 0, 1):
        code = totp.hotp(totp._key(secret), step + offset)
        assert totp.matching_step(secret, code, now, None) == step + offset
    assert totp.matching_step(secret, totp.hotp(totp._key(secret), step + 2), now, None) is None
    assert totp.matching_step(secret, totp.hotp(totp._key(secret), step - 2), now, None) is None
    code = totp.code_at(secret, now)
    assert totp.matching_step(secret, code, now, step) is None, "the same step twice"
    assert totp.matching_step(secret, code, now, step - 1) == step
    # What people type from a phone: 全角 digits, a space in the middle.
    spaced = "".join(chr(ord(c) + 0xFEE0) for c in code[:3]) + " " + code[3:]
    assert totp.matching_step(secret, spaced, now, None) == step
    for bad in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦", None):
        assert totp.matching_step(secret, bad, now, None) is None


def test_provisioning_uri_names_the_account_and_the_standard_parameters():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "staff@city.example.jp", "みなと市 協働事業ポータル")
    assert uri.startswith("otpauth://totp/")
    assert "secret=JBSWY3DPEHPK3PXP" in uri and "digits=6" in uri and "period=30" in uri
    assert "algorithm=SHA1" in uri and "staff@city.example.jp" in uri
    assert " " not in uri


def test_new_secrets_are_160_bits_and_differ():
    a, b = totp.new_secret(), totp.new_secret()
    assert a != b and len(base64.b32decode(a + "=" * (-len(a) % 8))) == 20


def test_waiver_is_honoured_only_where_the_config_allows():
    assert ProductionConfig.ALLOW_SECOND_FACTOR_WAIVER is False
    assert DevelopmentConfig.ALLOW_SECOND_FACTOR_WAIVER is True
    assert TestingConfig.ALLOW_SECOND_FACTOR_WAIVER is True


# --- helpers for the flow --------------------------------------------------------

@pytest.fixture()
def member(seed, db):
    """member(role='staff', enrolled=True) -> a detached User whose second
    factor is not waived; ``.secret`` holds the TOTP secret when enrolled."""

    def make(role="staff", enrolled=True, waived=False, codes=False):
        with seed() as f:
            user = f.staff() if role == "staff" else f.reviewer()
            user.second_factor_waived = waived
            if enrolled:
                user.totp_secret = totp.new_secret()
                user.totp_confirmed_at = now_utc()
            plain = recovery.regenerate(db, user) if codes else []
            db.commit()
        user.recovery_plain = plain
        return user

    return make


def code_for(user, offset_steps=0) -> str:
    return totp.code_at(user.totp_secret, time.time() + offset_steps * totp.STEP_SECONDS)


def post_code(client, code, path="/login/code"):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token_from(page.text), "code": code})


def sessions_of(db, user) -> int:
    return db.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id))


def secret_on_page(html: str) -> str:
    match = re.search(r'<p class="totp-secret">.*?<code>([A-Z2-7 ]+)</code>', html, re.S)
    assert match, "no secret on the enrolment page"
    return match.group(1).replace(" ", "")


def enrol_through_pages(client, expect_path="/login/enrol"):
    """From the enrolment page to a login: returns (secret, recovery codes page)."""
    page = client.get(expect_path)
    assert page.status_code == 200 and "二段階認証の登録" in page.text
    secret = secret_on_page(page.text)
    done = client.post(expect_path, data={"csrf_token": csrf_token_from(page.text),
                                          "code": totp.code_at(secret, time.time())})
    assert done.status_code == 200, done.text[:500]
    return secret, done


# --- login flow --------------------------------------------------------------------

def test_home_for_each_role(client, seed, member, db):
    with seed() as f:
        applicant = f.applicant()
    assert post_login(client, applicant.email, Factory.PASSWORD).headers["Location"] == "/mypage"
    staff = member("staff", waived=True)
    assert post_login(client.application.test_client(), staff.email, Factory.PASSWORD).headers["Location"] == "/admin/"
    reviewer = member("reviewer", waived=True)
    assert post_login(client.application.test_client(), reviewer.email,
                      Factory.PASSWORD).headers["Location"] == "/review/"


def test_staff_with_a_correct_password_but_no_code_cannot_reach_admin(client, member, db):
    staff = member("staff")
    response = post_login(client, staff.email, Factory.PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin.headers["Location"].startswith("/login")
    assert client.get("/admin/users").status_code == 302
    assert sessions_of(db, staff) == 0, "no login session before the second factor"
    # With the code, the same browser gets in.
    done = post_code(client, code_for(staff))
    assert done.status_code == 302 and done.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert sessions_of(db, staff) == 1


def test_next_path_survives_the_code_step(client, member, db):
    staff = member("staff")
    post_login(client, staff.email, Factory.PASSWORD, next_="/admin/users")
    assert post_code(client, code_for(staff)).headers["Location"] == "/admin/users"


def test_pending_state_cannot_be_used_for_another_account(client, member, db):
    alice, bob = member("staff"), member("staff")
    post_login(client, alice.email, Factory.PASSWORD)
    # Bob's valid code, typed into Alice's pending login: refused, nobody logged in.
    response = post_code(client, code_for(bob))
    assert response.status_code == 401
    assert "確認コードが正しくありません" in response.text
    assert sessions_of(db, alice) == sessions_of(db, bob) == 0
    assert client.get("/admin/").status_code == 302
    # A pending note naming a user id without the matching password stamp is void.
    with client.session_transaction() as sess:
        sess["pending_login"] = dict(sess["pending_login"], uid=bob.id)
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert sessions_of(db, bob) == 0


def test_pending_state_expires_after_five_minutes(client, member, db):
    staff = member("staff")
    post_login(client, staff.email, Factory.PASSWORD)
    with client.session_transaction() as sess:
        sess["pending_login"] = dict(sess["pending_login"], exp=int(time.time()) - 1)
    response = client.post("/login/code", data={"csrf_token": csrf_token_from(client.get("/login").text),
                                                "code": code_for(staff)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    follow = client.get("/login")
    assert "5分" in follow.text
    assert sessions_of(db, staff) == 0


def test_a_password_change_spoils_the_pending_state(client, member, db):
    staff = member("staff")
    post_login(client, staff.email, Factory.PASSWORD)
    user = db.get(User, staff.id)
    user.password_changed_at = now_utc()
    db.commit()
    assert client.get("/login/code").headers["Location"] == "/login"


def test_a_replayed_code_is_refused(client, app, member, db):
    staff = member("staff")
    code = code_for(staff)
    post_login(client, staff.email, Factory.PASSWORD)
    assert post_code(client, code).status_code == 302

    other = app.test_client()
    post_login(other, staff.email, Factory.PASSWORD)
    replay = post_code(other, code)
    assert replay.status_code == 401
    assert other.get("/admin/").status_code == 302
    # The next step's code (what the app shows 30 s later) is accepted.
    next_step = totp.step_at(time.time()) + 1
    assert post_code(other, totp.hotp(totp._key(staff.totp_secret), next_step)).status_code == 302
    db.expire_all()
    assert db.get(User, staff.id).totp_last_step == next_step
    # ... and from then on, the code of the step before it is refused too.
    third = app.test_client()
    post_login(third, staff.email, Factory.PASSWORD)
    assert post_code(third, totp.hotp(totp._key(staff.totp_secret), next_step - 1)).status_code == 401


def test_wrong_codes_are_throttled_and_a_new_password_step_does_not_reset_them(client, app, member, db):
    staff = member("staff")
    post_login(client, staff.email, Factory.PASSWORD)
    for _ in range(app.config["LOGIN_FAILURES_PER_ACCOUNT_AND_IP"]):
        assert post_code(client, "000000" if code_for(staff) != "000000" else "111111").status_code == 401
    blocked = post_code(client, code_for(staff))
    assert blocked.status_code == 429
    assert "確認コードの誤りが続いたため" in blocked.text
    assert blocked.headers["Retry-After"]
    # Logging in with the password again clears password failures only.
    assert post_login(client, staff.email, Factory.PASSWORD).headers["Location"] == "/login/code"
    assert post_code(client, code_for(staff)).status_code == 429
    assert sessions_of(db, staff) == 0
    # Another address is not locked out (only account + address is throttled).
    elsewhere = app.test_client()
    post_login(elsewhere, staff.email, Factory.PASSWORD, ip="192.0.2.7")
    page = elsewhere.get("/login/code", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    ok = elsewhere.post("/login/code", data={"csrf_token": csrf_token_from(page.text), "code": code_for(staff)},
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert ok.status_code == 302
    # The failures are kept under a key of their own, not the e-mail address.
    keys = set(db.scalars(select(LoginThrottle.account_key).where(LoginThrottle.attempts > 0)))
    assert second_factor.failure_key(db.get(User, staff.id)) in keys


def test_the_waiver_is_ignored_when_the_config_forbids_it(client, app, member, db, monkeypatch):
    staff = member("staff", enrolled=False, waived=True)
    # Control: with the waiver allowed (tests, demo), the password is enough.
    allowed = app.test_client()
    assert post_login(allowed, staff.email, Factory.PASSWORD).headers["Location"] == "/admin/"
    monkeypatch.setitem(app.config, "ALLOW_SECOND_FACTOR_WAIVER", False)
    response = post_login(client, staff.email, Factory.PASSWORD)
    assert response.headers["Location"] == "/login/enrol"
    assert client.get("/admin/").status_code == 302


def test_applicants_log_in_without_a_second_factor(client, seed, db):
    with seed() as f:
        applicant = f.applicant()
    assert post_login(client, applicant.email, Factory.PASSWORD).headers["Location"] == "/mypage"
    assert client.get("/login/code").headers["Location"] == "/mypage"


# --- enrolment -------------------------------------------------------------------

def test_first_login_enrols_with_a_qr_code_and_shows_recovery_codes_once(client, app, member, db):
    reviewer = member("reviewer", enrolled=False)
    response = post_login(client, reviewer.email, Factory.PASSWORD)
    assert response.headers["Location"] == "/login/enrol"
    page = client.get("/login/enrol")
    secret = secret_on_page(page.text)
    assert '<img class="totp-qr" src="/login/enrol/qr.svg"' in page.text
    assert "<script>" not in page.text and 'style="' not in page.text
    qr = client.get("/login/enrol/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.data.startswith(b"<svg") and b"<script" not in qr.data
    # The secret stays the same on reload (the phone already scanned it).
    assert secret_on_page(client.get("/login/enrol").text) == secret

    wrong = client.post("/login/enrol", data={"csrf_token": csrf_token_from(page.text), "code": "12345"})
    assert wrong.status_code == 401 and "確認コードが正しくありません" in wrong.text
    db.expire_all()
    assert db.get(User, reviewer.id).totp_secret is None, "nothing is saved before a valid code"

    done = client.post("/login/enrol", data={"csrf_token": csrf_token_from(page.text),
                                             "code": totp.code_at(secret, time.time())})
    assert done.status_code == 200
    shown = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    assert len(shown) == 10 and len(set(shown)) == 10
    db.expire_all()
    user = db.get(User, reviewer.id)
    assert user.totp_secret == secret and user.totp_confirmed_at is not None
    stored = db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert sorted(stored) == sorted(recovery.hash_code(c) for c in shown)
    assert not any(c.replace("-", "") in h for c in shown for h in stored)
    assert client.get("/review/").status_code == 200
    # The codes are not shown again anywhere.
    security = client.get("/account/security")
    assert security.status_code == 200 and shown[0] not in security.text and "10個" in security.text


def test_an_enrolled_account_never_re_enrols_on_a_password_alone(client, member, db):
    staff = member("staff")
    post_login(client, staff.email, Factory.PASSWORD)
    assert client.get("/login/enrol").headers["Location"] == "/login/code"
    assert client.get("/login/enrol/qr.svg").status_code == 404
    evil_secret = totp.new_secret()
    response = client.post("/login/enrol", data={"csrf_token": csrf_token_from(client.get("/login").text),
                                                 "code": totp.code_at(evil_secret, time.time())})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, staff.id).totp_secret == staff.totp_secret


def test_enrolment_pages_without_a_pending_login_send_to_the_login_page(client, db):
    for path in ("/login/code", "/login/enrol"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/login/enrol/qr.svg").status_code == 404


# --- recovery codes -------------------------------------------------------------

def test_a_recovery_code_works_once(client, app, member, db):
    staff = member("staff", codes=True)
    code = staff.recovery_plain[3]
    post_login(client, staff.email, Factory.PASSWORD)
    used = post_code(client, code.upper().replace("-", " "))
    assert used.status_code == 302 and used.headers["Location"] == "/admin/"
    assert "残り9個" in client.get("/admin/").text

    again = app.test_client()
    post_login(again, staff.email, Factory.PASSWORD)
    refused = post_code(again, code)
    assert refused.status_code == 401 and "回復用コードが正しくありません" in refused.text
    assert again.get("/admin/").status_code == 302
    # Another unused code still works.
    assert post_code(again, staff.recovery_plain[4]).status_code == 302


def test_regenerating_recovery_codes_needs_the_password_and_voids_the_old_ones(client, app, member, db):
    staff = member("staff", codes=True)
    post_login(client, staff.email, Factory.PASSWORD)
    post_code(client, code_for(staff))
    page = client.get("/account/security")
    wrong = client.post("/account/security", data={"csrf_token": csrf_token_from(page.text), "password": "nope-nope-1"})
    assert wrong.status_code == 401 and "パスワードが正しくありません" in wrong.text
    fresh = client.post("/account/security", data={"csrf_token": csrf_token_from(page.text),
                                                   "password": Factory.PASSWORD})
    assert fresh.status_code == 200
    new_codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", fresh.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(staff.recovery_plain)

    other = app.test_client()
    post_login(other, staff.email, Factory.PASSWORD)
    assert post_code(other, staff.recovery_plain[0]).status_code == 401
    assert post_code(other, new_codes[0]).status_code == 302


def test_account_security_is_for_staff_and_reviewers_only(client, seed, db, login):
    with seed() as f:
        applicant = f.applicant()
    login(applicant)
    assert client.get("/account/security").status_code == 404


@pytest.mark.parametrize("code", ["", " ", "x" * 41, "１２３４５６", "<script>", "abcde-fghjk", "0" * 40, "\x00"])
def test_odd_codes_never_give_a_500(client, member, db, code):
    staff = member("staff")
    post_login(client, staff.email, Factory.PASSWORD)
    response = post_code(client, code)
    assert response.status_code in (401, 422)
    assert sessions_of(db, staff) == 0


def test_forged_pending_cookie_values_never_give_a_500(client, member, db):
    staff = member("staff")
    post_login(client, staff.email, Factory.PASSWORD)
    for forged in ({"uid": "1"}, {"uid": 2**40, "exp": 2**40}, "text", None, {"uid": staff.id, "exp": "soon"}):
        with client.session_transaction() as sess:
            sess["pending_login"] = forged
        for path in ("/login/code", "/login/enrol", "/login/enrol/qr.svg"):
            assert client.get(path).status_code in (302, 404)
