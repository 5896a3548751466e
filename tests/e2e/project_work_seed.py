"""A running project for tests/e2e/test_project_work.py, written into the
live server's database by ``python -m tests.e2e.project_work_seed``: its
own call, group, department and staff account; adopted, goals confirmed and
the agreement concluded through the domain verbs (tests/e2e/project_seed.py;
the browser walk of the agreement itself is tests/e2e/test_agreement.py)."""
from __future__ import annotations

from .project_seed import ProjectSpec, run

SPEC = ProjectSpec(key="work", slug="e2e-work", call_title="令和8年度 協働事業提案（E2E実施）",
                   project_title="まちかど花壇づくり事業", group_name="花と緑の会", representative="佐藤 一郎",
                   department="公園緑地課", clerk_email="e2e-parks@city.example.jp",
                   staff_email="e2e-work-staff@city.example.jp", goal_title="花壇の世話に参加した市民")

if __name__ == "__main__":
    run(SPEC)
