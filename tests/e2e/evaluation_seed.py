"""An adopted project with its agreement concluded, for
tests/e2e/test_evaluation.py, written into the live server's database by
``python -m tests.e2e.evaluation_seed`` (its own call, group, department
and staff account), through the domain verbs (tests/e2e/project_seed.py)."""
from __future__ import annotations

from .project_seed import ProjectSpec, run

SPEC = ProjectSpec(key="evaluation", slug="e2e-eval", call_title="令和8年度 協働事業提案（E2E評価）",
                   project_title="川辺の清掃と観察会事業", group_name="川辺を守る会", representative="鈴木 花子",
                   department="環境政策課", clerk_email="e2e-env@city.example.jp",
                   staff_email="e2e-eval-staff@city.example.jp", goal_title="清掃に参加した市民")

if __name__ == "__main__":
    run(SPEC)
