"""The scoring verbs (portal/domain/scoring.py) on the real database: drafts,
submission and sealing, reopening, the second stage and the revision of the
first, conflicts declared by reviewers, and when the panel may see scores."""
from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from portal import policy
from portal.domain.log import chain, process_log, published_log
from portal.errors import refusal_status
from portal.domain.refusals import Invalid, NotAllowed, WrongState
from portal.domain.log.seals import Reveal, check_reveals, commit_scores
from portal.domain.panel import conflict_declaration
from portal.domain.scoring import panel_scores, scoring, stages
from portal.domain.scoring.scoring import ScoreInput, ScoringRefused, SheetIncomplete, SheetInput
from portal.domain.timeutil import now_utc
from portal.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    ConflictStatus,
    LogEntry,
    ReviewScore,
    ReviewSheet,
    ScoreReopen,
    SheetStatus,
    Stage,
)

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "verify_log.py"
_spec = importlib.util.spec_from_file_location("verify_log_for_scoring", SCRIPT)
verifier = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verifier)


def assignment_of(db, member, proposal) -> Assignment:
    return db.scalars(select(Assignment).where(Assignment.panel_member_id == member.id,
                                               Assignment.proposal_id == proposal.id)).one()


@pytest.fixture()
def panel(factory, db):
    """A call in its first-stage window, two members, one released proposal."""
    call = factory.scoring_call()
    first, second = factory.panel_member(call), factory.panel_member(call)
    proposal = factory.submitted(call)
    factory.released(proposal)
    return call, proposal, first, second


def full_input(call, score=4, reason="地域の課題に合っている。") -> SheetInput:
    return SheetInput(scores={c.id: ScoreInput(score, reason) for c in call.criteria},
                      comment_for_group="見守りの担い手を増やす工夫を評価します。", panel_note="予算の精査が必要。")


def cleared(db, member, proposal, now=None) -> Assignment:
    assignment = assignment_of(db, member, proposal)
    conflict_declaration.confirm_no_conflict(db, assignment, now or now_utc())
    return assignment


def log_kinds(db, call) -> list[str]:
    return [row.kind for row in process_log.rows(db, call)]


# -- drafts and submission ---------------------------------------------------------

def test_a_partial_draft_is_kept_and_submission_lists_every_gap(db, panel):
    call, proposal, member, _ = panel
    assignment = cleared(db, member, proposal)
    first, second, *rest = call.criteria
    now = now_utc()
    data = SheetInput(scores={first.id: ScoreInput(5, "とても必要"), second.id: ScoreInput(3, "")},
                      comment_for_group="講評案")
    sheet = scoring.save_draft(db, assignment, Stage.DOCUMENT, data, now)
    db.commit()
    stored = {s.criterion_id: (s.score, s.reason) for s in db.get(ReviewSheet, sheet.id).scores}
    assert stored == {first.id: (5, "とても必要"), second.id: (3, "")}
    assert sheet.status == SheetStatus.DRAFT and sheet.comment_for_group == "講評案"

    with pytest.raises(SheetIncomplete) as refused:
        scoring.submit_sheet(db, sheet, now)
    keys = {p.key for p in refused.value.problems}
    assert f"reason-{second.id}" in keys and f"score-{first.id}" not in keys
    assert {f"score-{c.id}" for c in rest} <= keys and {f"reason-{c.id}" for c in rest} <= keys
    db.rollback()
    assert db.get(ReviewSheet, sheet.id).status == SheetStatus.DRAFT
    assert "score_sealed" not in log_kinds(db, call)


