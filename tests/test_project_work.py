"""During the work and the money (issue 16 items 4 and 5): project documents
published by hash, 変更申請 (a budget change becomes the current budget),
中間報告/実績報告 (drafts keep what was typed; accepted reports publish a
PDF whose hash is logged and served), the settlement on the real report,
the 交付決定, deadline reminders sent once, and who may see what."""
from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import func, select

from portal.domain.adoption import agreement as agreements
from portal.domain.adoption import changes, departments, goals, project_documents, reminders, reports
from portal.domain.log import chain, process_log
from portal.domain.timeutil import now_utc
from portal.files.objectstore import current_store
from portal.models import AgreementSide, OutboxMessage, Proposal
from portal.models.adoption_work import ChangeRequest, ProjectReminder, ProjectReport

from .adoption_support import adopt, department_account, signed_in, token_of


def _fake_agreement_pdf(_agreement) -> bytes:
    # the agreement's own PDF is tested in test_agreement.py; here it only has to exist
    return b"%PDF-1.4 agreement"


@dataclass
class Project:
    pid: int
    code: str
    slug: str
    staff: object
    group: object
    clerk: object
    other_clerk: object
    other_group: object


def running_project(db, f, *, period_end: date | None = None) -> Project:
    call = f.scoring_call()
    proposal = adopt(db, f, f.submitted(call, name="みなと見守りの会"))
    staff = f.staff()
    department, clerk = department_account(db, "福祉総務課")
    _, other_clerk = department_account(db, "土木課")
    departments.assign(db, proposal, department, staff=staff, now=now_utc())
    goals.propose(db, proposal, goals.GoalInput(kind="outcome", title="見守り訪問世帯", target_number="120",
                                                unit="世帯"), user=None, now=now_utc())
    goals.propose(db, proposal, goals.GoalInput(kind="activity", title="連絡会の定着",
                                                target_text="月1回の連絡会を定着させる"), user=None, now=now_utc())
    goals.confirm(db, proposal, user=staff, now=now_utc())
    draft = agreements.start_draft(db, proposal, staff=staff, now=now_utc())
    if period_end is not None:
        draft.period_start, draft.period_end = period_end - timedelta(days=200), period_end
    for side, user in ((AgreementSide.GROUP, proposal.group.account), (AgreementSide.CITY, staff)):
        agreements.confirm(db, draft, side, user=user, revision_seen=draft.revision, now=now_utc(),
                           render=_fake_agreement_pdf, store=current_store())
    other_group = f.applicant()
    db.commit()
    return Project(proposal.id, proposal.anonymous_code, call.slug, staff, proposal.group.account, clerk,
                   other_clerk, other_group)


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout.replace(" ", "")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (250, 250, 250)).save(out, format="PNG")
    return out.getvalue()


def test_a_published_document_is_logged_once_and_served_by_its_hash(app, db, seed, tmp_path):
    with seed() as f:
        p = running_project(db, f)
        proposal = db.get(Proposal, p.pid)
        before = len(process_log.entries(db, proposal.call))
        doc = project_documents.publish_document(db, proposal, kind="evaluation", label="事業評価",
                                                 pdf=b"%PDF-1.4 evaluation", store=current_store(),
                                                 now=now_utc(), user=None)
        db.commit()
        entries = process_log.entries(db, proposal.call)
        assert len(entries) == before + 1 and chain.verify_chain(entries).ok
        assert entries[-1].kind == chain.PROJECT_DOCUMENT_PUBLISHED
        assert entries[-1].payload == {"proposal_code": p.code, "document_kind": "evaluation",
                                       "document_sha256": hashlib.sha256(b"%PDF-1.4 evaluation").hexdigest()}
        assert [d.id for d in project_documents.documents_of(db, proposal)] == [doc.id]
        sha = doc.sha256
    client = app.test_client()
    served = client.get(f"/calls/{p.slug}/projects/{p.code}/documents/{sha}.pdf")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert hashlib.sha256(served.data).hexdigest() == sha
    page = client.get(f"/calls/{p.slug}/projects/{p.code}")
    assert sha in page.text and "事業評価" in page.text
    assert client.get(f"/calls/{p.slug}/projects/{p.code}/documents/{'0' * 64}.pdf").status_code == 404
    assert client.get(f"/calls/{p.slug}/projects/{p.code}/documents/nothex.pdf").status_code == 404


