"""The staff export of the score sheets and the ranking for the 審査会:
the .xlsx opened with openpyxl holds, value for value, what the database
holds (one worksheet per stage, the ranking beside them, no formula
anywhere); the CSVs say the same and run nothing; staff only."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.domain.panel import conflict_declaration
from portal.domain.results import results, score_export
from portal.domain.results.results_document import FORMULA_STARTS
from portal.domain.scoring import scoring
from portal.domain.timeutil import format_jst, now_utc
from portal.models import (
    Assignment,
    Criterion,
    PanelMember,
    Proposal,
    ReviewScore,
    ReviewSheet,
    SheetStatus,
    Stage,
)

from .results_support import build, close_scoring
from .test_csv_injection import PAYLOADS, assert_runs_nothing

STAGE_ORDER = {Stage.DOCUMENT: 0, Stage.PRESENTATION: 1, Stage.DOCUMENT_REVISED: 2}


def submit(db, s, member, proposal, values, reasons, stage, at):
    assignment = db.scalars(select(Assignment).where(Assignment.panel_member_id == s.members[member].id,
                                                     Assignment.proposal_id == s.proposals[proposal].id)).one()
    conflict_declaration.confirm_no_conflict(db, assignment, at)
    data = scoring.SheetInput(scores={c.id: scoring.ScoreInput(v, r) for c, v, r in
                                      zip(s.call.criteria, values, reasons, strict=True)})
    sheet = scoring.save_draft(db, assignment, stage, data, at)
    scoring.submit_sheet(db, sheet, at)
    db.commit()


@pytest.fixture()
def two_stage(factory, db):
    """Two members, two proposals, a presentation stage with revision;
    reasons that a spreadsheet would run, and a draft that is not exported."""
    now = now_utc()
    s = build(factory, reviewers=2, proposals=2, has_presentation=True, allow_revision_after_presentation=True,
              deciding_stage="presentation")
    call = s.call
    call.scoring_opens_at, call.scoring_closes_at = now - timedelta(days=10), now - timedelta(days=3)
    call.presentation_opens_at, call.presentation_closes_at = now - timedelta(days=1), now + timedelta(days=2)
    db.commit()
    first_stage = call.scoring_opens_at + timedelta(days=1)
    hostile = [PAYLOADS[i % len(PAYLOADS)] for i in range(5)]
    plain = [f"理由{i}" for i in range(5)]
    submit(db, s, 0, 0, [5, 4, 3, 4, 2], hostile, Stage.DOCUMENT, first_stage)
    submit(db, s, 1, 0, [3, 3, 3, 3, 3], plain, Stage.DOCUMENT, first_stage)
    submit(db, s, 0, 1, [2, 2, 2, 2, 2], plain, Stage.DOCUMENT, first_stage)
    submit(db, s, 1, 1, [1, 2, 3, 4, 5], plain, Stage.DOCUMENT, first_stage)
    later = now - timedelta(hours=1)
    submit(db, s, 0, 0, [4, 4, 4, 4, 4], plain, Stage.PRESENTATION, later)
    submit(db, s, 1, 0, [5, 5, 5, 5, 5], plain, Stage.PRESENTATION, later)
    submit(db, s, 0, 1, [3, 2, 3, 2, 3], plain, Stage.PRESENTATION, later)
    submit(db, s, 0, 0, [5, 5, 4, 4, 3], plain, Stage.DOCUMENT_REVISED, later)
    # 委員B's presentation sheet for 提案1 is only a draft: no score yet.
    assignment = db.scalars(select(Assignment).where(Assignment.panel_member_id == s.members[1].id,
                                                     Assignment.proposal_id == s.proposals[1].id)).one()
    scoring.save_draft(db, assignment, Stage.PRESENTATION, scoring.SheetInput(
        scores={c.id: scoring.ScoreInput(1, "下書き") for c in call.criteria}), later)
    db.commit()
    close_scoring(db, s)
    s.call.presentation_closes_at = now - timedelta(minutes=5)
    db.commit()
    return s


def database_lines(db, call) -> dict[str, list[list]]:
    """What the database holds, read independently of the export."""
    rows = db.execute(
        select(ReviewSheet.stage, ReviewSheet.submitted_at, ReviewSheet.id, PanelMember.pseudonym,
               Proposal.anonymous_code, Criterion.position, Criterion.name, Criterion.level_descriptors,
               ReviewScore.score, ReviewScore.reason)
        .join(ReviewScore, ReviewScore.sheet_id == ReviewSheet.id)
        .join(Criterion, Criterion.id == ReviewScore.criterion_id)
        .join(Assignment, Assignment.id == ReviewSheet.assignment_id)
        .join(PanelMember, PanelMember.id == Assignment.panel_member_id)
        .join(Proposal, Proposal.id == Assignment.proposal_id)
        .where(Proposal.call_id == call.id, ReviewSheet.status == SheetStatus.SUBMITTED)
        .order_by(Proposal.anonymous_code, PanelMember.pseudonym, Criterion.position, ReviewSheet.id)).all()
    counted = {sheet.id for sheet in results.gather(db, call).sheet_rows.values()}
    by_stage: dict[str, list[list]] = {}
    for stage, submitted_at, sheet_id, pseudonym, code, position, name, levels, score, reason in sorted(
            rows, key=lambda r: STAGE_ORDER[r.stage]):
        text = "'" + reason if reason.startswith(FORMULA_STARTS) else reason
        by_stage.setdefault(stage.label, []).append([
            stage.label, pseudonym, code, position + 1, name, score, levels[str(score)], text,
            format_jst(submitted_at), "集計に使用" if sheet_id in counted else "集計に使わない"])
    return by_stage


def test_the_workbook_holds_every_submitted_sheet_and_the_ranking_value_for_value(db, two_stage):
    call = two_stage.call
    book = load_workbook(io.BytesIO(score_export.xlsx_bytes(score_export.build(db, call))))
    expected = database_lines(db, call)
    assert book.sheetnames == [Stage.DOCUMENT.label, Stage.PRESENTATION.label, Stage.DOCUMENT_REVISED.label, "順位"]
    total = 0
    for label, lines in expected.items():
        rows = [list(r) for r in book[label].iter_rows(values_only=True)]
        assert rows[0] == score_export.SHEET_HEADER
        assert rows[1:] == lines
        total += len(lines)
    assert total == 8 * 5  # eight submitted sheets of five criteria; the draft is not there
    assert "下書き" not in str([list(r) for ws in book for r in ws.iter_rows(values_only=True)])
    # The deciding stage is the presentation: only its sheets are counted.
    assert {row[9] for row in expected[Stage.PRESENTATION.label]} == {"集計に使用"}
    assert {row[9] for row in expected[Stage.DOCUMENT.label]} == {"集計に使わない"}
    # No formula anywhere, and what looked like one is text.
    for sheet in book:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", cell.coordinate
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), (sheet.title, cell.coordinate, cell.value)

    result = results.compute(db, call)
    ranking = [list(r) for r in book["順位"].iter_rows(values_only=True)]
    assert ranking[0][:2] == ["順位", "提案コード"] and len(ranking) == 1 + len(result.proposals)
    for got, row in zip(ranking[1:], result.proposals, strict=True):
        means = [row.criterion_means[c.key] for c in result.criteria]
        assert got[0] == row.rank and got[1] == row.code
        assert [Decimal(str(v)) for v in got[2:2 + len(means)]] == means
        assert Decimal(str(got[2 + len(means)])) == row.score
        assert got[4 + len(means):7 + len(means)] == [row.scorer_count, row.min_scorers, row.conflicted_count]
        assert got[7 + len(means)] == row.requested_amount
        assert got[8 + len(means)] == ("推薦" if row.recommended else "推薦なし")


def test_the_csvs_say_the_same_and_run_nothing(db, two_stage):
    call = two_stage.call
    export = score_export.build(db, call)
    rows = assert_runs_nothing(score_export.sheets_csv(export))
    expected = [line for lines in database_lines(db, call).values() for line in lines]
    assert rows[0] == score_export.SHEET_HEADER
    assert rows[1:] == [[str(v) for v in line] for line in expected]
    ranking = assert_runs_nothing(score_export.ranking_csv(export))
    result = results.compute(db, call)
    assert [r[1] for r in ranking[1:]] == [row.code for row in result.proposals]
    assert [r[len(result.criteria) + 2] for r in ranking[1:]] == [format(row.score, "f") for row in result.proposals]


def test_a_panel_member_may_not_download_them(client, login, db, two_stage):
    base = f"/admin/calls/{two_stage.call.id}/exports"
    login(two_stage.members[0].user)
    for name in ("scores.xlsx", "sheets.csv", "ranking.csv"):
        assert client.get(f"{base}/{name}").status_code == 403


def test_staff_get_the_files_with_no_group_name(client, login, db, factory, two_stage):
    login(factory.staff())
    base = f"/admin/calls/{two_stage.call.id}/exports"
    response = client.get(f"{base}/scores.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    text = str([list(r) for ws in book for r in ws.iter_rows(values_only=True)])
    for proposal in two_stage.proposals:
        assert proposal.group.name not in text and proposal.anonymous_code in text
    csv_text = client.get(f"{base}/sheets.csv").data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(csv_text)))[0] == score_export.SHEET_HEADER
    assert "/exports/scores.xlsx" in client.get(f"/admin/calls/{two_stage.call.id}/results").text


def test_the_export_reads_in_a_fixed_number_of_queries(db, factory, count_queries):
    counts = []
    for proposals in (2, 8):
        s = build(factory, reviewers=3, proposals=proposals)
        at = s.scored_at
        for m in range(3):
            for p in range(proposals):
                submit(db, s, m, p, [3, 3, 3, 3, 3], ["理由"] * 5, Stage.DOCUMENT, at)
        close_scoring(db, s)
        db.expire_all()
        with count_queries() as counter:
            score_export.xlsx_bytes(score_export.build(db, s.call))
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
