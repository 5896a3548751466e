"""Setting up a call (募集): create, edit, copy from last year, publish.

Plain Python over the models; no Flask. The settings and their rules are in
``call_settings.py``.

Once a call is published, every change is described field by field
(:func:`plan_changes`), needs a reason, and is recorded twice in the same
transaction: a :class:`CallChange` row (with who) and a ``criteria_changed``
entry in the public process log (without who). Criteria that have been scored
keep their number, order and scale: removing, adding or rescaling one would
make the submitted sheets incomparable.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..refusals import Invalid
from ...models import Assignment, Call, CallChange, Criterion, Proposal, ReviewScore, ReviewSheet
from ..log import chain, process_log
from .call_description import describe, levels_text, problem_label
from .call_settings import (
    DATETIME_FIELDS,
    PLAIN_FIELDS,
    REVIEWER_FIELD_KEYS,
    CallSettings,
    CriterionInput,
    Problem,
    default_limits,
    number_text,
    problems,
    public_text_problem,
    settings_from_call,
)
from ..timeutil import fiscal_year_label, to_jst


class CallAdminError(Invalid):
    """A refused change to a call's settings."""


def slug_taken(session: Session, slug: str, exclude_call_id: int | None = None) -> bool:
    query = select(Call.id).where(Call.slug == slug)
    if exclude_call_id is not None:
        query = query.where(Call.id != exclude_call_id)
    return session.scalar(query.limit(1)) is not None


def has_scores(session: Session, call: Call) -> bool:
    """Has any reviewer saved a score on this call (draft or submitted)?"""
    return session.scalar(
        select(ReviewScore.id)
        .join(ReviewSheet, ReviewSheet.id == ReviewScore.sheet_id)
        .join(Assignment, Assignment.id == ReviewSheet.assignment_id)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(Proposal.call_id == call.id)
        .limit(1)
    ) is not None


def locked_criteria_problems(call: Call, s: CallSettings) -> list[Problem]:
    """Once scores exist, criteria keep their number, order and scale."""
    out = []
    kept = {c.id for c in s.criteria if c.id is not None}
    for existing in call.criteria:
        if existing.id not in kept:
            out.append(Problem("criteria", f"採点が始まっているため、審査項目「{existing.name}」は削除できません。"))
    by_id, seen = {c.id: c for c in call.criteria}, set()
    for index, c in enumerate(s.criteria):
        base = f"criteria-{c.row}-"
        old = by_id.get(c.id) if c.id not in seen else None  # a second row with one id is a new criterion
        seen.add(c.id)
        if old is None:
            out.append(Problem(base + "name", "採点が始まっているため、審査項目を追加できません。"))
        elif (c.scale_min, c.scale_max) != (old.scale_min, old.scale_max):
            out.append(Problem(base + "scale_min",
                               f"採点が始まっているため、評価の段階（{old.scale_min}〜{old.scale_max}）は変更できません。"))
        elif index != old.position:
            out.append(Problem(base + "name", "採点が始まっているため、審査項目の順番は変更できません。"))
    return out


# -- diffing --------------------------------------------------------------------------

CRITERION_PARTS = (("name", "名称"), ("description", "説明"), ("weight", "重み"), ("scale", "評価の段階"),
                   ("levels", "各段階の説明"), ("position", "順番"))


def _criterion_parts(c: CriterionInput, position: int) -> dict[str, str]:
    return {"name": c.name, "description": c.description, "weight": number_text(c.weight),
            "scale": f"{c.scale_min}〜{c.scale_max}", "levels": levels_text(c.levels),
            "position": f"{position + 1}番目"}


def _criterion_summary(c: CriterionInput) -> str:
    return f"{c.name}（重み{number_text(c.weight)}、{c.scale_min}〜{c.scale_max}点）"


def plan_changes(call: Call, after: CallSettings) -> list[dict]:
    """The changes ``after`` would make to ``call``, field by field, as
    {"field", "label", "before", "after"} texts. Empty when nothing a person
    could see would change."""
    before = settings_from_call(call)
    changes = []
    old, new = describe(before), describe(after)
    for key, (label, text) in new.items():
        if old[key][1] != text:
            changes.append({"field": key, "label": label, "before": old[key][1], "after": text})
    old_by_id = {c.id: (i, c) for i, c in enumerate(before.criteria)}
    matched = set()
    for index, c in enumerate(after.criteria):
        if c.id in old_by_id and c.id not in matched:
            matched.add(c.id)
            old_index, old_c = old_by_id[c.id]
            a, b = _criterion_parts(old_c, old_index), _criterion_parts(c, index)
            for part, part_label in CRITERION_PARTS:
                if a[part] != b[part]:
                    changes.append({"field": f"criteria.{c.id}.{part}", "label": f"審査項目「{c.name}」の{part_label}",
                                    "before": a[part], "after": b[part]})
        else:
            changes.append({"field": "criteria.new", "label": "審査項目の追加", "before": "",
                            "after": _criterion_summary(c)})
    for criterion_id, (_index, c) in old_by_id.items():
        if criterion_id not in matched:
            changes.append({"field": f"criteria.{criterion_id}", "label": "審査項目の削除",
                            "before": _criterion_summary(c), "after": ""})
    return changes


