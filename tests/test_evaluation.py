"""事業評価 (issue 16 items 6 and 7): the exact combination (hand-computed),
the settings and their lock, the flow (drafts kept, submit, both see both
only when both submitted, 相互評価 confirmed by both, the committee's
evaluation, publication as a logged project document), who may see what,
the public pages and the year's exports."""
from __future__ import annotations

import csv
import hashlib
import io
import subprocess
from decimal import Decimal

import pytest

from portal.domain.adoption import evaluation as ev
from portal.domain.adoption import status
from portal.domain.log import chain, process_log
from portal.domain.refusals import WrongState
from portal.domain.timeutil import now_utc
from portal.files.objectstore import current_store
from portal.models import Call, Proposal

from .adoption_support import signed_in, token_of
from .test_project_work import running_project

ELEVEN = len(ev.TAKAOKA_ITEMS)


# -- the combination, by hand ---------------------------------------------------------

def _all(value: int, n: int = ELEVEN) -> dict:
    return {str(i): value for i in range(n)}


def test_defaults_are_takaoka_eleven_items_one_to_five_and_20_20_60():
    assert ELEVEN == 11 and ev.DEFAULT.scale_max == 5 and ev.DEFAULT.weights == (20, 20, 60)
    assert [b[0] for b in ev.DEFAULT.bands] == ["優良", "良好", "要改善"]


def test_combination_hand_computed():
    # group all 4: 20×44/55 = 16; department all 3: 20×33/55 = 12; committee all 5: 60 → 88.0 優良
    c = ev.combine(ev.DEFAULT, {"group": _all(4), "department": _all(3), "committee": _all(5)})
    assert c.points == {"group": Decimal("16.0"), "department": Decimal("12.0"), "committee": Decimal("60.0")}
    assert c.score == Decimal("88.0") and c.grade == "優良"
    # committee: ten 3s and one 4 = 34 → 60×34/55 = 37.0909…; group 44 → 16; dept 33 → 12: 65.0909… → 65.1 良好
    committee = _all(3)
    committee["10"] = 4
    c = ev.combine(ev.DEFAULT, {"group": _all(4), "department": _all(3), "committee": committee})
    assert c.score == Decimal("65.1") and c.grade == "良好"


def test_rounding_is_half_up_on_the_exact_sum_and_the_grade_reads_the_rounded_score():
    # 2 items, scale 4, weights 50/25/25: group (3,3)=6 → 50×6/8 = 37.5; dept (1,2)=3 → 25×3/8 = 9.375;
    # committee (2,2)=4 → 25×4/8 = 12.5; sum 59.375 → 59.4 (a band at 59.4 is reached)
    settings = ev.Settings(("a", "b"), 4, ("1", "2", "3", "4"), (50, 25, 25),
                           (("上", Decimal("59.4")), ("下", Decimal("0"))))
    c = ev.combine(settings, {"group": {"0": 3, "1": 3}, "department": {"0": 1, "1": 2},
                              "committee": {"0": 2, "1": 2}})
    assert c.score == Decimal("59.4") and c.grade == "上"
    # exactly .x5 rounds up: 1/3 weights impossible, so 0.05 via weights 1/0/99 on scale 10, 2 items:
    # group (1,0)… use group (1,1)=2 → 1×2/20 = 0.1; committee (1,2)=3 → 99×3/20 = 14.85 → 14.95 → 15.0
    settings = ev.Settings(("a", "b"), 10, tuple(str(i) for i in range(10)), (1, 0, 99),
                           (("x", Decimal("0")),))
    c = ev.combine(settings, {"group": {"0": 1, "1": 1}, "department": {"0": 1, "1": 1},
                              "committee": {"0": 1, "1": 2}})
    assert c.score == Decimal("15.0")


def test_a_missing_item_is_refused_never_counted_as_zero():
    group = _all(4)
    del group["7"]
    with pytest.raises(ev.Incomplete, match="行政内部の理解・協力は得られたか"):
        ev.combine(ev.DEFAULT, {"group": group, "department": _all(3), "committee": _all(5)})
    with pytest.raises(ev.Incomplete):
        ev.combine(ev.DEFAULT, {"group": _all(4), "department": _all(3), "committee": {**_all(5), "0": 6}})


def test_settings_are_checked_with_japanese_messages():
    with pytest.raises(ev.EvaluationInvalid) as refused:
        ev.parse_settings(items_text="", levels_text="悪い", weights=("20", "20", "50"),
                          bands=[("優良", "80"), ("良好", "abc")])
    problems = refused.value.problems
    assert "評価項目" in problems["items"] and "2〜10段階" in problems["levels"]
    assert "合計は100" in problems["weight_committee"] and "（いまの合計は90です）" in problems["weight_committee"]
    assert "下限点" in problems["bands"]
    s = ev.parse_settings(items_text="目標\n協働\n", levels_text="低\n中\n高", weights=("25", "25", "50"),
                          bands=[("良好", "50"), ("優良", "75"), ("要改善", "0")])
    assert s.items == ("目標", "協働") and s.scale_max == 3 and [b[0] for b in s.bands] == ["優良", "良好", "要改善"]


