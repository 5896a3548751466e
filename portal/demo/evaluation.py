"""令和7年度's 防災マップ (bousai) completed, reported and evaluated, through
the same verbs the pages use (after portal/demo/adoption.py concluded its
agreement for 1 Oct 2025 – 31 Mar 2026):

- the 実績報告 (final report) submitted with a receipt and accepted (its PDF
  published and logged);
- the group's and 危機管理課's self-evaluations on 高岡市's eleven items,
  one item scored differently, so a 相互評価 record both sides confirmed;
- the committee's external evaluation entered by staff, and the evaluation
  published (its PDF a project document): the project reads 評価済.
"""
from __future__ import annotations

import io

from ..adoption.evaluation_pages import render_evaluation
from ..adoption.reports_pages import render_report
from ..domain.adoption import evaluation as ev
from ..domain.adoption import reports
from ..domain.timeutil import jst_datetime
from ..models import Proposal, User
from ..models.adoption_work import PAY_AFTER, REPORT_FINAL
from ..models.evaluation import EVAL_COMMITTEE, EVAL_DEPARTMENT, EVAL_GROUP

# 高岡市's eleven items, in order (portal/domain/adoption/evaluation.TAKAOKA_ITEMS)
GROUP_SCORES = [5, 4, 4, 5, 4, 4, 4, 3, 5, 5, 4]
DEPARTMENT_SCORES = [5, 4, 4, 4, 4, 4, 4, 3, 5, 5, 4]  # 協働による事業効果: 4 where the group gave 5
COMMITTEE_SCORES = [4, 4, 4, 4, 4, 4, 3, 3, 4, 4, 4]


def _receipt_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, format="PNG")
    return out.getvalue()


def carry_on(loader, proposals: dict[str, Proposal], clerk: User) -> None:
    session = loader.session
    bousai = proposals["bousai"]
    group = bousai.group.account
    reports.save_funding(session, bousai, reports.FundingInput(
        granted_amount=str(reports.decided_amount(session, bousai)), payment_mode=PAY_AFTER, advance_paid="0"),
        user=loader.staff, now=jst_datetime(2025, 9, 20, 10, 0))
    final = reports.start(session, bousai, REPORT_FINAL, user=group, now=jst_datetime(2026, 4, 10, 19, 0))
    sheet = reports.confirmed_goals(session, bousai)
    actual = {0: ("12", "全自治会に配布できた"), 1: ("85", "目標を上回った"), 2: ("6", "計画どおり"),
              3: ("訓練3回ごとに振り返りの会を開き、結果を市と共有した", "")}
    reports.save_draft(session, bousai, final, reports.ReportInput(
        activities="自治会とまち歩き点検を6回行い、要支援者の避難支援者を決めた防災マップを12自治会に配布した。",
        progress={goal.id: actual[i] for i, goal in enumerate(sheet) if i in actual},
        actuals={line.position: str(line.budget_amount or 0) for line in final.lines}),
        user=group, now=jst_datetime(2026, 4, 12, 20, 0))
    if any(line.kind == "expense" and (line.budget_amount or 0) > 0 for line in final.lines):
        reports.add_receipt(session, loader.store, final, _receipt_png(), "receipt.png", user=group,
                            now=jst_datetime(2026, 4, 12, 20, 5))
    reports.submit(session, bousai, final, now=jst_datetime(2026, 4, 13, 9, 0))
    reports.accept(session, bousai, final, user=loader.staff, now=jst_datetime(2026, 4, 20, 14, 0),
                   render=render_report, store=loader.store)

    def scores(values):
        return {str(i): v for i, v in enumerate(values)}

    ev.save(session, bousai, EVAL_GROUP, scores=scores(GROUP_SCORES),
            comments={"3": "自治会だけでは作れなかった地図が、市の持つ要支援者情報と合わさって完成した。"},
            overall="地域の防災意識が高まり、次年度は対象地区を広げたい。", user=group,
            now=jst_datetime(2026, 5, 8, 20, 0), submit=True)
    ev.save(session, bousai, EVAL_DEPARTMENT, scores=scores(DEPARTMENT_SCORES),
            comments={"3": "効果は大きいが、庁内の他課との情報共有に課題が残った。"},
            overall="目標をおおむね達成した。要支援者名簿の扱いは引き続き協議する。", user=clerk,
            now=jst_datetime(2026, 5, 12, 11, 0), submit=True)
    ev.write_mutual(session, bousai, discussion="「協働による事業効果」は、団体5・担当課4。地図の完成は協働の成果と"
                                                "双方が認めたうえで、庁内共有の課題を踏まえ4とすることで合意した。",
                    agreed_notes="次年度は福祉部局とも情報共有の場を設ける。", user=clerk,
                    now=jst_datetime(2026, 5, 20, 15, 0))
    ev.confirm_mutual(session, bousai, "city", now=jst_datetime(2026, 5, 20, 15, 30))
    ev.confirm_mutual(session, bousai, "group", now=jst_datetime(2026, 5, 21, 19, 0))
    ev.save(session, bousai, EVAL_COMMITTEE, scores=scores(COMMITTEE_SCORES),
            comments={"6": "市民への周知をさらに工夫したい。"},
            overall="地域と市の役割分担が明確で、モデル事業として他地区への展開が期待できる。", user=loader.staff,
            now=jst_datetime(2026, 6, 10, 16, 0), submit=True)
    ev.publish(session, bousai, render=render_evaluation, store=loader.store, user=loader.staff,
               now=jst_datetime(2026, 6, 15, 10, 0))
    session.flush()
