"""Report formats: the document's table as CSV, and a bar chart as SVG written by hand (no
plotting dependency)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

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


def to_text(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "(no complaints)"
    columns = list(rows[0])
    cells = [[str(c) for c in columns]] + [["-" if r.get(c) is None else f"{r.get(c):,}" if isinstance(r.get(c), int)
                                             and c != "year" else str(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in cells)


PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


def yearly_chart_svg(rows: Sequence[Mapping[str, Any]], *, title: str = "응답소 현장민원 처리 실적 (분야별)") -> str:
    """Grouped bars: one group per field, one bar per year, with the counts written on them."""
    fields = [c for c in (rows[0] if rows else {}) if c not in ("year", "total")]
    width, height = 900, 460
    left, right, top, bottom = 70, 20, 60, 80
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([r[f] for r in rows for f in fields] + [1])
    scale = plot_h / (peak * 1.1)
    group_w = plot_w / max(len(fields), 1)
    bar_w = group_w * 0.8 / max(len(rows), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="28" text-anchor="middle" font-size="18">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    for step in range(5):
        value = round(peak * 1.1 * step / 4)
        y = top + plot_h - value * scale
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{value:,}</text>')
    for fi, field in enumerate(fields):
        gx = left + fi * group_w + group_w * 0.1
        for ri, row in enumerate(rows):
            value = row[field]
            h = value * scale
            x = gx + ri * bar_w
            y = top + plot_h - h
            colour = PALETTE[ri % len(PALETTE)]
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.95:.1f}" height="{h:.1f}" fill="{colour}">'
                         f"<title>{row['year']} {escape(field)}: {value:,}</title></rect>")
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10">{value:,}</text>')
        label = YEARLY_HEADERS_KO.get(field, field)
        parts.append(f'<text x="{gx + group_w * 0.4:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{escape(label)}</text>')
    for ri, row in enumerate(rows):
        x = left + ri * 160
        parts.append(f'<rect x="{x}" y="{height - 30}" width="14" height="14" fill="{PALETTE[ri % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 20}" y="{height - 19}">{row["year"]} (전체 {row["total"]:,})</text>')
    parts.append("</svg>")
    return "\n".join(parts)
