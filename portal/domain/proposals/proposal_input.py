"""Reading a proposal form into plain data, with Japanese messages per field.

Drafts keep whatever can be kept (an over-long text is saved and flagged, so
nothing typed is lost); only submission insists on a complete, valid proposal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ...models import BudgetKind, CollaborationForm, Proposal
from ..normalize import MAX_YEN, ascii_digits, normalize_text, parse_yen
from .proposal_fields import EXPENSE_CATEGORIES, INCOME_CATEGORIES, TEXT_FIELDS

MAX_ROWS = 40
MAX_TEXT_STORED = 20000  # a hard ceiling for any one draft field


def _stored_limit(key: str) -> int:
    """What the column can hold: the title is a VARCHAR, which PostgreSQL
    enforces (SQLite does not), so an over-long title must be cut here."""
    length = getattr(Proposal.__table__.c[key].type, "length", None)
    return min(length, MAX_TEXT_STORED) if length else MAX_TEXT_STORED


@dataclass
class BudgetRowInput:
    kind: BudgetKind
    category: str
    amount_raw: str
    amount: int | None
    note: str


@dataclass
class RoleRowInput:
    item: str
    group_role: str
    city_role: str


@dataclass
class ProposalInput:
    texts: dict[str, str] = field(default_factory=dict)
    period_start_raw: str = ""
    period_end_raw: str = ""
    period_start: date | None = None
    period_end: date | None = None
    desired_forms: list[str] = field(default_factory=list)
    related_department: str = ""
    budget_rows: list[BudgetRowInput] = field(default_factory=list)
    role_rows: list[RoleRowInput] = field(default_factory=list)
    # field id -> message, for problems found while reading
    errors: dict[str, str] = field(default_factory=dict)


def _get(formdata, key: str) -> str:
    value = formdata.get(key, "")
    return normalize_text(value if isinstance(value, str) else "")


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_proposal_form(formdata) -> ProposalInput:
    data = ProposalInput()
    for text_field in TEXT_FIELDS:
        value = _get(formdata, text_field.key)
        if not text_field.multiline:
            value = " ".join(value.split())
        ceiling = _stored_limit(text_field.key)
        if len(value) > ceiling:
            data.errors[text_field.key] = f"{ceiling}字を超える分は保存できません。"
            value = value[:ceiling].rstrip()
        data.texts[text_field.key] = value

    data.period_start_raw = _get(formdata, "period_start")
    data.period_end_raw = _get(formdata, "period_end")
    for name in ("period_start", "period_end"):
        raw = getattr(data, f"{name}_raw")
        if raw:
            parsed = _parse_date(raw)
            if parsed is None or not (2000 <= parsed.year <= 2100):
                data.errors[name] = "日付を「2026-07-01」の形で入力してください。"
            else:
                setattr(data, name, parsed)
    if data.period_start and data.period_end and data.period_end < data.period_start:
        data.errors["period_end"] = "終了日は開始日より後にしてください。"

    allowed_forms = {form.value for form in CollaborationForm}
    chosen = formdata.getlist("desired_forms") if hasattr(formdata, "getlist") else []
    data.desired_forms = [value for value in dict.fromkeys(chosen) if value in allowed_forms]
    data.related_department = _get(formdata, "related_department")[:100]

    data.budget_rows = _parse_budget_rows(formdata, data.errors)
    data.role_rows = _parse_role_rows(formdata)
    return data


def _row_indexes(formdata, prefix: str) -> list[int]:
    indexes = set()
    for key in formdata.keys():
        if key.startswith(prefix):
            head = key[len(prefix):].split("-", 1)[0]
            # isdigit() accepts digits int() cannot read (U+10A40), so test ASCII.
            if 0 < len(head) <= 3 and all("0" <= ch <= "9" for ch in head):
                indexes.add(int(head))
    return sorted(indexes)[:MAX_ROWS]


def _parse_budget_rows(formdata, errors: dict[str, str]) -> list[BudgetRowInput]:
    rows: list[BudgetRowInput] = []
    for kind, prefix, categories in (
        (BudgetKind.INCOME, "income-", INCOME_CATEGORIES),
        (BudgetKind.EXPENSE, "expense-", EXPENSE_CATEGORIES),
    ):
        total = 0  # per kind; totals must fit the 32-bit amount columns
        for index in _row_indexes(formdata, prefix):
            base = f"{prefix}{index}"
            category = _get(formdata, f"{base}-category")
            amount_raw = _get(formdata, f"{base}-amount")[:20]
            note = _get(formdata, f"{base}-note")[:200]
            if not (category or amount_raw or note):
                continue  # an empty row is no row
            if category not in categories:
                errors[f"{base}-category"] = "区分を一覧から選んでください。"
                category = ""
            amount = parse_yen(amount_raw) if amount_raw else None
            if amount_raw and amount is None:
                errors[f"{base}-amount"] = amount_message(amount_raw)
            elif amount is not None and total + amount > MAX_YEN:
                errors[f"{base}-amount"] = "合計額が大きすぎます。金額を確認してください。"
                amount = None
            total += amount or 0
            rows.append(BudgetRowInput(kind, category, amount_raw, amount, note))
    return rows


def amount_message(raw: str) -> str:
    digits = ascii_digits(raw).replace(",", "").replace("，", "").replace("円", "").replace("¥", "").strip()
    if digits.isascii() and digits.isdigit():
        return f"金額は{MAX_YEN + 1:,}円未満で入力してください。"
    return "金額は0以上の整数（円）で入力してください。"


def _parse_role_rows(formdata) -> list[RoleRowInput]:
    rows = []
    for index in _row_indexes(formdata, "role-"):
        base = f"role-{index}"
        row = RoleRowInput(
            item=_get(formdata, f"{base}-item")[:100],
            group_role=_get(formdata, f"{base}-group")[:2000],
            city_role=_get(formdata, f"{base}-city")[:2000],
        )
        if row.item or row.group_role or row.city_role:
            rows.append(row)
    return rows
