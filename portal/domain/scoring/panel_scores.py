"""The panel's view of one proposal and stage after scoring: every
member's submitted sheet, by pseudonym. Who may see it is
``policy.may_see_panel``."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Assignment, AssignmentStatus, PanelMember, ReviewSheet, SheetStatus, Stage


@dataclass(frozen=True)
class PanelRow:
    pseudonym: str
    is_self: bool
    recused: bool
    sheet: ReviewSheet | None  # only submitted sheets are shown


def panel_rows(session: Session, assignment: Assignment, stage: Stage) -> list[PanelRow]:
    """Every member's sheet for this proposal and stage, by pseudonym, in a
    fixed number of queries."""
    rows = session.execute(
        select(Assignment, PanelMember)
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id)
        .where(Assignment.proposal_id == assignment.proposal_id)
        .order_by(PanelMember.id)
    ).all()
    sheets = {
        s.assignment_id: s
        for s in session.scalars(
            select(ReviewSheet)
            .where(ReviewSheet.assignment_id.in_([a.id for a, _m in rows]), ReviewSheet.stage == stage,
                   ReviewSheet.status == SheetStatus.SUBMITTED)
            .options(selectinload(ReviewSheet.scores))
        )
    }
    return [
        PanelRow(member.pseudonym, other.id == assignment.id, other.status == AssignmentStatus.RECUSED,
                 None if other.status == AssignmentStatus.RECUSED else sheets.get(other.id))
        for other, member in rows
    ]
