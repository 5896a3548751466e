"""採点 (scoring): a panel member's score sheets, one per proposal and stage.

The verbs here change data, append to the public process log and only
``flush``; the request boundary commits. They check every rule themselves
and raise :class:`ScoringRefused` with a Japanese message, so a bad request
is answered with a clear refusal; the database triggers of migration 0002
enforce the same rules underneath (a bug cannot write an impossible row).

The stages and their windows are ``stages.py``; the panel's view after
scoring is ``panel_scores.py``; the reviewer's conflict declaration, before
any of this, is ``panel/conflict_declaration.py``.

Submitting seals the sheet: a salted commitment over
``{str(Criterion.position): score}`` goes into the log (``score_sealed``,
with the stage) and the salt stays private until publication.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Assignment,
    AssignmentStatus,
    Call,
    Proposal,
    ReviewScore,
    ReviewSheet,
    ScoreReopen,
    SheetStatus,
    Stage,
    User,
)
from ..log import chain, process_log, seals
from ..refusals import Invalid, NotAllowed, NotFound, Refused, WrongState
from .stages import scoring_open, stages_of, window_refusal, window_text

# Soft limits: a draft keeps longer text (and says so); submission insists.
REASON_MAX = 400
COMMENT_MAX = 1000
NOTE_MAX = 1000
# Hard limit: nothing longer is stored at all.
TEXT_HARD_MAX = 10_000
REOPEN_REASON_MAX = 500


class ScoringRefused(Refused):
    """A refused scoring action; ``message`` is shown to the user as is.
    Raised as one of the four kinds below, so the boundary knows whether
    it is no such thing, not allowed now, already done, or bad input."""


class ScoringNotFound(ScoringRefused, NotFound):
    pass


class ScoringNotAllowed(ScoringRefused, NotAllowed):
    pass


class ScoringWrongState(ScoringRefused, WrongState):
    pass


class ScoringInvalid(ScoringRefused, Invalid):
    pass


@dataclass(frozen=True)
class Problem:
    """Something that keeps a sheet from being submitted; ``key`` names the
    form field (``score-<criterion id>``, ``reason-<criterion id>``,
    ``comment_for_group``, ``panel_note``)."""

    key: str
    label: str
    message: str


@dataclass(frozen=True)
class ScoreInput:
    score: int | None
    reason: str = ""


@dataclass
class SheetInput:
    """What a reviewer typed: per criterion id a score (or none yet) and a reason."""

    scores: dict[int, ScoreInput] = field(default_factory=dict)
    comment_for_group: str = ""
    panel_note: str = ""


# -- loading -------------------------------------------------------------------------

def call_of(session: Session, assignment: Assignment) -> Call:
    return session.get(Call, assignment.panel_member.call_id)


def code_of(session: Session, assignment: Assignment) -> str:
    return session.get(Proposal, assignment.proposal_id).anonymous_code


def sheet_for(session: Session, assignment: Assignment, stage: Stage) -> ReviewSheet | None:
    return session.scalars(
        select(ReviewSheet).where(ReviewSheet.assignment_id == assignment.id, ReviewSheet.stage == stage)
    ).first()


def sheets_by_stage(session: Session, assignment_ids: list[int]) -> dict[tuple[int, Stage], ReviewSheet]:
    """Every sheet of these assignments in one query, by (assignment id, stage)."""
    if not assignment_ids:
        return {}
    rows = session.scalars(select(ReviewSheet).where(ReviewSheet.assignment_id.in_(assignment_ids)))
    return {(s.assignment_id, s.stage): s for s in rows}


def values_of(sheet: ReviewSheet) -> SheetInput:
    return SheetInput(
        scores={s.criterion_id: ScoreInput(s.score, s.reason) for s in sheet.scores},
        comment_for_group=sheet.comment_for_group,
        panel_note=sheet.panel_note,
    )


def initial_values(session: Session, assignment: Assignment, stage: Stage) -> SheetInput:
    """What the form starts with: the sheet as saved; for a revision not yet
    started, the submitted first-stage sheet it will copy."""
    sheet = sheet_for(session, assignment, stage)
    if sheet is not None:
        return values_of(sheet)
    if stage == Stage.DOCUMENT_REVISED:
        original = sheet_for(session, assignment, Stage.DOCUMENT)
        if original is not None and original.status == SheetStatus.SUBMITTED:
            return values_of(original)
    return SheetInput()


# -- checks --------------------------------------------------------------------------

def parse_stage(call: Call, value: str) -> Stage:
    """The stage named in a URL; 404 when the call has no such stage."""
    try:
        stage = Stage(value)
    except ValueError:
        raise ScoringNotFound("この審査段階はありません。") from None
    if stage not in stages_of(call):
        if stage == Stage.DOCUMENT_REVISED and call.has_presentation:
            raise ScoringNotFound("この募集では、プレゼンテーション後に一次審査の点数を見直すことはできません。")
        raise ScoringNotFound("この募集には二次審査（公開プレゼンテーション）がありません。")
    return stage


def check_can_score(session: Session, assignment: Assignment, stage: Stage, now: datetime) -> Call:
    """Refuse unless this assignment may be scored in this stage now."""
    call = call_of(session, assignment)
    if stage not in stages_of(call):
        parse_stage(call, stage.value)  # raises with the fitting message
    if assignment.status == AssignmentStatus.RECUSED:
        raise ScoringNotAllowed("利害関係により、この提案の審査から外れています。")
    if assignment.panel_member.withdrawn_at is not None:
        # 辞退: the sheets submitted before stay valid; nothing more is scored (panel/assignment.py).
        raise ScoringNotAllowed("審査委員を辞退したため、採点はできません。")
    if assignment.status != AssignmentStatus.CLEARED:
        raise ScoringNotAllowed("採点の前に、この提案と利害関係がないことを確認してください。")
    refusal = window_refusal(call, stage, now)
    if refusal:
        raise ScoringNotAllowed(refusal)
    if stage == Stage.DOCUMENT_REVISED:
        original = sheet_for(session, assignment, Stage.DOCUMENT)
        if original is None or original.status != SheetStatus.SUBMITTED:
            raise ScoringNotAllowed("一次審査の採点を提出していないため、見直しはできません。")
    return call


def check_input(call: Call, data: SheetInput) -> None:
    """Refuse input no form of ours can send: criteria of another call,
    scores outside a criterion's scale."""
    criteria = {c.id: c for c in call.criteria}
    for criterion_id, item in data.scores.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            raise ScoringInvalid("この募集の審査基準ではない項目が送信されました。画面を再読み込みしてから入力してください。")
        if item.score is not None and not (criterion.scale_min <= item.score <= criterion.scale_max):
            raise ScoringInvalid(
                f"「{criterion.name}」の点数は{criterion.scale_min}～{criterion.scale_max}点の中から選んでください。")