def test_submitting_seals_the_scores_in_the_log(db, panel):
    call, proposal, member, _ = panel
    assignment = cleared(db, member, proposal)
    now = now_utc()
    sheet = scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call, score=4), now)
    scoring.submit_sheet(db, sheet, now)
    db.commit()

    sheet = db.get(ReviewSheet, sheet.id)
    assert sheet.status == SheetStatus.SUBMITTED and sheet.submitted_at is not None
    assert len(sheet.salt) == 64 and int(sheet.salt, 16) >= 0
    expected = {str(c.position): 4 for c in call.criteria}
    assert sheet.commitment == commit_scores(expected, bytes.fromhex(sheet.salt))
    entry = db.scalars(select(LogEntry).where(LogEntry.call_id == call.id, LogEntry.seq == sheet.sealed_seq)).one()
    assert entry.kind == "score_sealed"
    assert entry.payload == {"reviewer": member.pseudonym, "proposal_code": proposal.anonymous_code,
                             "stage": "document", "commitment": sheet.commitment}
    assert process_log.verify(db, call).ok


def test_a_submitted_sheet_cannot_be_saved_again(db, panel):
    call, proposal, member, _ = panel
    assignment = cleared(db, member, proposal)
    now = now_utc()
    sheet = scoring.submit_sheet(db, scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call), now), now)
    db.commit()
    with pytest.raises(ScoringRefused) as refused:
        scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call, score=1), now)
    assert isinstance(refused.value, WrongState) and "提出済み" in refused.value.message
    with pytest.raises(ScoringRefused):
        scoring.submit_sheet(db, sheet, now)
    db.rollback()
    assert {s.score for s in db.get(ReviewSheet, sheet.id).scores} == {4}


def test_a_changed_draft_rewrites_only_changed_scores_and_can_drop_one(db, panel):
    call, proposal, member, _ = panel
    assignment = cleared(db, member, proposal)
    start = now_utc() - timedelta(hours=2)
    sheet = scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call, score=3), start)
    later = start + timedelta(hours=1)
    first, second, *_ = call.criteria
    data = full_input(call, score=3)
    data.scores[first.id] = ScoreInput(5, "見直した")
    data.scores[second.id] = ScoreInput(None, "")
    scoring.save_draft(db, assignment, Stage.DOCUMENT, data, later)
    db.commit()
    rows = {s.criterion_id: s for s in db.scalars(select(ReviewScore).where(ReviewScore.sheet_id == sheet.id))}
    assert second.id not in rows
    assert (rows[first.id].score, rows[first.id].reason, rows[first.id].saved_at) == (5, "見直した", later)
    assert all(r.saved_at == start for cid, r in rows.items() if cid != first.id)
    assert scoring.unsaved_reasons(SheetInput(scores={first.id: ScoreInput(None, "理由だけ")})) == [first.id]


# -- refusals ---------------------------------------------------------------------------

def sheet_count(db) -> int:
    return db.scalar(select(func.count()).select_from(ReviewSheet))


def test_bad_input_and_wrong_moments_are_refused_and_change_nothing(db, factory, panel):
    call, proposal, member, _ = panel
    other_call = factory.scoring_call()
    assignment = assignment_of(db, member, proposal)
    now = now_utc()
    before = (sheet_count(db), len(log_kinds(db, call)))

    with pytest.raises(ScoringRefused) as refused:  # not yet cleared
        scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call), now)
    assert isinstance(refused.value, NotAllowed) and "利害関係" in refused.value.message
    conflict_declaration.confirm_no_conflict(db, assignment, now)

    cases = [
        (full_input(other_call), Stage.DOCUMENT, now, 422, "審査基準ではない"),
        (SheetInput(scores={call.criteria[0].id: ScoreInput(6, "")}), Stage.DOCUMENT, now, 422, "1～5点"),
        (SheetInput(scores={call.criteria[0].id: ScoreInput(0, "")}), Stage.DOCUMENT, now, 422, "1～5点"),
        (full_input(call), Stage.PRESENTATION, now, 404, "二次審査"),
        (full_input(call), Stage.DOCUMENT_REVISED, now, 404, "二次審査"),
        (full_input(call), Stage.DOCUMENT, call.scoring_closes_at, 403, "終了しました"),
        (full_input(call), Stage.DOCUMENT, call.scoring_opens_at - timedelta(seconds=1), 403, "始まっていません"),
        (SheetInput(panel_note="あ" * (scoring.TEXT_HARD_MAX + 1)), Stage.DOCUMENT, now, 422, "長すぎる"),
    ]
    for data, stage, at, status, words in cases:
        with pytest.raises(ScoringRefused) as refused:
            scoring.save_draft(db, assignment, stage, data, at)
        assert (refusal_status(refused.value), words in refused.value.message) == (status, True), refused.value.message
    db.rollback()
    assert (sheet_count(db), len(log_kinds(db, call))) == before


