"""A call's settings in words, as people read them: every setting with its
label and its value in Japanese (the call's page for staff, the record of a
change), and the label of the setting a problem is about.
"""
from __future__ import annotations

from datetime import datetime

from ..proposals.proposal_fields import TEXT_FIELDS
from ..timeutil import fiscal_year_label, format_jst
from .call_settings import (
    BUDGET_POLICY_LABELS,
    DECIDING_STAGE_LABELS,
    METHOD_LABELS,
    REVIEWER_FIELD_CHOICES,
    REVIEWER_FIELD_KEYS,
    CallSettings,
    effective_limits,
    number_text,
)


def _yes(value: bool, yes: str = "する", no: str = "しない") -> str:
    return yes if value else no


def _when(value: datetime | None) -> str:
    return format_jst(value) if value is not None else "未定"


def _yen(value: int) -> str:
    return f"{value:,}円" if value else "0円"


def levels_text(levels: dict, separator: str = "／") -> str:
    return separator.join(f"{k}：{v}" for k, v in sorted(levels.items(), key=lambda kv: -int(kv[0])) if v)


def _criterion_name(s: CallSettings, index: int | None) -> str:
    if index is None or not 0 <= index < len(s.criteria):
        return ""
    return s.criteria[index].name


def describe(s: CallSettings) -> dict[str, tuple[str, str]]:
    """Every setting as (label, text as shown to people), in page order."""
    limits = effective_limits(s.field_limits)
    reviewer = [key for key in REVIEWER_FIELD_KEYS if key in s.reviewer_fields]
    labels = dict(REVIEWER_FIELD_CHOICES)
    if s.threshold_points is not None:
        threshold = f"{number_text(s.threshold_points)}点以上"
    elif s.threshold_share is not None:
        threshold = f"満点の{number_text(s.threshold_share * 100)}%以上"
    else:
        threshold = "なし"
    veto = "なし"
    if s.veto_criterion_position is not None:
        veto = f"「{_criterion_name(s, s.veto_criterion_position)}」が{s.veto_at_or_below}点以下の委員が過半数のとき"
    items: dict[str, tuple[str, str]] = {
        "title": ("名称", s.title),
        "slug": ("URL用の識別子", s.slug),
        "fiscal_year": ("年度", fiscal_year_label(s.fiscal_year) if s.fiscal_year else ""),
        "summary": ("概要", s.summary),
        "guidelines": ("募集要項", s.guidelines),
        "opens_at": ("受付開始", _when(s.opens_at)),
        "closes_at": ("提出締切", _when(s.closes_at)),
        "screening_starts_at": ("審査開始", _when(s.screening_starts_at)),
        "results_at": ("結果公表（予定）", _when(s.results_at)),
        "scoring_opens_at": ("一次審査の採点開始", _when(s.scoring_opens_at)),
        "scoring_closes_at": ("一次審査の採点終了", _when(s.scoring_closes_at)),
        "has_presentation": ("二次審査（公開プレゼンテーション）", _yes(s.has_presentation, "行う", "行わない")),
        "presentation_opens_at": ("二次審査の採点開始", _when(s.presentation_opens_at)),
        "presentation_closes_at": ("二次審査の採点終了", _when(s.presentation_closes_at)),
        "allow_revision_after_presentation": ("二次審査後の一次審査の点数の見直し",
                                              _yes(s.allow_revision_after_presentation, "認める", "認めない")),
        "budget_cap_per_proposal": ("1件あたりの上限額", _yen(s.budget_cap_per_proposal)),
        "budget_total": ("予算総額", _yen(s.budget_total) if s.budget_total else "定めない"),
        "min_members": ("構成員の最少人数", f"{s.min_members}人"),
        "requires_base_in_city": ("市内の活動拠点", _yes(s.requires_base_in_city, "必要", "不要")),
        "min_years_active": ("活動年数", f"{s.min_years_active}年以上"),
        "correction_days": ("差し戻し後の修正期間", f"{s.correction_days}日"),
    }
    for f in TEXT_FIELDS:
        items[f"field_limits.{f.key}"] = (f"文字数の上限（{f.label}）", f"{limits[f.key]}字")
    items.update({
        "reviewer_fields": ("審査委員に見せる項目",
                            "すべて" if not reviewer or len(reviewer) == len(REVIEWER_FIELD_KEYS)
                            else "、".join(labels[k] for k in reviewer)),
        "show_department_opinion": ("担当課の所見を審査委員に見せる", _yes(s.show_department_opinion)),
        "aggregation_method": ("集計方法", METHOD_LABELS.get(s.aggregation_method, s.aggregation_method)),
        "trim_min_scorers": ("最高点・最低点を除く最少人数", f"{s.trim_min_scorers}人"),
        "threshold": ("合格基準", threshold),
        "veto": ("否決の条件", veto),
        "tie_breaks": ("同点時の優先基準",
                       " → ".join(_criterion_name(s, p) for p in s.tie_break_positions) or "なし"),
        "budget_policy": ("予算総額を超える場合", BUDGET_POLICY_LABELS.get(s.budget_policy, s.budget_policy)),
        "score_decimals": ("点数の小数点以下の桁数", f"{s.score_decimals}桁"),
        "deciding_stage": ("採否を決める点数", DECIDING_STAGE_LABELS.get(s.deciding_stage, s.deciding_stage)),
        "min_valid_sheets": ("採点の成立に必要な採点票",
                             "割り当てた委員のうち利害関係のない全員" if s.min_valid_sheets is None
                             else f"{s.min_valid_sheets}件以上"),
        "publish_roster": ("審査委員名簿の公表", _yes(s.publish_roster)),
    })
    return items


OTHER_LABELS = {"threshold_points": "合格基準", "threshold_share": "合格基準", "veto_criterion_position": "否決の条件",
                "veto_at_or_below": "否決の条件", "tie_break_positions": "同点時の優先基準", "criteria": "審査項目",
                "field_limits": "文字数の上限", "reason": "変更の理由"}


def problem_label(s: CallSettings, name: str) -> str:
    if name.startswith("criteria-"):
        row = name.split("-")[1]
        return f"審査項目（{int(row) + 1}行目）" if row.isdigit() else "審査項目"
    return OTHER_LABELS.get(name) or describe(s).get(name, ("設定",))[0]