# -- verbs ---------------------------------------------------------------------------

def _minute(value: datetime | None):
    return None if value is None else value.astimezone(UTC).replace(second=0, microsecond=0)


def _normalised(s: CallSettings) -> CallSettings:
    """Store only what differs from the defaults, so that an untouched
    form changes nothing: limits equal to the default are dropped and
    "every field" is stored as the empty list."""
    defaults = default_limits()
    limits = {k: v for k, v in s.field_limits.items() if defaults.get(k) != v}
    reviewer = [k for k in REVIEWER_FIELD_KEYS if k in s.reviewer_fields]
    if len(reviewer) == len(REVIEWER_FIELD_KEYS):
        reviewer = []
    return replace(s, field_limits=limits, reviewer_fields=reviewer)


def _stored(name: str, value):
    if name in DATETIME_FIELDS:
        return _minute(value)
    if name == "threshold_share" and value is not None:
        return value.quantize(Decimal("0.0001"))
    return value


def _apply(session: Session, call: Call, s: CallSettings) -> None:
    s = _normalised(s)
    for name in PLAIN_FIELDS:
        value = _stored(name, getattr(s, name))
        # The form works in minutes; a stored time whose minute did not change keeps its seconds.
        if name in DATETIME_FIELDS and value == _minute(getattr(call, name)):
            continue
        if getattr(call, name) != value:
            setattr(call, name, value)
    _sync_criteria(session, call, s.criteria)


def _sync_criteria(session: Session, call: Call, inputs: list[CriterionInput]) -> None:
    existing = {c.id: c for c in call.criteria if c.id is not None}
    wanted, seen = [], set()
    for c in inputs:
        row = existing.get(c.id) if c.id not in seen else None
        seen.add(c.id)
        wanted.append((row, c))
    kept = {row.id for row, _ in wanted if row is not None}
    for row in list(call.criteria):
        if row.id is None or row.id not in kept:
            call.criteria.remove(row)
    session.flush()
    # (call_id, position) is unique and rows are updated one by one: move the
    # kept rows out of the way first so that a shift cannot collide.
    if any(row.position != index for index, (row, _) in enumerate(wanted) if row is not None):
        for row, _ in wanted:
            if row is not None:
                row.position = -1 - row.position
        session.flush()
    ordered = []
    for index, (row, c) in enumerate(wanted):
        row = row or Criterion()
        row.position = index
        row.name = c.name
        row.description = c.description
        if row.weight is None or Decimal(row.weight) != c.weight:
            row.weight = c.weight
        row.scale_min, row.scale_max = c.scale_min, c.scale_max
        levels = {k: v for k, v in c.levels.items() if v}
        if (row.level_descriptors or {}) != levels:
            row.level_descriptors = levels
        ordered.append(row)
    call.criteria = ordered
    session.flush()


def _refuse_invalid(s: CallSettings) -> None:
    found = problems(s)
    if found:
        raise CallAdminError(f"{problem_label(s, found[0].field)}：{found[0].message}")


def create_call(session: Session, s: CallSettings, now: datetime, *, check: bool = True) -> Call:
    if check:
        _refuse_invalid(s)
    s = _normalised(s)
    call = Call(created_at=now, **{name: _stored(name, getattr(s, name)) for name in PLAIN_FIELDS})
    call.criteria = [
        Criterion(position=index, name=c.name, description=c.description, weight=c.weight, scale_min=c.scale_min,
                  scale_max=c.scale_max, level_descriptors={k: v for k, v in c.levels.items() if v})
        for index, c in enumerate(s.criteria)
    ]
    session.add(call)
    session.flush()
    return call


def update_call(session: Session, call: Call, s: CallSettings, actor, reason: str,
                now: datetime) -> CallChange | None:
    """Apply ``s``. A published call's change needs a reason and is recorded
    as a CallChange and a ``criteria_changed`` log entry. Raises
    CallAdminError when a rule is broken."""
    _refuse_invalid(s)
    changes = plan_changes(call, s)
    if changes and has_scores(session, call):
        locked = locked_criteria_problems(call, s)
        if locked:
            raise CallAdminError(locked[0].message)
    if call.published_at is None:
        _apply(session, call, s)
        return None
    if not changes:
        return None
    reason = (reason or "").strip()
    if not reason:
        raise CallAdminError("公開後の変更には理由が必要です。変更の理由を入力してください。")
    if s.slug != call.slug:
        raise CallAdminError("公開後はURL用の識別子を変更できません。")
    if (problem := public_text_problem("reason", reason)) is not None:
        raise CallAdminError(problem.message)
    if process_log.head(session, call) is None:
        # Calls published before the log existed: record the call as it was
        # published before recording the change to it.
        process_log.append(session, call, chain.CALL_PUBLISHED, process_log.call_published_payload(call),
                           call.published_at)
    _apply(session, call, s)
    change = CallChange(call_id=call.id, changed_at=now, changed_by_id=getattr(actor, "id", None), reason=reason,
                        changes=changes)
    session.add(change)
    payload = {"criteria": process_log.criteria_payload(call), "rules": process_log.rules_payload(call),
               "reason": reason, "document_sha256": process_log.guidelines_digest(call)}
    process_log.append(session, call, chain.CRITERIA_CHANGED, payload, now)
    return change


