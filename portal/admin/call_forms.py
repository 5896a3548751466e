"""The call form: every setting of a call, with criteria as rows.

The form reads types (Tokyo wall-clock times, yen, whole numbers, decimals:
the fields of ``parsed_fields.py``) and lengths, and shows back what was
typed when something is wrong. Every rule on the values lives in
``portal/domain/calls/call_settings.py``; the route attaches those messages
to the fields here with :meth:`CallForm.add_problems`.

Criteria are a fixed number of rows plus a "行を追加" submit button, so the
page works without JavaScript. A row with neither a name nor a description
is blank and ignored.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)

from ..domain.calls.call_description import levels_text
from ..domain.calls.call_settings import (
    BUDGET_POLICY_LABELS,
    DECIDING_STAGE_LABELS,
    DEFAULT_LEVELS,
    METHOD_LABELS,
    REVIEWER_FIELD_CHOICES,
    REVIEWER_FIELD_KEYS,
    CallSettings,
    CriterionInput,
    Problem,
    effective_limits,
    settings_from_call,
)
from ..domain.normalize import ascii_digits
from ..domain.proposals.proposal_fields import TEXT_FIELDS
from ..domain.timeutil import fiscal_year_of, now_utc, to_jst
from ..forms import BaseForm, choice, max_chars
from .parsed_fields import DecimalText, IntText, JstDateTimeField, MultiCheckboxField, YenText, present


BLANK_ROWS = 3
ADDED_ROWS = 2
MAX_ROWS = 30
TIE_BREAK_SLOTS = 3
THRESHOLD_KINDS = {"none": "定めない", "points": "点数で定める（○点以上）", "share": "満点に対する割合で定める（○%以上）"}


class CountText(IntText):
    """A whole number that may be typed with its counter (3件, 3枚)."""

    def parse(self, text):
        return super().parse(text.rstrip("件枚"))


def _slug_filter(value):
    return unicodedata.normalize("NFKC", value).strip().lower() if isinstance(value, str) else value


# -- the forms -------------------------------------------------------------------------

class CriterionForm(BaseForm):
    class Meta:
        csrf = False  # a row of the call form, which carries the token

    criterion_id = HiddenField()
    name = StringField("審査項目名", validators=[max_chars(100)])
    description = TextAreaField("説明", validators=[max_chars(1000)])
    weight = DecimalText("重み", render_kw={"inputmode": "decimal"})
    scale_min = IntText("評価の最小値", render_kw={"inputmode": "numeric"})
    scale_max = IntText("評価の最大値", render_kw={"inputmode": "numeric"})
    levels = TextAreaField("各段階の説明（1行に1段階、例「5：優れている」）", validators=[max_chars(2000)])

    def is_blank(self) -> bool:
        return not (self.name.data or self.description.data)


def _choices(labels: dict) -> list:
    return [choice(value, label) for value, label in labels.items()]


class CallForm(BaseForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            # The rows normalise their own text; a list of rows takes no filters.
            if unbound_field.field_class in (FieldList, FormField):
                return unbound_field.bind(form=form, **options)
            return BaseForm.Meta.bind_field(self, form, unbound_field, options)

    title = StringField("名称", validators=[present, max_chars(200)])
    slug = StringField("URL用の識別子", validators=[present, max_chars(40)], filters=[_slug_filter],
                       render_kw={"autocomplete": "off", "spellcheck": "false"})
    fiscal_year = IntText("年度（西暦）", validators=[present], render_kw={"inputmode": "numeric"})
    summary = TextAreaField("概要", validators=[max_chars(2000)])
    guidelines = TextAreaField("募集要項", validators=[max_chars(50000)])

    opens_at = JstDateTimeField("受付開始", validators=[present])
    closes_at = JstDateTimeField("提出締切", validators=[present])
    screening_starts_at = JstDateTimeField("審査開始", validators=[present])
    results_at = JstDateTimeField("結果公表（予定）", validators=[present])
    scoring_opens_at = JstDateTimeField("一次審査（書類）の採点開始")
    scoring_closes_at = JstDateTimeField("一次審査（書類）の採点終了")
    has_presentation = BooleanField("二次審査（公開プレゼンテーション）を行う")
    presentation_opens_at = JstDateTimeField("二次審査の採点開始")
    presentation_closes_at = JstDateTimeField("二次審査の採点終了")
    allow_revision_after_presentation = BooleanField("二次審査の後に、一次審査の点数の見直しを認める")

    budget_cap_per_proposal = YenText("1件あたりの上限額（円）", validators=[present],
                                      render_kw={"inputmode": "numeric"})
    budget_total = YenText("予算総額（円）", render_kw={"inputmode": "numeric"})
    min_members = IntText("構成員の最少人数（人）", validators=[present], render_kw={"inputmode": "numeric"})
    requires_base_in_city = BooleanField("市内に活動拠点があることを条件にする")
    min_years_active = IntText("活動年数（○年以上）", validators=[present], render_kw={"inputmode": "numeric"})
    correction_days = IntText("差し戻し後の修正期間（日）", validators=[present], render_kw={"inputmode": "numeric"})

    reviewer_fields = MultiCheckboxField("審査委員に見せる提案書の項目",
                                         choices=[choice(k, label) for k, label in REVIEWER_FIELD_CHOICES])
    show_department_opinion = BooleanField("担当課の所見を審査委員に見せる")

    aggregation_method = RadioField("集計方法", choices=_choices(METHOD_LABELS))
    trim_min_scorers = IntText("最高点・最低点を除く最少人数（人）", render_kw={"inputmode": "numeric"})
    threshold_kind = RadioField("合格基準", choices=_choices(THRESHOLD_KINDS))
    threshold_value = DecimalText("合格基準の値（点、又は%）", render_kw={"inputmode": "decimal"})
    veto_row = SelectField("否決の基準とする審査項目", validate_choice=True)
    veto_at_or_below = IntText("否決とする点数（この点以下）", render_kw={"inputmode": "numeric"})
    budget_policy = RadioField("予算総額を超える場合", choices=_choices(BUDGET_POLICY_LABELS))
    score_decimals = IntText("点数の小数点以下の桁数", validators=[present], render_kw={"inputmode": "numeric"})
    deciding_stage = RadioField("採否を決める点数", choices=_choices(DECIDING_STAGE_LABELS))
    min_valid_sheets = CountText("採点の成立に必要な有効な採点票の数（件）", render_kw={"inputmode": "numeric"})
    publish_roster = BooleanField("審査委員の名簿を結果とともに公表する")

    criteria = FieldList(FormField(CriterionForm), min_entries=0, max_entries=MAX_ROWS)
    reason = TextAreaField("変更の理由（公開されます）", validators=[max_chars(2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.general_errors: list[tuple[str, str, str]] = []
        self.refresh_choices()

    # -- rows --------------------------------------------------------------------

    def refresh_choices(self) -> None:
        """The veto and tie-break lists offer the rows as they stand."""
        rows = [choice("", "なし")] + [
            choice(str(index), f"{index + 1}行目：{entry.form.name.data or '（未入力）'}")
            for index, entry in enumerate(self.criteria.entries)
        ]
        self.veto_row.choices = rows
        for slot in self.tie_break_fields():
            slot.choices = rows

    def tie_break_fields(self) -> list:
        return [self[f"tie_break_{n}"] for n in range(1, TIE_BREAK_SLOTS + 1)]

    def limit_fields(self) -> list:
        return [self[f"limit_{f.key}"] for f in TEXT_FIELDS]

    def add_rows(self, count: int = ADDED_ROWS) -> None:
        for _ in range(count):
            if len(self.criteria.entries) >= MAX_ROWS:
                break
            self.criteria.append_entry(blank_row())
        self.refresh_choices()

    # -- reading -------------------------------------------------------------------

    def read(self) -> CallSettings:
        """Check types and lengths (messages on the fields) and build the
        settings from whatever could be read, so that the rules can be
        checked too and every problem is shown at once."""
        self.validate()
        rows, positions = [], {}
        for index, entry in enumerate(self.criteria.entries):
            row = entry.form
            if row.is_blank():
                continue
            positions[index] = len(rows)
            rows.append(CriterionInput(
                id=_int_or_none(row.criterion_id.data), name=row.name.data or "", description=row.description.data or "",
                weight=row.weight.data, scale_min=row.scale_min.data, scale_max=row.scale_max.data,
                levels=_read_levels(row.levels), row=index,
            ))
        veto = self._row_position(self.veto_row, positions)
        tie_breaks = [self._row_position(slot, positions) for slot in self.tie_break_fields()]
        threshold_points = threshold_share = None
        if self.threshold_kind.data in ("points", "share"):
            if self.threshold_value.data is None:
                if not self.threshold_value.errors:
                    self.threshold_value.errors.append("合格基準の値を入力してください。")
            elif self.threshold_kind.data == "points":
                threshold_points = self.threshold_value.data
            else:
                threshold_share = self.threshold_value.data / 100
        limits = {field.name.removeprefix("limit_"): field.data for field in self.limit_fields()
                  if field.data is not None}
        return CallSettings(
            title=self.title.data or "", slug=self.slug.data or "", fiscal_year=self.fiscal_year.data,
            summary=self.summary.data or "", guidelines=self.guidelines.data or "",
            opens_at=self.opens_at.data, closes_at=self.closes_at.data,
            screening_starts_at=self.screening_starts_at.data, results_at=self.results_at.data,
            scoring_opens_at=self.scoring_opens_at.data, scoring_closes_at=self.scoring_closes_at.data,
            has_presentation=self.has_presentation.data,
            presentation_opens_at=self.presentation_opens_at.data,
            presentation_closes_at=self.presentation_closes_at.data,
            allow_revision_after_presentation=self.allow_revision_after_presentation.data,
            budget_cap_per_proposal=self.budget_cap_per_proposal.data,
            budget_total=self.budget_total.data or 0,
            min_members=self.min_members.data, requires_base_in_city=self.requires_base_in_city.data,
            min_years_active=self.min_years_active.data, correction_days=self.correction_days.data,
            field_limits=limits, reviewer_fields=list(self.reviewer_fields.data or []),
            show_department_opinion=self.show_department_opinion.data,
            aggregation_method=self.aggregation_method.data,
            trim_min_scorers=self.trim_min_scorers.data if self.trim_min_scorers.data is not None else 5,
            threshold_points=threshold_points, threshold_share=threshold_share,
            veto_criterion_position=veto, veto_at_or_below=self.veto_at_or_below.data,
            tie_break_positions=[p for p in tie_breaks if p is not None],
            budget_policy=self.budget_policy.data, score_decimals=self.score_decimals.data,
            deciding_stage=self.deciding_stage.data, publish_roster=self.publish_roster.data,
            min_valid_sheets=self.min_valid_sheets.data, criteria=rows,
        )

    def _row_position(self, field, positions: dict[int, int]) -> int | None:
        if not field.data or field.errors or not (field.data.isascii() and field.data.isdigit()):
            return None  # nothing chosen, or a value outside the list (already has its message)
        index = int(field.data)
        if index not in positions:
            field.errors.append(f"{index + 1}行目に審査項目がありません。")
            return None
        return positions[index]

    # -- messages ----------------------------------------------------------------------

    def add_problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            target = self._field_for(problem.field)
            if target is None:
                anchor = self.criteria.entries[0].form.name.id if self.criteria.entries else "criteria"
                self.general_errors.append((anchor, "審査項目" if problem.field == "criteria" else "入力内容",
                                            problem.message))
            elif not target.errors:  # one message per field: what was typed comes first
                target.errors = [*target.errors, problem.message]

    def _field_for(self, name: str):
        if name.startswith("criteria-"):
            _, row, attribute = name.split("-", 2)
            entries = self.criteria.entries
            if row.isascii() and row.isdigit() and len(row) < 6 and int(row) < len(entries) and attribute in entries[int(row)].form:
                return entries[int(row)].form[attribute]
            return None
        name = {"veto_criterion_position": "veto_row", "tie_break_positions": "tie_break_1",
                "threshold_points": "threshold_value", "threshold_share": "threshold_value"}.get(name, name)
        if name.startswith("field_limits."):
            name = "limit_" + name.removeprefix("field_limits.")
        return self[name] if name in self and name != "criteria" else None

    def error_list(self) -> list[tuple[str, str, str]]:
        items = list(self.general_errors)
        for field in self:
            if field.name == "criteria":
                for index, entry in enumerate(field.entries):
                    for sub in entry.form:
                        items.extend((sub.id, f"審査項目{index + 1}行目の{sub.label.text}", message)
                                     for message in sub.errors if isinstance(message, str))
            elif field.name != "csrf_token":
                items.extend((field.id, field.label.text, message)
                             for message in field.errors if isinstance(message, str))
        return items


for _slot in range(1, TIE_BREAK_SLOTS + 1):
    setattr(CallForm, f"tie_break_{_slot}", SelectField(f"同点時の優先基準（第{_slot}）", validate_choice=True))
for _field in TEXT_FIELDS:
    setattr(CallForm, f"limit_{_field.key}", IntText(f"{_field.label}（字）", render_kw={"inputmode": "numeric"}))


_LEVEL_RE = re.compile(r"([0-9]{1,2})\s*[:：.．、,，)）=＝\s]\s*(.+)")


def _read_levels(field) -> dict[str, str]:
    """"5：優れている" per line -> {"5": "優れている"}; a line that cannot be
    read gets a message on the field."""
    levels: dict[str, str] = {}
    for number, line in enumerate((field.data or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = _LEVEL_RE.fullmatch(ascii_digits(line[:3]) + line[3:])
        if not match:
            field.errors = [*field.errors, f"{number}行目：「5：優れている」のように、点数と説明を1行ずつ書いてください。"]
            return levels
        key = str(int(match.group(1)))
        if key in levels:
            field.errors = [*field.errors, f"{number}行目：{key}点の説明が2回書かれています。"]
            return levels
        levels[key] = match.group(2).strip()
    return levels


def _int_or_none(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10 else None


# -- what a form starts with ----------------------------------------------------------------

def blank_row() -> dict:
    return {"criterion_id": "", "name": "", "description": "", "weight": Decimal(1), "scale_min": 1,
            "scale_max": 5, "levels": levels_text(DEFAULT_LEVELS, "\n")}


def new_call_data() -> dict:
    data = {
        "fiscal_year": fiscal_year_of(to_jst(now_utc()).date()) + 1, "requires_base_in_city": True,
        "min_members": 5, "min_years_active": 1, "correction_days": 7, "reviewer_fields": list(REVIEWER_FIELD_KEYS),
        "aggregation_method": "mean", "trim_min_scorers": 5, "threshold_kind": "none", "budget_policy": "skip",
        "score_decimals": 2, "deciding_stage": "document", "criteria": [blank_row() for _ in range(5)],
    }
    data.update({f"limit_{key}": value for key, value in effective_limits({}).items()})
    return data


def call_data(call) -> dict:
    """The edit form's starting values: the call as stored, plus blank rows."""
    s = settings_from_call(call)
    data = {name: getattr(s, name) for name in (
        "title", "slug", "fiscal_year", "summary", "guidelines", "opens_at", "closes_at", "screening_starts_at",
        "results_at", "scoring_opens_at", "scoring_closes_at", "has_presentation", "presentation_opens_at",
        "presentation_closes_at", "allow_revision_after_presentation", "budget_cap_per_proposal", "budget_total",
        "min_members", "requires_base_in_city", "min_years_active", "correction_days", "show_department_opinion",
        "aggregation_method", "trim_min_scorers", "veto_at_or_below", "budget_policy", "score_decimals",
        "deciding_stage", "publish_roster", "min_valid_sheets")}
    data["reviewer_fields"] = list(s.reviewer_fields) or list(REVIEWER_FIELD_KEYS)
    data.update({f"limit_{key}": value for key, value in effective_limits(s.field_limits).items()})
    if s.threshold_points is not None:
        data.update(threshold_kind="points", threshold_value=s.threshold_points)
    elif s.threshold_share is not None:
        data.update(threshold_kind="share", threshold_value=s.threshold_share * 100)
    else:
        data["threshold_kind"] = "none"
    data["veto_row"] = "" if s.veto_criterion_position is None else str(s.veto_criterion_position)
    for slot, position in enumerate(s.tie_break_positions[:TIE_BREAK_SLOTS], start=1):
        data[f"tie_break_{slot}"] = str(position)
    data["criteria"] = [
        {"criterion_id": str(c.id), "name": c.name, "description": c.description, "weight": c.weight,
         "scale_min": c.scale_min, "scale_max": c.scale_max, "levels": levels_text(c.levels, "\n")}
        for c in s.criteria
    ] + [blank_row() for _ in range(BLANK_ROWS)]
    return data
