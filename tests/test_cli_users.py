"""``flask create-user``: accounts for the secretariat and reviewers from the
server's command line."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.auth import invitations
from portal.models import Invitation, Role, User

from .factories import Factory
from .test_auth import post_login
from .test_invitations import set_password

PASSWORD = "shiyakusho-kyodo-2026"


@pytest.fixture()
def run(app, db):
    runner = app.test_cli_runner()

    def invoke(*args, stdin=None):
        return runner.invoke(args=["create-user", *args], input=stdin)

    return invoke


def count_users(db, email):
    return db.scalar(select(func.count()).select_from(User).where(User.email == email))


def test_creates_a_staff_account_from_stdin(run, app, db):
    result = run("--role", "staff", "--email", " Kyodo@City.Example.JP ", "--name", "協働 花子",
                 "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "事務局のアカウントを作成しました: kyodo@city.example.jp（協働 花子）" in result.output
    assert "二段階認証" in result.output
    user = db.scalar(select(User).where(User.email == "kyodo@city.example.jp"))
    assert user.role == Role.STAFF and user.display_name == "協働 花子"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert not user.second_factor_waived and user.email_confirmed
    # The password works, and the second factor is asked for at once.
    client = app.test_client()
    assert post_login(client, user.email, PASSWORD).headers["Location"] == "/login/enrol"


@pytest.mark.parametrize("role,expected", [("admin", Role.STAFF), ("reviewer", Role.REVIEWER)])
def test_admin_is_an_alias_of_staff(run, db, role, expected):
    result = run("--role", role, "--email", f"{role}@example.jp", "--name", "名前", "--password-stdin",
                 stdin=PASSWORD)
    assert result.exit_code == 0, result.output
    assert db.scalar(select(User.role).where(User.email == f"{role}@example.jp")) == expected


def test_refuses_a_duplicate(run, seed, db):
    with seed() as f:
        existing = f.reviewer(email="dup@example.jp")
    result = run("--role", "staff", "--email", "DUP@example.jp", "--name", "重複", "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 1
    assert "dup@example.jp のアカウントはすでにあります" in result.output
    assert count_users(db, "dup@example.jp") == 1
    assert db.get(User, existing.id).role == Role.REVIEWER
    # Without a password too: no invitation for an existing account.
    result = run("--role", "staff", "--email", "dup@example.jp", "--name", "重複")
    assert result.exit_code == 1
    assert db.scalar(select(Invitation).where(Invitation.email == "dup@example.jp")) is None


@pytest.mark.parametrize("password,message", [
    ("short", "10文字以上"),
    ("1234567890", "推測されやすい"),
    ("aaaaaaaaaaaa", "推測されやすい"),
    ("", "10文字以上"),
    ("x" * 129, "128文字以内"),
])
def test_refuses_a_weak_password(run, db, password, message):
    result = run("--role", "reviewer", "--email", "weak@example.jp", "--name", "弱い", "--password-stdin",
                 stdin=password + "\n")
    assert result.exit_code == 1
    assert message in result.output and "作成しませんでした" in result.output
    assert count_users(db, "weak@example.jp") == 0


def test_without_a_password_prints_a_one_time_invitation_link(run, app, db):
    result = run("--role", "reviewer", "--email", "invitee@example.jp", "--name", "招待 太郎")
    assert result.exit_code == 0, result.output
    assert "審査委員の招待を作成しました" in result.output and "7日間有効" in result.output
    link = re.search(r"http://localhost(/invite/\S+)", result.output).group(1)
    assert count_users(db, "invitee@example.jp") == 0
    stored = db.scalar(select(Invitation).where(Invitation.email == "invitee@example.jp"))
    assert stored.token_hash == invitations.hash_token(link.rsplit("/", 1)[1])
    browser = app.test_client()
    assert set_password(browser, link).headers["Location"] == "/login"
    user = db.scalar(select(User).where(User.email == "invitee@example.jp"))
    assert user.role == Role.REVIEWER and user.display_name == "招待 太郎"
    assert post_login(app.test_client(), user.email, "shinsa-iin-2026").headers["Location"] == "/login/enrol"


def test_invitation_link_without_a_server_name_uses_the_public_address(run, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://kyodo.city.example.jp/")
    result = run("--role", "staff", "--email", "far@example.jp", "--name", "遠方")
    assert result.exit_code == 0, result.output
    assert re.search(r"^https://kyodo\.city\.example\.jp/invite/[\w-]{40,}$", result.output, re.M)


@pytest.mark.parametrize("args", [
    ("--role", "staff", "--email", "not-an-address", "--name", "名前"),
    ("--role", "staff", "--email", "a@example.jp", "--name", "  "),
    ("--role", "staff", "--email", "a@example.jp", "--name", "名" * 101),
])
def test_bad_input_exits_non_zero_with_a_message(run, db, args):
    result = run(*args, "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 1
    assert "エラー:" in result.output
    assert db.scalar(select(func.count()).select_from(User)
                     .where(User.email.in_(["a@example.jp", "not-an-address"]))) == 0


def test_unknown_role_is_a_usage_error(run, db):
    result = run("--role", "applicant", "--email", "x@example.jp", "--name", "x", "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 2
    assert count_users(db, "x@example.jp") == 0


def test_the_new_account_is_not_a_factory_password(run, db, app):
    """Control for the tests above: a wrong password does not log the new account in."""
    run("--role", "staff", "--email", "ctl@example.jp", "--name", "対照", "--password-stdin", stdin=PASSWORD)
    assert post_login(app.test_client(), "ctl@example.jp", Factory.PASSWORD).status_code == 401
