"""担当課 as a role: staff create departments and invite their accounts; a
department account sees only the proposals assigned to its department and
writes the 所見 on them at intake."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.domain.adoption import departments
from portal.domain.timeutil import now_utc
from portal.models import Department, DepartmentMember, DepartmentOpinion, OutboxMessage, Proposal, Role, User

from .adoption_support import department_account, signed_in, token_of
from .test_totp import enrol_through_pages


def test_staff_create_a_department_and_invite_its_account_which_logs_in_to_its_page(app, db, seed):
    with seed() as f:
        staff = f.staff()
    client = signed_in(app, staff)
    token = token_of(client, "/admin/adoption/departments")
    empty = client.post("/admin/adoption/departments", data={"csrf_token": token, "name": "  "})
    assert empty.status_code == 422 and "必須項目です" in empty.text
    created = client.post("/admin/adoption/departments", data={"csrf_token": token, "name": "環境政策課"})
    assert created.status_code == 302
    again = client.post("/admin/adoption/departments", data={"csrf_token": token, "name": "環境政策課"})
    assert again.status_code == 422 and "同じ名前の担当課がすでにあります" in again.text
    department_id = db.scalars(select(Department.id).where(Department.name == "環境政策課")).one()

    bad = client.post(f"/admin/adoption/departments/{department_id}/invite",
                      data={"csrf_token": token, f"d{department_id}-display_name": "環境 太郎",
                            f"d{department_id}-email": "not-an-address"})
    assert bad.status_code == 422 and "環境 太郎" in bad.text  # what was typed is kept
    sent = client.post(f"/admin/adoption/departments/{department_id}/invite",
                       data={"csrf_token": token, f"d{department_id}-display_name": "環境 太郎",
                             f"d{department_id}-email": "kankyo@city.example.jp"})
    assert sent.status_code == 302
    mail = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "kankyo@city.example.jp")
                      .order_by(OutboxMessage.id.desc())).first()
    link = re.search(r"http://localhost(/invite/department/\S+)", mail.body).group(1)

    newcomer = app.test_client()
    form_token = token_of(newcomer, link)
    accepted = newcomer.post(link, data={"csrf_token": form_token, "password": "a-long-passphrase-42",
                                         "password_confirm": "a-long-passphrase-42"})
    assert accepted.status_code == 302
    user = db.scalars(select(User).where(User.email == "kankyo@city.example.jp")).one()
    assert user.role == Role.DEPARTMENT
    assert db.get(DepartmentMember, user.id).department_id == department_id
    email = user.email
    assert newcomer.get(link).status_code == 410  # a link works once

    login_token = token_of(newcomer, "/login")
    response = newcomer.post("/login", data={"email": email, "password": "a-long-passphrase-42",
                                             "csrf_token": login_token})
    # Department staff read proposals: a second factor, enrolled at the first login.
    assert response.status_code == 302 and response.headers["Location"] == "/login/enrol"
    assert newcomer.get("/department/").status_code == 302
    enrol_through_pages(newcomer)
    page = newcomer.get("/department/")
    assert page.status_code == 200 and "環境政策課の担当事業" in page.text


def test_a_department_sees_only_its_proposals_and_writes_the_opinion(app, db, seed):
    with seed() as f:
        call = f.call()
        ours = f.submitted(call, name="みなと見守りの会")
        theirs = f.submitted(call, name="さくら子ども食堂")
        staff = f.staff()
        welfare, clerk = department_account(db, "福祉総務課")
        other, _ = department_account(db, "土木課")
        departments.assign(db, ours, welfare, staff=staff, now=now_utc())
        departments.assign(db, theirs, other, staff=staff, now=now_utc())
        db.commit()
        ours_receipt, theirs_receipt, clerk_id = ours.receipt_number, theirs.receipt_number, clerk.id
        ours, theirs, call = ours.id, theirs.id, call.id

    client = signed_in(app, clerk)
    index = client.get("/department/")
    assert ours_receipt in index.text
    assert theirs_receipt not in index.text
    assert client.get(f"/department/proposals/{theirs}").status_code == 404
    assert client.get(f"/department/proposals/{ours}").status_code == 200

    token = token_of(client, f"/department/proposals/{ours}")
    missing = client.post(f"/department/proposals/{ours}/opinion",
                          data={"csrf_token": token, "opinion": "地域包括支援センターと連携できます。"})
    assert missing.status_code == 422
    assert "実施の可能性を選んでください" in missing.text and "地域包括支援センターと連携できます。" in missing.text
    saved = client.post(f"/department/proposals/{ours}/opinion",
                        data={"csrf_token": token, "feasibility": "feasible", "department": "土木課",
                              "opinion": "地域包括支援センターと連携できます。"})
    assert saved.status_code == 302
    opinion = db.scalars(select(DepartmentOpinion).where(DepartmentOpinion.proposal_id == ours)).one()
    # written under the account's own department, whatever the form said
    assert (opinion.department, opinion.feasibility, opinion.updated_by_id) == ("福祉総務課", "feasible", clerk_id)
    assert client.post(f"/department/proposals/{theirs}/opinion",
                       data={"csrf_token": token, "feasibility": "feasible"}).status_code == 404
    # the staff's intake page shows what the department wrote
    staff_client = signed_in(app, staff)
    assert "地域包括支援センターと連携できます。" in staff_client.get(
        f"/admin/calls/{call}/intake/{ours}").text


def test_staff_assign_a_department_to_a_proposal(app, db, seed):
    with seed() as f:
        call = f.call()
        proposal = f.submitted(call)
        staff = f.staff()
        welfare, _ = department_account(db, "こども家庭課")
        welfare_id, proposal_id, call = welfare.id, proposal.id, call.id
    client = signed_in(app, staff)
    token = token_of(client, f"/admin/adoption/calls/{call}/departments")
    assert client.post(f"/admin/adoption/calls/{call}/departments/{proposal_id}",
                       data={"csrf_token": token, "department_id": str(welfare_id)}).status_code == 302
    assert departments.department_of(db, db.get(Proposal, proposal_id)).id == welfare_id
    client.post(f"/admin/adoption/calls/{call}/departments/{proposal_id}",
                data={"csrf_token": token, "department_id": "999999"})
    # an unknown choice changes nothing
    assert departments.department_of(db, db.get(Proposal, proposal_id)).id == welfare_id
    client.post(f"/admin/adoption/calls/{call}/departments/{proposal_id}",
                data={"csrf_token": token, "department_id": ""})
    assert departments.department_of(db, db.get(Proposal, proposal_id)) is None
