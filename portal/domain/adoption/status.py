"""Where an adopted project stands, as the public page says it: 協定準備中
until the agreement is concluded, then 協定締結 until its period starts,
実施中 within the period, 協定期間終了 after it (reports and evaluation are
later steps)."""
from __future__ import annotations

from datetime import date

from ...models import Agreement, AgreementStatus

PREPARING = "協定準備中"
CONCLUDED = "協定締結"
RUNNING = "実施中"
ENDED = "協定期間終了"


def project_status(agreement: Agreement | None, today: date) -> str:
    if agreement is None or agreement.status != AgreementStatus.CONCLUDED:
        return PREPARING
    if agreement.period_start is not None and today < agreement.period_start:
        return CONCLUDED
    if agreement.period_end is not None and today > agreement.period_end:
        return ENDED
    return RUNNING
