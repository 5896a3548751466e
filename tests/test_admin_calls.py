"""The secretariat's calls: create, edit, copy, publish, the change history
and its public trace, and who may reach these pages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.domain.calls import call_admin
from portal.domain.log import process_log
from portal.domain.log.chain import CALL_PUBLISHED, CRITERIA_CHANGED
from portal.domain.timeutil import JST, now_utc, to_jst
from portal.models import (
    Assignment,
    AssignmentStatus,
    Call,
    CallChange,
    Criterion,
    LogEntry,
    ReviewScore,
    ReviewSheet,
    SheetStatus,
    Stage,
)

from .conftest import csrf_token_from

YEAR = to_jst(now_utc()).year + 2  # far enough ahead for every date to be in the future
LEVELS = "5：優れている\n4：やや優れている\n3：普通\n2：やや劣る\n1：劣る"
CALL_ROUTES = ("admin.index", "admin.calls_list", "admin.call_new", "admin.call_overview", "admin.call_edit",
               "admin.call_copy", "admin.call_publish")


def form_data(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token, "action": "save",
        "title": f"令和{YEAR - 2018}年度 市民提案型協働モデル事業 提案募集", "slug": f"kyodo-{YEAR}",
        "fiscal_year": str(YEAR), "summary": "地域課題の解決に向けた提案を募集します。", "guidelines": "募集要項の本文。",
        "opens_at": f"{YEAR}-04-01T09:00", "closes_at": f"{YEAR}-06-30T17:00",
        "screening_starts_at": f"{YEAR}-07-01T09:00", "results_at": f"{YEAR}-09-30T10:00",
        "scoring_opens_at": f"{YEAR}-07-15T09:00", "scoring_closes_at": f"{YEAR}-08-15T17:00",
        "budget_cap_per_proposal": "300,000", "budget_total": "1500000", "min_members": "5",
        "requires_base_in_city": "y", "min_years_active": "1", "correction_days": "7",
        "limit_background": "1000", "reviewer_fields": ["title", "background", "purpose", "budget"],
        "aggregation_method": "mean", "trim_min_scorers": "5", "threshold_kind": "share", "threshold_value": "60",
        "veto_row": "0", "veto_at_or_below": "2", "tie_break_1": "1", "tie_break_2": "", "tie_break_3": "",
        "budget_policy": "skip", "score_decimals": "2", "deciding_stage": "document",
    }
    rows = [("公益性", "2"), ("実現可能性", "1.5"), ("", "1")]
    for i, (name, weight) in enumerate(rows):
        data.update({f"criteria-{i}-criterion_id": "", f"criteria-{i}-name": name,
                     f"criteria-{i}-description": f"{name}の説明" if name else "",
                     f"criteria-{i}-weight": weight, f"criteria-{i}-scale_min": "1", f"criteria-{i}-scale_max": "5",
                     f"criteria-{i}-levels": LEVELS})
    data.update(overrides)
    return data


def edit_data(client, call: Call, **overrides) -> dict:
    """What the edit page sends back untouched, with some fields changed."""
    page = client.get(f"/admin/calls/{call.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html), "action": "save"}
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.textarea = self.select = None
            self.first = False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name and name != "csrf_token":
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        value = a.get("value", "y")
                        if a.get("type") == "checkbox" and name in data:
                            data[name] = [*([data[name]] if isinstance(data[name], str) else data[name]), value]
                        else:
                            data[name] = value
                elif a.get("type") != "submit":
                    data[name] = a.get("value", "")
            elif tag == "textarea":
                self.textarea = name
                self.first = True
                data[name] = ""
            elif tag == "select":
                self.select = name
                data.setdefault(name, "")
            elif tag == "option" and "selected" in a:
                data[self.select] = a.get("value", "")

        def handle_endtag(self, tag):
            if tag == "textarea":
                self.textarea = None

        def handle_data(self, text):
            if self.textarea:
                if self.first:  # WTForms writes a newline after <textarea>, which browsers drop
                    text = text.removeprefix("\r\n").removeprefix("\n")
                    self.first = False
                data[self.textarea] += text

    Reader().feed(html)
    data.update(overrides)
    return data


@pytest.fixture()
def staff(factory, login):
    user = factory.staff()
    login(user)
    return user


def calls_count(db) -> int:
    return db.scalar(select(func.count(Call.id)))


# -- creating -------------------------------------------------------------------


def test_a_valid_form_creates_an_unpublished_call_in_tokyo_time(client, db, staff, csrf):
    response = client.post("/admin/calls/new", data=form_data(csrf("/admin/calls/new")))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    call = db.scalars(select(Call).where(Call.slug == f"kyodo-{YEAR}")).one()
    assert call.published_at is None
    assert call.closes_at == datetime(YEAR, 6, 30, 8, 0, tzinfo=UTC)  # 17:00 in Tokyo
    assert call.budget_cap_per_proposal == 300_000 and call.budget_total == 1_500_000
    assert [(c.position, c.name, c.weight) for c in call.criteria] == [(0, "公益性", 2), (1, "実現可能性", Decimal("1.5"))]
    assert call.criteria[0].level_descriptors["5"] == "優れている"
    assert call.threshold_share == Decimal("0.6") and call.threshold_points is None
    assert (call.veto_criterion_position, call.veto_at_or_below, call.tie_break_positions) == (0, 2, [1])
    assert call.field_limits == {"background": 1000}
    assert call.reviewer_fields == ["title", "background", "purpose", "budget"]
    assert process_log.rows(db, call) == []


BAD_INPUT = [
    ({"closes_at": f"{YEAR}-03-01T09:00"}, "提出締切は受付開始より後の日時にしてください。"),
    ({"screening_starts_at": f"{YEAR}-06-01T09:00"}, "審査開始は提出締切と同時かそれより後にしてください。"),
    ({"scoring_closes_at": f"{YEAR}-07-10T09:00"}, "一次審査の採点終了は採点開始より後にしてください。"),
    ({"scoring_closes_at": ""}, "一次審査の採点期間は開始と終了の両方を入力してください。"),
    ({"opens_at": f"{YEAR}/13/40 10:00"}, "存在しない日時です。"),
    ({"opens_at": f"{YEAR}-04-01"}, "時刻も入力してください"),
    ({"criteria-0-scale_min": "5", "criteria-0-scale_max": "5"}, "評価の最大値は最小値より大きくしてください"),
    ({"criteria-1-weight": "0"}, "重みは0より大きい数にしてください"),
    ({"criteria-1-weight": "abc"}, "数で入力してください"),
    ({"criteria-0-name": "", "criteria-0-description": "", "criteria-1-name": "", "criteria-1-description": "",
      "veto_row": "", "veto_at_or_below": "", "tie_break_1": ""}, "審査項目を1つ以上入力してください。"),
    ({"criteria-1-name": "公益性"}, "審査項目名「公益性」が重複しています。"),
    ({"criteria-0-levels": "5：優れている\n1：劣る"}, "各段階の説明を書いてください（未入力: 4、3、2）"),
    ({"criteria-0-levels": "とても良い"}, "点数と説明を1行ずつ書いてください"),
    ({"veto_row": "2"}, "3行目に審査項目がありません。"),
    ({"veto_at_or_below": "5"}, "否決とする点数は「公益性」の評価段階の1以上5未満にしてください。"),
    ({"veto_row": "", "veto_at_or_below": "2"}, "否決の基準とする審査項目を選んでください。"),
    ({"tie_break_2": "1"}, "同点時の優先基準に同じ審査項目が重複しています。"),
    ({"threshold_value": "120"}, "満点に対する割合は0より大きく100%以下にしてください。"),
    ({"threshold_kind": "points", "threshold_value": "99"}, "合格基準点は0点から満点までにしてください（満点 17.5点）。"),
    ({"threshold_kind": "points", "threshold_value": ""}, "合格基準の値を入力してください。"),
    ({"aggregation_method": "trimmed_mean", "trim_min_scorers": "2"}, "3以上にしてください。"),
    ({"deciding_stage": "presentation"}, "二次審査を行わない場合は、一次審査の点数で決めます。"),
    ({"has_presentation": "y"}, "二次審査を行う場合は、二次審査の採点期間を入力してください。"),
    ({"presentation_opens_at": f"{YEAR}-08-20T09:00"}, "二次審査（公開プレゼンテーション）を行う場合だけ入力できます。"),
    ({"budget_cap_per_proposal": "2000000"}, "1件あたりの上限額は予算総額以下にしてください。"),
    ({"budget_cap_per_proposal": "-5"}, "金額は0以上の整数（円）で入力してください"),
    ({"slug": "募集-2026"}, "半角の英小文字・数字・ハイフンで3〜40字にしてください"),
    ({"title": ""}, "必須項目です。入力してください。"),
    ({"title": "連絡先 info@example.jp の募集"}, "メールアドレスや電話番号のような文字は書けません。"),
    ({"min_members": "0"}, "構成員の最少人数は1人以上にしてください。"),
    ({"correction_days": "365"}, "修正期間は1〜90日で入力してください。"),
    ({"limit_background": "0"}, "1〜20000字で入力してください。"),
    ({"reviewer_fields": ["title", "secret"]}, "一覧にない値が選ばれています。"),
    ({"aggregation_method": "median"}, "一覧から選んでください。"),
    ({"min_valid_sheets": "0"}, "採点の成立に必要な採点票の数は1〜100件で入力してください"),
    ({"min_valid_sheets": "三件"}, "半角の整数で入力してください"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_each_bad_input_is_refused_with_its_message_and_every_input_is_kept(client, db, staff, csrf, overrides,
                                                                            message):
    before = calls_count(db)
    data = form_data(csrf("/admin/calls/new"), **overrides)
    response = client.post("/admin/calls/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "入力内容を確認してください" in html  # the summary at the top
    assert calls_count(db) == before
    # What was typed comes back, the wrong value included (a choice outside
    # the list cannot be shown as chosen, so choices are left out here).
    for key in ("slug", "title", "summary", "criteria-1-name", "closes_at", "budget_cap_per_proposal",
                *overrides):
        value = data[key]
        if key in CHOICE_FIELDS or not isinstance(value, str) or not value:
            continue
        assert value.replace("\n", "\r\n") in html or value in html, (key, value)


CHOICE_FIELDS = {"aggregation_method", "threshold_kind", "deciding_stage", "budget_policy", "veto_row",
                 "tie_break_1", "tie_break_2", "tie_break_3", "has_presentation", "reviewer_fields"}


@pytest.mark.parametrize("overrides", [
    {"veto_row": "abc"}, {"tie_break_1": "99"},
    {"threshold_kind": "points", "threshold_value": "999999999"}, {"threshold_kind": "share", "threshold_value": "1e9"},
    {"opens_at": "9999-99-99T99:99"}, {"fiscal_year": "９９９９９９９９９"}, {"criteria-0-scale_max": "999999999"},
    {"criteria-0-weight": "123456789.123456"}, {"criteria-0-levels": "99：とても\n5：良い"}, {"slug": "a" * 300},
])
def test_crafted_values_get_a_message_never_a_500(client, db, staff, csrf, overrides):
    # Counted before and after: tests with real commits (test_concurrency) leave calls behind.
    before = calls_count(db)
    response = client.post("/admin/calls/new", data=form_data(csrf("/admin/calls/new"), **overrides))
    assert response.status_code == 422
    assert "入力内容を確認してください" in response.get_data(as_text=True)
    assert calls_count(db) == before


def test_every_problem_is_shown_at_once(client, db, staff, csrf):
    data = form_data(csrf("/admin/calls/new"), closes_at=f"{YEAR}-03-01T09:00", title="",
                     **{"criteria-1-weight": "abc", "criteria-0-scale_max": "1"})
    html = client.post("/admin/calls/new", data=data).get_data(as_text=True)
    assert "入力内容を確認してください（4件）" in html
    for message in ("提出締切は受付開始より後", "必須項目です", "数で入力してください", "評価の最大値は最小値より大きく"):
        assert message in html


def test_the_add_row_button_keeps_everything_and_adds_blank_rows(client, db, staff, csrf):
    data = form_data(csrf("/admin/calls/new"), action="add_criterion", title="題名は残る")
    response = client.post("/admin/calls/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="題名は残る"' in html and 'value="実現可能性"' in html
    assert 'name="criteria-4-name"' in html and 'name="criteria-5-name"' not in html
    assert db.scalar(select(Call).where(Call.title == "題名は残る")) is None


def test_a_slug_in_use_is_refused_on_create_and_on_edit(client, db, factory, staff, csrf):
    taken = factory.call(slug=f"kyodo-{YEAR}")
    before = calls_count(db)
    response = client.post("/admin/calls/new", data=form_data(csrf("/admin/calls/new")))
    assert response.status_code == 422
    assert "このURL用の識別子は他の募集で使われています" in response.get_data(as_text=True)
    assert calls_count(db) == before

    draft = factory.call(published=False, slug="draft-call")
    response = client.post(f"/admin/calls/{draft.id}/edit", data=edit_data(client, draft, slug=taken.slug))
    assert response.status_code == 422
    assert "このURL用の識別子は他の募集で使われています" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Call, draft.id).slug == "draft-call"


# -- editing ----------------------------------------------------------------------


def test_an_unpublished_call_is_edited_freely_without_a_record(client, db, factory, staff):
    call = factory.call(published=False)
    data = edit_data(client, call, title="新しい名称", **{"criteria-0-weight": "3", "criteria-4-name": "",
                                                          "criteria-4-description": ""})
    response = client.post(f"/admin/calls/{call.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.expire_all()
    call = db.get(Call, call.id)
    assert call.title == "新しい名称"
    assert [c.name for c in call.criteria] == ["公益性", "必要性", "協働の効果", "実現可能性"]
    assert call.criteria[0].weight == 3
    assert db.scalar(select(func.count(CallChange.id)).where(CallChange.call_id == call.id)) == 0
    assert process_log.rows(db, call) == []


def test_an_untouched_edit_form_changes_nothing(client, db, factory, staff):
    call = factory.call()
    opens_at = call.opens_at
    response = client.post(f"/admin/calls/{call.id}/edit", data=edit_data(client, call))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.expire_all()
    assert db.get(Call, call.id).opens_at == opens_at  # seconds kept: the form works in minutes
    assert db.scalar(select(func.count(CallChange.id))) == 0


def test_a_published_call_change_without_a_reason_is_refused_and_nothing_changes(client, db, factory, staff):
    call = factory.call()
    data = edit_data(client, call, **{"criteria-0-weight": "4", "guidelines": "書き換えた要項"})
    response = client.post(f"/admin/calls/{call.id}/edit", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "公開後の変更には理由が必要です" in html
    assert 'value="4"' in html and "書き換えた要項" in html
    db.expire_all()
    call = db.get(Call, call.id)
    assert call.criteria[0].weight == 2 and call.guidelines == "募集要項の本文。"
    assert db.scalar(select(func.count(CallChange.id))) == 0
    assert process_log.rows(db, call) == []


def test_a_published_call_change_with_a_reason_is_recorded_and_published(client, db, factory, staff, app):
    call = factory.call()
    new_close = to_jst(call.closes_at) + timedelta(days=7)
    data = edit_data(client, call, reason="応募期間を1週間延長し、公益性の配点を見直しました。",
                     closes_at=new_close.strftime("%Y-%m-%dT%H:%M"),
                     **{"criteria-0-weight": "4", "criteria-1-name": "地域の必要性"})
    response = client.post(f"/admin/calls/{call.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.expire_all()
    call = db.get(Call, call.id)
    assert call.criteria[0].weight == 4 and call.criteria[1].name == "地域の必要性"
    change = db.scalars(select(CallChange).where(CallChange.call_id == call.id)).one()
    assert change.reason == "応募期間を1週間延長し、公益性の配点を見直しました。"
    assert change.changed_by_id == staff.id
    by_label = {item["label"]: item for item in change.changes}
    assert by_label["審査項目「公益性」の重み"]["before"] == "2" and by_label["審査項目「公益性」の重み"]["after"] == "4"
    assert by_label["審査項目「地域の必要性」の名称"]["before"] == "必要性"
    assert "提出締切" in by_label
    assert len(change.changes) == 3

    rows = process_log.rows(db, call)
    assert [row.kind for row in rows] == [CALL_PUBLISHED, CRITERIA_CHANGED]
    payload = rows[-1].payload
    assert payload["reason"] == change.reason
    assert payload["criteria"][0] == {"key": "0", "label": "公益性", "weight": 400, "min": 1, "max": 5}
    assert payload["document_sha256"] == process_log.guidelines_digest(call)
    assert process_log.verify(db, call).ok

    public = client.get(f"/calls/{call.slug}").get_data(as_text=True)
    assert "変更履歴" in public and change.reason in public and "審査項目「公益性」の重み" in public
    assert staff.display_name not in public and staff.email not in public


def test_a_published_slug_cannot_change(client, db, factory, staff):
    call = factory.call()
    response = client.post(f"/admin/calls/{call.id}/edit", data=edit_data(client, call, slug="new-slug", reason="URL変更"))
    assert response.status_code == 422
    assert "公開後はURL用の識別子を変更できません。" in response.get_data(as_text=True)


def test_a_reason_that_looks_like_a_contact_is_refused(client, db, factory, staff):
    call = factory.call()
    response = client.post(f"/admin/calls/{call.id}/edit",
                           data=edit_data(client, call, title="改題", reason="問合せ 0123-45-6789 まで"))
    assert response.status_code == 422
    assert db.scalar(select(func.count(LogEntry.id))) == 0


@pytest.fixture()
def scored_call(factory, db):
    """A published call on which one reviewer has saved one score."""
    call = factory.scoring_call()
    proposal = factory.submitted(call)
    factory.panel_member(call)
    factory.released(proposal)
    assignment = db.scalars(select(Assignment).where(Assignment.proposal_id == proposal.id)).one()
    assignment.status = AssignmentStatus.CLEARED
    db.flush()
    sheet = ReviewSheet(assignment_id=assignment.id, stage=Stage.DOCUMENT, status=SheetStatus.DRAFT)
    db.add(sheet)
    db.flush()
    db.add(ReviewScore(sheet_id=sheet.id, criterion_id=call.criteria[0].id, score=4, saved_at=now_utc()))
    db.commit()
    return call


def test_scored_criteria_cannot_be_removed_added_or_rescaled(client, db, scored_call, staff):
    call = scored_call
    assert call_admin.has_scores(db, call)
    cases = [
        ({"criteria-4-name": "", "criteria-4-description": ""}, "審査項目「予算の妥当性」は削除できません。"),
        ({"criteria-0-scale_max": "10", "criteria-0-levels": "\n".join(f"{n}：段階{n}" for n in range(10, 0, -1))},
         "評価の段階（1〜5）は変更できません。"),
        ({"criteria-5-name": "先駆性", "criteria-5-description": "新しさ"}, "採点が始まっているため、審査項目を追加できません。"),
    ]
    for overrides, message in cases:
        data = edit_data(client, call, reason="見直し", **overrides)
        response = client.post(f"/admin/calls/{call.id}/edit", data=data)
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True)
    db.expire_all()
    assert [(c.name, c.scale_max) for c in db.get(Call, call.id).criteria][0] == ("公益性", 5)
    assert len(db.get(Call, call.id).criteria) == 5
    assert db.scalar(select(func.count(CallChange.id))) == 0
    # Wording and weights may still change, with a reason.
    data = edit_data(client, call, reason="説明を補足しました。", **{"criteria-0-description": "公益性の説明（補足）"})
    assert client.post(f"/admin/calls/{call.id}/edit", data=data).status_code == 302
    assert db.scalar(select(func.count(CallChange.id))) == 1


# -- copying ------------------------------------------------------------------------


def test_copy_from_last_year_makes_a_new_unpublished_call_one_year_later(client, db, factory, staff, csrf):
    source = factory.call(title="令和8年度 市民提案型協働モデル事業 提案募集", slug="kyodo-2026", fiscal_year=2026,
                          threshold_share=Decimal("0.6"), tie_break_positions=[0, 3])
    token = csrf("/admin/calls")
    response = client.post(f"/admin/calls/{source.id}/copy", data={"csrf_token": token})
    assert response.status_code == 302
    copy = db.scalars(select(Call).where(Call.id != source.id)).one()
    assert copy.published_at is None and copy.fiscal_year == 2027
    assert copy.title == "令和9年度 市民提案型協働モデル事業 提案募集"
    assert copy.slug == "kyodo-2027"
    local = to_jst(source.closes_at)
    assert to_jst(copy.closes_at).replace(second=0, microsecond=0) == \
        local.replace(year=local.year + 1, second=0, microsecond=0)
    assert [(c.name, c.weight, c.scale_min, c.scale_max, c.level_descriptors) for c in copy.criteria] == \
        [(c.name, c.weight, c.scale_min, c.scale_max, c.level_descriptors) for c in source.criteria]
    assert {c.id for c in copy.criteria}.isdisjoint({c.id for c in source.criteria})
    assert (copy.threshold_share, copy.tie_break_positions, copy.budget_total) == (Decimal("0.6"), [0, 3], 1_500_000)
    assert process_log.rows(db, copy) == []
    # A second copy gets a fresh slug of its own.
    assert client.post(f"/admin/calls/{source.id}/copy", data={"csrf_token": token}).status_code == 302
    assert sorted(db.scalars(select(Call.slug))) == ["kyodo-2026", "kyodo-2027", "kyodo-2027-2"]


@pytest.mark.parametrize(("title", "expected"), [
    ("令和8年度 協働事業", "令和9年度 協働事業"),
    ("２０２６年度 協働事業", "2027年度 協働事業"),
    ("令和７年度から続く事業 令和８年度募集", "令和７年度から続く事業 令和9年度募集"),
    ("市民協働の提案募集", "市民協働の提案募集"),
])
def test_next_year_title(title, expected):
    assert call_admin.next_year_title(title, 2026) == expected


@pytest.mark.parametrize(("slug", "fiscal_year", "expected"), [
    ("r7-kyodo-model", 2025, "r8-kyodo-model"),
    ("r7-kyodo-model-2025", 2025, "r8-kyodo-model-2026"),
    ("kyodo-2026", 2026, "kyodo-2027"),
    ("reiwa7-kyodo", 2025, "reiwa8-kyodo"),
    ("fy2025-partner7", 2025, "fy2026-partner7"),
    ("kyodo-model", 2025, "kyodo-model-2026"),
])
def test_next_year_slug_moves_every_year_in_it(slug, fiscal_year, expected):
    assert call_admin.next_year_slug(slug, fiscal_year) == expected


def test_copying_the_r7_call_gives_an_r8_call_and_a_checklist(client, db, factory, staff, csrf):
    source = factory.call(title="令和7年度 市民提案型協働モデル事業 提案募集", slug="r7-kyodo-model",
                          fiscal_year=2025)
    source.guidelines = "令和7年4月1日から受け付けます。提出は２０２５年６月末まで。"
    db.commit()
    response = client.post(f"/admin/calls/{source.id}/copy", data={"csrf_token": csrf("/admin/calls")})
    assert response.status_code == 302
    copy = db.scalars(select(Call).where(Call.id != source.id)).one()
    assert (copy.title, copy.slug, copy.fiscal_year) == ("令和8年度 市民提案型協働モデル事業 提案募集", "r8-kyodo-model", 2026)
    assert response.headers["Location"].endswith(f"/admin/calls/{copy.id}#checklist-heading")
    page = client.get(f"/admin/calls/{copy.id}").get_data(as_text=True)
    assert "公開前の確認" in page and "委員がまだいません" in page
    assert "募集要項に「２０２５年」「令和7年」があります。" in page
    assert "公開前の確認" in client.get(f"/admin/calls/{copy.id}/publish").get_data(as_text=True)
    # A published call has no checklist.
    assert "公開前の確認" not in client.get(f"/admin/calls/{source.id}").get_data(as_text=True)


def test_the_checklist_flags_weekend_and_past_dates_and_last_years_text(db, factory):
    from portal.domain.calls.call_checklist import checklist
    from portal.domain.timeutil import jst_datetime

    call = factory.call(published=False, fiscal_year=2031, title="市民協働の提案募集",
                        opens_in=timedelta(days=-1), closes_in=timedelta(days=3650))
    call.guidelines = "令和１２年度の実績をふまえ、2030年度に続いて募集します。12030年の話ではありません。"
    call.closes_at = jst_datetime(2031, 6, 29, 17)  # a Sunday
    call.screening_starts_at = jst_datetime(2031, 6, 30, 9)  # a Monday
    call.results_at = jst_datetime(2031, 9, 30, 10)
    items = {item.label: item for item in checklist(call, now_utc(), panel_size=3)}
    title = items["名称と年度"]
    assert title.attention and "名称に「令和13年度」がありません。" in title.details
    dates = items["日程（前年度の日時を1年後にずらしています）"]
    assert dates.attention
    assert any(d.startswith("受付開始がすでに過ぎています") for d in dates.details)
    assert any(d.startswith("提出締切が日曜日です") for d in dates.details)
    assert not any(d.startswith("審査開始") for d in dates.details)
    text = items["概要・募集要項・審査項目の説明に残る前年度の年"]
    assert text.attention and text.details == ("募集要項に「2030年」「令和１２年」があります。",)
    panel = items["審査委員会（委員はコピーされません）"]
    assert not panel.attention and panel.details == ("委員は3人です。",)


# -- publishing ----------------------------------------------------------------------


def test_publishing_sets_the_time_and_starts_the_log(client, db, factory, staff):
    call = factory.call(published=False, opens_in=timedelta(days=5), closes_in=timedelta(days=40))
    page = client.get(f"/admin/calls/{call.id}/publish")
    assert page.status_code == 200 and "この内容で公開する" in page.get_data(as_text=True)
    response = client.post(f"/admin/calls/{call.id}/publish", data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 302
    db.expire_all()
    call = db.get(Call, call.id)
    assert call.published_at is not None
    rows = process_log.rows(db, call)
    assert [row.kind for row in rows] == [CALL_PUBLISHED]
    assert rows[0].payload == process_log.call_published_payload(call)
    assert process_log.verify(db, call).ok
    # Publishing twice changes nothing.
    again = client.post(f"/admin/calls/{call.id}/publish", data={"csrf_token": csrf_token_from(page.text)})
    assert again.status_code == 302
    assert len(process_log.rows(db, call)) == 1


def test_a_call_past_its_deadline_is_not_published(client, db, factory, staff):
    call = factory.call(published=False, opens_in=timedelta(days=-30), closes_in=timedelta(days=-1))
    page = client.get(f"/admin/calls/{call.id}/publish")
    assert "提出締切が過ぎています" in page.get_data(as_text=True)
    response = client.post(f"/admin/calls/{call.id}/publish", data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 422
    db.expire_all()
    assert db.get(Call, call.id).published_at is None
    assert db.scalar(select(func.count(LogEntry.id))) == 0


# -- pages ------------------------------------------------------------------------------


def test_overview_shows_counts_schedule_and_the_steps(client, db, factory, staff):
    call = factory.scoring_call()
    factory.submitted(call)
    factory.proposal(factory.applicant(), call)
    html = client.get(f"/admin/calls/{call.id}").get_data(as_text=True)
    for endpoint in ("intake", "anonymise", "panel", "progress", "results"):
        assert f'href="/admin/calls/{call.id}/{endpoint}"' in html
    assert "提出済み 1件（下書きを含めて 2件）" in html
    assert "受付開始" in html and "公益性" in html


def test_landing_page_lists_calls_with_their_links(client, db, factory, staff):
    call = factory.call()
    html = client.get("/admin/").get_data(as_text=True)
    assert f'href="/admin/calls/{call.id}"' in html and f'href="/admin/calls/{call.id}/edit"' in html
    assert f'action="/admin/calls/{call.id}/copy"' in html and 'href="/admin/users"' in html


def test_list_pages_use_the_same_number_of_queries_however_many_calls(client, db, factory, staff, count_queries):
    def add_calls(n):
        for _ in range(n):
            call = factory.call()
            factory.submitted(call)

    def measure(path):
        client.get(path)  # warm up (login session, templates)
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        return counter.count

    add_calls(2)
    few = {path: measure(path) for path in ("/admin/calls", "/admin/")}
    add_calls(4)
    assert {path: measure(path) for path in ("/admin/calls", "/admin/")} == few


# -- access -------------------------------------------------------------------------------


def _call_urls(app, call_id):
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in CALL_ROUTES:
            path = rule.rule.replace("<int:call_id>", str(call_id))
            urls.extend((method, path) for method in sorted(rule.methods & {"GET", "POST"}))
    assert {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint in CALL_ROUTES} == set(CALL_ROUTES)
    return urls


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_applicants_and_reviewers_are_refused_on_every_call_route(app, client, db, factory, login, csrf, role):
    call = factory.call(published=False)
    before = calls_count(db)
    user = factory.applicant() if role == "applicant" else factory.reviewer()
    login(user)
    token = csrf("/")
    for method, path in _call_urls(app, call.id):
        response = client.open(path, method=method, data={"csrf_token": token, **form_data(token)}
                               if method == "POST" else None)
        assert response.status_code == 403, (method, path, response.status_code)
    db.expire_all()
    assert db.get(Call, call.id).published_at is None and calls_count(db) == before


def test_anonymous_visitors_are_sent_to_the_login_page(app, client, db, factory):
    call = factory.call(published=False)
    for method, path in _call_urls(app, call.id):
        response = client.open(path, method=method)
        assert response.status_code in (302, 400), (method, path)
        if method == "GET":
            assert "/login" in response.headers["Location"]
