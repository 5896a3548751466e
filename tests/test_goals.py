"""成果目標・活動指標: proposed by the group with target values (number and
unit, or words), confirmed by the city, then fixed and shown on the agreement."""
from __future__ import annotations

import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.adoption.documents import render_agreement
from portal.domain.adoption import agreement as agreements
from portal.domain.adoption import departments, goals
from portal.domain.refusals import WrongState
from portal.domain.timeutil import now_utc
from portal.files.objectstore import current_store
from portal.models import AgreementSide, GoalKind, Proposal

from .adoption_support import adopt, department_account, signed_in, token_of


def test_target_values_are_read_as_people_type_them():
    assert goals.read_number("１，２００") == Decimal("1200")
    assert goals.read_number("12.5") == Decimal("12.5")
    for bad in ("abc", "-3", "1.234", "NaN", "Infinity", ""):
        assert goals.read_number(bad) is None, bad
    assert goals.problems_of(goals.GoalInput(kind="outcome", title="訪問世帯", target_number="120")) == {
        "unit": "数値の単位を入力してください（例：人、回、%）。"}
    neither = goals.problems_of(goals.GoalInput(kind="outcome", title="訪問世帯"))
    assert set(neither) == {"target_number"}
    assert set(goals.problems_of(goals.GoalInput(kind="other", title=""))) == {"kind", "title", "target_number"}
    assert goals.problems_of(goals.GoalInput(kind="activity", title="連絡会", target_text="月1回定着")) == {}


def test_confirmed_goals_are_fixed_and_gate_the_agreement(app, db, seed):
    with seed() as f:
        call = f.scoring_call()
        proposal = adopt(db, f, f.submitted(call))
        group = proposal.group.account
        staff = f.staff()
        draft = agreements.start_draft(db, proposal, staff=staff, now=now_utc())
        goals.propose(db, proposal, goals.GoalInput(kind="outcome", title="見守り世帯", target_number="120",
                                                    unit="世帯"), user=group, now=now_utc())
        # while a goal waits for the city, nobody can agree to the agreement
        with pytest.raises(WrongState, match="目標"):
            agreements.confirm(db, draft, AgreementSide.GROUP, user=group, revision_seen=draft.revision,
                               now=now_utc(), render=render_agreement, store=current_store())
        before = draft.revision
        assert goals.confirm(db, proposal, user=staff, now=now_utc()) == 1
        assert draft.revision == before + 1  # the agreement now says more: both agree again
        with pytest.raises(WrongState, match="市が確認した目標"):
            goals.propose(db, proposal, goals.GoalInput(kind="activity", title="連絡会", target_text="月1回"),
                          user=group, now=now_utc())
        sheet = goals.goals_of(db, proposal)
        assert [(g.kind, g.target_number, g.unit) for g in sheet] == [(GoalKind.OUTCOME, Decimal("120.00"), "世帯")]


def test_group_proposes_department_confirms_and_the_pdf_shows_the_goals(app, db, seed, tmp_path):
    with seed() as f:
        call = f.scoring_call()
        proposal = adopt(db, f, f.submitted(call))
        staff = f.staff()
        department, clerk = department_account(db, "福祉総務課")
        departments.assign(db, proposal, department, staff=staff, now=now_utc())
        agreements.start_draft(db, proposal, staff=staff, now=now_utc())
        db.commit()
        group, pid = proposal.group.account, proposal.id
    group_c, dept_c = signed_in(app, group), signed_in(app, clerk)
    page = f"/projects/{pid}/goals"
    token = token_of(group_c, page)
    bad = group_c.post(page, data={"csrf_token": token, "kind": "outcome", "title": "見守り訪問を受ける世帯",
                                   "target_number": "百二十", "unit": "世帯"})
    assert bad.status_code == 422
    assert "目標値は0以上の数で入力してください" in bad.text and "百二十" in bad.text and "見守り訪問を受ける世帯" in bad.text
    assert group_c.post(page, data={"csrf_token": token, "kind": "outcome", "title": "見守り訪問を受ける世帯",
                                    "target_number": "１２０", "unit": "世帯"}).status_code == 302
    assert group_c.post(page, data={"csrf_token": token, "kind": "activity", "title": "連絡会の開催",
                                    "target_text": "月1回の連絡会を定着させる"}).status_code == 302
    # the city does not propose; the group does not confirm
    assert dept_c.post(page, data={"csrf_token": token_of(dept_c, page), "kind": "outcome", "title": "x",
                                   "target_text": "y"}).status_code == 409
    assert group_c.post(f"{page}/confirm", data={"csrf_token": token}).status_code == 409
    assert dept_c.post(f"{page}/confirm", data={"csrf_token": token_of(dept_c, page)}).status_code == 302

    view = f"/projects/{pid}/agreement"
    for client in (group_c, dept_c):
        revision = str(agreements.agreement_of(db, db.get(Proposal, pid)).revision)
        assert client.post(f"{view}/confirm", data={"csrf_token": token_of(client, view),
                                                     "revision": revision}).status_code == 302
        db.expire_all()
    pdf = group_c.get(f"{view}.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "agreement.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    flat = text.replace(" ", "").replace("\n", "")
    for expected in ("成果目標", "見守り訪問を受ける世帯", "120世帯", "活動指標", "月1回の連絡会を定着させる"):
        assert expected in flat, expected


def test_the_public_page_shows_the_status_and_the_confirmed_goals_only_once_concluded(app, db, seed):
    with seed() as f:
        call = f.scoring_call()
        proposal = adopt(db, f, f.submitted(call, name="みなと見守りの会"))
        staff, group = f.staff(), proposal.group.account
        draft = agreements.start_draft(db, proposal, staff=staff, now=now_utc())
        goals.propose(db, proposal, goals.GoalInput(kind="outcome", title="見守り世帯", target_number="120",
                                                    unit="世帯"), user=group, now=now_utc())
        db.commit()
        slug, code, title = call.slug, proposal.anonymous_code, proposal.title
    client = app.test_client()
    listing = client.get(f"/calls/{slug}/projects")
    assert listing.status_code == 200 and title in listing.text and "協定準備中" in listing.text
    page = client.get(f"/calls/{slug}/projects/{code}")
    assert "協定準備中" in page.text and "見守り世帯" not in page.text  # nothing before the agreement
    assert client.get(f"/calls/{slug}/projects/ZZ99").status_code == 404

    with seed():
        proposal = db.scalars(select(Proposal).where(Proposal.anonymous_code == code)).one()
        goals.confirm(db, proposal, user=staff, now=now_utc())
        draft = agreements.agreement_of(db, proposal)
        draft.period_start, draft.period_end = now_utc().date(), now_utc().date() + timedelta(days=300)
        for side, user in ((AgreementSide.GROUP, group), (AgreementSide.CITY, staff)):
            agreements.confirm(db, draft, side, user=user, revision_seen=draft.revision, now=now_utc(),
                               render=render_agreement, store=current_store())
        db.commit()
    page = client.get(f"/calls/{slug}/projects/{code}")
    assert "実施中" in page.text and "見守り世帯" in page.text and "120世帯" in page.text
