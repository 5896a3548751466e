"""The to-do list on the staff landing page, across every call: intake
waiting, conflicts to decide, anonymisation pending, sheets overdue,
decisions missing and scheduled publication, each with its count and a
link; read in the same number of queries however many calls there are."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.domain.calls import call_admin, todo
from portal.domain.results import decisions
from portal.domain.timeutil import now_utc
from portal.models import Call, Conflict, ConflictSource, ConflictStatus, ProposalStatus

from .results_support import build, score


def row_for(page: str, label: str, title: str) -> str | None:
    for row in re.findall(r"<tr>.*?</tr>", page, re.S):
        if f">{label}</th>" in row and f"<td>{title}</td>" in row:
            return row
    return None


def busy_call(factory, db):
    """A call in its scoring window: 3 members, 3 released proposals;
    委員A has scored 提案0 only; 委員B's conflict with 提案1 is flagged."""
    s = build(factory, reviewers=3, proposals=3)
    score(db, s, 0, 0, [3, 3, 3, 3, 3])
    db.add(Conflict(panel_member_id=s.members[1].id, proposal_id=s.proposals[1].id,
                    source=ConflictSource.DETECTED, status=ConflictStatus.FLAGGED, reason="役員名簿に同名"))
    db.commit()
    return s


def test_each_kind_of_work_is_counted_and_linked(client, login, db, factory):
    s = busy_call(factory, db)
    intake = factory.call(title="令和8年度 受付中の募集")
    for _ in range(2):
        factory.submitted(intake)
    accepted = factory.submitted(intake)
    accepted.status = ProposalStatus.ACCEPTED
    db.commit()
    login(factory.staff())
    page = client.get("/admin/").text
    assert "やること（すべての募集）" in page

    rows = {label: row_for(page, label, title) for label, title in (
        (todo.LABELS[todo.INTAKE], intake.title), (todo.LABELS[todo.ANONYMISATION], intake.title),
        (todo.LABELS[todo.CONFLICTS], s.call.title))}
    assert ">2件<" in rows[todo.LABELS[todo.INTAKE]]
    assert f'href="/admin/calls/{intake.id}/intake"' in rows[todo.LABELS[todo.INTAKE]]
    assert ">1件<" in rows[todo.LABELS[todo.ANONYMISATION]]
    assert f'href="/admin/calls/{intake.id}/anonymise"' in rows[todo.LABELS[todo.ANONYMISATION]]
    assert ">1件<" in rows[todo.LABELS[todo.CONFLICTS]]
    assert f'href="/admin/calls/{s.call.id}/panel"' in rows[todo.LABELS[todo.CONFLICTS]]
    # Scoring is still open: nothing is overdue and no decision is due yet.
    assert row_for(page, todo.LABELS[todo.OVERDUE], s.call.title) is None
    assert row_for(page, todo.LABELS[todo.DECISIONS], s.call.title) is None

    # The window ends without the secretariat closing it.
    s.call.scoring_closes_at = now_utc() - timedelta(hours=1)
    s.call.results_scheduled_at = now_utc() + timedelta(days=3)
    db.commit()
    page = client.get("/admin/").text
    overdue = row_for(page, todo.LABELS[todo.OVERDUE], s.call.title)
    # 9 assignments: 1 submitted, 委員B's 提案1 held by the flagged conflict, 7 overdue.
    assert ">7件<" in overdue and f'href="/admin/calls/{s.call.id}/progress"' in overdue
    undecided = row_for(page, todo.LABELS[todo.DECISIONS], s.call.title)
    assert ">3件<" in undecided and f'href="/admin/calls/{s.call.id}/results#decisions"' in undecided
    scheduled = row_for(page, todo.LABELS[todo.PUBLICATION], s.call.title)
    assert "に公表" in scheduled and f'href="/admin/calls/{s.call.id}/results#publish"' in scheduled

    # A decision lowers the count; closing the scoring ends the overdue line.
    decisions.record_decision(db, s.call, s.proposals[0], outcome="not_adopted", staff=None, now=now_utc(),
                              reason="採点不成立のため不採択とします。")
    s.call.scoring_closed_at = now_utc() - timedelta(minutes=1)
    db.commit()
    page = client.get("/admin/").text
    assert ">2件<" in row_for(page, todo.LABELS[todo.DECISIONS], s.call.title)
    assert row_for(page, todo.LABELS[todo.OVERDUE], s.call.title) is None


def test_nothing_to_do_says_so(client, login, db, factory):
    login(factory.staff())
    factory.call(published=False)
    page = client.get("/admin/").text
    assert "いま対応を待っているものはありません。" in page


def test_the_list_is_read_in_the_same_number_of_queries_for_many_calls(db, factory, count_queries):
    def measure():
        db.expire_all()
        with count_queries() as counter:  # as the landing page reads them
            calls = call_admin_calls(db)
            counts = call_admin.proposal_counts(db, [c.id for c in calls])
            items = todo.todos(db, calls, counts, now_utc())
        return counter.count, items

    busy_call(factory, db)
    small, few = measure()
    for _ in range(4):
        s = busy_call(factory, db)
        s.call.scoring_closes_at = now_utc() - timedelta(hours=1)
        extra = factory.call()
        factory.submitted(extra)
    db.commit()
    large, many = measure()
    assert small == large, (small, large)
    assert len(many) > len(few)


def call_admin_calls(db):
    return list(db.scalars(select(Call).order_by(Call.id)))
