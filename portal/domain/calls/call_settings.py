"""A call's settings as staff type them, and every rule on them.

:class:`CallSettings` is what the call form reads (plain values, criteria as
rows); :func:`problems` checks the values with Japanese messages, so the edit
page and the publication check apply the same rules. The form itself only
checks types and lengths. The settings in words are ``call_description.py``.
Plain Python: no Flask, no queries.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from ...models import Call
from ..log import chain
from ..proposals.proposal_fields import FIELD_BY_KEY, TEXT_FIELDS

EXTRA_REVIEWER_FIELDS = (("period", "実施期間"), ("desired_forms", "希望する協働の形態"),
                         ("role_shares", "役割分担"), ("budget", "収支予算書"))
REVIEWER_FIELD_CHOICES: tuple[tuple[str, str], ...] = (
    tuple((f.key, f.label) for f in TEXT_FIELDS) + EXTRA_REVIEWER_FIELDS
)
REVIEWER_FIELD_KEYS = tuple(key for key, _ in REVIEWER_FIELD_CHOICES)
METHOD_LABELS = {"mean": "委員の合計点の平均", "trimmed_mean": "最高点と最低点を1人ずつ除いた平均"}
BUDGET_POLICY_LABELS = {"skip": "予算に収まらない提案は飛ばし、下位で収まる提案を推薦する",
                        "stop": "予算に収まらない提案が出たところで推薦を打ち切る"}
DECIDING_STAGE_LABELS = {"document": "一次審査（書類）の点数", "presentation": "二次審査（公開プレゼンテーション）の点数"}
DEFAULT_LEVELS = {"5": "優れている", "4": "やや優れている", "3": "普通", "2": "やや劣る", "1": "劣る"}
SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])?")
MAX_SCALE = 10
MAX_CRITERIA = 20
MAX_VALID_SHEETS = 100
# Proposal.title is a VARCHAR(200); the long texts share the draft ceiling.
MAX_FIELD_LIMIT = {"title": 200}
MAX_TEXT_LIMIT = 20000
DATETIME_FIELDS = ("opens_at", "closes_at", "screening_starts_at", "results_at", "scoring_opens_at",
                   "scoring_closes_at", "presentation_opens_at", "presentation_closes_at")


@dataclass
class CriterionInput:
    id: int | None
    name: str
    description: str = ""
    weight: Decimal | None = Decimal(1)
    scale_min: int | None = 1
    scale_max: int | None = 5
    levels: dict[str, str] = field(default_factory=dict)
    row: int = 0  # the form row, so a message lands next to the right input


@dataclass
class CallSettings:
    """Everything staff set on a call. Criterion references
    (``veto_criterion_position``, ``tie_break_positions``) are indexes into
    ``criteria``, which become the criteria's positions."""

    title: str
    slug: str
    fiscal_year: int
    opens_at: datetime
    closes_at: datetime
    screening_starts_at: datetime
    results_at: datetime
    budget_cap_per_proposal: int
    summary: str = ""
    guidelines: str = ""
    scoring_opens_at: datetime | None = None
    scoring_closes_at: datetime | None = None
    has_presentation: bool = False
    presentation_opens_at: datetime | None = None
    presentation_closes_at: datetime | None = None
    allow_revision_after_presentation: bool = False
    budget_total: int = 0
    min_members: int = 5
    requires_base_in_city: bool = True
    min_years_active: int = 1
    correction_days: int = 7
    field_limits: dict[str, int] = field(default_factory=dict)
    reviewer_fields: list[str] = field(default_factory=list)
    show_department_opinion: bool = False
    aggregation_method: str = "mean"
    trim_min_scorers: int = 5
    threshold_points: Decimal | None = None
    threshold_share: Decimal | None = None
    veto_criterion_position: int | None = None
    veto_at_or_below: int | None = None
    tie_break_positions: list[int] = field(default_factory=list)
    budget_policy: str = "skip"
    score_decimals: int = 2
    deciding_stage: str = "document"
    publish_roster: bool = False
    # None: every assigned member not excluded for a conflict must submit.
    min_valid_sheets: int | None = None
    criteria: list[CriterionInput] = field(default_factory=list)


# Columns copied as they are between a call and its settings.
PLAIN_FIELDS = tuple(f.name for f in fields(CallSettings) if f.name != "criteria")