# -- the flow through the pages -------------------------------------------------------

def _form(token, scores: dict, action="submit", **extra):
    data = {"csrf_token": token, "action": action, **extra}
    data.update({f"score-{i}": str(v) for i, v in scores.items()})
    return data


def test_the_whole_flow_mutual_visibility_and_publication(app, db, seed, tmp_path):
    with seed() as f:
        p = running_project(db, f)
    group, dept, staff = signed_in(app, p.group), signed_in(app, p.clerk), signed_in(app, p.staff)
    url = f"/projects/{p.pid}/evaluation"
    token = token_of(group, url)
    # a draft with a bad value loses nothing; a draft is kept; submitting with an item missing is refused
    bad = group.post(url, data=_form(token, {0: 9, 1: 4}, action="draft", **{"comment-1": "住民の参加が増えた"}))
    assert bad.status_code == 422 and "1〜5の点数" in bad.text and "住民の参加が増えた" in bad.text
    assert group.post(url, data=_form(token, {0: 4}, action="draft", overall="手応えあり")).status_code == 302
    refused = group.post(url, data=_form(token, {0: 4}, overall="手応えあり"))
    assert refused.status_code == 422 and "下書きは保存しました" in refused.text
    assert "手応えあり" in group.get(url).text
    group_scores = {i: 4 for i in range(ELEVEN)}
    group_scores[3] = 5
    assert group.post(url, data=_form(token, group_scores, overall="GROUP-OVERALL")).status_code == 302
    # the department does not see the group's evaluation before submitting its own
    dtoken = token_of(dept, url)
    assert "GROUP-OVERALL" not in dept.get(url).text
    assert dept.post(url, data=_form(dtoken, {i: 4 for i in range(ELEVEN)}, overall="DEPT-OVERALL")).status_code == 302
    # now both see both, and the differing item
    for client in (group, dept):
        page = client.get(url).text
        assert "GROUP-OVERALL" in page and "DEPT-OVERALL" in page and "差あり" in page
    # a submitted evaluation does not change
    assert group.post(url, data=_form(token, group_scores)).status_code == 409
    # the committee (staff) evaluates; publishing waits for the 相互評価
    stoken = token_of(staff, url)
    assert staff.post(url, data=_form(stoken, {i: 4 for i in range(ELEVEN)})).status_code == 302
    assert staff.post(f"{url}/publish", data={"csrf_token": stoken}).status_code == 409
    assert group.post(f"{url}/mutual", data={"csrf_token": token, "discussion": ""}).status_code == 422
    assert group.post(f"{url}/mutual", data={"csrf_token": token, "discussion": "項目4は団体の工夫を評価し5点とした",
                                             "agreed_notes": "次年度は広報を強化"}).status_code == 302
    assert group.post(f"{url}/mutual/confirm", data={"csrf_token": token}).status_code == 302
    assert staff.post(f"{url}/publish", data={"csrf_token": stoken}).status_code == 409
    assert dept.post(f"{url}/mutual/confirm", data={"csrf_token": dtoken}).status_code == 302
    # group 45/55×20 = 16.3636…, dept 44/55×20 = 16, committee 44/55×60 = 48 → 80.3636… → 80.4 優良
    assert "80.4" in staff.get(url).text
    assert staff.post(f"{url}/publish", data={"csrf_token": stoken}).status_code == 302
    assert staff.post(f"{url}/publish", data={"csrf_token": stoken}).status_code == 409  # once

    entries = process_log.entries(db, db.get(Proposal, p.pid).call)
    last = entries[-1]
    assert last.kind == chain.PROJECT_DOCUMENT_PUBLISHED and last.payload["document_kind"] == "evaluation"
    digest = last.payload["document_sha256"]
    public = app.test_client()
    project = public.get(f"/calls/{p.slug}/projects/{p.code}").text
    assert "評価済" in project and "80.4" in project and "優良" in project and digest in project
    pdf = public.get(f"/calls/{p.slug}/projects/{p.code}/documents/{digest}.pdf")
    assert pdf.status_code == 200 and hashlib.sha256(pdf.data).hexdigest() == digest
    path = tmp_path / "evaluation.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "事業評価書" in text and "80.4" in text and "優良" in text and "次年度は広報を強化" in text
    # the year's evaluations
    year = public.get(f"/calls/{p.slug}/evaluations")
    assert year.status_code == 200 and "80.4" in year.text and p.code in year.text
    data = public.get(f"/calls/{p.slug}/evaluations.json").get_json()
    assert data["evaluations"][0]["score"] == "80.4" and data["evaluations"][0]["document_sha256"] == digest
    assert data["settings"]["weights"] == {"group": 20, "department": 20, "committee": 60}
    rows = list(csv.reader(io.StringIO(public.get(f"/calls/{p.slug}/evaluations.csv").data.decode("utf-8-sig"))))
    assert rows[0][0] == "提案コード" and rows[1][3] == "80.4" and rows[1][4] == "優良"
    year_pdf = public.get(f"/calls/{p.slug}/evaluations.pdf")
    assert year_pdf.status_code == 200 and year_pdf.data.startswith(b"%PDF")
    # the settings are locked now
    call_id = db.get(Proposal, p.pid).call_id
    settings_url = f"/admin/adoption/calls/{call_id}/evaluation"
    assert "設定は変更できません" in staff.get(settings_url).text
    assert staff.post(settings_url, data={"csrf_token": stoken, "items": "a", "levels": "1\n2",
                                          "weight_group": "20", "weight_department": "20",
                                          "weight_committee": "60", "band-0": "可", "threshold-0": "0"}
                      ).status_code == 409


