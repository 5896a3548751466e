"""The applicant's pages around submission, return and withdrawal (issue 17,
items 5-7): what the confirmation page shows, how a returned proposal
reads on マイページ and on its page, and starting again after a withdrawal."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from portal.applicant.attachments import file_size
from portal.domain.intake import intake
from portal.domain.timeutil import format_jst, now_utc
from portal.files.samples import sample_pdf
from portal.models import (
    OutboxMessage,
    Proposal,
    ProposalStatus,
    StoredFile,
    Submission,
)

from .conftest import csrf_token_from
from .test_proposal_flow import submit


def upload(client, proposal_id: int, data: bytes, name: str):
    token = csrf_token_from(client.get(f"/proposals/{proposal_id}/edit").text)
    return client.post(f"/proposals/{proposal_id}/attachments",
                       data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def text_of(html: str) -> str:
    """The page's words, without tags (a name split by markup still counts)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- 5. the confirmation page shows what the receipt will -------------------

def test_confirm_page_shows_the_group_and_the_files_the_receipt_will(client, factory, login, db):
    user = factory.applicant()
    call = factory.call()
    proposal = factory.proposal(user, call)
    login(user)
    assert upload(client, proposal.id, sample_pdf("plan"), "事業計画書.pdf").status_code == 302
    db.expire_all()  # the test shares one session across requests; each request has its own in service
    attachment = db.scalars(select(StoredFile).where(StoredFile.proposal_id == proposal.id)).one()

    confirm = client.get(f"/proposals/{proposal.id}/confirm")
    assert confirm.status_code == 200 and "この内容で提出する" in confirm.text
    page = text_of(confirm.text)
    assert f"事業計画書.pdf PDF {file_size(attachment.size)}" in page, "name, format and size of the attachment"

    assert submit(client, proposal.id).status_code == 302
    snapshot = db.scalars(select(Submission).where(Submission.proposal_id == proposal.id)).one().snapshot
    group = snapshot["group"]
    # Every row of the receipt's 提案団体, as the receipt will print it.
    assert f"{group['name']}（{group['name_kana']}）" in page
    for value in (group["kind"], group["representative"], group["contact_name"]):
        assert value and value in page, value
    for item in snapshot["attachments"]:
        assert item["name"] in page
    assert len(snapshot["documents"]) == 3
    for document in snapshot["documents"]:
        assert f"{document['kind']} {document['name']}" in page


def test_confirm_page_says_when_there_are_no_attachments(client, factory, login, db):
    user = factory.applicant()
    proposal = factory.proposal(user, factory.call())
    login(user)
    page = client.get(f"/proposals/{proposal.id}/confirm").text
    assert "添付資料はありません。" in page
    assert f"/proposals/{proposal.id}/edit/attachments" in page


# --- 6. a returned proposal stands out --------------------------------------

def returned_proposal(factory, db, reasons="収支予算書の内訳を記入してください。"):
    user = factory.applicant()
    call = factory.call()
    proposal = factory.submitted(call, user=user)
    intake.decide_intake(db, proposal, "return", reasons, factory.staff(), now_utc())
    db.commit()
    return user, proposal


def test_mypage_marks_a_returned_proposal_with_its_deadline_and_an_action(client, factory, login, db):
    user, proposal = returned_proposal(factory, db)
    other = factory.proposal(user, factory.call())  # a draft beside it, not marked
    login(user)
    html = client.get("/mypage").text
    row = next(r for r in re.findall(r"<tr.*?</tr>", html, re.DOTALL) if f"/proposals/{proposal.id}\"" in r)
    assert 'class="needs-action"' in row
    badge = re.search(r'<span class="badge returned"[^>]*>(.*?)</span>\s*$', row, re.MULTILINE).group(1)
    assert "差し戻し（要修正）" in text_of(badge)  # words, not colour alone
    assert f"修正期限： {format_jst(proposal.correction_due_at)}" in text_of(row)
    assert re.search(rf'<a class="button primary" href="/proposals/{proposal.id}/edit"[^>]*>修正して再提出する', row)
    draft_row = next(r for r in re.findall(r"<tr.*?</tr>", html, re.DOTALL) if f"/proposals/{other.id}\"" in r)
    assert "needs-action" not in draft_row and "修正期限" not in draft_row


def test_mypage_says_when_the_correction_deadline_has_passed(client, factory, login, db):
    user, proposal = returned_proposal(factory, db)
    proposal.correction_due_at = now_utc() - timedelta(hours=1)
    db.commit()
    login(user)
    html = client.get("/mypage").text
    assert "修正の期限を過ぎたため" in html
    assert "修正して再提出する" not in html


def test_returned_page_shows_the_reason_once_and_the_deadline_once(client, factory, login, db):
    reasons = "役員名簿が古いため、最新のものを添付してください。"
    user, proposal = returned_proposal(factory, db, reasons)
    login(user)
    html = client.get(f"/proposals/{proposal.id}").text
    assert html.count(reasons) == 1
    assert html.count(format_jst(proposal.correction_due_at)) == 1
    assert html.count("修正期限") == 2  # the deadline, and the history's pointer to it
    assert 'href="#intake-result"' in html


def test_a_returned_proposal_asks_to_be_corrected_with_one_clear_button(client, factory, login, db):
    user, proposal = returned_proposal(factory, db, "収支予算書の合計が合っていません。")
    login(user)
    html = client.get(f"/proposals/{proposal.id}").text
    notice = html[html.index('id="intake-result"'):html.index("</section>", html.index('id="intake-result"'))]
    assert re.search(rf'<a class="button primary" href="/proposals/{proposal.id}/edit">修正して再提出する</a>', notice)
    assert html.count("修正して再提出する") == 1 and ">編集する<" not in html
    # Once the deadline has passed, the button gives way to the reason it cannot be used.
    proposal.correction_due_at = now_utc() - timedelta(hours=1)
    db.commit()
    html = client.get(f"/proposals/{proposal.id}").text
    assert "修正して再提出する" not in html and "修正の期限を過ぎたため" in html