@dataclass(frozen=True)
class Problem:
    """``field`` is a settings attribute, ``field_limits.<key>`` or
    ``criteria-<row>-<attribute>`` (``criteria`` for the list as a whole)."""

    field: str
    message: str


def default_limits() -> dict[str, int]:
    return {f.key: f.default_limit for f in TEXT_FIELDS}


def effective_limits(configured: dict | None) -> dict[str, int]:
    limits = default_limits()
    for key, value in (configured or {}).items():
        if key in limits and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            limits[key] = value
    return limits


def settings_from_call(call: Call) -> CallSettings:
    values = {name: getattr(call, name) for name in PLAIN_FIELDS}
    values["field_limits"] = dict(call.field_limits or {})
    values["reviewer_fields"] = list(call.reviewer_fields or [])
    values["tie_break_positions"] = list(call.tie_break_positions or [])
    values["criteria"] = [
        CriterionInput(id=c.id, name=c.name, description=c.description or "", weight=Decimal(c.weight),
                       scale_min=c.scale_min, scale_max=c.scale_max, levels=dict(c.level_descriptors or {}),
                       row=index)
        for index, c in enumerate(call.criteria)
    ]
    return CallSettings(**values)


# -- rules --------------------------------------------------------------------

def public_text_problem(name: str, text: str) -> Problem | None:
    """Text that goes into the public log may not look like a contact."""
    try:
        chain.check_public_payload(chain.CRITERIA_CHANGED, {"reason": text})
    except chain.PayloadRefused:
        return Problem(name, "公開の記録に載るため、メールアドレスや電話番号のような文字は書けません。")
    return None


def _check_range(out: list, name: str, value, low, high, message: str) -> None:
    if value is None or not low <= value <= high:
        out.append(Problem(name, message))


def problems(s: CallSettings) -> list[Problem]:
    """Every rule on a call's settings, with Japanese messages."""
    out: list[Problem] = []
    if not SLUG_RE.fullmatch(s.slug or ""):
        out.append(Problem("slug", "半角の英小文字・数字・ハイフンで3〜40字にしてください（先頭と末尾は英数字、例: kyodo-2026）。"))
    _check_range(out, "fiscal_year", s.fiscal_year, 2000, 2100, "年度は西暦で入力してください（例: 2026）。")
    if problem := public_text_problem("title", s.title):
        out.append(problem)
    _schedule_problems(s, out)
    _check_range(out, "budget_cap_per_proposal", s.budget_cap_per_proposal, 0, 999_999_999,
                 "1件あたりの上限額を0円以上で入力してください。")
    _check_range(out, "budget_total", s.budget_total, 0, 999_999_999, "予算総額を0円以上で入力してください。")
    if s.budget_total and s.budget_cap_per_proposal and s.budget_cap_per_proposal > s.budget_total:
        out.append(Problem("budget_cap_per_proposal", "1件あたりの上限額は予算総額以下にしてください。"))
    _check_range(out, "min_members", s.min_members, 1, 10000, "構成員の最少人数は1人以上にしてください。")
    _check_range(out, "min_years_active", s.min_years_active, 0, 100, "活動年数は0〜100年で入力してください。")
    _check_range(out, "correction_days", s.correction_days, 1, 90, "修正期間は1〜90日で入力してください。")
    for key, value in s.field_limits.items():
        if key not in FIELD_BY_KEY:
            out.append(Problem("field_limits", "文字数の上限に不明な項目があります。"))
            continue
        high = MAX_FIELD_LIMIT.get(key, MAX_TEXT_LIMIT)
        _check_range(out, f"field_limits.{key}", value, 1, high, f"1〜{high}字で入力してください。")
    unknown = [key for key in s.reviewer_fields if key not in REVIEWER_FIELD_KEYS]
    if unknown:
        out.append(Problem("reviewer_fields", "一覧にない項目が選ばれています。"))
    _criteria_problems(s, out)
    _aggregation_problems(s, out)
    return out


