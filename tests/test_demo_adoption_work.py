"""The demo's projects during the work (portal/demo/adoption_work.py): one
mid-way with an approved budget change and an accepted 中間報告 (both
published and logged), one whose 実績報告 is due soon, as a draft."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal.demo.calls import FINISHED_CALL_SLUG
from portal.domain.adoption import changes, project_documents, reminders, reports
from portal.domain.log import chain, process_log
from portal.domain.timeutil import now_utc, to_jst
from portal.files.objectstore import store_of
from portal.models import Call, Proposal
from portal.models.adoption_work import ProjectReport

from .test_demo import db, demo, demo_connection  # noqa: F401  (the demo, loaded once for this module)


def test_the_demo_has_a_project_mid_way_and_one_with_its_final_report_due(app, demo):  # noqa: F811
    call = demo.scalar(select(Call).where(Call.slug == FINISHED_CALL_SLUG))
    by_group = {p.group.name: p for p in demo.scalars(select(Proposal).where(Proposal.call_id == call.id)
                                                      .order_by(Proposal.id))}
    reported = demo.scalars(select(ProjectReport).order_by(ProjectReport.id)).all()
    interim = next(r for r in reported if r.kind == "interim")
    final = next(r for r in reported if r.kind == "final" and r.status == "draft")  # (防災マップ's is the evaluation's)
    mid_way = demo.get(Proposal, interim.proposal_id)
    due_soon = demo.get(Proposal, final.proposal_id)
    assert mid_way.group.name in by_group and due_soon.group.name in by_group
    assert interim.status == "accepted" and mid_way.id != due_soon.id

    approved = [c for c in changes.changes_of(demo, mid_way) if c.status == "approved"]
    assert len(approved) == 1 and changes.current_budget(demo, mid_way)[-1][0] == "講師謝礼"
    docs = project_documents.documents_of(demo, mid_way)
    assert [d.kind for d in docs] == ["change_decision", "interim_report"]
    logged = [e.payload for e in process_log.entries(demo, call) if e.kind == chain.PROJECT_DOCUMENT_PUBLISHED
              and e.payload["proposal_code"] == mid_way.anonymous_code]
    assert [p["document_sha256"] for p in logged] == [d.sha256 for d in docs]
    with app.app_context():
        for doc in docs:
            pdf = project_documents.document_pdf(doc, store_of(app))
            assert pdf is not None and hashlib.sha256(pdf).hexdigest() == doc.sha256

    today = to_jst(now_utc()).date()
    due = reports.due_dates(demo, due_soon)["final"]
    assert 0 < (due - today).days <= reminders.DAYS_BEFORE
    assert any(key == "final:before" for _p, key, _k, _d in reminders.due_reminders(demo, today))
