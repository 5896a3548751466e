"""A call at its 二次審査 (presentation) stage for tests/e2e/test_meeting.py:
one reviewer (the chair) cleared for one released proposal, the
presentation window open now. Run in the live server's environment after
tests/e2e/seed.py; prints the accounts and ids as JSON."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from portal import create_app
from portal.db import db_session
from portal.domain.panel import conflict_declaration, panel
from portal.domain.timeutil import now_utc
from portal.models import Assignment, Role, User

from . import seed
from .seed import account_info, accept_and_release, staff_call, submitted_proposal, user

KEY = "meeting-presentation"
seed.TITLES.setdefault(KEY, "公園で体操を広げる事業")  # the seed's proposals take their title from here


def main() -> None:
    app = create_app()
    with app.app_context():
        now = now_utc()
        staff = db_session.scalars(select(User).where(User.role == Role.STAFF).order_by(User.id)).first()
        call = staff_call("e2e-presentation", "令和8年度 協働事業提案（E2E二次審査）", opens=timedelta(days=-60),
                          closes=timedelta(days=-40), scoring=(timedelta(days=-20), timedelta(days=-3)),
                          results=timedelta(days=20), has_presentation=True,
                          presentation_opens_at=now - timedelta(days=1), presentation_closes_at=now + timedelta(days=5))
        account = user("e2e-chair@example.jp", Role.REVIEWER, "審査 委員長")
        member = panel.add_member(db_session, call, account, now=now - timedelta(days=39))
        member.is_chair = True
        _group_account, proposal = submitted_proposal(call, KEY, "ふれあい体操クラブ", "小林 六子", 15,
                                                      now - timedelta(days=50))
        accept_and_release(call, [proposal], staff, now - timedelta(days=30))
        assignment = db_session.scalars(select(Assignment).where(Assignment.proposal_id == proposal.id)).one()
        conflict_declaration.confirm_no_conflict(db_session, assignment, now - timedelta(days=20))
        db_session.commit()
        print(json.dumps({"call_id": call.id, "assignment_id": assignment.id, "code": proposal.anonymous_code,
                          "reviewer": account_info(account)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
