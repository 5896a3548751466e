"""The database's own guards on scoring (migration 0002's triggers and
unique keys), exercised straight through the ORM and SQL, without the app's
checks in front: every forbidden write raises IntegrityError and leaves the
tables exactly as they were; the allowed neighbour of each case succeeds, so
a guard that refuses too much fails here too. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from portal.domain.timeutil import now_utc
from portal.models import (
    Assignment,
    AssignmentStatus,
    ReviewScore,
    ReviewSheet,
    ScoreReopen,
    SheetStatus,
    Stage,
)


def snapshot(db) -> dict:
    db.flush()
    queries = {
        "scores": "SELECT id, sheet_id, criterion_id, score, reason, saved_at FROM review_scores ORDER BY id",
        "sheets": "SELECT id, assignment_id, stage, status, comment_for_group, panel_note, submitted_at, salt, "
                  "commitment, sealed_seq FROM review_sheets ORDER BY id",
        "reopens": "SELECT id, sheet_id, reason, reopened_at FROM score_reopens ORDER BY id",
        "log": "SELECT id, call_id, seq, kind, hash FROM log_entries ORDER BY id",
    }
    return {name: db.execute(text(sql)).all() for name, sql in queries.items()}


def refused(db, action) -> None:
    """``action`` must be refused by the database, changing nothing."""
    before = snapshot(db)
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            action()
            db.flush()
    db.expire_all()
    assert snapshot(db) == before


def allowed(db, action) -> None:
    with db.begin_nested():
        action()
        db.flush()


@pytest.fixture()
def world(factory, db):
    """A call in its first-stage window (presentation later), a cleared and
    an uncleared assignment, and a draft sheet on the cleared one."""
    now = now_utc()
    call = factory.scoring_call(has_presentation=True)
    call.presentation_opens_at = now + timedelta(days=20)
    call.presentation_closes_at = now + timedelta(days=25)
    db.commit()
    cleared_member, waiting_member = factory.panel_member(call), factory.panel_member(call)
    proposal = factory.submitted(call)
    factory.released(proposal)
    assignments = {a.panel_member_id: a for a in db.scalars(select(Assignment).where(Assignment.proposal_id == proposal.id))}
    cleared = assignments[cleared_member.id]
    cleared.status, cleared.cleared_at = AssignmentStatus.CLEARED, now
    sheet = ReviewSheet(assignment_id=cleared.id, stage=Stage.DOCUMENT)
    db.add(sheet)
    db.commit()
    return {"call": call, "now": now, "cleared": cleared, "waiting": assignments[waiting_member.id], "sheet": sheet,
            "criterion": call.criteria[0], "other_criteria": call.criteria[1:]}


def score(sheet, criterion, value=3, at=None, reason=""):
    return ReviewScore(sheet_id=sheet.id, criterion_id=criterion.id, score=value, reason=reason,
                       saved_at=at or now_utc())


def submit(db, sheet, at):
    sheet.status, sheet.submitted_at = SheetStatus.SUBMITTED, at
    sheet.salt, sheet.commitment, sheet.sealed_seq = "a" * 64, "b" * 64, 7
    db.flush()


# -- sheets ------------------------------------------------------------------------------

def test_a_sheet_needs_a_cleared_assignment_and_a_stage_of_the_call(db, world, factory):
    refused(db, lambda: db.add(ReviewSheet(assignment_id=world["waiting"].id, stage=Stage.DOCUMENT)))
    # The call has a presentation but no revision after it.
    refused(db, lambda: db.add(ReviewSheet(assignment_id=world["cleared"].id, stage=Stage.DOCUMENT_REVISED)))
    refused(db, lambda: db.add(ReviewSheet(assignment_id=world["cleared"].id, stage=Stage.PRESENTATION,
                                           status=SheetStatus.SUBMITTED)))
    # One sheet per assignment and stage.
    refused(db, lambda: db.add(ReviewSheet(assignment_id=world["cleared"].id, stage=Stage.DOCUMENT)))
    allowed(db, lambda: db.add(ReviewSheet(assignment_id=world["cleared"].id, stage=Stage.PRESENTATION)))

    world["waiting"].status = AssignmentStatus.RECUSED
    db.commit()
    refused(db, lambda: db.add(ReviewSheet(assignment_id=world["waiting"].id, stage=Stage.DOCUMENT)))


def test_no_presentation_sheet_on_a_call_without_one(db, factory):
    call = factory.scoring_call()
    member = factory.panel_member(call)
    proposal = factory.submitted(call)
    factory.released(proposal)
    assignment = db.scalars(select(Assignment).where(Assignment.panel_member_id == member.id)).one()
    assignment.status = AssignmentStatus.CLEARED
    db.commit()
    refused(db, lambda: db.add(ReviewSheet(assignment_id=assignment.id, stage=Stage.PRESENTATION)))
    allowed(db, lambda: db.add(ReviewSheet(assignment_id=assignment.id, stage=Stage.DOCUMENT)))


# -- scores ------------------------------------------------------------------------------

def test_scores_stay_within_the_criterions_scale(db, world):
    sheet, criterion, (second, third, *_) = world["sheet"], world["criterion"], world["other_criteria"]
    refused(db, lambda: db.add(score(sheet, criterion, 0)))
    refused(db, lambda: db.add(score(sheet, criterion, 6)))
    refused(db, lambda: db.add(score(sheet, criterion, -3)))
    allowed(db, lambda: db.add(score(sheet, criterion, 1)))
    allowed(db, lambda: db.add(score(sheet, second, 5)))
    # The same criterion twice on one sheet.
    refused(db, lambda: db.add(score(sheet, criterion, 2)))
    # Raising a stored score beyond the scale with plain SQL.
    refused(db, lambda: db.execute(text("UPDATE review_scores SET score = 9 WHERE sheet_id = :s"), {"s": sheet.id}))
    allowed(db, lambda: db.add(score(sheet, third, 3)))


def test_a_criterion_of_another_call_is_refused(db, world, factory):
    other = factory.scoring_call()
    refused(db, lambda: db.add(score(world["sheet"], other.criteria[0], 3)))


def test_scores_are_saved_only_inside_the_stages_window(db, world):
    call, sheet, criterion = world["call"], world["sheet"], world["criterion"]
    refused(db, lambda: db.add(score(sheet, criterion, 3, call.scoring_opens_at - timedelta(microseconds=1))))
    refused(db, lambda: db.add(score(sheet, criterion, 3, call.scoring_closes_at)))
    refused(db, lambda: db.add(score(sheet, criterion, 3, call.presentation_opens_at + timedelta(hours=1))))
    allowed(db, lambda: db.add(score(sheet, criterion, 3, call.scoring_opens_at)))
    # An update must carry a time inside the window too (the app writes its clock).
    row = db.scalars(select(ReviewScore).where(ReviewScore.sheet_id == sheet.id)).one()

    def late_update():
        row.score, row.saved_at = 4, call.scoring_closes_at + timedelta(days=1)

    refused(db, late_update)


def test_presentation_scores_use_the_presentation_window(db, world):
    call = world["call"]
    sheet = ReviewSheet(assignment_id=world["cleared"].id, stage=Stage.PRESENTATION)
    db.add(sheet)
    db.flush()
    refused(db, lambda: db.add(score(sheet, world["criterion"], 4, world["now"])))  # first-stage window
    refused(db, lambda: db.add(score(sheet, world["criterion"], 4, call.presentation_closes_at)))
    allowed(db, lambda: db.add(score(sheet, world["criterion"], 4, call.presentation_opens_at)))


def test_scores_need_the_assignment_to_stay_cleared(db, world):
    sheet, criterion, second = world["sheet"], world["criterion"], world["other_criteria"][0]
    allowed(db, lambda: db.add(score(sheet, criterion, 3)))
    world["cleared"].status = AssignmentStatus.RECUSED
    db.commit()
    refused(db, lambda: db.add(score(sheet, second, 3)))
    refused(db, lambda: db.execute(text("UPDATE review_scores SET score = 4 WHERE sheet_id = :s"), {"s": sheet.id}))


# -- submitted sheets ---------------------------------------------------------------------

def test_a_submitted_sheet_and_its_scores_are_locked(db, world):
    sheet, criterion, second = world["sheet"], world["criterion"], world["other_criteria"][0]
    db.add(score(sheet, criterion, 3, reason="理由"))
    db.flush()
    submit(db, sheet, world["now"])
    db.commit()
    row = db.scalars(select(ReviewScore).where(ReviewScore.sheet_id == sheet.id)).one()

    def change(**values):
        def act():
            for key, value in values.items():
                setattr(sheet, key, value)
        return act

    def change_score():
        row.score, row.saved_at = 5, now_utc()

    refused(db, change_score)
    refused(db, lambda: db.add(score(sheet, second, 4)))
    refused(db, lambda: db.delete(row))
    refused(db, lambda: db.execute(text("DELETE FROM review_scores WHERE sheet_id = :s"), {"s": sheet.id}))
    refused(db, change(comment_for_group="後から書き換え"))
    refused(db, change(panel_note="後から"))
    refused(db, change(status=SheetStatus.DRAFT))
    refused(db, change(commitment="c" * 64))
    refused(db, change(sealed_seq=8))
    refused(db, change(stage=Stage.PRESENTATION))
    refused(db, lambda: db.execute(text("UPDATE review_sheets SET status = 'draft' WHERE id = :s"), {"s": sheet.id}))
    refused(db, lambda: db.execute(text("DELETE FROM review_sheets WHERE id = :s"), {"s": sheet.id}))


def test_only_a_reopen_recorded_after_submission_unlocks_a_sheet(db, world, factory):
    sheet, now = world["sheet"], world["now"]
    staff = factory.staff()
    db.add(ScoreReopen(sheet_id=sheet.id, reason="以前の再開", reopened_at=now - timedelta(hours=1),
                       reopened_by_id=staff.id))
    db.flush()
    submit(db, sheet, now)
    db.commit()

    def back_to_draft():
        sheet.status, sheet.submitted_at, sheet.commitment = SheetStatus.DRAFT, None, None

    refused(db, back_to_draft)  # the only reopen is older than the submission
    db.add(ScoreReopen(sheet_id=sheet.id, reason="記入誤り", reopened_at=now + timedelta(minutes=1),
                       reopened_by_id=staff.id))
    db.flush()
    allowed(db, back_to_draft)
    allowed(db, lambda: db.add(score(sheet, world["criterion"], 2)))


# -- append-only records ---------------------------------------------------------------------

def test_reopen_records_and_log_entries_cannot_change(db, world, factory):
    from portal.domain.log import process_log

    sheet = world["sheet"]
    db.add(ScoreReopen(sheet_id=sheet.id, reason="理由", reopened_at=world["now"]))
    process_log.append(db, world["call"], "proposal_received", {"proposal_code": "提案99"}, world["now"])
    db.commit()
    refused(db, lambda: db.execute(text("UPDATE score_reopens SET reason = '別の理由'")))
    refused(db, lambda: db.execute(text("DELETE FROM score_reopens")))
    refused(db, lambda: db.execute(text("UPDATE log_entries SET kind = 'correction'")))
    refused(db, lambda: db.execute(text("DELETE FROM log_entries")))
