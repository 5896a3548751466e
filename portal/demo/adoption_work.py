"""令和7年度's adopted projects during the work and the money, through the
same verbs the pages use (after portal/demo/adoption.py):

- わんわん (wanwan, 生活環境課): agreement concluded, 交付決定 with 概算払;
  mid-way: an approved budget 変更申請 (its decision PDF published) and an
  accepted 中間報告 (published);
- 多文化 (tabunka, 危機管理課): agreement concluded, its period just ended,
  精算払; the 実績報告 due in two weeks, a draft with part of the figures.

The periods are set relative to the day the demo is built, so that one
project is always mid-way and the other's report always due soon.
(防災マップ is left to the evaluation: completed and evaluated.)
"""
from __future__ import annotations

from datetime import timedelta

from ..adoption.changes_pages import render_change_decision
from ..adoption.reports_pages import render_report
from ..domain.adoption import agreement as agreements
from ..domain.adoption import changes, goals, reports
from ..domain.timeutil import to_jst
from ..models import AgreementSide, Proposal
from ..models.adoption_work import PAY_ADVANCE, PAY_AFTER, REPORT_FINAL, REPORT_INTERIM

WANWAN_GOALS = [
    ("outcome", "マナー講習に参加した飼い主", "150", "人", ""),
    ("activity", "公園でのマナー講習会", "8", "回", ""),
]
TABUNKA_GOALS = [
    ("outcome", "やさしい日本語の防災ガイドを受け取った外国人住民", "200", "人", ""),
    ("activity", "多言語の防災訓練", "3", "回", ""),
]


def _conclude(loader, proposal: Proposal, rows, start, end, at, render) -> None:
    session = loader.session
    draft = agreements.start_draft(session, proposal, staff=loader.staff, now=at)
    for kind, title, number, unit, text in rows:
        goals.propose(session, proposal, goals.GoalInput(kind=kind, title=title, target_number=number, unit=unit,
                                                         target_text=text),
                      user=proposal.group.account, now=at + timedelta(days=1))
    goals.confirm(session, proposal, user=loader.staff, now=at + timedelta(days=2))
    text = agreements.AgreementText.of(draft)
    text.period_start, text.period_end = start, end
    agreements.update_draft(session, draft, text, revision_seen=draft.revision, staff=loader.staff,
                            now=at + timedelta(days=2, hours=1))
    for side, user, days in ((AgreementSide.GROUP, proposal.group.account, 3), (AgreementSide.CITY, loader.staff, 4)):
        agreements.confirm(session, draft, side, user=user, revision_seen=draft.revision, now=at + timedelta(days=days),
                           render=render, store=loader.store)


def carry_on(loader, proposals: dict[str, Proposal], render_agreement) -> None:
    session = loader.session
    today = to_jst(loader.now).date()

    # わんわん: mid-way
    wanwan = proposals["wanwan"]
    start = today - timedelta(days=120)
    at = loader.now - timedelta(days=140)
    _conclude(loader, wanwan, WANWAN_GOALS, start, today + timedelta(days=150), at, render_agreement)
    budget = changes.current_budget(session, wanwan)
    total = sum(amount for _c, amount in budget)
    reports.save_funding(session, wanwan, reports.FundingInput(
        granted_amount=str(agreements.agreement_of(session, wanwan).city_amount), granted_on=start,
        payment_mode=PAY_ADVANCE, advance_paid=str(agreements.agreement_of(session, wanwan).city_amount // 2),
        interim_due=today - timedelta(days=10)), user=loader.staff, now=at + timedelta(days=5))
    moved = min(20_000, budget[0][1]) if budget else 0
    rows = [(c, str(a - moved if i == 0 else a)) for i, (c, a) in enumerate(budget)] + [("講師謝礼", str(moved))]
    change = changes.file_change(session, wanwan, changes.ChangeInput(
        kind="budget", summary=f"講習会の講師を獣医師に依頼するため、{budget[0][0] if budget else '経費'}から"
                               f"{moved:,}円を講師謝礼に移す（総額{total:,}円は変えない）",
        reason="参加者アンケートで、しつけの専門家の話を聞きたいという声が多かったため", rows=rows),
        user=wanwan.group.account, now=loader.now - timedelta(days=60))
    changes.comment(session, change, "講習の質が上がり、事業目的に合う。総額も変わらない。")
    changes.decide(session, wanwan, change, approve=True, reason="事業の目的に沿い、総額の範囲内の変更であるため承認する。",
                   user=loader.staff, now=loader.now - timedelta(days=55), render=render_change_decision,
                   store=loader.store)
    interim = reports.start(session, wanwan, REPORT_INTERIM, user=wanwan.group.account,
                            now=loader.now - timedelta(days=15))
    sheet = reports.confirmed_goals(session, wanwan)
    reports.save_draft(session, wanwan, interim, reports.ReportInput(
        activities="公園でのマナー講習会を4回開催した（うち1回は獣医師を講師に招いた）。ふん袋の配布と見回りを毎週行った。",
        progress={sheet[0].id: ("68", "講師を獣医師にしてから参加が増えた"),
                  sheet[1].id: ("4", "計画どおり")}), user=wanwan.group.account, now=loader.now - timedelta(days=14))
    reports.submit(session, wanwan, interim, now=loader.now - timedelta(days=13))
    reports.accept(session, wanwan, interim, user=loader.staff, now=loader.now - timedelta(days=9),
                   render=render_report, store=loader.store)

    # 多文化: ended 16 days ago, 実績報告 due in 14 days, a draft started
    tabunka = proposals["tabunka"]
    end = today - timedelta(days=16)
    _conclude(loader, tabunka, TABUNKA_GOALS, end - timedelta(days=240), end, loader.now - timedelta(days=270),
              render_agreement)
    reports.save_funding(session, tabunka, reports.FundingInput(
        granted_amount=str(agreements.agreement_of(session, tabunka).city_amount), payment_mode=PAY_AFTER,
        advance_paid="0"), user=loader.staff, now=loader.now - timedelta(days=260))
    final = reports.start(session, tabunka, REPORT_FINAL, user=tabunka.group.account, now=loader.now - timedelta(days=3))
    actuals = {line.position: str(line.budget_amount) for line in final.lines if line.kind == "expense"}
    reports.save_draft(session, tabunka, final, reports.ReportInput(
        activities="やさしい日本語と4言語の防災ガイドを作り、3回の防災訓練で配布した。", actuals=actuals),
        user=tabunka.group.account, now=loader.now - timedelta(days=2))
    session.flush()
