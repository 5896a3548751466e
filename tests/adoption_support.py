"""Shared set-up for the adoption tests: a department with an account, and
an adopted proposal. Adoption is recorded directly (a Decision and the
結果公表 status) rather than through a whole publication, which
tests/test_publication.py covers."""
from __future__ import annotations

from flask.testing import FlaskClient

from portal.auth.sessions import hash_password
from portal.domain.adoption import departments
from portal.domain.proposals import workflow
from portal.domain.timeutil import now_utc
from portal.models import Decision, DecisionOutcome, DepartmentMember, ProposalStatus, Role, User

from .conftest import csrf_token_from
from .factories import Factory


def department_account(db, name="福祉総務課", email=None):
    department = departments.create_department(db, name, staff=None, now=now_utc())
    user = User(email=email or f"dept{department.id}@city.example.jp", password_hash=hash_password(Factory.PASSWORD),
                role=Role.DEPARTMENT, display_name=f"{name} 担当", email_confirmed_at=now_utc(),
                second_factor_waived=True)  # as Factory.staff; the enrolment is walked in test_department_role
    db.add(user)
    db.flush()
    db.add(DepartmentMember(user_id=user.id, department_id=department.id))
    db.commit()
    return department, user


def adopt(db, f, proposal, outcome=DecisionOutcome.ADOPTED, conditions=""):
    if proposal.released_at is None:
        f.released(proposal)
    db.add(Decision(proposal_id=proposal.id, outcome=outcome, conditions=conditions))
    workflow.record_status(db, proposal, ProposalStatus.RESULTS, None, now_utc())
    db.commit()
    return proposal


def signed_in(app, user) -> FlaskClient:
    client = app.test_client()
    token = csrf_token_from(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text[:300]
    return client


def token_of(client: FlaskClient, path: str) -> str:
    return csrf_token_from(client.get(path).text)