def _schedule_problems(s: CallSettings, out: list[Problem]) -> None:
    def before(earlier: str, later: str, message: str, strict: bool = True) -> None:
        a, b = getattr(s, earlier), getattr(s, later)
        if a is not None and b is not None and (a >= b if strict else a > b):
            out.append(Problem(later, message))

    before("opens_at", "closes_at", "提出締切は受付開始より後の日時にしてください。")
    before("closes_at", "screening_starts_at", "審査開始は提出締切と同時かそれより後にしてください。", strict=False)
    before("screening_starts_at", "results_at", "結果公表（予定）は審査開始より後にしてください。")
    first = (s.scoring_opens_at, s.scoring_closes_at)
    if (first[0] is None) != (first[1] is None):
        missing = "scoring_opens_at" if first[0] is None else "scoring_closes_at"
        out.append(Problem(missing, "一次審査の採点期間は開始と終了の両方を入力してください。"))
    before("screening_starts_at", "scoring_opens_at", "一次審査の採点開始は審査開始と同時かそれより後にしてください。",
           strict=False)
    before("scoring_opens_at", "scoring_closes_at", "一次審査の採点終了は採点開始より後にしてください。")
    before("scoring_closes_at", "results_at", "結果公表（予定）は一次審査の採点終了より後にしてください。", strict=False)
    second = (s.presentation_opens_at, s.presentation_closes_at)
    if s.has_presentation:
        if first[0] is None and first[1] is None:
            out.append(Problem("scoring_opens_at", "二次審査を行う場合は、一次審査の採点期間も入力してください。"))
        for name, value in zip(("presentation_opens_at", "presentation_closes_at"), second, strict=True):
            if value is None:
                out.append(Problem(name, "二次審査を行う場合は、二次審査の採点期間を入力してください。"))
        before("scoring_closes_at", "presentation_opens_at",
               "二次審査の採点開始は一次審査の採点終了と同時かそれより後にしてください。", strict=False)
        before("presentation_opens_at", "presentation_closes_at", "二次審査の採点終了は採点開始より後にしてください。")
        before("presentation_closes_at", "results_at", "結果公表（予定）は二次審査の採点終了より後にしてください。",
               strict=False)
    else:
        message = "二次審査（公開プレゼンテーション）を行う場合だけ入力できます。「二次審査を行う」を選ぶか、消してください。"
        for name, value in zip(("presentation_opens_at", "presentation_closes_at"), second, strict=True):
            if value is not None:
                out.append(Problem(name, message))
        if s.allow_revision_after_presentation:
            out.append(Problem("allow_revision_after_presentation", "二次審査を行う場合だけ選べます。"))
        if s.deciding_stage == "presentation":
            out.append(Problem("deciding_stage", "二次審査を行わない場合は、一次審査の点数で決めます。"))


def _criteria_problems(s: CallSettings, out: list[Problem]) -> None:
    if not s.criteria:
        out.append(Problem("criteria", "審査項目を1つ以上入力してください。"))
        return
    if len(s.criteria) > MAX_CRITERIA:
        out.append(Problem("criteria", f"審査項目は{MAX_CRITERIA}項目までにしてください。"))
    seen: set[str] = set()
    for c in s.criteria:
        base = f"criteria-{c.row}-"
        if not c.name:
            out.append(Problem(base + "name", "審査項目名を入力してください。"))
        elif c.name in seen:
            out.append(Problem(base + "name", f"審査項目名「{c.name}」が重複しています。"))
        elif problem := public_text_problem(base + "name", c.name):
            out.append(problem)
        seen.add(c.name)
        if c.weight is None or not c.weight > 0:
            out.append(Problem(base + "weight", "重みは0より大きい数にしてください（例: 2、1.5）。"))
        elif c.weight >= 10000 or c.weight != c.weight.quantize(Decimal("0.01")):
            out.append(Problem(base + "weight", "重みは小数第2位まで、10000未満の数にしてください。"))
        if c.scale_min is None or c.scale_max is None:
            out.append(Problem(base + "scale_min", "評価の最小値と最大値を入力してください。"))
            continue
        if not 0 <= c.scale_min <= MAX_SCALE or not 0 <= c.scale_max <= MAX_SCALE:
            out.append(Problem(base + "scale_min", f"評価の段階は0〜{MAX_SCALE}の整数にしてください。"))
            continue
        if c.scale_min >= c.scale_max:
            out.append(Problem(base + "scale_max", "評価の最大値は最小値より大きくしてください（例: 1〜5）。"))
            continue
        levels = {str(n) for n in range(c.scale_min, c.scale_max + 1)}
        outside = sorted(set(c.levels) - levels, key=int)
        missing = sorted(levels - {k for k, v in c.levels.items() if v}, key=int, reverse=True)
        if outside:
            out.append(Problem(base + "levels",
                               f"{c.scale_min}〜{c.scale_max}の範囲外の段階があります（{'、'.join(outside)}）。"))
        elif missing:
            out.append(Problem(base + "levels", f"各段階の説明を書いてください（未入力: {'、'.join(missing)}）。"))


