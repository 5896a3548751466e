"""Engine and session handling.

One scoped session per request (thread). Domain verbs only ``flush``; the
request boundary in :mod:`portal` commits once or rolls back.
"""
from __future__ import annotations

import json
from functools import partial

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session, sessionmaker
from sqlalchemy.pool import StaticPool

session_factory = sessionmaker(expire_on_commit=False)
db_session = scoped_session(session_factory)


def make_engine(url: str, echo: bool = False) -> Engine:
    # JSON columns hold Japanese text (proposal snapshots, published results):
    # stored as UTF-8 rather than \uXXXX escapes they take a third of the
    # space. Hashes are taken over canonical JSON, never over this text.
    kwargs: dict = {"echo": echo, "future": True,
                    "json_serializer": partial(json.dumps, ensure_ascii=False)}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def bind(engine: Engine) -> None:
    db_session.remove()
    session_factory.configure(bind=engine)
