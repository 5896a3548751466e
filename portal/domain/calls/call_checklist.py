"""What staff review before publishing a call, above all one copied from
last year: each item names what to look at and says what the portal sees
(a date on a weekend or already past, last year's 年度 left in the text, no
panel yet). Nothing here blocks publication; ``call_admin.publication_problems``
does that. Plain Python: no Flask, no queries.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ...models import Call
from .call_description import describe
from .call_settings import DATETIME_FIELDS, number_text, settings_from_call
from ..timeutil import fiscal_year_label, format_jst, to_jst

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class CheckItem:
    label: str  # what to review
    details: tuple[str, ...]  # what the portal sees
    attention: bool  # something was found that needs a look
    anchor: str  # the section of the edit form ("panel": the panel page)


def _stale_years(call: Call) -> list[str]:
    """How last year is written: 令和7年, 令和７年, 2025年, R7."""
    previous = call.fiscal_year - 1
    forms = [f"{previous}年", f"{previous}年".translate(_FULLWIDTH)]
    if previous >= 2019:
        n = str(previous - 2018)
        forms += [f"令和{n}年", f"令和{n.translate(_FULLWIDTH)}年", f"R{n}年"]
    return forms


def _mentions(text: str, forms: list[str]) -> list[str]:
    found = []
    for form in forms:
        # 2025年 must not match inside 12025年; 令和7年 must not match 令和17年.
        if re.search(rf"(?<![0-9０-９]){re.escape(form)}", text or "") and form not in found:
            found.append(form)
    return found


def _date_details(call: Call, now: datetime) -> list[str]:
    labels = describe(settings_from_call(call))
    details = []
    for name in DATETIME_FIELDS:
        value = getattr(call, name)
        if value is None:
            continue
        label = labels[name][0]
        if value <= now:
            details.append(f"{label}がすでに過ぎています（{format_jst(value)}）。")
        elif to_jst(value).weekday() >= 5:
            details.append(f"{label}が{'土曜日' if to_jst(value).weekday() == 5 else '日曜日'}です"
                           f"（{format_jst(value)}）。祝日や庁舎の開庁日も確かめてください。")
    return details


def checklist(call: Call, now: datetime, *, panel_size: int) -> list[CheckItem]:
    """The items to review, in the order of the edit form."""
    label = fiscal_year_label(call.fiscal_year)
    forms = _stale_years(call)
    in_title = call.fiscal_year and (label in call.title or f"{call.fiscal_year}年度" in call.title)
    title_details = [f"{call.title}（{label}）"]
    if not in_title:
        title_details.append(f"名称に「{label}」がありません。")
    slug_stale = _mentions(call.slug, [str(call.fiscal_year - 1), f"r{call.fiscal_year - 2019}-"])
    dates = _date_details(call, now)
    texts = {"名称": call.title, "概要": call.summary, "募集要項": call.guidelines,
             **{f"審査項目「{c.name}」の説明": c.description for c in call.criteria}}
    stale = [f"{where}に「{'」「'.join(found)}」があります。" for where, text in texts.items()
             if (found := _mentions(text, forms))]
    settings = describe(settings_from_call(call))
    maximum = sum((c.weight * c.scale_max for c in call.criteria), start=0)
    return [
        CheckItem("名称と年度", tuple(title_details), not in_title, "sec-basic"),
        CheckItem("URL用の識別子（公開後は変更できません）",
                  (call.slug, *(["前年度の年が残っています。"] if slug_stale else [])), bool(slug_stale), "sec-basic"),
        CheckItem("日程（前年度の日時を1年後にずらしています）",
                  tuple(dates) or ("すべての日時が今後の平日です。曜日・祝日と庁内の日程を確かめてください。",),
                  bool(dates), "sec-schedule"),
        CheckItem("概要・募集要項・審査項目の説明に残る前年度の年",
                  tuple(stale) or ("前年度の年の表記は見つかりませんでした。日付や金額の記載も読み直してください。",),
                  bool(stale), "sec-basic"),
        CheckItem("予算総額と1件あたりの上限額（新年度の予算額）",
                  (f"予算総額：{settings['budget_total'][1]}", f"1件あたり：{settings['budget_cap_per_proposal'][1]}"),
                  False, "sec-eligibility"),
        CheckItem("審査項目・配点・集計のルール",
                  (f"{len(call.criteria)}項目、満点{number_text(maximum)}点", f"集計方法：{settings['aggregation_method'][1]}",
                   f"採点の成立：{settings['min_valid_sheets'][1]}"),
                  not call.criteria, "sec-criteria"),
        CheckItem("審査委員会（委員はコピーされません）",
                  (f"委員は{panel_size}人です。" if panel_size else "委員がまだいません。審査開始までに委員を登録してください。",),
                  panel_size == 0, "panel"),
    ]