def test_nothing_is_scored_after_the_secretariat_closed_the_scoring(db, panel):
    call, proposal, member, _ = panel
    assignment = cleared(db, member, proposal)
    now = now_utc()
    sheet = scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call), now)
    call.scoring_closed_at = now  # closed early, inside the window
    db.commit()
    for verb in (lambda: scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call, 1), now),
                 lambda: scoring.submit_sheet(db, sheet, now)):
        with pytest.raises(ScoringRefused) as refused:
            verb()
        assert isinstance(refused.value, NotAllowed) and "締め切られています" in refused.value.message
    db.rollback()
    assert db.get(ReviewSheet, sheet.id).status == SheetStatus.DRAFT
    assert {s.score for s in db.get(ReviewSheet, sheet.id).scores} == {4}


def test_a_recused_assignment_cannot_be_scored_or_cleared(db, panel):
    call, proposal, member, _ = panel
    assignment = assignment_of(db, member, proposal)
    conflict_declaration.declare_conflict(db, assignment, "", now_utc())
    for verb in (lambda: conflict_declaration.confirm_no_conflict(db, assignment, now_utc()),
                 lambda: scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call), now_utc())):
        with pytest.raises(ScoringRefused) as refused:
            verb()
        assert isinstance(refused.value, NotAllowed)
    assert sheet_count(db) == 0


# -- reopening ------------------------------------------------------------------------

def test_staff_reopen_with_a_reason_supersedes_the_seal(db, factory, panel):
    call, proposal, member, _ = panel
    staff = factory.staff()
    assignment = cleared(db, member, proposal)
    now = now_utc()
    sheet = scoring.submit_sheet(db, scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call), now), now)
    first_seal, first_commitment = sheet.sealed_seq, sheet.commitment

    for reason, words in (("  ", "理由を入力"), ("連絡は 090-1234-5678 まで", "電話番号")):
        with pytest.raises(ScoringRefused) as refused:
            scoring.reopen_sheet(db, sheet, staff, reason, now)
        assert isinstance(refused.value, Invalid) and words in refused.value.message
    # After the window the reviewer could not resubmit: the seal must stay.
    with pytest.raises(ScoringRefused) as refused:
        scoring.reopen_sheet(db, sheet, staff, "締切後の申し出", call.scoring_closes_at)
    assert isinstance(refused.value, WrongState) and "延長" in refused.value.message
    assert db.scalar(select(func.count()).select_from(ScoreReopen)) == 0
    assert sheet.status == SheetStatus.SUBMITTED and sheet.sealed_seq == first_seal

    later = now + timedelta(minutes=5)
    record = scoring.reopen_sheet(db, sheet, staff, "委員から記入誤りの申し出があったため", later)
    db.commit()
    assert (record.previous_commitment, record.reopened_by_id) == (first_commitment, staff.id)
    assert sheet.status == SheetStatus.DRAFT and sheet.commitment is None and sheet.sealed_seq is None
    reopened = process_log.rows(db, call)[-1]
    assert reopened.kind == "score_reopened"
    assert reopened.payload == {"reviewer": member.pseudonym, "proposal_code": proposal.anonymous_code,
                                "stage": "document", "supersedes_seq": first_seal,
                                "reason": "委員から記入誤りの申し出があったため"}
    with pytest.raises(ScoringRefused):  # only a submitted sheet can be reopened
        scoring.reopen_sheet(db, sheet, staff, "もう一度", later)

    scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call, score=2), later)
    scoring.submit_sheet(db, sheet, later)
    db.commit()
    entries = process_log.entries(db, call)
    reveals = [{"seq": sheet.sealed_seq, "scores": scoring.sealed_scores(call, sheet), "salt": sheet.salt}]
    problems, revealed, superseded = check_reveals(entries, reveals)
    assert (problems, revealed, superseded) == ([], 1, 1)


