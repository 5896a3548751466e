"""Where an adopted project stands, as the public page says it: 協定準備中
until the agreement is concluded, then 協定締結 until its period starts,
実施中 within the period, 協定期間終了 after it, 報告済 once an accepted
final report is published (a project document of kind ``final_report``),
評価済 once its evaluation is published. Later steps win: a project
evaluated before its period's last day is 評価済, not 実施中."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import object_session

from ...models import Agreement, AgreementStatus
from ...models.adoption_work import DOC_FINAL_REPORT, ProjectDocument
from ...models.evaluation import EvaluationPublication

PREPARING = "協定準備中"
CONCLUDED = "協定締結"
RUNNING = "実施中"
ENDED = "協定期間終了"
REPORTED = "報告済"
EVALUATED = "評価済"
ORDER = (PREPARING, CONCLUDED, RUNNING, ENDED, REPORTED, EVALUATED)


def project_status(agreement: Agreement | None, today: date) -> str:
    if agreement is None or agreement.status != AgreementStatus.CONCLUDED:
        return PREPARING
    session = object_session(agreement)
    if session is not None:
        if session.get(EvaluationPublication, agreement.proposal_id) is not None:
            return EVALUATED
        if session.scalars(select(ProjectDocument.id).where(ProjectDocument.proposal_id == agreement.proposal_id,
                                                            ProjectDocument.kind == DOC_FINAL_REPORT)
                           .limit(1)).first() is not None:
            return REPORTED
    if agreement.period_start is not None and today < agreement.period_start:
        return CONCLUDED
    if agreement.period_end is not None and today > agreement.period_end:
        return ENDED
    return RUNNING