def test_a_budget_change_filed_commented_approved_becomes_the_current_budget(app, db, seed, tmp_path):
    with seed() as f:
        p = running_project(db, f)
    group_c, dept_c, staff_c = signed_in(app, p.group), signed_in(app, p.clerk), signed_in(app, p.staff)
    new = f"/projects/{p.pid}/changes/new"
    page = group_c.get(new)
    assert page.status_code == 200 and "消耗品費" in page.text
    token = token_of(group_c, new)
    form = {"csrf_token": token, "kind": "budget", "summary": "講師を招く", "reason": "",
            "row-0-category": "消耗品費", "row-0-amount": "１５０，０００",
            "row-1-category": "講師謝礼", "row-1-amount": "十万"}
    bad = group_c.post(new, data=form)
    assert bad.status_code == 422
    assert "変更の理由を入力してください" in bad.text and "2行目" in bad.text and "十万" in bad.text
    form.update(reason="地域の専門家に講座を依頼するため", **{"row-1-amount": "100000"})
    filed = group_c.post(new, data=form)
    assert filed.status_code == 302
    change = db.scalars(select(ChangeRequest).where(ChangeRequest.proposal_id == p.pid)).one()
    view = f"/projects/{p.pid}/changes/{change.id}"
    # the department comments; it cannot decide
    dtoken = token_of(dept_c, view)
    assert dept_c.post(f"{view}/comment", data={"csrf_token": dtoken,
                                                "department_comment": "講座は事業目的に合う"}).status_code == 302
    assert dept_c.post(f"{view}/decide", data={"csrf_token": dtoken, "verdict": "approve",
                                               "decision_reason": "x"}).status_code == 409
    stoken = token_of(staff_c, view)
    assert staff_c.post(f"{view}/decide", data={"csrf_token": stoken, "verdict": "approve",
                                                 "decision_reason": ""}).status_code == 422
    assert staff_c.post(f"{view}/decide", data={"csrf_token": stoken, "verdict": "approve",
                                                 "decision_reason": "事業の目的に沿う変更のため"}).status_code == 302
    db.expire_all()
    proposal = db.get(Proposal, p.pid)
    assert changes.current_budget(db, proposal) == [("消耗品費", 150_000), ("講師謝礼", 100_000)]
    change = db.get(ChangeRequest, change.id)
    assert change.status == "approved" and change.document_id is not None
    last = process_log.entries(db, proposal.call)[-1]
    assert last.kind == chain.PROJECT_DOCUMENT_PUBLISHED and last.payload["document_kind"] == "change_decision"
    served = app.test_client().get(
        f"/calls/{p.slug}/projects/{p.code}/documents/{last.payload['document_sha256']}.pdf")
    assert hashlib.sha256(served.data).hexdigest() == last.payload["document_sha256"]
    text = _pdf_text(served.data, tmp_path)
    for expected in ("変更申請の決定", "承認", "講師謝礼", "100,000円", "250,000円", "講座は事業目的に合う",
                     "事業の目的に沿う変更のため"):
        assert expected in text, expected
    # decided: no second decision
    assert staff_c.post(f"{view}/decide", data={"csrf_token": stoken, "verdict": "refuse",
                                                 "decision_reason": "x"}).status_code == 409