def hard_length_problems(call: Call, data: SheetInput) -> list[Problem]:
    """Text beyond what can be stored at all: the form is shown again with
    everything typed, so nothing is lost."""
    message = f"長すぎるため保存できません（{TEXT_HARD_MAX}字まで）。短くしてから保存してください。"
    problems = [Problem(f"reason-{c.id}", f"{c.name}の理由", message)
                for c in call.criteria if len(data.scores.get(c.id, ScoreInput(None)).reason) > TEXT_HARD_MAX]
    if len(data.comment_for_group) > TEXT_HARD_MAX:
        problems.append(Problem("comment_for_group", "講評の候補", message))
    if len(data.panel_note) > TEXT_HARD_MAX:
        problems.append(Problem("panel_note", "委員会へのメモ", message))
    return problems


def unsaved_reasons(data: SheetInput) -> list[int]:
    """Criteria with a reason but no score: a score row needs a score, so
    the reason cannot be stored yet (the form keeps it and says so)."""
    return [cid for cid, item in data.scores.items() if item.score is None and item.reason]


def length_problems(call: Call, data: SheetInput) -> list[Problem]:
    names = {c.id: c.name for c in call.criteria}
    problems = []
    for criterion in call.criteria:
        item = data.scores.get(criterion.id)
        if item is not None and len(item.reason) > REASON_MAX:
            problems.append(Problem(f"reason-{criterion.id}", f"{names[criterion.id]}の理由",
                                    f"{REASON_MAX}字以内にしてください（現在{len(item.reason)}字）。"))
    if len(data.comment_for_group) > COMMENT_MAX:
        problems.append(Problem("comment_for_group", "講評の候補",
                                f"{COMMENT_MAX}字以内にしてください（現在{len(data.comment_for_group)}字）。"))
    if len(data.panel_note) > NOTE_MAX:
        problems.append(Problem("panel_note", "委員会へのメモ",
                                f"{NOTE_MAX}字以内にしてください（現在{len(data.panel_note)}字）。"))
    return problems


