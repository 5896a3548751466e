"""The proposal form in steps (概要・内容・役割分担・予算・添付・確認): which
field belongs to which step, and a step's post merged into the stored draft.

A step posts only its own fields; the others are taken from what is stored,
read back exactly as the editor would show them (an amount that could not be
read stays as typed), so saving one step never touches another.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from ...models import BudgetKind, Proposal
from .proposal_fields import TEXT_FIELDS


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    title: str  # the step's heading
    editable: bool = True  # a part of the proposal form (the others are pages of their own)


STEPS: tuple[Step, ...] = (
    Step("overview", "概要", "事業の概要"),
    Step("content", "内容", "事業の内容"),
    Step("roles", "役割分担", "役割分担"),
    Step("budget", "予算", "収支予算書"),
    Step("attachments", "添付", "添付資料", editable=False),
    Step("confirm", "確認", "提出前の確認", editable=False),
)
STEP_BY_KEY = {step.key: step for step in STEPS}
FORM_STEPS = tuple(step.key for step in STEPS if step.editable)
FIRST_STEP = STEPS[0].key

# 事業名 and 目的 say what the project is; the longer texts are its content.
OVERVIEW_FIELDS = frozenset({"title", "purpose", "period_start", "period_end", "desired_forms", "related_department"})
CONTENT_FIELDS = frozenset(f.key for f in TEXT_FIELDS) - OVERVIEW_FIELDS


def step_of(field_id: str) -> str:
    """The step where a field (or a problem named by its field id) is fixed."""
    if field_id in OVERVIEW_FIELDS or field_id.startswith("form-"):
        return "overview"
    if field_id in CONTENT_FIELDS:
        return "content"
    if field_id.startswith("role-"):
        return "roles"
    if field_id.startswith(("income-", "expense-", "budget-")):
        return "budget"
    if field_id.startswith("attachment"):
        return "attachments"
    return "confirm"  # the group's profile, the e-mail address: not part of the form


def neighbours(key: str) -> tuple[Step | None, Step | None]:
    keys = [step.key for step in STEPS]
    index = keys.index(key)
    previous = STEPS[index - 1] if index > 0 else None
    following = STEPS[index + 1] if index + 1 < len(STEPS) else None
    return previous, following


def stored_formdata(proposal: Proposal) -> MultiDict:
    """The stored draft as the form would post it."""
    data: MultiDict = MultiDict()
    for text_field in TEXT_FIELDS:
        data.add(text_field.key, getattr(proposal, text_field.key) or "")
    for name in ("period_start", "period_end"):
        value = getattr(proposal, name)
        data.add(name, value.isoformat() if value else "")
    for value in proposal.desired_forms or ():
        data.add("desired_forms", value)
    data.add("related_department", proposal.related_department or "")
    counters: Counter = Counter()
    for line in proposal.budget_lines:
        kind = "income" if line.kind == BudgetKind.INCOME else "expense"
        base = f"{kind}-{counters[kind]}"
        counters[kind] += 1
        data.add(f"{base}-category", line.category or "")
        data.add(f"{base}-amount", line.amount_text if line.amount_text is not None else str(line.amount))
        data.add(f"{base}-note", line.note or "")
    for index, role in enumerate(proposal.role_shares):
        data.add(f"role-{index}-item", role.item or "")
        data.add(f"role-{index}-group", role.group_role or "")
        data.add(f"role-{index}-city", role.city_role or "")
    return data


def merged_formdata(proposal: Proposal, posted, step: str) -> MultiDict:
    """The whole form: the posted step's fields as posted (a field left out,
    such as an unticked box or a deleted row, is empty), the others as stored."""
    merged: MultiDict = MultiDict()
    for key, value in stored_formdata(proposal).items(multi=True):
        if step_of(key) != step:
            merged.add(key, value)
    for key, value in posted.items(multi=True):
        if step_of(key) == step:
            merged.add(key, value)
    return merged


def problems_per_step(field_ids) -> dict[str, int]:
    """How many things each step still needs, for the progress indicator."""
    counts = dict.fromkeys((step.key for step in STEPS), 0)
    for field_id in field_ids:
        counts[step_of(field_id)] += 1
    return counts