def test_a_final_report_drafted_submitted_accepted_publishes_its_pdf_with_the_settlement(app, db, seed, tmp_path):
    with seed() as f:
        p = running_project(db, f)
    group_c, dept_c, staff_c = signed_in(app, p.group), signed_in(app, p.clerk), signed_in(app, p.staff)
    # staff grant 180,000 and pay 200,000? refused; then 概算払 150,000
    funding = f"/admin/adoption/proposals/{p.pid}/funding"
    stoken = token_of(staff_c, funding)
    too_much = staff_c.post(funding, data={"csrf_token": stoken, "granted_amount": "250000", "payment_mode": "advance",
                                           "advance_paid": "abc", "final_due": "2027-13-01"})
    assert too_much.status_code == 422
    assert "200,000円" in too_much.text and "abc" in too_much.text and "2027-13-01" in too_much.text
    assert staff_c.post(funding, data={"csrf_token": stoken, "granted_amount": "180000", "payment_mode": "advance",
                                       "advance_paid": "150000", "granted_on": "2026-07-01"}).status_code == 302

    url = f"/projects/{p.pid}/reports/final"
    token = token_of(group_c, url)
    assert group_c.post(url, data={"csrf_token": token, "action": "save"}).status_code == 302
    report = db.scalars(select(ProjectReport).where(ProjectReport.proposal_id == p.pid)).one()
    proposal = db.get(Proposal, p.pid)
    goal_ids = [g.id for g in reports.confirmed_goals(db, proposal)]
    lines = {(line.kind, line.category): line.position for line in report.lines}
    assert lines == {("expense", "消耗品費"): 0, ("income", "自己資金"): 1}
    typed = {"csrf_token": token, "activities": "見守り訪問と連絡会を行った",
             f"goal-{goal_ids[0]}-actual": "百世帯", f"goal-{goal_ids[0]}-comment": "冬に増えた",
             f"goal-{goal_ids[1]}-actual": "月1回開催できた", "line-0": "-5", "line-1": "30000"}
    # a draft keeps what was typed, valid or not
    assert group_c.post(url, data={**typed, "action": "save"}).status_code == 302
    page = group_c.get(url)
    assert "百世帯" in page.text and 'value="-5"' in page.text
    refused = group_c.post(url, data={**typed, "action": "submit"})
    assert refused.status_code == 422
    assert "0以上の数で入力してください" in refused.text and "消耗品費" in refused.text
    typed.update({f"goal-{goal_ids[0]}-actual": "１００", "line-0": "240,000"})
    no_receipt = group_c.post(url, data={**typed, "action": "submit"})
    assert no_receipt.status_code == 422 and "領収書を添付してください" in no_receipt.text
    assert 'value="240,000"' in group_c.get(url).text  # a refused submission keeps the draft as typed
    bad_file = group_c.post(f"{url}/receipts", data={"csrf_token": token,
                                                     "receipt": (io.BytesIO(b"not a receipt"), "r.docx")},
                            content_type="multipart/form-data")
    assert bad_file.status_code == 422
    assert group_c.post(f"{url}/receipts", data={"csrf_token": token, "receipt": (io.BytesIO(_png()), "領収書1.png")},
                        content_type="multipart/form-data").status_code == 302
    assert group_c.post(url, data={**typed, "action": "submit"}).status_code == 302
    # submitted: the group can no longer change it
    assert group_c.post(url, data={**typed, "action": "save"}).status_code == 409

    # the city sends it back with a reason, the group resubmits, the department accepts
    dtoken = token_of(dept_c, url)
    assert dept_c.post(f"{url}/return", data={"csrf_token": dtoken, "return_reason": ""}).status_code == 422
    assert dept_c.post(f"{url}/return", data={"csrf_token": dtoken,
                                              "return_reason": "連絡会の回数を書いてください"}).status_code == 302
    assert "連絡会の回数を書いてください" in group_c.get(url).text
    typed[f"goal-{goal_ids[1]}-actual"] = "月1回・計8回開催"
    assert group_c.post(url, data={**typed, "action": "submit"}).status_code == 302
    assert dept_c.post(f"{url}/accept", data={"csrf_token": dtoken}).status_code == 302

    # settlement: eligible 240,000; share 240,000 × 200,000 / 250,000 = 192,000;
    # deficit 240,000 − 30,000 = 210,000; granted 180,000 -> settled 180,000; paid 150,000 -> 30,000 to pay
    db.expire_all()
    proposal = db.get(Proposal, p.pid)
    s = reports.settlement_for(db, proposal)
    assert (s.eligible_total, s.share, s.deficit, s.settled, s.to_pay, s.to_return) == (
        240_000, 192_000, 210_000, 180_000, 30_000, 0)
    work = group_c.get(f"/projects/{p.pid}/work")
    assert work.status_code == 200 and "180,000円" in work.text and "30,000円" in work.text

    last = process_log.entries(db, proposal.call)[-1]
    assert last.kind == chain.PROJECT_DOCUMENT_PUBLISHED and last.payload["document_kind"] == "final_report"
    assert chain.verify_chain(process_log.entries(db, proposal.call)).ok
    public = app.test_client()
    assert "実績報告" in public.get(f"/calls/{p.slug}/projects/{p.code}").text
    served = public.get(f"/calls/{p.slug}/projects/{p.code}/documents/{last.payload['document_sha256']}.pdf")
    assert hashlib.sha256(served.data).hexdigest() == last.payload["document_sha256"]
    text = _pdf_text(served.data, tmp_path)
    for expected in ("実績報告書", "みなと見守りの会", "見守り訪問と連絡会を行った", "100世帯", "月1回・計8回開催",
                     "240,000円", "192,000円", "180,000円", "30,000円", "領収書：1件"):
        assert expected in text, expected