# -- the second stage and the revised first stage ------------------------------------------

@pytest.fixture()
def two_stage(factory, db):
    """First stage closed; the presentation window is open now."""
    now = now_utc()
    call = factory.scoring_call(has_presentation=True, allow_revision_after_presentation=True)
    call.scoring_opens_at, call.scoring_closes_at = now - timedelta(days=10), now - timedelta(days=3)
    call.presentation_opens_at, call.presentation_closes_at = now - timedelta(days=1), now + timedelta(days=2)
    db.commit()
    member = factory.panel_member(call)
    proposal = factory.submitted(call)
    factory.released(proposal)
    return call, proposal, member


def test_two_stages_keep_both_versions_and_both_seals_verify(db, two_stage, tmp_path):
    call, proposal, member = two_stage
    now = now_utc()
    in_document_window = call.scoring_opens_at + timedelta(days=1)
    assignment = cleared(db, member, proposal, in_document_window)
    document = scoring.submit_sheet(
        db, scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call, 3, "書類の時点"), in_document_window),
        in_document_window)
    # The revision starts from the submitted first-stage sheet ...
    assert scoring.initial_values(db, assignment, Stage.DOCUMENT_REVISED) == scoring.values_of(document)
    revised_input = full_input(call, 3, "書類の時点")
    first = call.criteria[0]
    revised_input.scores[first.id] = ScoreInput(5, "プレゼンで実施体制が明確になった")
    revised = scoring.save_draft(db, assignment, Stage.DOCUMENT_REVISED, revised_input, now)
    scoring.submit_sheet(db, revised, now)
    presentation = scoring.submit_sheet(
        db, scoring.save_draft(db, assignment, Stage.PRESENTATION, full_input(call, 4, "発表が明快"), now), now)
    db.commit()

    # ... and the original stays as it was.
    document = db.get(ReviewSheet, document.id)
    assert {s.score for s in document.scores} == {3} and document.status == SheetStatus.SUBMITTED
    assert {s.criterion_id: s.score for s in revised.scores}[first.id] == 5
    seals = [r for r in process_log.rows(db, call) if r.kind == "score_sealed"]
    assert [r.payload["stage"] for r in seals] == ["document", "document_revised", "presentation"]

    sheets = [document, revised, presentation]
    process_log.append(db, call, chain.SCORES_REVEALED, {"revealed_count": 3}, now)
    reveals = [Reveal(s.sealed_seq, scoring.sealed_scores(call, s), bytes.fromhex(s.salt)) for s in sheets]
    doc = published_log.export_document({"ref": call.slug, "title": call.title}, process_log.entries(db, call), reveals,
                                Ed25519PrivateKey.generate())
    report = published_log.verify_document(doc)
    assert report.ok, report.problems
    assert (report.revealed, report.superseded) == (3, 0)
    problems, facts = verifier.verify(doc)
    assert problems == [] and facts["revealed"] == 3


def test_the_revision_needs_a_submitted_first_stage_sheet(db, two_stage):
    call, proposal, member = two_stage
    assignment = cleared(db, member, proposal)
    with pytest.raises(ScoringRefused) as refused:
        scoring.save_draft(db, assignment, Stage.DOCUMENT_REVISED, full_input(call), now_utc())
    assert isinstance(refused.value, NotAllowed) and "一次審査の採点を提出していない" in refused.value.message
    # The first stage itself is closed now.
    with pytest.raises(ScoringRefused) as refused:
        scoring.save_draft(db, assignment, Stage.DOCUMENT, full_input(call), now_utc())
    assert isinstance(refused.value, NotAllowed) and "終了しました" in refused.value.message
    assert sheet_count(db) == 0