def submission_problems(call: Call, data: SheetInput) -> list[Problem]:
    """Every criterion scored, each with a reason, every text within its limit."""
    problems = []
    for criterion in call.criteria:
        item = data.scores.get(criterion.id)
        if item is None or item.score is None:
            problems.append(Problem(f"score-{criterion.id}", criterion.name, "点数を選んでください。"))
        if item is None or not item.reason:
            problems.append(Problem(f"reason-{criterion.id}", f"{criterion.name}の理由",
                                    "点数の理由を入力してください。"))
    return problems + length_problems(call, data)


# -- drafts ----------------------------------------------------------------------------

def _new_sheet(session: Session, assignment: Assignment, stage: Stage, now: datetime) -> ReviewSheet:
    sheet = ReviewSheet(assignment_id=assignment.id, stage=stage, status=SheetStatus.DRAFT,
                        created_at=now, updated_at=now)
    session.add(sheet)
    session.flush()
    return sheet


def start_revision(session: Session, assignment: Assignment, now: datetime) -> ReviewSheet:
    """The ``document_revised`` sheet: a copy of the submitted first-stage
    sheet (scores, reasons, comment, note) as a new draft. The original is
    not touched."""
    check_can_score(session, assignment, Stage.DOCUMENT_REVISED, now)
    existing = sheet_for(session, assignment, Stage.DOCUMENT_REVISED)
    if existing is not None:
        return existing
    original = sheet_for(session, assignment, Stage.DOCUMENT)
    sheet = _new_sheet(session, assignment, Stage.DOCUMENT_REVISED, now)
    sheet.comment_for_group = original.comment_for_group
    sheet.panel_note = original.panel_note
    for score in original.scores:
        sheet.scores.append(ReviewScore(criterion_id=score.criterion_id, score=score.score,
                                        reason=score.reason, saved_at=now))
    session.flush()
    return sheet


def save_draft(session: Session, assignment: Assignment, stage: Stage, data: SheetInput,
               now: datetime) -> ReviewSheet:
    """Store what was typed on the (new or draft) sheet of this stage.

    Partial input is fine; a criterion without a score has no score row
    (see :func:`unsaved_reasons`). Every score row written gets ``saved_at
    = now``, which the database checks against the stage's window."""
    call = check_can_score(session, assignment, stage, now)
    check_input(call, data)
    too_long = hard_length_problems(call, data)
    if too_long:
        raise ScoringInvalid(f"{too_long[0].label}：{too_long[0].message}")
    sheet = sheet_for(session, assignment, stage)
    if sheet is None:
        sheet = (start_revision(session, assignment, now) if stage == Stage.DOCUMENT_REVISED
                 else _new_sheet(session, assignment, stage, now))
    if sheet.status != SheetStatus.DRAFT:
        raise ScoringWrongState("この採点は提出済みのため変更できません。変更が必要な場合は事務局に連絡してください。")
    current = {s.criterion_id: s for s in sheet.scores}
    for criterion in call.criteria:
        item = data.scores.get(criterion.id, ScoreInput(None, ""))
        row = current.get(criterion.id)
        if item.score is None:
            if row is not None:
                sheet.scores.remove(row)
                session.delete(row)
            continue
        if row is None:
            sheet.scores.append(ReviewScore(criterion_id=criterion.id, score=item.score, reason=item.reason,
                                            saved_at=now))
        elif (row.score, row.reason) != (item.score, item.reason):
            row.score, row.reason, row.saved_at = item.score, item.reason, now
    sheet.comment_for_group = data.comment_for_group
    sheet.panel_note = data.panel_note
    sheet.updated_at = now
    session.flush()
    return sheet