def test_reminders_are_sent_once_before_the_deadline_and_once_when_overdue(app, db, seed):
    with seed() as f:
        p = running_project(db, f, period_end=date(2027, 3, 31))
    proposal = db.get(Proposal, p.pid)
    assert reports.due_dates(db, proposal)["final"] == date(2027, 4, 30)
    sent = []

    def mailer(to, subject, body):
        sent.append((to, subject))

    def run(today):
        with app.test_request_context():
            count = reminders.send_due(db, today, now_utc(), mailer, city="テスト市",
                                       link=lambda pr, kind: f"http://localhost/projects/{pr.id}/reports/{kind}")
            db.commit()
            return count

    assert run(date(2027, 4, 1)) == 0  # 29 days before: not yet
    assert run(date(2027, 4, 20)) == 1
    assert run(date(2027, 4, 21)) == 0  # once
    recipients = {to for to, _ in sent}
    assert p.group.email in recipients and p.clerk.email in recipients and p.other_clerk.email not in recipients
    assert all("提出期限が近づいています" in subject for _, subject in sent)
    count = len(sent)
    assert run(date(2027, 5, 1)) == 1 and run(date(2027, 5, 2)) == 0
    assert all("過ぎています" in subject for _, subject in sent[count:])
    keys = db.scalars(select(ProjectReminder.key).where(ProjectReminder.proposal_id == p.pid)
                      .order_by(ProjectReminder.key)).all()
    assert keys == ["final:before", "final:overdue"]


def test_the_reminder_command_queues_mail(app, db, seed, monkeypatch):
    with seed() as f:
        p = running_project(db, f)
    today = reports.due_dates(db, db.get(Proposal, p.pid))["final"] - timedelta(days=3)
    from portal.adoption import money_pages

    monkeypatch.setattr(money_pages, "today_jst", lambda: today)
    before = db.scalar(select(func.count(OutboxMessage.id)))
    first = app.test_cli_runner().invoke(args=["adoption_admin", "send-reminders"])
    assert first.exit_code == 0 and "1件" in first.output, first.output
    second = app.test_cli_runner().invoke(args=["adoption_admin", "send-reminders"])
    assert "0件" in second.output
    assert db.scalar(select(func.count(OutboxMessage.id))) > before


