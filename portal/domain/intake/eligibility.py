"""受付・形式審査: the automatic eligibility checklist of one submission.

Pure Python over the submitted snapshot (what the group actually sent) and
the call's published rules: no Flask, no database. Staff still decide; the
checklist only tells them where to look, and is kept with their decision
as it stood (``IntakeDecision.checklist``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from ...models import FILE_PURPOSE_LABELS, Call, FilePurpose
from ..proposals.proposal_fields import DECLARATIONS
from ..timeutil import to_jst, wareki_date

REQUIRED_DOCUMENTS = (FilePurpose.RULES, FilePurpose.OFFICERS, FilePurpose.ANNUAL_REPORT)


@dataclass(frozen=True)
class CheckItem:
    key: str
    label: str
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def full_years(since: date, until: date) -> int:
    """Completed years from ``since`` to ``until`` (an anniversary counts on its day)."""
    years = until.year - since.year
    if (until.month, until.day) < (since.month, since.day):
        years -= 1
    return years


def _parse_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def check_members(call: Call, member_count) -> CheckItem:
    label = "会員数"
    if not isinstance(member_count, int):
        return CheckItem("members", label, False, f"会員数が記入されていません（要件：{call.min_members}人以上）。")
    ok = member_count >= call.min_members
    return CheckItem("members", label, ok, f"会員数{member_count}人（要件：{call.min_members}人以上）。")


def check_base(call: Call, based_in_city: bool) -> CheckItem:
    label = "市内の活動拠点"
    if not call.requires_base_in_city:
        return CheckItem("base", label, True, "この募集では市内に拠点がなくても応募できます。")
    if based_in_city:
        return CheckItem("base", label, True, "市内に活動拠点があると申告されています。")
    return CheckItem("base", label, False, "市内に活動拠点があると申告されていません（要件：市内に拠点があること）。")


def check_years_active(call: Call, founded_on) -> CheckItem:
    label = "活動年数"
    required = call.min_years_active
    founded = _parse_date(founded_on)
    if founded is None:
        return CheckItem("years_active", label, False, f"設立年月日が記入されていません（要件：{required}年以上）。")
    close_day = to_jst(call.closes_at).date()
    years = full_years(founded, close_day)
    ok = years >= required
    return CheckItem(
        "years_active", label, ok,
        f"設立{wareki_date(founded)}、締切日（{wareki_date(close_day)}）時点で活動{max(years, 0)}年"
        f"（要件：{required}年以上）。",
    )


def check_documents(snapshot_documents: list[dict]) -> CheckItem:
    label = "提出書類"
    present = {document.get("kind") for document in snapshot_documents or []}
    missing = [FILE_PURPOSE_LABELS[p] for p in REQUIRED_DOCUMENTS if FILE_PURPOSE_LABELS[p] not in present]
    if missing:
        return CheckItem("documents", label, False, f"提出されていない書類があります：{'、'.join(missing)}。")
    names = "、".join(FILE_PURPOSE_LABELS[p] for p in REQUIRED_DOCUMENTS)
    return CheckItem("documents", label, True, f"必要な書類（{names}）がそろっています。")


def check_budget_cap(call: Call, requested: int) -> CheckItem:
    cap = call.budget_cap_per_proposal
    ok = 0 < requested <= cap
    if requested <= 0:
        detail = f"市への要望額が記入されていません（上限：{cap:,}円）。"
    else:
        detail = f"要望額{requested:,}円（上限：{cap:,}円）。"
    return CheckItem("budget_cap", "要望額の上限", ok, detail)


def check_balance(income: int, expense: int) -> CheckItem:
    ok = income == expense and income > 0
    if ok:
        detail = f"収入合計と支出合計が一致しています（{income:,}円）。"
    else:
        detail = f"収入合計（{income:,}円）と支出合計（{expense:,}円）が一致していません。"
    return CheckItem("balance", "収支の一致", ok, detail)


def check_declarations(snapshot_declarations: list[dict]) -> CheckItem:
    accepted = {d.get("text") for d in snapshot_declarations or [] if d.get("accepted_at")}
    missing = [item.text for item in DECLARATIONS if item.text not in accepted]
    if missing:
        return CheckItem("declarations", "誓約事項", False,
                         f"同意されていない誓約事項が{len(missing)}件あります：{' / '.join(missing)}")
    return CheckItem("declarations", "誓約事項", True, f"すべての誓約事項（{len(DECLARATIONS)}件）に同意しています。")


def check_submission(call: Call, snapshot: dict, *, based_in_city: bool) -> list[CheckItem]:
    """Every rule, in the order the 募集要項 lists them.

    ``based_in_city`` comes from the group's profile: the snapshot does not
    carry that flag."""
    group = snapshot.get("group") or {}
    budget = snapshot.get("budget") or {}
    return [
        check_members(call, group.get("member_count")),
        check_base(call, based_in_city),
        check_years_active(call, group.get("founded_on")),
        check_documents(snapshot.get("documents") or []),
        check_budget_cap(call, int(budget.get("requested_amount") or 0)),
        check_balance(int(budget.get("income_total") or 0), int(budget.get("expense_total") or 0)),
        check_declarations(snapshot.get("declarations") or []),
    ]


def all_ok(items: list[CheckItem] | list[dict]) -> bool:
    return all((item["ok"] if isinstance(item, dict) else item.ok) for item in items)
