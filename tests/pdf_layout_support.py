"""Layout checks for rendered PDFs, read back with pdfplumber.

A published PDF is hashed once and can only be corrected by a new version,
so its layout is checked before anything is published: every word is read
back with its box, and a check fails when

- two words' boxes overlap (text printed over text),
- a word lies outside the printable area of the page,
- a word crosses a rule or cell edge drawn in the PDF (text leaving its
  table cell), or sticks out of the cell pdfplumber finds around it.

Words are read in the order they were drawn (``use_text_flow``): text that
runs into the next cell is drawn before that cell's own text, so the two
stay separate words and their overlap shows.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import pdfplumber

TOLERANCE = 0.5  # pt: boxes may touch, not overlap
MM = 72 / 25.4
PRINTABLE_INSET = 8 * MM  # what an office printer cannot reach, with room to spare
MIN_RULE = 3.0  # pt: shorter edges are not cell rules


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    top: float
    x1: float
    bottom: float

    def __str__(self) -> str:
        text = self.text if len(self.text) <= 40 else self.text[:38] + "…"
        return f"「{text}」({self.x0:.1f},{self.top:.1f})-({self.x1:.1f},{self.bottom:.1f})"


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def page_words(page, number: int) -> list[Word]:
    found = page.extract_words(use_text_flow=True, keep_blank_chars=False, x_tolerance=1.5, y_tolerance=1.5)
    return [Word(number, w["text"], w["x0"], w["top"], w["x1"], w["bottom"]) for w in found]


def overlapping_words(words: list[Word]) -> list[str]:
    problems = []
    ordered = sorted(words, key=lambda w: w.top)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.top >= a.bottom - TOLERANCE:
                break
            if (_overlap(a.x0, a.x1, b.x0, b.x1) > TOLERANCE
                    and _overlap(a.top, a.bottom, b.top, b.bottom) > TOLERANCE):
                problems.append(f"p.{a.page}: {a} と {b} が重なっています")
    return problems


def outside_printable_area(words: list[Word], width: float, height: float) -> list[str]:
    low_x, low_y = PRINTABLE_INSET, PRINTABLE_INSET
    high_x, high_y = width - PRINTABLE_INSET, height - PRINTABLE_INSET
    return [f"p.{w.page}: {w} が印刷できる範囲の外にあります"
            for w in words
            if w.x0 < low_x - TOLERANCE or w.top < low_y - TOLERANCE
            or w.x1 > high_x + TOLERANCE or w.bottom > high_y + TOLERANCE]


def rules(page) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """Vertical rules as (x, top, bottom) and horizontal ones as (y, x0, x1):
    cell borders and background edges, from lines and rectangles alike."""
    vertical, horizontal = [], []
    for edge in page.edges:
        if edge["orientation"] == "v" and edge["bottom"] - edge["top"] >= MIN_RULE:
            vertical.append((edge["x0"], edge["top"], edge["bottom"]))
        elif edge["orientation"] == "h" and edge["x1"] - edge["x0"] >= MIN_RULE:
            horizontal.append((edge["top"], edge["x0"], edge["x1"]))
    return vertical, horizontal


def words_crossing_rules(page, words: list[Word]) -> list[str]:
    vertical, horizontal = rules(page)
    problems = []
    for w in words:
        for x, top, bottom in vertical:
            if w.x0 + TOLERANCE < x < w.x1 - TOLERANCE and _overlap(w.top, w.bottom, top, bottom) > TOLERANCE:
                problems.append(f"p.{w.page}: {w} が罫線 x={x:.1f} をはみ出しています（セルの外へ）")
                break
        for y, x0, x1 in horizontal:
            if w.top + TOLERANCE < y < w.bottom - TOLERANCE and _overlap(w.x0, w.x1, x0, x1) > TOLERANCE:
                problems.append(f"p.{w.page}: {w} が罫線 y={y:.1f} をはみ出しています（セルの外へ）")
                break
    return problems


def words_leaving_cells(page, words: list[Word]) -> list[str]:
    """Each word that starts inside a table cell pdfplumber finds must end
    inside it too."""
    problems = []
    cells = [cell for table in page.find_tables() for cell in table.cells if cell]
    for w in words:
        for x0, top, x1, bottom in cells:
            starts_inside = x0 - TOLERANCE <= w.x0 < x1 and top - TOLERANCE <= w.top < bottom
            if not starts_inside:
                continue
            if w.x1 > x1 + TOLERANCE or w.bottom > bottom + TOLERANCE:
                problems.append(f"p.{w.page}: {w} がセル ({x0:.1f},{top:.1f})-({x1:.1f},{bottom:.1f}) の外に出ています")
            break
    return problems


def layout_problems(data: bytes) -> list[str]:
    problems: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            words = page_words(page, number)
            problems += overlapping_words(words)
            problems += outside_printable_area(words, float(page.width), float(page.height))
            problems += words_crossing_rules(page, words)
            problems += words_leaving_cells(page, words)
    return problems


def assert_clean_layout(data: bytes, name: str) -> None:
    """``PDF_LAYOUT_DUMP=/some/dir`` keeps each checked PDF there, to look at."""
    if dump := os.environ.get("PDF_LAYOUT_DUMP"):
        (Path(dump) / f"{name}.pdf").write_bytes(data)
    problems = layout_problems(data)
    shown = "\n".join(problems[:40]) + (f"\n…ほか{len(problems) - 40}件" if len(problems) > 40 else "")
    assert not problems, f"{name}: レイアウトの問題 {len(problems)}件\n{shown}"


def page_texts(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return ["".join((page.extract_text() or "").split()) for page in pdf.pages]
