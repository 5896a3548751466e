"""協定書: drafted from the adopted proposal, edited by staff (nothing typed
lost), agreed online by both sides (an edit asks again), concluded as a PDF
whose SHA-256 enters the call's process log."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.adoption.documents import render_agreement
from portal.domain.adoption import agreement as agreements
from portal.domain.adoption import departments
from portal.domain.log import chain, process_log, published_log, signing
from portal.domain.results import publication
from portal.files.objectstore import current_store
from portal.domain.refusals import WrongState
from portal.domain.timeutil import now_utc
from portal.models import Agreement, AgreementSide, AgreementStatus, DecisionOutcome, Proposal

from .adoption_support import adopt, department_account, signed_in, token_of
from .results_support import build, close_scoring, decide_as_recommended, score, use_temporary_key


def test_only_an_adopted_published_proposal_gets_a_draft_drafted_from_it(app, db, seed):
    with seed() as f:
        call = f.scoring_call()
        waiting = f.submitted(call)
        f.released(waiting)
        conditional = adopt(db, f, f.submitted(call), DecisionOutcome.CONDITIONAL, conditions="保険に加入すること")
        with pytest.raises(WrongState):
            agreements.start_draft(db, waiting, staff=None, now=now_utc())
        draft = agreements.start_draft(db, conditional, staff=None, now=now_utc())
        assert draft.city_roles == "・広報：市報掲載" and draft.group_roles == "・広報：チラシ作成"
        assert draft.city_amount == 200_000
        assert "250,000円" in draft.cost_sharing and "50,000円は乙が負担" in draft.cost_sharing
        assert draft.conditions == "保険に加入すること"
        text = agreements.AgreementText.of(draft)
        text.conditions = ""
        with pytest.raises(agreements.AgreementInvalid) as refused:
            agreements.update_draft(db, draft, text, revision_seen=1, staff=None, now=now_utc())
        assert "条件付き採択" in refused.value.problems["conditions"]


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def test_staff_draft_both_sides_agree_and_the_pdf_is_stored_and_logged(app, db, seed, tmp_path):
    with seed() as f:
        call = f.scoring_call()
        proposal = adopt(db, f, f.submitted(call, name="みなと見守りの会"))
        staff = f.staff()
        department, clerk = department_account(db, "福祉総務課")
        departments.assign(db, proposal, department, staff=staff, now=now_utc())
        db.commit()
        group_user = proposal.group.account
        pid, code = proposal.id, proposal.anonymous_code
    staff_c, group_c, dept_c = signed_in(app, staff), signed_in(app, group_user), signed_in(app, clerk)
    token = token_of(staff_c, "/admin/adoption/")
    assert staff_c.post(f"/admin/adoption/proposals/{pid}/agreement", data={"csrf_token": token}).status_code == 302
    edit = f"/admin/adoption/proposals/{pid}/agreement/edit"
    page = staff_c.get(edit)
    assert page.status_code == 200 and "市報掲載" in page.text

    form = {"csrf_token": token, "revision": "1", "title": "川沿い見守り事業", "purpose": "高齢者の見守り",
            "period_start": "2027-04-01", "period_end": "2027-03-31", "city_roles": "市報掲載",
            "group_roles": "見守り活動の実施", "city_amount": "２００，０００円", "cost_sharing": "甲が20万円を負担",
            "conditions": "", "information_sharing": "月1回の協議", "publicity": "成果を公表する",
            "changes": "協議のうえ変更する"}
    bad = staff_c.post(edit, data=form)
    assert bad.status_code == 422
    assert "終了日は開始日より後の日付にしてください" in bad.text and "見守り活動の実施" in bad.text
    form["period_end"] = "2028-03-31"
    assert staff_c.post(edit, data=form).status_code == 302
    row = db.scalars(select(Agreement).where(Agreement.proposal_id == pid)).one()
    assert (row.revision, row.city_amount, row.title) == (2, 200_000, "川沿い見守り事業")

    # the group agrees; then staff edit, which asks both sides again
    view = f"/projects/{pid}/agreement"
    assert "団体（乙）として" in group_c.get(view).text
    gtoken = token_of(group_c, view)
    assert group_c.post(f"{view}/confirm", data={"csrf_token": gtoken, "revision": "2"}).status_code == 302
    form["revision"], form["purpose"] = "2", "高齢者の見守りと居場所づくり"
    assert staff_c.post(edit, data=form).status_code == 302
    db.expire_all()
    row = db.scalars(select(Agreement).where(Agreement.proposal_id == pid)).one()
    assert row.revision == 3 and agreements.current_confirmations(row) == {}
    # a confirmation of a revision the person did not read is refused
    group_c.post(f"{view}/confirm", data={"csrf_token": gtoken, "revision": "2"})
    db.expire_all()
    assert agreements.current_confirmations(db.get(Agreement, row.id)) == {}

    assert group_c.post(f"{view}/confirm", data={"csrf_token": gtoken, "revision": "3"}).status_code == 302
    dtoken = token_of(dept_c, view)
    assert dept_c.post(f"{view}/confirm", data={"csrf_token": dtoken, "revision": "3"}).status_code == 302
    db.expire_all()
    row = db.get(Agreement, row.id)
    assert row.status == AgreementStatus.CONCLUDED
    sides = {c.side.value: c.user_id for c in agreements.current_confirmations(row).values()}
    assert sides == {"group": group_user.id, "city": clerk.id}

    download = group_c.get(f"{view}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    pdf = download.data
    assert hashlib.sha256(pdf).hexdigest() == row.pdf_sha256
    text = _pdf_text(pdf, tmp_path)
    for expected in ("協定書", "川沿い見守り事業", "みなと見守りの会", "高齢者の見守りと居場所づくり", "200,000円",
                     "福祉総務課"):
        assert expected in text.replace(" ", ""), expected

    entries = process_log.entries(db, db.get(Proposal, pid).call)
    last = entries[-1]
    assert last.kind == chain.AGREEMENT_CONCLUDED
    assert last.payload == {"proposal_code": code, "document_sha256": row.pdf_sha256, "revision": 3}
    assert chain.verify_chain(entries).ok
    # nothing more to agree to; staff can no longer edit
    assert staff_c.get(edit).status_code == 302


def test_another_group_and_another_department_do_not_see_the_agreement(app, db, seed):
    with seed() as f:
        call = f.scoring_call()
        proposal = adopt(db, f, f.submitted(call))
        other = f.applicant()
        _, outsider = department_account(db, "土木課")
        agreements.start_draft(db, proposal, staff=None, now=now_utc())
        db.commit()
        pid = proposal.id
    assert signed_in(app, other).get(f"/projects/{pid}/agreement").status_code == 404
    assert signed_in(app, outsider).get(f"/projects/{pid}/agreement").status_code == 404


def test_a_concluded_agreement_after_a_real_publication_passes_both_verifiers(app, db, factory, monkeypatch,
                                                                               tmp_path):
    """The new entry sits after 結果公表 in the chain: ``flask verify-log``
    and the standalone script (scripts/verify_log.py) still pass."""
    settings = use_temporary_key(app, monkeypatch, tmp_path)
    s = build(factory, reviewers=2, proposals=2)
    score(db, s, 0, 0, [5, 4, 3, 4, 2])
    score(db, s, 1, 0, [4, 4, 4, 3, 3])
    score(db, s, 0, 1, [2, 2, 2, 2, 2])
    score(db, s, 1, 1, [3, 3, 3, 3, 3])
    close_scoring(db, s)
    staff = factory.staff()
    decide_as_recommended(db, s, staff)
    publication.publish(db, s.call, staff, now_utc(), settings=settings)
    db.commit()
    adopted = [p for p in s.proposals if agreements.is_adopted(db, p)]
    assert adopted, "the recommended proposal is adopted"
    draft = agreements.start_draft(db, adopted[0], staff=staff, now=now_utc())
    for side, user in ((AgreementSide.GROUP, adopted[0].group.account), (AgreementSide.CITY, staff)):
        agreements.confirm(db, draft, side, user=user, revision_seen=draft.revision, now=now_utc(),
                           render=render_agreement, store=current_store())
    db.commit()
    assert draft.status == AgreementStatus.CONCLUDED

    outcome = app.test_cli_runner().invoke(args=["verify-log", "--call", s.call.slug])
    assert outcome.exit_code == 0, outcome.output
    document = publication.log_document(db, s.call, settings.key)
    assert document["entries"][-1]["kind"] == chain.AGREEMENT_CONCLUDED
    trusted = signing.public_key_pem(settings.key)
    assert published_log.verify_document(document, trusted).ok
    key_file, path = tmp_path / "city.pem", tmp_path / "log.json"
    key_file.write_text(trusted)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    script = Path(__file__).resolve().parents[1] / "scripts" / "verify_log.py"
    run = subprocess.run([sys.executable, str(script), str(path), "--public-key", str(key_file)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_each_side_is_mailed_when_the_other_agrees_and_both_at_the_conclusion(app, db, seed):
    from portal.models import OutboxMessage

    with seed() as f:
        call = f.scoring_call()
        proposal = adopt(db, f, f.submitted(call, name="みなと見守りの会"))
        staff = f.staff()
        department, clerk = department_account(db, "福祉総務課")
        departments.assign(db, proposal, department, staff=staff, now=now_utc())
        draft = agreements.start_draft(db, proposal, staff=staff, now=now_utc())
        text = agreements.AgreementText.of(draft)
        text.period_start, text.period_end = now_utc().date(), now_utc().date().replace(year=now_utc().year + 1)
        for name in ("title", "purpose", "city_roles", "group_roles", "cost_sharing", "information_sharing",
                     "publicity", "changes"):
            setattr(text, name, getattr(text, name) or "協議のうえ定める")
        agreements.update_draft(db, draft, text, revision_seen=draft.revision, staff=staff, now=now_utc())
        db.commit()
        pid, revision, group_user = proposal.id, draft.revision, proposal.group.account
        group_mails = {group_user.email, proposal.group.contact_email} - {""}
    view = f"/projects/{pid}/agreement"

    def mails_since(mark: int) -> list[OutboxMessage]:
        db.expire_all()
        return list(db.scalars(select(OutboxMessage).where(OutboxMessage.id > mark).order_by(OutboxMessage.id)))

    mark = db.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
    group_c, dept_c = signed_in(app, group_user), signed_in(app, clerk)
    gtoken = token_of(group_c, view)
    assert group_c.post(f"{view}/confirm", data={"csrf_token": gtoken, "revision": str(revision)}).status_code == 302
    sent = mails_since(mark)
    assert [m.recipient for m in sent] == [clerk.email]
    assert "団体が協定書案に合意しました" in sent[0].subject and view in sent[0].body
    # agreeing twice mails nobody again
    group_c.post(f"{view}/confirm", data={"csrf_token": gtoken, "revision": str(revision)})
    assert len(mails_since(mark)) == 1
    mark = sent[-1].id
    dtoken = token_of(dept_c, view)
    assert dept_c.post(f"{view}/confirm", data={"csrf_token": dtoken, "revision": str(revision)}).status_code == 302
    sent = mails_since(mark)
    assert {m.recipient for m in sent} == group_mails | {clerk.email}
    assert all("協定を締結しました" in m.subject for m in sent)
