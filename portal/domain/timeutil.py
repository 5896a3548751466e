"""Times are stored in UTC and shown in Asia/Tokyo, with 和暦 where
Japanese forms use it."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
REIWA_START = date(2019, 5, 1)
WEEKDAYS = "月火水木金土日"


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_jst(value: datetime) -> datetime:
    return value.astimezone(JST)


def jst_datetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in Tokyo, returned as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=JST).astimezone(UTC)


def wareki_year(year: int) -> str:
    reiwa = year - 2018
    return "令和元" if reiwa == 1 else f"令和{reiwa}"


def fiscal_year_label(fiscal_year: int) -> str:
    """2026 -> 令和8年度 (the Japanese fiscal year starts on 1 April)."""
    if fiscal_year < 2019:
        return f"平成{fiscal_year - 1988}年度"
    return f"{wareki_year(fiscal_year)}年度"


def wareki_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = to_jst(value).date()
    if value < REIWA_START:
        era = f"平成{value.year - 1988}"
    else:
        era = wareki_year(value.year)
    return f"{era}年{value.month}月{value.day}日"


def format_jst(value: datetime | None, with_weekday: bool = True) -> str:
    """令和8年6月30日（火）17:00 in Tokyo time."""
    if value is None:
        return ""
    local = to_jst(value)
    weekday = f"（{WEEKDAYS[local.weekday()]}）" if with_weekday else ""
    return f"{wareki_date(local.date())}{weekday}{local:%H:%M}"


def fiscal_year_of(value: date) -> int:
    return value.year if value.month >= 4 else value.year - 1
