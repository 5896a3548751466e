"""The applicant's proposal journey through the Flask test client."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.domain.proposals.proposal_fields import DECLARATION_KEYS, REQUEST_CATEGORY
from portal.models import OutboxMessage, Proposal, ProposalStatus, Submission

from .conftest import csrf_token_from


def full_form(proposal, token, **overrides):
    data = {
        "csrf_token": token,
        "version": str(proposal.version),
        "title": "地域の茶の間づくり",
        "background": "高齢者の孤立が課題です。",
        "purpose": "誰もが立ち寄れる居場所をつくる。",
        "description": "毎週水曜に公民館で茶の間を開きます。",
        "place_and_target": "中央公民館／地域の高齢者",
        "expected_effects": "孤立の予防と見守りの輪の広がり。",
        "necessity": "市の広報と会場の協力が必要です。",
        "capability": "10年の活動実績があります。",
        "period_start": "2026-07-01",
        "period_end": "2027-02-28",
        "desired_forms": ["kyosai", "koen"],
        "related_department": "高齢福祉課",
        "role-0-item": "広報",
        "role-0-group": "チラシの作成と配布",
        "role-0-city": "市報への掲載",
        "income-0-category": REQUEST_CATEGORY,
        "income-0-amount": "２００，０００",
        "income-1-category": "自己資金",
        "income-1-amount": "50000",
        "expense-0-category": "消耗品費",
        "expense-0-amount": "250000",
        "expense-0-note": "お茶・菓子",
        "action": "save",
    }
    data.update(overrides)
    return data


def start(client, factory, login, **call_kwargs):
    user = factory.applicant()
    call = factory.call(**call_kwargs)
    login(user)
    response = client.post(f"/calls/{call.slug}/propose",
                           data={"csrf_token": csrf_token_from(client.get(f"/calls/{call.slug}/propose").text)})
    assert response.status_code == 302
    proposal_id = int(response.headers["Location"].split("/")[-2])
    return user, call, proposal_id


def editor_token(client, proposal_id):
    return csrf_token_from(client.get(f"/proposals/{proposal_id}/edit").text)


def test_draft_save_computes_totals_on_the_server(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    response = client.post(f"/proposals/{pid}/edit", data=full_form(proposal, editor_token(client, pid)))
    assert response.status_code == 302
    db.expire_all()
    proposal = db.get(Proposal, pid)
    assert proposal.title == "地域の茶の間づくり"
    assert proposal.requested_amount == 200_000  # full-width digits and commas accepted
    assert [b.amount for b in proposal.budget_lines] == [200_000, 50_000, 250_000]
    assert proposal.desired_forms == ["kyosai", "koen"]


def test_overlong_text_is_kept_and_flagged(client, factory, login, db):
    user, call, pid = start(client, factory, login, field_limits={"background": 10})
    proposal = db.get(Proposal, pid)
    long_text = "あ" * 25
    response = client.post(f"/proposals/{pid}/edit",
                           data=full_form(proposal, editor_token(client, pid), background=long_text))
    assert response.status_code == 200
    assert "10字以内にしてください（現在25字）" in response.text
    db.expire_all()
    assert db.get(Proposal, pid).background == long_text  # nothing typed is lost


def test_invalid_amount_gets_a_message_next_to_the_field(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    response = client.post(f"/proposals/{pid}/edit",
                           data=full_form(proposal, editor_token(client, pid), **{"expense-0-amount": "-5"}))
    assert response.status_code == 200
    assert 'id="expense-0-amount-error"' in response.text
    assert "金額は0以上の整数" in response.text
    assert 'value="-5"' in response.text  # what was typed stays in the form
    assert "地域の茶の間づくり" in response.text


def test_autosave_returns_new_version_and_detects_a_second_tab(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    token = editor_token(client, pid)
    first = client.post(f"/proposals/{pid}/autosave", data=full_form(proposal, token),
                        headers={"Accept": "application/json"})
    assert first.status_code == 200 and first.json["ok"]
    assert first.json["totals"] == {"income": 250_000, "expense": 250_000, "requested": 200_000}
    stale = full_form(proposal, token, title="古いタブからの保存")
    stale["version"] = "1"
    second = client.post(f"/proposals/{pid}/autosave", data=stale, headers={"Accept": "application/json"})
    assert second.status_code == 409
    assert "別のタブ" in second.json["message"]
    db.expire_all()
    assert db.get(Proposal, pid).title == "地域の茶の間づくり"


def test_confirm_page_lists_every_problem_with_links(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    html = client.get(f"/proposals/{pid}/confirm").text
    assert "提出するには、次の" in html
    # Each link opens the step of the form where the field is.
    for path in ("edit#title", "edit/content#background", "edit#period_start", "edit#desired_forms",
                 "edit/roles#role-0-group", "edit/budget#income-0-category"):
        assert f'href="/proposals/{pid}/{path}"' in html
    assert "この内容で提出する" not in html


def submit(client, pid, declarations=DECLARATION_KEYS):
    page = client.get(f"/proposals/{pid}/confirm")
    token = csrf_token_from(page.text)
    version = page.text.split('name="version" value="')[1].split('"')[0]
    return client.post(f"/proposals/{pid}/submit",
                       data={"csrf_token": token, "version": version, "declarations": list(declarations)})


def test_submit_gives_receipt_snapshot_and_mail(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    client.post(f"/proposals/{pid}/edit", data=full_form(proposal, editor_token(client, pid)))

    missing = submit(client, pid, declarations=DECLARATION_KEYS[:-1])
    assert missing.status_code == 422
    assert "同意されていない誓約事項が1件" in missing.text

    response = submit(client, pid)
    assert response.status_code == 302
    db.expire_all()
    proposal = db.get(Proposal, pid)
    assert proposal.status == ProposalStatus.SUBMITTED
    assert proposal.receipt_number.startswith("R8-")
    assert len(proposal.declarations) == len(DECLARATION_KEYS)
    assert all(d.accepted_at is not None for d in proposal.declarations)
    submission = db.scalar(select(Submission).where(Submission.proposal_id == pid))
    assert submission.snapshot["texts"][0]["value"] == "地域の茶の間づくり"
    assert submission.snapshot["budget"]["requested_amount"] == 200_000
    assert sorted(d["kind"] for d in submission.snapshot["documents"]) == ["役員名簿", "直近の事業報告・決算書", "規約・会則"]
    receipt_page = client.get(response.headers["Location"])
    assert proposal.receipt_number in receipt_page.text
    mail = db.scalar(select(OutboxMessage).where(OutboxMessage.recipient == user.email)
                     .order_by(OutboxMessage.id.desc()))
    assert proposal.receipt_number in mail.subject

    pdf = client.get(f"/proposals/{pid}/receipt/1.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert pdf.data.startswith(b"%PDF")


def test_second_click_does_not_submit_twice(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    client.post(f"/proposals/{pid}/edit", data=full_form(proposal, editor_token(client, pid)))
    page = client.get(f"/proposals/{pid}/confirm")
    token = csrf_token_from(page.text)
    version = page.text.split('name="version" value="')[1].split('"')[0]
    data = {"csrf_token": token, "version": version, "declarations": list(DECLARATION_KEYS)}
    first = client.post(f"/proposals/{pid}/submit", data=data)
    second = client.post(f"/proposals/{pid}/submit", data=data)
    assert first.status_code == 302 and second.status_code == 302
    assert second.headers["Location"].endswith(f"/proposals/{pid}")
    assert len(db.scalars(select(Submission).where(Submission.proposal_id == pid)).all()) == 1


def test_nothing_can_be_edited_after_the_deadline(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    token = editor_token(client, pid)
    call.closes_at = call.opens_at + timedelta(seconds=1)
    db.commit()
    response = client.post(f"/proposals/{pid}/edit", data=full_form(proposal, token))
    assert response.status_code == 403
    assert "締切" in response.text and "過ぎたため" in response.text
    autosave = client.post(f"/proposals/{pid}/autosave", data=full_form(proposal, token),
                           headers={"Accept": "application/json"})
    assert autosave.status_code == 403
    assert "締切" in autosave.json["message"]


def test_withdraw_until_screening_starts(client, factory, login, db):
    user = factory.applicant()
    call = factory.call()
    proposal = factory.proposal(user, call, status=ProposalStatus.SUBMITTED)
    login(user)
    page = client.get(f"/proposals/{proposal.id}/withdraw")
    assert page.status_code == 200
    response = client.post(f"/proposals/{proposal.id}/withdraw",
                           data={"csrf_token": csrf_token_from(page.text), "reason": "体制が整わないため"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Proposal, proposal.id).status == ProposalStatus.WITHDRAWN
    history = client.get(f"/proposals/{proposal.id}").text
    assert "取下げ" in history and "体制が整わないため" in history


def test_withdraw_refused_once_screening_started(client, factory, login, db):
    user = factory.applicant()
    call = factory.call(closes_in=timedelta(days=-2), screening_in=timedelta(days=-1))
    proposal = factory.proposal(user, call, status=ProposalStatus.SUBMITTED)
    login(user)
    response = client.get(f"/proposals/{proposal.id}/withdraw")
    assert response.status_code == 403
    assert "審査が始まったため" in response.text


def test_other_groups_cannot_see_a_proposal(client, factory, login, db):
    owner = factory.applicant()
    call = factory.call()
    proposal = factory.proposal(owner, call)
    login(factory.applicant())
    for path in (f"/proposals/{proposal.id}", f"/proposals/{proposal.id}/edit", f"/proposals/{proposal.id}/confirm"):
        assert client.get(path).status_code == 404


def test_an_unchanged_save_keeps_the_version_and_a_change_bumps_it_once(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    token = editor_token(client, pid)
    first = client.post(f"/proposals/{pid}/autosave", data=full_form(proposal, token),
                        headers={"Accept": "application/json"})
    version = first.json["version"]
    same = full_form(proposal, token)
    same["version"] = str(version)
    again = client.post(f"/proposals/{pid}/autosave", data=same, headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.json["version"] == version
    changed = dict(same, title="地域の茶の間づくり（改）")
    third = client.post(f"/proposals/{pid}/autosave", data=changed, headers={"Accept": "application/json"})
    assert third.json["version"] == version + 1
    db.expire_all()
    assert db.get(Proposal, pid).version == version + 1


def test_missing_group_documents_are_listed_before_submission(client, factory, login, db):
    from portal.models import FilePurpose, StoredFile

    user = factory.applicant()
    call = factory.call()
    proposal = factory.proposal(user, call)
    officers = db.scalar(select(StoredFile).where(StoredFile.group_id == user.group.id,
                                                  StoredFile.purpose == FilePurpose.OFFICERS))
    db.delete(officers)
    db.commit()
    login(user)
    html = client.get(f"/proposals/{proposal.id}/confirm").text
    assert "役員名簿（書類）" in html
    assert "この内容で提出する" not in html
    assert "役員名簿（書類）" in client.get("/mypage").text


def test_autosave_keeps_budget_rows_as_typed_even_when_they_cannot_be_read(client, factory, login, db):
    """A draft keeps what the person typed, valid or not: a negative amount,
    an exponent, a row whose category was not chosen. After a reload the
    rows come back as typed with their errors, and submission names them."""
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    token = editor_token(client, pid)
    typed = full_form(proposal, token, **{
        "income-1-category": "自己資金", "income-1-amount": "-30000", "income-1-note": "会費",
        "expense-1-category": "印刷製本費", "expense-1-amount": "1e5", "expense-1-note": "チラシ",
        "expense-2-category": "", "expense-2-amount": "8000", "expense-2-note": "区分を選び忘れた行",
    })
    saved = client.post(f"/proposals/{pid}/autosave", data=typed, headers={"Accept": "application/json"})
    assert saved.status_code == 200 and saved.json["ok"]
    assert set(saved.json["errors"]) >= {"income-1-amount", "expense-1-amount", "expense-2-category"}

    page = client.get(f"/proposals/{pid}/edit/budget").text
    for value in ('value="-30000"', 'value="会費"', 'value="1e5"', 'value="チラシ"', 'value="8000"',
                  'value="区分を選び忘れた行"'):
        assert value in page, value
    assert "金額は0以上の整数（円）で入力してください。" in page
    assert "区分を一覧から選んでください。" in page

    confirm = client.get(f"/proposals/{pid}/confirm")
    assert "収支予算書（収入）2行目" in confirm.text and "収支予算書（支出）3行目" in confirm.text

    again = client.post(f"/proposals/{pid}/autosave", data={**typed, "version": str(saved.json["version"])},
                        headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.json["version"] == saved.json["version"]  # nothing changed
