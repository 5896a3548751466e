"""令和7年度's adopted projects carried on after the results (29 Aug 2025),
through the same verbs staff, departments and groups use:

- the departments (担当課) of the adopted projects, and one department
  account (危機管理課) that co-runs the disaster-prevention project;
- 防災マップ (bousai): goals proposed by the group and confirmed by the
  department, the agreement drafted, agreed by both sides and concluded
  (its PDF stored and its hash in the call's process log);
- the conditional 森 project (mori): a draft agreement with the goals the
  group proposed, waiting for the city's confirmation;
- the other adopted projects: no agreement yet (staff start it).
"""
from __future__ import annotations

from datetime import date

from ..adoption.documents import render_agreement
from ..domain.adoption import agreement as agreements
from ..domain.adoption import departments, goals
from ..domain.timeutil import jst_datetime
from ..models import AgreementSide, DepartmentMember, Proposal, Role

DEPARTMENTS = {"bousai": "危機管理課", "tabunka": "危機管理課", "mori": "公園緑地課", "wanwan": "生活環境課"}
DEPARTMENT_ACCOUNT = ("kikikanri@city.minato.example.jp", "危機管理課 防災係")
BOUSAI_GOALS = [
    ("outcome", "支援者用の防災マップを配布した自治会", "12", "自治会", ""),
    ("outcome", "要支援者の避難支援者が決まっている割合", "80", "%", ""),
    ("activity", "まち歩き点検の開催", "6", "回", ""),
    ("activity", "訓練の振り返り", "", "", "訓練ごとに自治会と振り返りの会を開き、結果を市と共有する"),
]
MORI_GOALS = [
    ("outcome", "落ち葉かきに参加した市民", "300", "人", ""),
    ("activity", "見回りの実施", "", "", "毎月第2土曜日に海岸林を見回り、被害木を市へ報告する"),
]


def _goals(loader, proposal: Proposal, rows, at) -> None:
    for kind, title, number, unit, text in rows:
        goals.propose(loader.session, proposal, goals.GoalInput(kind=kind, title=title, target_number=number,
                                                                unit=unit, target_text=text),
                      user=proposal.group.account, now=at)


def carry_on(loader, proposals: dict[str, Proposal]) -> None:
    render = render_agreement  # the PDF as the portal renders it (needs the app context the demo runs in)
    session = loader.session
    at = jst_datetime(2025, 9, 1, 10, 0)
    made = {}
    for key, name in DEPARTMENTS.items():
        if name not in made:
            made[name] = departments.create_department(session, name, staff=loader.staff, now=at)
        departments.assign(session, proposals[key], made[name], staff=loader.staff, now=at)
    email, display_name = DEPARTMENT_ACCOUNT
    clerk = loader._user(email, Role.DEPARTMENT, display_name, at)
    session.flush()
    session.add(DepartmentMember(user_id=clerk.id, department_id=made["危機管理課"].id, joined_at=at))

    bousai = proposals["bousai"]
    draft = agreements.start_draft(session, bousai, staff=loader.staff, now=jst_datetime(2025, 9, 2, 9, 30))
    _goals(loader, bousai, BOUSAI_GOALS, jst_datetime(2025, 9, 4, 20, 15))
    goals.confirm(session, bousai, user=clerk, now=jst_datetime(2025, 9, 8, 11, 0))
    text = agreements.AgreementText.of(draft)
    text.period_start, text.period_end = date(2025, 10, 1), date(2026, 3, 31)
    agreements.update_draft(session, draft, text, revision_seen=draft.revision, staff=loader.staff,
                            now=jst_datetime(2025, 9, 9, 15, 0))
    agreements.confirm(session, draft, AgreementSide.GROUP, user=bousai.group.account,
                       revision_seen=draft.revision, now=jst_datetime(2025, 9, 11, 19, 40), render=render,
                       store=loader.store)
    agreements.confirm(session, draft, AgreementSide.CITY, user=clerk, revision_seen=draft.revision,
                       now=jst_datetime(2025, 9, 12, 10, 20), render=render, store=loader.store)

    mori = proposals["mori"]
    agreements.start_draft(session, mori, staff=loader.staff, now=jst_datetime(2025, 9, 3, 14, 0))
    _goals(loader, mori, MORI_GOALS, jst_datetime(2025, 9, 10, 21, 5))
    session.flush()

    from . import evaluation as evaluation_demo  # 防災マップ reported and evaluated (fixed 2026 dates: before the rest)

    evaluation_demo.carry_on(loader, proposals, clerk)

    from . import adoption_work  # during the work and the money: portal/demo/adoption_work.py

    adoption_work.carry_on(loader, proposals, render)
