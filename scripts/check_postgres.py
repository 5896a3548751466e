"""Fail loudly, never skip, when the PostgreSQL leg cannot reach its server."""
import sys

from sqlalchemy import create_engine, text

url = sys.argv[1]
try:
    with create_engine(url).connect() as connection:
        connection.execute(text("select 1"))
except Exception as error:  # noqa: BLE001 - any failure to connect is reported the same way
    print(f"PostgreSQL is not reachable at {url}: {error}", file=sys.stderr)
    print("Start PostgreSQL or set PG_TEST_URL=... (the PostgreSQL leg never skips).", file=sys.stderr)
    sys.exit(1)
