"""The to-do list on the staff landing page: each item of
``domain/calls/todo.py`` with its count and the page where it is done."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from ..db import db_session
from ..domain.calls import todo
from ..domain.timeutil import format_jst, now_utc
from ..models import Call

# Where each kind of work is done: (endpoint, anchor, the link's words).
PLACES = {
    todo.INTAKE: ("admin.intake_list", "", "受付・形式審査へ"),
    todo.CONFLICTS: ("admin.panel", "", "審査委員会（利害関係）へ"),
    todo.ANONYMISATION: ("admin.anonymise_list", "", "匿名化と提供へ"),
    todo.OVERDUE: ("admin.progress", "", "採点の進み具合へ"),
    todo.DECISIONS: ("admin.results", "#decisions", "集計・決定へ"),
    todo.PUBLICATION: ("admin.results", "#publish", "公表の予約へ"),
}


@dataclass(frozen=True)
class TodoLine:
    label: str
    call_title: str
    amount: str  # "3件", or the scheduled time
    url: str
    link_text: str


def lines(calls: list[Call], counts: dict[int, dict[str, int]]) -> list[TodoLine]:
    found = []
    for item in todo.todos(db_session, calls, counts, now_utc()):
        endpoint, anchor, words = PLACES[item.kind]
        amount = f"{format_jst(item.when)}に公表" if item.when is not None else f"{item.count}件"
        found.append(TodoLine(item.label, item.call.title, amount,
                              url_for(endpoint, call_id=item.call.id) + anchor, words))
    return found
