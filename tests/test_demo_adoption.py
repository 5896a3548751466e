"""The demo's adopted projects after 令和7年度's results (portal/demo/adoption.py):
one agreement concluded with confirmed goals, its PDF stored and logged;
one draft waiting for the city to confirm the goals; departments assigned."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal.demo.calls import FINISHED_CALL_SLUG
from portal.domain.adoption import agreement as agreements
from portal.domain.adoption import departments, goals
from portal.domain.log import chain, process_log
from portal.files.objectstore import store_of
from portal.models import Agreement, AgreementStatus, Call, Role, User

from .test_demo import db, demo, demo_connection  # noqa: F401  (the demo, loaded once for this module)


def test_the_demo_carries_an_adopted_project_to_a_concluded_agreement(app, demo):  # noqa: F811
    call = demo.scalar(select(Call).where(Call.slug == FINISHED_CALL_SLUG))
    rows = demo.scalars(select(Agreement).order_by(Agreement.id)).all()
    concluded = [r for r in rows if r.proposal.call_id == call.id and r.status == AgreementStatus.CONCLUDED]
    drafts = [r for r in rows if r.proposal.call_id == call.id and r.status == AgreementStatus.DRAFT]
    # 防災マップ (bousai) concluded with its goals; the others of the year are carried on by
    # portal/demo/adoption_work.py (mid-way, report due) and portal/demo/evaluation.py (evaluated).
    assert len(drafts) == 1 and len(concluded) >= 1
    [done] = [r for r in concluded if departments.department_of(demo, r.proposal).name == "危機管理課"
              and "防災マップ" in r.proposal.title]
    assert goals.is_confirmed(goals.goals_of(demo, done.proposal))
    with app.app_context():
        pdf = agreements.concluded_pdf(done, store_of(app))
    assert pdf is not None and hashlib.sha256(pdf).hexdigest() == done.pdf_sha256
    logged = [e for e in process_log.entries(demo, call) if e.kind == chain.AGREEMENT_CONCLUDED]
    assert sorted(e.payload["document_sha256"] for e in logged) == sorted(r.pdf_sha256 for r in concluded)
    assert goals.waiting_for_city(goals.goals_of(demo, drafts[0].proposal))
    clerk = demo.scalar(select(User).where(User.role == Role.DEPARTMENT).order_by(User.id))
    assert clerk is not None and clerk.email == "kikikanri@city.minato.example.jp"