# --- 7. after a withdrawal: a mail, and a new draft from it ------------------

def withdraw(client, proposal_id, reason="体制が整わないため"):
    page = client.get(f"/proposals/{proposal_id}/withdraw")
    return client.post(f"/proposals/{proposal_id}/withdraw",
                       data={"csrf_token": csrf_token_from(page.text), "reason": reason})


def test_withdrawal_is_confirmed_by_mail(client, factory, login, db):
    user = factory.applicant()
    proposal = factory.submitted(factory.call(), user=user)
    login(user)
    before = db.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
    assert withdraw(client, proposal.id).status_code == 302
    mails = db.scalars(select(OutboxMessage).where(OutboxMessage.id > before)).all()
    assert [m.recipient for m in mails] == [user.email]  # the contact address is the same here
    mail = mails[0]
    assert "取下げ" in mail.subject and proposal.receipt_number in mail.subject
    assert proposal.title in mail.body and "体制が整わないため" in mail.body
    assert f"/proposals/{proposal.id}" in mail.body


def test_a_withdrawn_proposal_starts_a_new_draft_in_the_same_call(client, factory, login, db):
    user = factory.applicant()
    call = factory.call()
    source = factory.proposal(user, call, declarations=True)
    source.title = "川沿い見守りカフェ"
    db.commit()
    login(user)
    assert upload(client, source.id, sample_pdf("old"), "古い資料.pdf").status_code == 302
    db.expire_all()
    assert submit(client, source.id).status_code == 302
    assert withdraw(client, source.id).status_code == 302

    detail = client.get(f"/proposals/{source.id}").text
    assert f'href="/proposals/{source.id}/reuse"' in detail and "この提案をもとに新しく作成" in detail
    assert f"/proposals/{source.id}/reuse" in client.get(f"/calls/{call.slug}/propose").text

    page = client.get(f"/proposals/{source.id}/reuse")
    assert page.status_code == 200
    assert re.search(rf'value="{call.id}"\s+checked', page.text)  # the same call, chosen already
    response = client.post(f"/proposals/{source.id}/reuse",
                           data={"csrf_token": csrf_token_from(page.text), "call_id": str(call.id)})
    assert response.status_code == 302
    new_id = int(response.headers["Location"].split("/")[-2])
    db.expire_all()
    draft, source = db.get(Proposal, new_id), db.get(Proposal, source.id)
    assert draft.id != source.id and draft.call_id == call.id and draft.group_id == source.group_id
    assert draft.status == ProposalStatus.DRAFT and draft.receipt_number is None and not draft.submissions
    assert draft.title == "川沿い見守りカフェ" and draft.background == source.background
    assert (draft.period_start, draft.period_end, draft.desired_forms) == (
        source.period_start, source.period_end, source.desired_forms)
    assert [(r.item, r.group_role, r.city_role) for r in draft.role_shares] == [
        (r.item, r.group_role, r.city_role) for r in source.role_shares]
    assert [(b.kind, b.category, b.amount, b.note) for b in draft.budget_lines] == [
        (b.kind, b.category, b.amount, b.note) for b in source.budget_lines]
    assert draft.requested_amount == source.requested_amount == 200_000
    assert len(source.attachments) == 1 and draft.attachments == [] and draft.declarations == []
    assert [e.to_status for e in draft.events] == [ProposalStatus.DRAFT]
    assert source.status == ProposalStatus.WITHDRAWN  # the withdrawn one stays as it was
    editor = client.get(f"/proposals/{new_id}/edit")
    assert editor.status_code == 200 and "川沿い見守りカフェ" in editor.text


def test_the_new_draft_can_go_to_another_open_call(client, factory, login, db):
    user = factory.applicant()
    closed = factory.call(opens_in=timedelta(days=-30), closes_in=timedelta(days=-1))
    source = factory.proposal(user, closed, status=ProposalStatus.WITHDRAWN)
    taken = factory.call()
    factory.proposal(user, taken)
    other = factory.call()
    login(user)
    page = client.get(f"/proposals/{source.id}/reuse")
    assert page.status_code == 200
    assert f'value="{closed.id}"' not in page.text  # closed calls are not offered
    assert re.search(rf'value="{taken.id}"\s+disabled', page.text)
    assert "すでにこの団体の提案があります" in page.text
    token = csrf_token_from(page.text)

    refused = client.post(f"/proposals/{source.id}/reuse", data={"csrf_token": token, "call_id": str(taken.id)})
    assert refused.status_code == 422 and "すでにこの団体の提案があります" in refused.text
    refused = client.post(f"/proposals/{source.id}/reuse", data={"csrf_token": token, "call_id": str(closed.id)})
    assert refused.status_code == 422 and "受付期間外" in refused.text

    response = client.post(f"/proposals/{source.id}/reuse", data={"csrf_token": token, "call_id": str(other.id)})
    assert response.status_code == 302
    db.expire_all()
    draft = db.get(Proposal, int(response.headers["Location"].split("/")[-2]))
    assert draft.call_id == other.id and draft.title == source.title


def test_only_a_withdrawn_proposal_can_be_reused(client, factory, login, db):
    user = factory.applicant()
    proposal = factory.submitted(factory.call(), user=user)
    login(user)
    response = client.get(f"/proposals/{proposal.id}/reuse")
    assert response.status_code == 409 and "取り下げた提案だけ" in response.text
    assert "この提案をもとに新しく作成" not in client.get(f"/proposals/{proposal.id}").text
