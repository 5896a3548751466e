"""The proposal form in steps (概要・内容・役割分担・予算・添付・確認), without
JavaScript: each step is its own page, saves only its own fields, keeps what
was typed (valid or not), and moves on with buttons that save first."""
from __future__ import annotations

import re

from portal.domain.proposals.proposal_fields import REQUEST_CATEGORY
from portal.models import BudgetKind, Proposal

from .conftest import csrf_token_from
from .test_proposal_flow import editor_token, full_form, start

STEP_PATHS = {"overview": "edit", "content": "edit/content", "roles": "edit/roles", "budget": "edit/budget",
              "attachments": "edit/attachments"}


def step_form(client, pid, step, **fields):
    page = client.get(f"/proposals/{pid}/{STEP_PATHS[step]}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return {"csrf_token": csrf_token_from(page), "version": version, "step": step, **fields}


def filled(client, factory, login, db):
    user, call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    assert client.post(f"/proposals/{pid}/edit", data=full_form(proposal, editor_token(client, pid))).status_code == 302
    db.expire_all()
    return pid


def test_each_step_shows_only_its_own_fields_and_where_the_person_is(client, factory, login, db):
    _user, _call, pid = start(client, factory, login)
    own = {"overview": ['id="title"', 'id="purpose"', 'id="period_start"', 'id="desired_forms"'],
           "content": ['id="background"', 'id="description"', 'id="capability"'],
           "roles": ['id="role-0-item"', 'id="role-0-group"'],
           "budget": ['id="income-0-amount"', 'id="expense-0-amount"', 'id="total-income"'],
           "attachments": ['id="attachment-file"']}
    everything = [marker for markers in own.values() for marker in markers]
    for step, path in STEP_PATHS.items():
        response = client.get(f"/proposals/{pid}/{path}")
        assert response.status_code == 200, step
        html = response.text
        for marker in everything:
            assert (marker in html) == (marker in own[step]), (step, marker)
        nav = re.search(r'<nav class="steps" aria-label="[^"]+">\s*<ol>(.*?)</ol>', html, re.S).group(1)
        items = re.findall(r"<li\b.*?</li>", nav, re.S)
        assert [re.search(r'step-label">([^<]+)<', item).group(1) for item in items] == \
            ["概要", "内容", "役割分担", "予算", "添付", "確認"]
        current = [i for i, item in enumerate(items) if 'aria-current="step"' in item]
        assert current == [list(STEP_PATHS).index(step)], step
        assert html.count('aria-current="step"') == 1


def test_per_step_missing_items_are_listed_and_counted(client, factory, login, db):
    _user, _call, pid = start(client, factory, login)
    overview = client.get(f"/proposals/{pid}/edit").text
    missing = overview[overview.index('id="step-missing"'):]
    missing = missing[:missing.index("</div>")]
    for label in ("事業名", "目的", "実施期間（開始）", "実施期間（終了）", "希望する協働の形態"):
        assert f"{label}：" in missing
    assert "背景と地域課題" not in missing  # that is the next step's
    # The progress list counts what each step still needs: 概要 5, 内容 6, 役割分担 1, 予算 2.
    counts = re.findall(r'step-label">([^<]+)</span>(?: <span class="step-state">([^<]+)</span>)?', overview)
    assert dict(counts) == {"概要": "要確認 5件", "内容": "要確認 6件", "役割分担": "要確認 1件",
                            "予算": "要確認 2件", "添付": "", "確認": ""}


def test_a_step_saves_its_own_fields_and_keeps_every_other_step(client, factory, login, db):
    pid = filled(client, factory, login, db)
    # The overview, with every 協働の形態 unticked (a box left out of the post is unticked).
    form = step_form(client, pid, "overview", title="新しい事業名", purpose="新しい目的",
                     period_start="2026-08-01", period_end="2027-01-31", related_department="", action="save")
    response = client.post(f"/proposals/{pid}/edit", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/proposals/{pid}/edit")
    db.expire_all()
    proposal = db.get(Proposal, pid)
    assert (proposal.title, proposal.purpose, proposal.desired_forms) == ("新しい事業名", "新しい目的", [])
    assert proposal.period_start.isoformat() == "2026-08-01"
    # The other steps are as they were.
    assert proposal.background == "高齢者の孤立が課題です。"
    assert [(r.item, r.group_role) for r in proposal.role_shares] == [("広報", "チラシの作成と配布")]
    assert [b.amount for b in proposal.budget_lines] == [200_000, 50_000, 250_000]


def test_next_saves_the_step_as_typed_even_when_wrong_and_moves_on(client, factory, login, db):
    pid = filled(client, factory, login, db)
    form = step_form(client, pid, "budget", action="goto-attachments", **{
        "income-0-category": REQUEST_CATEGORY, "income-0-amount": "２００，０００",
        "income-1-category": "自己資金", "income-1-amount": "-30000", "income-1-note": "会費",
        "expense-0-category": "", "expense-0-amount": "1e5", "expense-0-note": "チラシ印刷",
    })
    response = client.post(f"/proposals/{pid}/edit", data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/proposals/{pid}/edit/attachments")
    db.expire_all()
    lines = [(b.kind, b.category, b.amount_text, b.note) for b in db.get(Proposal, pid).budget_lines]
    assert lines == [(BudgetKind.INCOME, REQUEST_CATEGORY, None, ""),
                     (BudgetKind.INCOME, "自己資金", "-30000", "会費"),
                     (BudgetKind.EXPENSE, "", "1e5", "チラシ印刷")]
    attachments = client.get(response.headers["Location"]).text
    assert "「予算」を保存しました。確認が必要な項目が3件あります。" in attachments
    # Back on the budget step, each value is shown as typed with its message.
    budget = client.get(f"/proposals/{pid}/edit/budget").text
    for value in ('value="-30000"', 'value="会費"', 'value="1e5"', 'value="チラシ印刷"'):
        assert value in budget
    assert 'id="income-1-amount-error"' in budget and 'id="expense-0-category-error"' in budget
    assert db.get(Proposal, pid).title == "地域の茶の間づくり"


def test_moving_between_steps_without_javascript_uses_buttons_that_save_first(client, factory, login, db):
    _user, _call, pid = start(client, factory, login)
    html = client.get(f"/proposals/{pid}/edit/roles").text
    start_at = html.index('id="proposal-form"')
    form = html[start_at:html.index("</form>", start_at)]
    for target in ("overview", "content", "budget", "attachments", "confirm"):
        assert f'<button type="submit" name="action" value="goto-{target}"' in form, target
    assert '<input type="hidden" name="step" value="roles">' in form
    assert "前へ：内容" in form and "次へ：予算" in form
    response = client.post(f"/proposals/{pid}/edit", data=step_form(
        client, pid, "roles", action="goto-confirm", **{"role-0-item": "広報", "role-0-group": "チラシ"}))
    assert response.headers["Location"].endswith(f"/proposals/{pid}/confirm")
    db.expire_all()
    assert [(r.item, r.group_role, r.city_role) for r in db.get(Proposal, pid).role_shares] == [("広報", "チラシ", "")]
    # 添付 and 確認 have nothing to save: plain links.
    attachments = client.get(f"/proposals/{pid}/edit/attachments").text
    assert f'href="/proposals/{pid}/edit/budget">前へ：予算' in attachments
    assert f'href="/proposals/{pid}/confirm">次へ：提出前の確認' in attachments
    confirm = client.get(f"/proposals/{pid}/confirm").text
    assert 'aria-current="step"><span class="step-number">6</span> <span class="step-label">確認' in confirm


def test_autosave_of_a_step_keeps_the_others_and_reports_only_its_own_problems(client, factory, login, db):
    pid = filled(client, factory, login, db)
    form = step_form(client, pid, "content", background="背景" * 500, purpose="ここには書けない目的")
    saved = client.post(f"/proposals/{pid}/autosave", data=form, headers={"Accept": "application/json"})
    assert saved.status_code == 200 and saved.json["ok"]
    assert set(saved.json["errors"]) == {"background"}  # over its limit: kept and flagged
    # The steps' counts for the progress list: 背景 over its limit, and the five texts of 内容 left out.
    assert saved.json["steps"] == {"overview": 0, "content": 6, "roles": 0, "budget": 0, "attachments": 0,
                                   "confirm": 0}
    db.expire_all()
    proposal = db.get(Proposal, pid)
    assert proposal.background == "背景" * 500
    assert proposal.purpose == "誰もが立ち寄れる居場所をつくる。"  # not a field of 内容: a stray value is ignored
    assert proposal.description == ""  # a field of 内容 left out of the post is empty
    assert [b.amount for b in proposal.budget_lines] == [200_000, 50_000, 250_000]


def test_unknown_steps_are_refused(client, factory, login, db):
    _user, _call, pid = start(client, factory, login)
    assert client.get(f"/proposals/{pid}/edit/nosuchstep").status_code == 404
    assert client.get(f"/proposals/{pid}/edit/confirm").headers["Location"].endswith(f"/proposals/{pid}/confirm")
    form = step_form(client, pid, "overview", title="x")
    form["step"] = "attachments"  # not a part of the form
    assert client.post(f"/proposals/{pid}/edit", data=form).status_code == 400
    db.expire_all()
    assert db.get(Proposal, pid).title == ""