def test_settings_page_refuses_bad_weights_and_keeps_what_was_typed(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
    staff = signed_in(app, p.staff)
    call_id = db.get(Proposal, p.pid).call_id
    url = f"/admin/adoption/calls/{call_id}/evaluation"
    page = staff.get(url)
    assert page.status_code == 200 and "ノウハウは蓄積されたか" in page.text
    token = token_of(staff, url)
    form = {"csrf_token": token, "items": "目標の達成\n協働の効果", "levels": "低い\n普通\n高い",
            "weight_group": "30", "weight_department": "30", "weight_committee": "30",
            "band-0": "優良", "threshold-0": "70", "band-1": "要改善", "threshold-1": "0"}
    bad = staff.post(url, data=form)
    assert bad.status_code == 422 and "合計は100" in bad.text and "協働の効果" in bad.text
    form["weight_committee"] = "40"
    assert staff.post(url, data=form).status_code == 302
    assert ev.settings_of(db, db.get(Call, call_id)).weights == (30, 30, 40)


def test_who_sees_the_evaluation_pages(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
    url = f"/projects/{p.pid}/evaluation"
    for user, expected in ((p.group, 200), (p.clerk, 200), (p.staff, 200), (p.other_clerk, 404),
                           (p.other_group, 404)):
        assert signed_in(app, user).get(url).status_code == expected, user.email
    assert app.test_client().get(url).status_code in (302, 401)
    # the department may not publish; another group may not post
    dept = signed_in(app, p.clerk)
    assert dept.post(f"{url}/publish", data={"csrf_token": token_of(dept, url)}).status_code == 403
    other = signed_in(app, p.other_group)
    assert other.post(url, data={"csrf_token": token_of(other, "/")}).status_code == 404


def test_status_moves_to_evaluated_and_the_agreement_pdf_is_public(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
    public = app.test_client()
    page = public.get(f"/calls/{p.slug}/projects/{p.code}").text
    assert "実施中" in page or "協定締結" in page or "協定期間終了" in page
    pdf = public.get(f"/calls/{p.slug}/projects/{p.code}/agreement.pdf")
    assert pdf.status_code == 200 and pdf.data == b"%PDF-1.4 agreement"
    assert public.get(f"/calls/{p.slug}/projects/NOPE/agreement.pdf").status_code == 404
    assert public.get(f"/calls/{p.slug}/evaluations").status_code == 200
    assert status.ORDER[-1] == status.EVALUATED == "評価済"


def test_committee_waits_for_both_self_evaluations(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
        proposal = db.get(Proposal, p.pid)
        with pytest.raises(WrongState):
            ev.save(db, proposal, "committee", scores=_all(3), comments={}, overall="", user=None,
                    now=now_utc(), submit=True)


def test_the_year_csv_runs_nothing(app, db, seed):
    with seed() as f:
        p = running_project(db, f)
        proposal = db.get(Proposal, p.pid)
        proposal.group.name = "=HYPERLINK(\"http://evil\")"
        for side in ev.SIDES:
            ev.save(db, proposal, side, scores=_all(3), comments={}, overall="", user=None, now=now_utc(),
                    submit=True)
        ev.publish(db, proposal, render=lambda pr, c: b"%PDF-1.4 evaluation", store=current_store(), user=None,
                   now=now_utc())
        db.commit()
    data = app.test_client().get(f"/calls/{p.slug}/evaluations.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[1][2].startswith("'=") and rows[1][3] == "60.0" and rows[1][4] == "良好"