def test_stages_of_a_call(factory):
    assert stages.stages_of(factory.scoring_call()) == [Stage.DOCUMENT]
    assert stages.stages_of(factory.scoring_call(has_presentation=True)) == [Stage.DOCUMENT, Stage.PRESENTATION]
    assert stages.stages_of(factory.scoring_call(has_presentation=True, allow_revision_after_presentation=True)) == [
        Stage.DOCUMENT, Stage.PRESENTATION, Stage.DOCUMENT_REVISED]


# -- conflicts declared by the reviewer ----------------------------------------------------

def test_declaring_a_conflict_recuses_and_logs_without_the_note(db, panel):
    call, proposal, member, other = panel
    assignment = assignment_of(db, member, proposal)
    now = now_utc()
    conflict = conflict_declaration.declare_conflict(db, assignment, "提案団体の理事を務めています", now)
    db.commit()
    assert (conflict.source, conflict.status, conflict.reason) == (
        ConflictSource.DECLARED, ConflictStatus.CONFIRMED, "提案団体の理事を務めています")
    assert (assignment.status, assignment.recused_at) == (AssignmentStatus.RECUSED, now)
    entry = process_log.rows(db, call)[-1]
    assert (entry.kind, entry.payload) == ("reviewer_recused", {
        "reviewer": member.pseudonym, "proposal_code": proposal.anonymous_code, "ground": "conflict_of_interest"})
    assert policy.visible_assignments(member.user, call) == []
    assert [a.proposal_id for a in policy.visible_assignments(other.user, call)] == [proposal.id]
    with pytest.raises(ScoringRefused):
        conflict_declaration.declare_conflict(db, assignment, "", now)
    assert db.scalar(select(func.count()).select_from(Conflict)) == 1


def test_a_dismissed_conflict_can_still_be_declared(db, panel):
    call, proposal, member, _ = panel
    db.add(Conflict(panel_member_id=member.id, proposal_id=proposal.id, source=ConflictSource.DETECTED,
                    status=ConflictStatus.DISMISSED, reason="同名の別団体"))
    db.commit()
    conflict_declaration.declare_conflict(db, assignment_of(db, member, proposal), "", now_utc())
    conflict = db.scalars(select(Conflict)).one()
    assert (conflict.source, conflict.status) == (ConflictSource.DECLARED, ConflictStatus.CONFIRMED)


def test_confirming_no_conflict_clears_once(db, panel):
    call, proposal, member, _ = panel
    assignment = assignment_of(db, member, proposal)
    first = now_utc()
    conflict_declaration.confirm_no_conflict(db, assignment, first)
    conflict_declaration.confirm_no_conflict(db, assignment, first + timedelta(hours=1))
    assert (assignment.status, assignment.cleared_at) == (AssignmentStatus.CLEARED, first)


# -- when the panel sees each other's scores ----------------------------------------------

def test_others_scores_wait_for_own_submission_and_the_end_of_scoring(db, panel):
    call, proposal, member, other = panel
    mine, theirs = cleared(db, member, proposal), cleared(db, other, proposal)
    now = now_utc()
    after = call.scoring_closes_at + timedelta(minutes=1)
    scoring.submit_sheet(db, scoring.save_draft(db, theirs, Stage.DOCUMENT, full_input(call, 2), now), now)
    assert not policy.may_see_panel(db, mine, Stage.DOCUMENT, after)  # mine not submitted
    sheet = scoring.save_draft(db, mine, Stage.DOCUMENT, full_input(call, 5), now)
    assert not policy.may_see_panel(db, mine, Stage.DOCUMENT, after)  # only a draft
    scoring.submit_sheet(db, sheet, now)
    assert not policy.may_see_panel(db, mine, Stage.DOCUMENT, now)  # scoring still open
    assert policy.may_see_panel(db, mine, Stage.DOCUMENT, after)
    rows = panel_scores.panel_rows(db, mine, Stage.DOCUMENT)
    assert [(r.pseudonym, r.is_self, {s.score for s in r.sheet.scores}) for r in rows] == [
        (member.pseudonym, True, {5}), (other.pseudonym, False, {2})]
