from __future__ import annotations

from flask import Flask

from .domain.timeutil import fiscal_year_label, format_jst, now_utc, wareki_date


def yen(value) -> str:
    if value is None or value == "":
        return ""
    return f"{int(value):,}円"


def plain_number(value) -> str:
    """Decimal('1.50') -> '1.5', Decimal('2.00') -> '2'."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["jst"] = format_jst
    app.jinja_env.filters["wareki"] = wareki_date
    app.jinja_env.filters["fiscal_year"] = fiscal_year_label
    app.jinja_env.filters["yen"] = yen
    app.jinja_env.filters["plain_number"] = plain_number
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from . import policy

    @app.context_processor
    def portal_globals():
        return {"city_name": app.config["CITY_NAME"], "now_utc": now_utc, "policy": policy}
