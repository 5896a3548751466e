"""Inviting staff and reviewers from /admin/users: the mail, the one-time
link, the password, enrolment at first login, revocation and deactivation."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth import invitations, totp
from portal.domain.timeutil import now_utc
from portal.models import Invitation, LoginSession, OutboxMessage, PanelMember, Role, User

from .conftest import csrf_token_from
from .factories import Factory
from .test_auth import field_error, post_login
from .test_totp import enrol_through_pages

NEW_PASSWORD = "shinsa-iin-2026"


@pytest.fixture()
def staff_client(app, seed, db):
    """A test client logged in as a staff member (second factor waived, as in tests)."""
    with seed() as f:
        staff = f.staff()
    client = app.test_client()
    assert post_login(client, staff.email, Factory.PASSWORD).headers["Location"] == "/admin/"
    client.user = staff
    return client


@pytest.fixture()
def a_call(seed):
    with seed() as f:
        return f.call(title="令和8年度 みなと市協働モデル事業")


def invite(client, **fields):
    page = client.get("/admin/users")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token_from(page.text), "role": "reviewer", "display_name": "審査 一郎",
            "email": "ichiro@univ.example.jp", "call_id": "", "affiliations": ""}
    data.update(fields)
    return client.post("/admin/users/invite", data={k: v for k, v in data.items() if v is not None})


def invitation_path(db, email: str) -> str:
    mail = db.scalar(select(OutboxMessage).where(OutboxMessage.recipient == email).order_by(OutboxMessage.id.desc()))
    assert mail is not None, f"no mail to {email}"
    match = re.search(r"http://localhost(/invite/\S+)", mail.body)
    assert match, mail.body
    return match.group(1)


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    return client.post(path, data={"csrf_token": csrf_token_from(page.text), "password": password,
                                   "password_confirm": confirm if confirm is not None else password})


def test_invitation_end_to_end_for_a_reviewer_on_a_call(app, staff_client, a_call, db):
    response = invite(staff_client, call_id=str(a_call.id),
                      affiliations="みなと大学\n\nNPO法人みなと子ども食堂（理事）\nみなと大学\n")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    listing = staff_client.get("/admin/users").text
    assert "ichiro@univ.example.jp" in listing and "未承諾の招待" in listing

    mail = db.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "ichiro@univ.example.jp"))
    assert "招待" in mail.subject and "審査委員" in mail.subject
    assert "令和8年度 みなと市協働モデル事業" in mail.body and "7日間" in mail.body
    path = invitation_path(db, "ichiro@univ.example.jp")
    token = path.rsplit("/", 1)[1]
    stored = db.scalar(select(Invitation).where(Invitation.email == "ichiro@univ.example.jp"))
    assert stored.token_hash == invitations.hash_token(token) and token not in stored.token_hash
    assert stored.affiliations == ["みなと大学", "NPO法人みなと子ども食堂（理事）"]
    assert stored.expires_at - stored.created_at == timedelta(days=7)

    browser = app.test_client()
    page = browser.get(path)
    assert "審査 一郎" in page.text and "審査委員" in page.text
    weak = set_password(browser, path, "1234567890")
    assert weak.status_code == 422
    assert "推測されやすいパスワード" in field_error(weak.text, "password")
    assert db.scalar(select(User).where(User.email == "ichiro@univ.example.jp")) is None

    done = set_password(browser, path)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    user = db.scalar(select(User).where(User.email == "ichiro@univ.example.jp"))
    assert user.role == Role.REVIEWER and user.display_name == "審査 一郎"
    assert not user.second_factor_waived and user.totp_secret is None
    member = db.scalar(select(PanelMember).where(PanelMember.user_id == user.id))
    assert member is not None and member.call_id == a_call.id
    assert member.affiliations == ["みなと大学", "NPO法人みなと子ども食堂（理事）"]

    # First login: password, then enrolment, then the reviewer's home.
    login = post_login(browser, "ichiro@univ.example.jp", NEW_PASSWORD)
    assert login.headers["Location"] == "/login/enrol"
    assert browser.get("/review/").status_code == 302
    secret, codes_page = enrol_through_pages(browser)
    assert "回復用コード" in codes_page.text
    assert browser.get("/review/").status_code == 200

    # Second login: password, then a code.
    later = app.test_client()
    assert post_login(later, "ichiro@univ.example.jp", NEW_PASSWORD).headers["Location"] == "/login/code"
    page = later.get("/login/code")
    next_code = totp.hotp(totp._key(secret), totp.step_at(time.time()) + 1)
    assert later.post("/login/code", data={"csrf_token": csrf_token_from(page.text),
                                           "code": next_code}).headers["Location"] == "/review/"

    # The link is spent.
    again = app.test_client().get(path)
    assert again.status_code == 410 and "すでに使われています" in again.text
    assert "ichiro@univ.example.jp" not in staff_client.get("/admin/users").text.split("未承諾の招待")[1]


def test_staff_invitation_makes_a_staff_account(app, staff_client, db):
    assert invite(staff_client, role="staff", email="kyodo2@city.example.jp", display_name="協働 二郎").status_code == 302
    browser = app.test_client()
    set_password(browser, invitation_path(db, "kyodo2@city.example.jp"))
    user = db.scalar(select(User).where(User.email == "kyodo2@city.example.jp"))
    assert user.role == Role.STAFF
    assert post_login(browser, user.email, NEW_PASSWORD).headers["Location"] == "/login/enrol"
    enrol_through_pages(browser)
    assert browser.get("/admin/").status_code == 200


def test_inviting_an_existing_account_is_refused(staff_client, seed, db):
    with seed() as f:
        taken = f.reviewer(email="taken@example.jp")
    response = invite(staff_client, email="Taken@Example.jp")
    assert response.status_code == 422
    assert "このメールアドレスのアカウントはすでにあります" in field_error(response.text, "email")
    assert 'value="Taken@Example.jp"' in response.text or 'value="taken@example.jp"' in response.text
    assert db.scalar(select(OutboxMessage).where(OutboxMessage.recipient == taken.email)) is None
    assert db.scalar(select(Invitation).where(Invitation.email == taken.email)) is None


def test_a_call_or_affiliations_only_for_reviewers(staff_client, a_call, db):
    response = invite(staff_client, role="staff", call_id=str(a_call.id), affiliations="みなと大学")
    assert response.status_code == 422
    assert "審査委員の招待だけ" in field_error(response.text, "call_id")
    assert "審査委員の招待だけ" in field_error(response.text, "affiliations")
    assert db.scalar(select(Invitation)) is None


@pytest.mark.parametrize("fields", [
    {"role": "admin"},
    {"role": None},
    {"call_id": "abc"},
    {"call_id": "99999999999999999999"},
    {"call_id": "424242"},
    {"email": "not-an-address"},
    {"email": ""},
    {"display_name": "名" * 101},
    {"display_name": ""},
    {"affiliations": "\n".join(f"団体{i}" for i in range(30))},
    {"affiliations": "あ" * 201},
])
def test_bad_invitation_input_gets_messages_not_a_500(staff_client, db, fields):
    response = invite(staff_client, **fields)
    assert response.status_code == 422
    assert "入力内容を確認してください" in response.text or "一覧から選んでください" in response.text
    assert db.scalar(select(Invitation)) is None


def test_a_new_invitation_replaces_the_pending_one(app, staff_client, db):
    invite(staff_client)
    first = invitation_path(db, "ichiro@univ.example.jp")
    invite(staff_client)
    second = invitation_path(db, "ichiro@univ.example.jp")
    assert first != second
    browser = app.test_client()
    assert browser.get(first).status_code == 410
    assert browser.get(second).status_code == 200


def test_revoked_expired_and_unknown_links_get_japanese_pages(app, staff_client, db):
    invite(staff_client)
    path = invitation_path(db, "ichiro@univ.example.jp")
    invitation = db.scalar(select(Invitation).where(Invitation.email == "ichiro@univ.example.jp"))
    page = staff_client.get("/admin/users")
    revoked = staff_client.post(f"/admin/users/invitations/{invitation.id}/revoke",
                                data={"csrf_token": csrf_token_from(page.text)})
    assert revoked.status_code == 302
    browser = app.test_client()
    response = browser.get(path)
    assert response.status_code == 410 and "取り消されています" in response.text
    posted = browser.post(path, data={"csrf_token": csrf_token_from(browser.get("/login").text),
                                      "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert posted.status_code == 410
    assert db.scalar(select(User).where(User.email == "ichiro@univ.example.jp")) is None

    invite(staff_client, email="late@example.jp")
    late = invitation_path(db, "late@example.jp")
    record = db.scalar(select(Invitation).where(Invitation.email == "late@example.jp"))
    record.created_at -= timedelta(days=8)
    record.expires_at -= timedelta(days=8)
    db.commit()
    expired = browser.get(late)
    assert expired.status_code == 410 and "有効期限（7日間）が切れています" in expired.text

    for token in ("nonsense", "x" * 500, "%E3%81%82", "%ED%A0%80"):
        unknown = browser.get(f"/invite/{token}")
        assert unknown.status_code == 404 and "招待リンクが正しくありません" in unknown.text
    assert browser.get("/invite/..%2F..%2Fadmin").status_code == 404


def test_deactivating_an_account_ends_its_logins(app, staff_client, seed, db):
    with seed() as f:
        reviewer = f.reviewer()
    theirs = app.test_client()
    post_login(theirs, reviewer.email, Factory.PASSWORD)
    assert theirs.get("/review/").status_code == 200

    page = staff_client.get("/admin/users")
    assert reviewer.email in page.text
    response = staff_client.post(f"/admin/users/{reviewer.id}/deactivate",
                                 data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 302
    assert theirs.get("/review/").status_code == 302
    assert db.scalars(select(LoginSession.revoked_at).where(LoginSession.user_id == reviewer.id)).all()
    assert all(db.scalars(select(LoginSession.revoked_at).where(LoginSession.user_id == reviewer.id)))
    assert post_login(app.test_client(), reviewer.email, Factory.PASSWORD).status_code == 401
    assert "停止中" in staff_client.get("/admin/users").text


def test_staff_cannot_deactivate_themselves_and_actions_need_csrf(staff_client, seed, db):
    page = staff_client.get("/admin/users")
    me = staff_client.post(f"/admin/users/{staff_client.user.id}/deactivate",
                           data={"csrf_token": csrf_token_from(page.text)})
    assert me.status_code == 409 and "自分のアカウントは停止できません" in me.text
    with seed() as f:
        reviewer = f.reviewer()
    no_token = staff_client.post(f"/admin/users/{reviewer.id}/deactivate")
    assert no_token.status_code == 400
    assert db.get(User, reviewer.id).is_active_account
    with seed() as f:
        applicant = f.applicant()
    assert staff_client.post(f"/admin/users/{applicant.id}/deactivate",
                             data={"csrf_token": csrf_token_from(page.text)}).status_code == 404
    assert staff_client.post("/admin/users/99999999999/deactivate",
                             data={"csrf_token": csrf_token_from(page.text)}).status_code == 404


def test_reset_second_factor_makes_the_member_enrol_again(app, staff_client, seed, db):
    with seed() as f:
        reviewer = f.reviewer()
        reviewer.second_factor_waived = False
        reviewer.totp_secret = totp.new_secret()
        reviewer.totp_confirmed_at = now_utc()
        db.commit()
    page = staff_client.get("/admin/users")
    assert staff_client.post(f"/admin/users/{reviewer.id}/reset-second-factor",
                             data={"csrf_token": csrf_token_from(page.text)}).status_code == 302
    browser = app.test_client()
    assert post_login(browser, reviewer.email, Factory.PASSWORD).headers["Location"] == "/login/enrol"


def test_only_staff_reach_the_users_page(app, seed, db):
    with seed() as f:
        reviewer = f.reviewer()
        applicant = f.applicant()
    assert app.test_client().get("/admin/users").status_code == 302
    for user in (reviewer, applicant):
        client = app.test_client()
        post_login(client, user.email, Factory.PASSWORD)
        assert client.get("/admin/users").status_code == 403


def test_invitation_verbs_without_flask(db, seed):
    """The domain verbs on their own: state, acceptance, refusal of a second use."""
    with seed() as f:
        call = f.call()
    now = now_utc()
    invitation, token = invitations.invite(db, email="solo@example.jp", role=Role.REVIEWER,
                                           display_name="単独 委員", now=now, call=call, affiliations=["A会", " "])
    assert invitations.find(db, token) is invitation
    assert invitations.state_of(invitation, now) == invitations.InvitationState.PENDING
    assert invitations.state_of(invitation, now + timedelta(days=8)) == invitations.InvitationState.EXPIRED
    user = invitations.accept(db, invitation, password_hash="x", now=now)
    assert invitations.state_of(invitation, now) == invitations.InvitationState.ACCEPTED
    assert db.scalar(select(PanelMember.affiliations).where(PanelMember.user_id == user.id)) == ["A会"]
    with pytest.raises(invitations.AccountError):
        invitations.accept(db, invitation, password_hash="x", now=now)
    with pytest.raises(invitations.AccountError):
        invitations.invite(db, email="solo@example.jp", role=Role.STAFF, display_name="", now=now)
    db.rollback()
