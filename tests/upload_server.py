"""A real server process for tests/test_image_memory.py, whose memory the
test reads from /proc: the testing app on a SQLite file of its own (never
the suite's database), an applicant with a draft proposal, served by
werkzeug's threaded ``make_server`` on a free loopback port.

``python -m tests.upload_server DIR`` prints one JSON line (port, e-mail,
password, proposal id) once it listens, then serves until it is stopped.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy.orm import sessionmaker
from werkzeug.serving import make_server


def main(directory: str) -> None:
    from portal import create_app
    from portal.migrate import upgrade

    from .factories import Factory

    root = Path(directory)
    app = create_app("testing", {"DATABASE_URL": f"sqlite:///{root / 'server.sqlite3'}",
                                 "UPLOAD_DIR": root / "uploads"})
    upgrade(app.extensions["engine"])
    with app.app_context(), sessionmaker(bind=app.extensions["engine"], expire_on_commit=False)() as session:
        factory = Factory(session, app)
        user = factory.applicant()
        proposal = factory.proposal(user, factory.call())
        seeded = {"email": user.email, "password": Factory.PASSWORD, "proposal_id": proposal.id}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(json.dumps({"port": server.server_port, **seeded}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