def test_the_worker_sends_the_reminders_every_hour_by_itself(app, db, seed, monkeypatch):
    """make run has no timer: the job worker's hourly task sends what is due, once."""
    from portal.adoption import money_pages
    from portal.jobs.queue import registered_task

    with seed() as f:
        p = running_project(db, f)
    today = reports.due_dates(db, db.get(Proposal, p.pid))["final"] - timedelta(days=3)
    monkeypatch.setattr(money_pages, "today_jst", lambda: today)
    huey = app.extensions["huey"]
    task = registered_task(huey, "project_reminders")
    from huey.api import PeriodicTask

    assert issubclass(task.task_class, PeriodicTask)  # run by the worker's scheduler, every hour
    before = db.scalar(select(func.count(OutboxMessage.id)))
    task.call_local()
    db.expire_all()
    sent = db.scalar(select(func.count(OutboxMessage.id)))
    assert sent > before
    task.call_local()
    db.expire_all()
    assert db.scalar(select(func.count(OutboxMessage.id))) == sent


def test_who_sees_the_work_pages(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
    from portal.policy import is_running_project

    assert is_running_project(db.get(Proposal, p.pid))  # the templates' test for linking the work pages
    group = signed_in(app, p.group)
    for page in (f"/proposals/{p.pid}", f"/projects/{p.pid}/agreement"):  # the group finds its way there
        assert f'href="/projects/{p.pid}/work"' in group.get(page).text, page
    pages = [f"/projects/{p.pid}/work", f"/projects/{p.pid}/reports/interim", f"/projects/{p.pid}/changes/new"]
    for user, status in ((p.group, 200), (p.clerk, 200), (p.staff, 200), (p.other_group, 404),
                         (p.other_clerk, 404)):
        client = signed_in(app, user)
        for page in pages:
            assert client.get(page).status_code == status, (user.email, page)
        assert client.get(f"/projects/{p.pid}/reports/nonsense").status_code == 404
    assert signed_in(app, p.group).get(f"/admin/adoption/proposals/{p.pid}/funding").status_code == 403
    assert signed_in(app, p.clerk).get(f"/admin/adoption/proposals/{p.pid}/funding").status_code == 403
    # the department may not file a change; another group's POST is a 404
    clerk = signed_in(app, p.clerk)
    token = token_of(clerk, f"/projects/{p.pid}/changes/new")
    assert clerk.post(f"/projects/{p.pid}/changes/new", data={"csrf_token": token, "kind": "plan", "summary": "x",
                                                               "reason": "y"}).status_code == 409
    other = signed_in(app, p.other_group)
    assert other.post(f"/projects/{p.pid}/changes/new",
                      data={"csrf_token": token_of(other, "/")}).status_code == 404


def test_a_project_document_after_a_real_publication_passes_both_verifiers(app, db, factory, monkeypatch, tmp_path):
    """The new kind sits after 結果公表 and 協定締結 in the chain: ``flask
    verify-log``, the published document's check and the standalone script
    (scripts/verify_log.py) all pass."""
    import json
    import sys
    from pathlib import Path

    from portal.adoption.changes_pages import render_change_decision
    from portal.domain.log import published_log, signing
    from portal.domain.results import publication

    from .results_support import build, close_scoring, decide_as_recommended, score, use_temporary_key

    settings = use_temporary_key(app, monkeypatch, tmp_path)
    s = build(factory, reviewers=2, proposals=2)
    for reviewer, proposal, marks in ((0, 0, [5, 4, 3, 4, 2]), (1, 0, [4, 4, 4, 3, 3]), (0, 1, [2, 2, 2, 2, 2]),
                                      (1, 1, [3, 3, 3, 3, 3])):
        score(db, s, reviewer, proposal, marks)
    close_scoring(db, s)
    staff = factory.staff()
    decide_as_recommended(db, s, staff)
    publication.publish(db, s.call, staff, now_utc(), settings=settings)
    db.commit()
    adopted = next(p for p in s.proposals if agreements.is_adopted(db, p))
    draft = agreements.start_draft(db, adopted, staff=staff, now=now_utc())
    for side, user in ((AgreementSide.GROUP, adopted.group.account), (AgreementSide.CITY, staff)):
        agreements.confirm(db, draft, side, user=user, revision_seen=draft.revision, now=now_utc(),
                           render=_fake_agreement_pdf, store=current_store())
    change = changes.file_change(db, adopted, changes.ChangeInput(kind="schedule", summary="講座を1か月延期",
                                                                  reason="会場の改修のため"), user=None, now=now_utc())
    changes.decide(db, adopted, change, approve=True, reason="やむを得ない事情のため", user=staff, now=now_utc(),
                   render=render_change_decision, store=current_store())
    db.commit()

    outcome = app.test_cli_runner().invoke(args=["verify-log", "--call", s.call.slug])
    assert outcome.exit_code == 0, outcome.output
    document = publication.log_document(db, s.call, settings.key)
    assert document["entries"][-1]["kind"] == chain.PROJECT_DOCUMENT_PUBLISHED
    trusted = signing.public_key_pem(settings.key)
    assert published_log.verify_document(document, trusted).ok
    key_file, path = tmp_path / "city.pem", tmp_path / "log.json"
    key_file.write_text(trusted)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    script = Path(__file__).resolve().parents[1] / "scripts" / "verify_log.py"
    run = subprocess.run([sys.executable, str(script), str(path), "--public-key", str(key_file)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_odd_input_never_gives_a_500(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
    group_c, staff_c = signed_in(app, p.group), signed_in(app, p.staff)
    gtoken, stoken = token_of(group_c, f"/projects/{p.pid}/work"), token_of(staff_c, f"/projects/{p.pid}/work")
    odd = ["", "-1", "9" * 40, "１e５", "\x00", "NaN", "12.5", "9999999999999", "<script>", " ", "2027-02-30"]
    for value in odd:
        funding = staff_c.post(f"/admin/adoption/proposals/{p.pid}/funding", data={
            "csrf_token": stoken, "granted_amount": value, "payment_mode": value or "advance", "advance_paid": value,
            "granted_on": value, "interim_due": value, "final_due": value})
        assert funding.status_code in (302, 422), (value, funding.status_code)
        change = group_c.post(f"/projects/{p.pid}/changes/new", data={
            "csrf_token": gtoken, "kind": "budget", "summary": value * 3000, "reason": value,
            "row-0-category": value * 30, "row-0-amount": value, "row-11-amount": value})
        assert change.status_code in (302, 409, 422), (value, change.status_code)
        report = group_c.post(f"/projects/{p.pid}/reports/final", data={
            "csrf_token": gtoken, "action": "submit", "activities": value, "goal-99999999999-actual": value,
            f"goal-{value}-actual": value, "line-0": value * 10, "line-1": value})
        assert report.status_code in (302, 409, 422), (value, report.status_code)
    assert group_c.post(f"/projects/{p.pid}/reports/final/receipts", data={"csrf_token": gtoken},
                        content_type="multipart/form-data").status_code == 422
    named = group_c.post(f"/projects/{p.pid}/reports/final/receipts",
                         data={"csrf_token": gtoken, "receipt": (io.BytesIO(_png()), "a\x00b<>" + "x" * 300 + ".png")},
                         content_type="multipart/form-data")
    assert named.status_code in (302, 409), named.status_code
    assert group_c.get(f"/projects/{p.pid}/reports/final/receipts/999").status_code == 404
    assert group_c.get(f"/projects/{p.pid}/changes/999").status_code == 404
