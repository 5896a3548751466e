"""The boundary answers every domain refusal the same way: the kind decides
the status, the domain's words are shown as they are, and scripts get JSON
that names the field."""
from __future__ import annotations

import pytest

from portal.domain.proposals.workflow import EditConflict, WorkflowError
from portal.domain.refusals import Invalid, NotAllowed, NotFound, Refused, WrongState
from portal.domain.results.exact import AggregationError
from portal.domain.scoring.scoring import ScoringInvalid, ScoringNotFound, SheetIncomplete
from portal.errors import refusal_status

CASES = [
    (NotFound("この審査段階はありません。"), 404),
    (NotAllowed("利害関係により、この提案の審査から外れています。"), 403),
    (WrongState("この採点はすでに提出されています。"), 409),
    (Invalid("点数を選んでください。", field="score-1"), 422),
    (Refused("できません。"), 409),
    (ScoringNotFound("この募集には二次審査がありません。"), 404),
    (ScoringInvalid("長すぎます。"), 422),
    (SheetIncomplete([]), 422),
    (EditConflict("別の画面で先に保存されています。"), 409),
    (WorkflowError("提出できません。"), 409),
    (AggregationError("集計できません。", code="no_criteria"), 422),
]


@pytest.mark.parametrize("refusal, status", CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_the_kind_of_refusal_decides_the_status(refusal, status):
    assert refusal_status(refusal) == status


@pytest.mark.parametrize("refusal, status", CASES[:5], ids=[type(c[0]).__name__ for c in CASES[:5]])
def test_a_refusal_is_a_japanese_page_or_json_naming_the_field(app, refusal, status):
    with app.test_request_context("/", headers={"Accept": "text/html"}):
        page = app.handle_user_exception(refusal)
    assert page.status_code == status and page.mimetype == "text/html"
    assert refusal.message in page.get_data(as_text=True)
    with app.test_request_context("/", headers={"Accept": "application/json"}):
        answer = app.handle_user_exception(refusal)
    assert answer.status_code == status
    body = answer.get_json()
    assert body["ok"] is False and body["message"] == refusal.message
    assert body.get("field") == refusal.field
