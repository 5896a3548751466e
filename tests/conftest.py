"""Fixtures: one database per test session (migrated with Alembic), a
rollback per test, data factories and a login helper.

TEST_DATABASE_URL chooses the backend: a SQLite file by default, or
PostgreSQL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test), where the
suite creates and drops a schema of its own.

TEST_OBJECT_STORE=s3 keeps the app's files in a real S3-compatible server
(moto's, on 127.0.0.1; tests/object_store.py) instead of the local disk.
"""
from __future__ import annotations

import os
import re
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.test import TestResponse

from portal import create_app
from portal import db as database
from portal.db import db_session
from portal.migrate import upgrade

from .factories import Factory
from .object_store import s3_server  # noqa: F401  (a fixture)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


class VisibleTextResponse(TestResponse):
    """A response whose text is what a reader sees of it: the pages put
    <wbr> (an invisible line-break opportunity) between Japanese phrases
    (portal/phrase_templates.py), so 「この<wbr>内容で<wbr>提出する」 reads as
    「この内容で提出する」. The bytes (``.data``) are left as served, for the
    tests of the markup itself (tests/test_phrase_breaks.py) and of sizes
    and hashes."""

    def get_data(self, as_text: bool = False):
        data = super().get_data(as_text=as_text)
        return data.replace("<wbr>", "") if as_text else data


class VisibleTextClient(FlaskClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.response_wrapper = type("VisibleTextWrapper", (VisibleTextResponse, self.response_wrapper), {})


Flask.test_client_class = VisibleTextClient
TEST_OBJECT_STORE = os.environ.get("TEST_OBJECT_STORE", "").lower()


def _postgres_url_with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL.startswith("postgresql"):
        from sqlalchemy import create_engine

        schema = f"portal_test_{uuid.uuid4().hex[:8]}"
        admin = create_engine(TEST_DATABASE_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield _postgres_url_with_schema(TEST_DATABASE_URL, schema)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory, request):
    upload_dir = tmp_path_factory.mktemp("uploads")
    application = create_app("testing", {"DATABASE_URL": database_url, "UPLOAD_DIR": Path(upload_dir),
                                         "SERVER_NAME": "localhost", **_object_store(request)})
    upgrade(application.extensions["engine"])
    return application


def _object_store(request) -> dict:
    """The app's object store settings: none (the local disk) unless TEST_OBJECT_STORE=s3."""
    return request.getfixturevalue("s3_server").overrides() if TEST_OBJECT_STORE == "s3" else {}


@pytest.fixture()
def isolated_app(app, tmp_path, request):
    """A testing app on a database of its own (a SQLite file, or a schema
    when the suite runs on PostgreSQL), for tests that commit for real from
    several connections: what they leave (a call whose process log cannot
    be deleted, mails in the outbox) must not reach the suite's database.
    create_app rebinds the shared session; the suite's binding is restored
    after."""
    from sqlalchemy import create_engine

    schema = admin = None
    if TEST_DATABASE_URL.startswith("postgresql"):
        schema = f"portal_isolated_{uuid.uuid4().hex[:8]}"
        admin = create_engine(TEST_DATABASE_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_url_with_schema(TEST_DATABASE_URL, schema)
    else:
        url = f"sqlite:///{tmp_path / 'isolated.sqlite3'}"
    isolated = create_app("testing", {"DATABASE_URL": url, "UPLOAD_DIR": tmp_path / "uploads",
                                      "SERVER_NAME": "localhost", **_object_store(request)})
    try:
        upgrade(isolated.extensions["engine"])
        yield isolated
    finally:
        database.db_session.remove()
        isolated.extensions["engine"].dispose()
        database.bind(app.extensions["engine"])
        if schema:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture()
def db(app):
    """A transaction per test, rolled back afterwards; commits inside the
    app become savepoints."""
    engine = app.extensions["engine"]
    connection = engine.connect()
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        # pysqlite emits no BEGIN of its own before a SAVEPOINT, so the first
        # SAVEPOINT would open the real transaction and its RELEASE commit it:
        # every test's data leaked into the next. Emit BEGIN ourselves (the
        # SQLAlchemy recipe), on this connection only.
        connection.connection.driver_connection.isolation_level = None
        event.listen(connection, "begin", _sqlite_begin)
    transaction = connection.begin()
    database.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    db_session.remove()
    yield db_session
    db_session.remove()
    transaction.rollback()
    if sqlite:
        event.remove(connection, "begin", _sqlite_begin)
        connection.connection.driver_connection.isolation_level = ""
    connection.close()
    database.session_factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")


def _sqlite_begin(connection):
    connection.exec_driver_sql("BEGIN")


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def factory(db, app):
    with app.app_context():
        yield Factory(db, app)


@pytest.fixture()
def seed(app, db):
    """``with seed() as f: user = f.applicant()`` -- the factory inside a
    short-lived app context.

    The ``factory`` fixture keeps one app context open for the whole test, so
    every request made in that test shares ``flask.g`` (Flask-Login's cached
    current user, Flask-WTF's cached CSRF token) and the session is not
    removed between requests. Tests about sessions, cookies and logins need
    each request on its own, as in production: use ``seed`` there. Objects
    come back detached; use their ids and loaded attributes.
    """
    from contextlib import contextmanager

    @contextmanager
    def seeding():
        with app.app_context():
            yield Factory(db, app)

    return seeding


@pytest.fixture()
def login(client):
    """login(user) logs the test client in through the real form."""

    def do_login(user, password=Factory.PASSWORD):
        page = client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do_login


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture()
def csrf(client):
    """csrf('/some/page') -> a token taken from that page."""

    def token(path: str = "/login") -> str:
        return csrf_token_from(client.get(path).get_data(as_text=True))

    return token


@pytest.fixture()
def count_queries(app):
    """with count_queries() as counter: ...; counter.count"""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        class Counter:
            count = 0
            statements: list = []

        engine = app.extensions["engine"]

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                Counter.count += 1
                Counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield Counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting
