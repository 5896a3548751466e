"""An adopted project for tests/e2e/test_agreement.py, written into the live
server's database by ``python -m tests.e2e.adoption_seed`` (the server's
environment). Its own call, group, department and staff account, so the
other browser tests see nothing new in theirs. Adoption is recorded
directly (the decision and 結果公表); test_results walks publication."""
from __future__ import annotations

import json
from datetime import timedelta

from portal import create_app
from portal.db import db_session
from portal.domain.adoption import departments
from portal.domain.proposals import workflow
from portal.domain.timeutil import now_utc
from portal.models import Decision, DecisionOutcome, DepartmentMember, ProposalStatus, Role

from . import seed


def main() -> None:
    app = create_app()
    with app.app_context():
        now = now_utc()
        call = seed.staff_call("e2e-adoption", "令和8年度 協働事業提案（E2E協定）", opens=timedelta(days=-90),
                               closes=timedelta(days=-60), results=timedelta(days=-5))
        seed.TITLES["adoption"] = "川沿い見守りカフェ事業"
        group_account, proposal = seed.submitted_proposal(call, "adoption", "みなと見守りの会", "山田 花子", 8,
                                                          now - timedelta(days=70))
        db_session.add(Decision(proposal_id=proposal.id, outcome=DecisionOutcome.CONDITIONAL,
                                conditions="活動保険に加入すること。"))
        workflow.record_status(db_session, proposal, ProposalStatus.RESULTS, None, now - timedelta(days=5))
        department = departments.create_department(db_session, "福祉総務課", staff=None, now=now)
        clerk = seed.user("e2e-welfare@city.example.jp", Role.DEPARTMENT, "福祉総務課 担当")
        db_session.add(DepartmentMember(user_id=clerk.id, department_id=department.id))
        departments.assign(db_session, proposal, department, staff=None, now=now)
        staff = seed.user("e2e-adoption-staff@city.example.jp", Role.STAFF, "市民協働課 協定担当")
        db_session.commit()
        print(json.dumps({"proposal_id": proposal.id, "group": seed.account_info(group_account),
                          "department": seed.account_info(clerk), "staff": seed.account_info(staff)},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