def _aggregation_problems(s: CallSettings, out: list[Problem]) -> None:
    if s.aggregation_method not in METHOD_LABELS:
        out.append(Problem("aggregation_method", "集計方法を選んでください。"))
    elif s.aggregation_method == "trimmed_mean":
        _check_range(out, "trim_min_scorers", s.trim_min_scorers, 3, 100,
                     "最高点・最低点を除くのは採点した委員が3人以上のときだけです。3以上にしてください。")
    if s.threshold_points is not None and s.threshold_share is not None:
        out.append(Problem("threshold_points", "合格基準は点数か満点に対する割合の一方だけにしてください。"))
    maximum = max_points(s)
    if s.threshold_points is not None:
        if s.threshold_points < 0 or s.threshold_points >= 1_000_000 or (
                maximum is not None and s.threshold_points > maximum):
            shown = f"（満点 {number_text(maximum)}点）" if maximum is not None else ""
            out.append(Problem("threshold_points", f"合格基準点は0点から満点までにしてください{shown}。"))
        elif s.threshold_points != s.threshold_points.quantize(Decimal("0.01")):
            out.append(Problem("threshold_points", "合格基準点は小数第2位までにしてください。"))
    if s.threshold_share is not None:
        if not 0 < s.threshold_share <= 1:
            out.append(Problem("threshold_share", "満点に対する割合は0より大きく100%以下にしてください。"))
        elif s.threshold_share != s.threshold_share.quantize(Decimal("0.0001")):
            out.append(Problem("threshold_share", "割合は小数第2位まで（例: 60.25%）にしてください。"))
    count = len(s.criteria)
    if s.veto_criterion_position is not None:
        if not 0 <= s.veto_criterion_position < count:
            out.append(Problem("veto_criterion_position", "否決の基準に指定した審査項目がありません。"))
        else:
            criterion = s.criteria[s.veto_criterion_position]
            low, high = criterion.scale_min, criterion.scale_max
            if s.veto_at_or_below is None:
                out.append(Problem("veto_at_or_below", "否決とする点数（この点以下）を入力してください。"))
            elif low is not None and high is not None and low < high and not low <= s.veto_at_or_below < high:
                out.append(Problem("veto_at_or_below",
                                   f"否決とする点数は「{criterion.name}」の評価段階の{low}以上{high}未満にしてください。"))
    elif s.veto_at_or_below is not None:
        out.append(Problem("veto_criterion_position", "否決とする点数を入れた場合は、否決の基準とする審査項目を選んでください。"))
    if len(set(s.tie_break_positions)) != len(s.tie_break_positions):
        out.append(Problem("tie_break_positions", "同点時の優先基準に同じ審査項目が重複しています。"))
    if any(not 0 <= p < count for p in s.tie_break_positions):
        out.append(Problem("tie_break_positions", "同点時の優先基準に指定した審査項目がありません。"))
    if s.budget_policy not in BUDGET_POLICY_LABELS:
        out.append(Problem("budget_policy", "予算の扱いを選んでください。"))
    _check_range(out, "score_decimals", s.score_decimals, 0, 4, "小数点以下の桁数は0〜4にしてください。")
    if s.deciding_stage not in DECIDING_STAGE_LABELS:
        out.append(Problem("deciding_stage", "採否を決める点数を選んでください。"))
    if s.min_valid_sheets is not None and not 1 <= s.min_valid_sheets <= MAX_VALID_SHEETS:
        out.append(Problem("min_valid_sheets",
                           f"採点の成立に必要な採点票の数は1〜{MAX_VALID_SHEETS}件で入力してください"
                           "（空欄なら、割り当てた委員のうち利害関係のない全員の採点票が必要です）。"))


def max_points(s: CallSettings) -> Decimal | None:
    """Σ weight × scale_max, or None while a criterion is incomplete."""
    total = Decimal(0)
    for c in s.criteria:
        if c.weight is None or c.scale_max is None:
            return None
        total += c.weight * c.scale_max
    return total


# -- numbers as shown -----------------------------------------------------------------

# Here rather than in call_description.py: the rules' messages quote numbers too.
def number_text(value) -> str:
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
