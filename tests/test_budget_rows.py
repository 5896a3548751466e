"""The budget table without JavaScript: 削除 posts the form and the server
leaves that row out (keeping everything else as typed), and amounts with
thousands separators or 全角 digits are read as yen."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from portal.domain.proposals.proposal_input import parse_proposal_form
from portal.models import BudgetKind, Proposal

from .test_proposal_flow import editor_token, full_form, start


@pytest.mark.parametrize("typed", ["240,000", "２４０，０００", "２４００００", "240,000円", "¥240,000", " 240000 "])
def test_amounts_with_separators_or_full_width_digits_are_read(typed):
    data = parse_proposal_form(MultiDict({"expense-0-category": "消耗品費", "expense-0-amount": typed}))
    assert not data.errors
    assert [(row.kind, row.amount) for row in data.budget_rows] == [(BudgetKind.EXPENSE, 240_000)]


def test_a_saved_amount_is_shown_with_separators_and_totals_with_the_balance(client, factory, login, db):
    _user, _call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    client.post(f"/proposals/{pid}/edit",
                data=full_form(proposal, editor_token(client, pid), **{"expense-0-amount": "２４０，０００"}))
    html = client.get(f"/proposals/{pid}/edit/budget").text
    assert 'name="expense-0-amount" value="240000" data-amount' in html  # editor-rows.js shows 240,000
    assert 'id="total-expense">240,000円' in html
    assert 'id="total-balance">10,000円' in html  # 250,000 in, 240,000 out


def test_delete_button_without_javascript_removes_that_row_and_keeps_the_rest(client, factory, login, db):
    _user, _call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    form = full_form(proposal, editor_token(client, pid), **{
        "expense-1-category": "旅費・交通費", "expense-1-amount": "1e5", "expense-1-note": "バス代",
        "expense-2-category": "印刷製本費", "expense-2-amount": "３０，０００", "expense-2-note": "チラシ",
        "title": "あ" * 300,  # over the limit: kept and flagged, not lost
    })
    form["action"] = "delete-expense-1"
    response = client.post(f"/proposals/{pid}/edit", data=form)
    assert response.status_code == 200
    assert "支出の2行目を削除しました。" in response.text
    db.expire_all()
    lines = [(b.kind, b.category, b.amount, b.amount_text, b.note) for b in db.get(Proposal, pid).budget_lines
             if b.kind == BudgetKind.EXPENSE]
    assert lines == [(BudgetKind.EXPENSE, "消耗品費", 250_000, None, "お茶・菓子"),
                     (BudgetKind.EXPENSE, "印刷製本費", 30_000, None, "チラシ")]
    assert "バス代" not in response.text
    assert 'value="３０，０００"' in response.text  # the page (the budget step) shows what was typed
    db.expire_all()
    assert db.get(Proposal, pid).title == "あ" * 200  # all the column holds, over the 40-character limit
    assert 'id="title-error"' in client.get(f"/proposals/{pid}/edit").text  # flagged on its own step
    # Each row's button says which row it deletes.
    assert 'aria-label="支出 2行目を削除">削除</button>' in response.text
    assert 'value="delete-expense-1"' in response.text


@pytest.mark.parametrize("action", ["delete-expense-99", "delete-role-0", "delete-expense-", "delete-expense-1x"])
def test_a_delete_for_no_such_row_deletes_nothing(client, factory, login, db, action):
    _user, _call, pid = start(client, factory, login)
    proposal = db.get(Proposal, pid)
    form = full_form(proposal, editor_token(client, pid))
    form["action"] = action
    response = client.post(f"/proposals/{pid}/edit", data=form)
    assert response.status_code in (200, 302)
    db.expire_all()
    assert len(db.get(Proposal, pid).budget_lines) == 3