# -- submission and sealing ------------------------------------------------------------

def sealed_scores(call: Call, sheet: ReviewSheet) -> dict[str, int]:
    """{str(Criterion.position): score}: the keys of the published criteria."""
    positions = {c.id: c.position for c in call.criteria}
    return {str(positions[s.criterion_id]): s.score for s in sheet.scores}


def submit_sheet(session: Session, sheet: ReviewSheet, now: datetime) -> ReviewSheet:
    """Lock and seal a complete sheet: SUBMITTED, a salted commitment in the
    log (``score_sealed``), the salt kept for publication."""
    assignment = sheet.assignment
    if sheet.status != SheetStatus.DRAFT:
        raise ScoringWrongState("この採点はすでに提出されています。")
    call = check_can_score(session, assignment, sheet.stage, now)
    problems = submission_problems(call, values_of(sheet))
    if problems:
        raise SheetIncomplete(problems)
    salt = seals.new_salt()
    commitment = seals.commit_scores(sealed_scores(call, sheet), salt)
    member = assignment.panel_member
    entry = process_log.append(session, call, chain.SCORE_SEALED, {
        "reviewer": member.pseudonym, "proposal_code": code_of(session, assignment),
        "stage": sheet.stage.value, "commitment": commitment,
    }, now)
    sheet.status = SheetStatus.SUBMITTED
    sheet.submitted_at = now
    sheet.updated_at = now
    sheet.salt = salt.hex()
    sheet.commitment = commitment
    sheet.sealed_seq = entry.seq
    session.flush()
    return sheet


class SheetIncomplete(ScoringInvalid):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"提出するには、次の{len(problems)}件を直してください。")
        self.problems = problems


def reopen_sheet(session: Session, sheet: ReviewSheet, staff_user: User, reason: str,
                 now: datetime) -> ScoreReopen:
    """事務局 reopens a submitted sheet, with a reason (recorded and logged
    publicly): the sheet is a draft again and its seal is superseded.

    Only while the stage's window is open: the reviewer could not save or
    submit outside it (the database refuses), so a sheet reopened later
    would lose its sealed scores for good. Extend the window first."""
    reason = (reason or "").strip()
    if not reason:
        raise ScoringInvalid("再開の理由を入力してください。")
    if len(reason) > REOPEN_REASON_MAX:
        raise ScoringInvalid(f"再開の理由は{REOPEN_REASON_MAX}字以内にしてください。")
    if sheet.status != SheetStatus.SUBMITTED:
        raise ScoringWrongState("この採点は提出されていないため、再開の必要はありません。")
    assignment = sheet.assignment
    call = call_of(session, assignment)
    if not scoring_open(call, sheet.stage, now):
        raise ScoringWrongState(
            f"{sheet.stage.label}の採点期間外のため再開できません（採点期間：{window_text(call, sheet.stage)}）。"
            "委員が採点し直せるよう、先に採点期間を延長してください。")
    try:
        chain.check_public_payload(chain.SCORE_REOPENED, {"reason": reason})
    except chain.PayloadRefused:
        raise ScoringInvalid("再開の理由は公開の記録に載ります。メールアドレスや電話番号のような文字列は書かないでください。") from None
    # The database accepts the change only after a reopen recorded at or
    # after the submission; a clock that stepped back must not block it.
    at = max(now, sheet.submitted_at) if sheet.submitted_at else now
    record = ScoreReopen(sheet_id=sheet.id, reason=reason, previous_commitment=sheet.commitment,
                         reopened_at=at, reopened_by_id=staff_user.id if staff_user else None)
    session.add(record)
    session.flush()  # the sheet's trigger looks for this row
    process_log.append(session, call, chain.SCORE_REOPENED, {
        "reviewer": assignment.panel_member.pseudonym, "proposal_code": code_of(session, assignment),
        "stage": sheet.stage.value, "supersedes_seq": sheet.sealed_seq, "reason": reason,
    }, now)
    sheet.status = SheetStatus.DRAFT
    sheet.submitted_at = None
    sheet.salt = None
    sheet.commitment = None
    sheet.sealed_seq = None
    sheet.updated_at = now
    session.flush()
    return record