def publication_problems(call: Call, now: datetime) -> list[str]:
    messages = []
    if call.published_at is not None:
        messages.append("この募集はすでに公開されています。")
    if call.closes_at <= now:
        messages.append("提出締切が過ぎています。締切を見直してから公開してください。")
    settings = settings_from_call(call)
    for problem in problems(settings):
        messages.append(f"{problem_label(settings, problem.field)}：{problem.message}")
    return messages


def publish_call(session: Session, call: Call, now: datetime) -> None:
    problems_found = publication_problems(call, now)
    if problems_found:
        raise CallAdminError(problems_found[0])
    call.published_at = now
    session.flush()
    if process_log.head(session, call) is None:
        process_log.append(session, call, chain.CALL_PUBLISHED, process_log.call_published_payload(call), now)


# -- copying from last year -----------------------------------------------------------

def _next_year(value: datetime | None) -> datetime | None:
    """The same Tokyo wall-clock time one year later (29 Feb becomes 28 Feb)."""
    if value is None:
        return None
    local = to_jst(value)
    try:
        moved = local.replace(year=local.year + 1)
    except ValueError:
        moved = local.replace(year=local.year + 1, day=28)
    return moved.astimezone(UTC)


_REIWA_RE = re.compile(r"令和\s*(元|[0-9０-９]+)\s*年度")
_WESTERN_RE = re.compile(r"(?<![0-9０-９])([0-9０-９]{4})\s*年度")


def next_year_title(title: str, fiscal_year: int) -> str:
    """令和8年度 / 2026年度 -> the next year, where the title says this call's year."""
    def number(text: str) -> int:
        return 1 if text == "元" else int(text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))

    def reiwa(match):
        return fiscal_year_label(fiscal_year + 1) if number(match.group(1)) + 2018 == fiscal_year else match.group(0)

    def western(match):
        return f"{fiscal_year + 1}年度" if number(match.group(1)) == fiscal_year else match.group(0)

    return _WESTERN_RE.sub(western, _REIWA_RE.sub(reiwa, title))


# In a slug: 令和 as r7 / reiwa7, and a western year such as 2025 or fy2025.
_SLUG_REIWA_RE = re.compile(r"(?<![a-z0-9])(r|reiwa)([0-9]{1,2})(?![0-9])")
_SLUG_YEAR_RE = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")


def next_year_slug(slug: str, fiscal_year: int) -> str:
    """The slug with every year in it moved one year on, as the dates move:
    ``r7-kyodo-model`` -> ``r8-kyodo-model``, ``kyodo-2025`` -> ``kyodo-2026``.
    A slug that names no year gets the next fiscal year appended."""
    moved, count = _SLUG_REIWA_RE.subn(lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", slug)
    moved, years = _SLUG_YEAR_RE.subn(lambda m: str(int(m.group(1)) + 1), moved)
    if count + years == 0:
        moved = f"{slug[:35]}-{fiscal_year + 1}"
    return moved[:40].strip("-") or f"call-{fiscal_year + 1}"


def next_slug(session: Session, slug: str, fiscal_year: int) -> str:
    base = next_year_slug(slug, fiscal_year)
    candidate, n = base, 2
    while slug_taken(session, candidate):
        suffix = f"-{n}"
        candidate = f"{base[:40 - len(suffix)].rstrip('-')}{suffix}"
        n += 1
    return candidate


def copy_call(session: Session, source: Call, now: datetime) -> Call:
    """A new, unpublished call for the next year with the same settings and criteria."""
    s = settings_from_call(source)
    s.fiscal_year = source.fiscal_year + 1
    s.title = next_year_title(source.title, source.fiscal_year)[:200]
    s.slug = next_slug(session, source.slug, source.fiscal_year)
    for name in DATETIME_FIELDS:
        setattr(s, name, _next_year(getattr(s, name)))
    for c in s.criteria:
        c.id = None
    # Not checked: an older call may predate today's rules; the copy is a
    # draft that staff edit (and that publication checks) anyway.
    return create_call(session, s, now, check=False)


# -- counts for the lists -------------------------------------------------------------

def proposal_counts(session: Session, call_ids) -> dict[int, dict[str, int]]:
    """{call_id: {status: count}} in one query."""
    counts: dict[int, dict[str, int]] = {call_id: {} for call_id in call_ids}
    if not counts:
        return counts
    rows = session.execute(
        select(Proposal.call_id, Proposal.status, func.count(Proposal.id))
        .where(Proposal.call_id.in_(list(counts)))
        .group_by(Proposal.call_id, Proposal.status)
    )
    for call_id, status, count in rows:
        counts[call_id][str(status.value if hasattr(status, "value") else status)] = count
    return counts
