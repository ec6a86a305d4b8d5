"""Report formats: the document's table as CSV and as text, and the yearly report as a bar
chart (core's SVG chart)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from core import bar_chart_svg
from plugins.complaints.taxonomy_data import FIELDS

YEARLY_HEADERS_KO = {"year": "년도", "total": "전체", **{code: ko for code, (ko, _) in FIELDS.items()}}


def to_csv(rows: Sequence[Mapping[str, Any]], *, korean_headers: bool = False) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([YEARLY_HEADERS_KO.get(c, c) for c in columns] if korean_headers else columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


MONTHLY_HEADERS_KO = {
    "name_ko": "부서", "department": "부서 코드", "received": "접수", "resolved": "처리 완료", "rejected": "반려",
    "open": "미처리", "overdue": "기한 초과", "closed_late": "기한 후 종결",
    "median_handling_hours": "처리 시간 중앙값(시간)",
}
BOM = "\ufeff"


def excel_csv(rows: Sequence[Mapping[str, Any]], headers: Mapping[str, str]) -> bytes:
    """The columns named in ``headers`` (in their order, headed by their Korean names) as CSV
    for spreadsheet programs: UTF-8 with a byte-order mark, so that Excel reads the Korean."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(headers.values()))
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in headers])
    return (BOM + out.getvalue()).encode("utf-8")


def yearly_headers(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The yearly report's columns (year, total, each field) with their Korean names."""
    columns = list(rows[0]) if rows else ["year", "total"]
    return {c: YEARLY_HEADERS_KO.get(c, c) for c in columns}


def to_text(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "(no complaints)"
    columns = list(rows[0])
    cells = [[str(c) for c in columns]] + [["-" if r.get(c) is None else f"{r.get(c):,}" if isinstance(r.get(c), int)
                                             and c != "year" else str(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in cells)


YEARLY_CHART_TITLE = "응답소 현장민원 처리 실적 (분야별)"


def yearly_chart_svg(rows: Sequence[Mapping[str, Any]], *, title: str = YEARLY_CHART_TITLE) -> str:
    """Grouped bars: one group per field (named in Korean), one bar per year, with the counts
    written on them; each bar's title reads ``2014 traffic: 16,720``."""
    fields = [c for c in (rows[0] if rows else {}) if c not in ("year", "total")]
    field_of_label = {YEARLY_HEADERS_KO.get(f, f): f for f in fields}
    series = {str(row["year"]): [row[f] for f in fields] for row in rows}
    return bar_chart_svg(
        title,
        list(field_of_label),
        series,
        bar_title=lambda year, label, value: f"{year} {field_of_label[label]}: {value:,}",
        bar_label=lambda _, value: f"{value:,}",
        legend={str(row["year"]): f"{row['year']} (전체 {row['total']:,})" for row in rows},
    )
