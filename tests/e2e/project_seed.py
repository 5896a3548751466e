"""An adopted project with its agreement concluded, written into the live
server's database through the domain verbs: its own call, group, department
(with a clerk's account) and staff account, and one confirmed goal. Used by
the seeds of tests/e2e/test_project_work.py and tests/e2e/test_evaluation.py."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from portal import create_app
from portal.adoption.documents import render_agreement
from portal.db import db_session
from portal.domain.adoption import agreement as agreements
from portal.domain.adoption import departments, goals
from portal.domain.proposals import workflow
from portal.domain.timeutil import now_utc
from portal.files.objectstore import current_store
from portal.models import AgreementSide, Decision, DecisionOutcome, DepartmentMember, ProposalStatus, Role

from . import seed


@dataclass(frozen=True)
class ProjectSpec:
    key: str  # the seed's key for the proposal (seed.TITLES)
    slug: str
    call_title: str
    project_title: str
    group_name: str
    representative: str
    department: str
    clerk_email: str
    staff_email: str
    goal_title: str


def concluded_project(spec: ProjectSpec) -> dict:
    """Seed the project and print nothing; returns what the test needs."""
    now = now_utc()
    call = seed.staff_call(spec.slug, spec.call_title, opens=timedelta(days=-120), closes=timedelta(days=-90),
                           results=timedelta(days=-30))
    seed.TITLES[spec.key] = spec.project_title
    group_account, proposal = seed.submitted_proposal(call, spec.key, spec.group_name, spec.representative, 12,
                                                      now - timedelta(days=100))
    db_session.add(Decision(proposal_id=proposal.id, outcome=DecisionOutcome.ADOPTED, conditions=""))
    workflow.record_status(db_session, proposal, ProposalStatus.RESULTS, None, now - timedelta(days=30))
    department = departments.create_department(db_session, spec.department, staff=None, now=now)
    clerk = seed.user(spec.clerk_email, Role.DEPARTMENT, f"{spec.department} 担当")
    db_session.add(DepartmentMember(user_id=clerk.id, department_id=department.id))
    departments.assign(db_session, proposal, department, staff=None, now=now)
    staff = seed.user(spec.staff_email, Role.STAFF, "市民協働課 事業担当")
    goals.propose(db_session, proposal, goals.GoalInput(kind="outcome", title=spec.goal_title, target_number="60",
                                                        unit="人"), user=None, now=now)
    goals.confirm(db_session, proposal, user=staff, now=now)
    draft = agreements.start_draft(db_session, proposal, staff=staff, now=now)
    for side, user in ((AgreementSide.GROUP, group_account), (AgreementSide.CITY, staff)):
        agreements.confirm(db_session, draft, side, user=user, revision_seen=draft.revision, now=now,
                           render=render_agreement, store=current_store())
    db_session.commit()
    return {"proposal_id": proposal.id, "code": proposal.anonymous_code, "slug": call.slug,
            "group": seed.account_info(group_account), "department": seed.account_info(clerk),
            "staff": seed.account_info(staff)}


def run(spec: ProjectSpec) -> None:
    """The seed's command line: seed in the environment's database, print JSON."""
    with create_app().app_context():
        print(json.dumps(concluded_project(spec), ensure_ascii=False))
