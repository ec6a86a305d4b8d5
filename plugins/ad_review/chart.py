"""The weekly distribution of days to decision notice as a small self-contained SVG (no
plotting library): one stacked bar per week of notice, one colour per band of days."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from plugins.ad_review import sla

COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")


def weekly_svg(report: dict[str, Any]) -> str:
    weeks = report["weekly"]
    bands = [sla.band_label(*b) for b in sla.BANDS]
    width, height = max(760, 90 + 70 * len(weeks)), 360
    left, top, bottom = 60, 70, 60
    plot_h = height - top - bottom
    peak = max((w["count"] for w in weeks), default=0) or 1
    step = max(1, -(-peak // 5))
    ceiling = step * -(-peak // step)
    small = report["small_committee"]

    def y(count: float) -> float:
        return top + plot_h - plot_h * count / ceiling

    share = small["share_within_target"]
    title = (f"Small committee: days from submission to decision notice, {report['from']} – {report['to']}")
    summary = (f"decided {small['decided']} · median {small['median_days']} d · p90 {small['p90_days']} d · "
               f"within {report['target_days']} d: {'—' if share is None else f'{share:.1%}'} · "
               f"baseline {report['baseline_days']} d")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="20" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<text x="{left}" y="38">{escape(summary)}</text>',
    ]
    for tick in range(0, ceiling + 1, step):
        out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, week in enumerate(weeks):
        x = left + 20 + 70 * i
        base = 0
        for band, colour in zip(bands, COLOURS, strict=True):
            count = week["bands"].get(band, 0)
            if count:
                out.append(f'<rect x="{x}" y="{y(base + count):.1f}" width="40" '
                           f'height="{y(base) - y(base + count):.1f}" fill="{colour}">'
                           f"<title>{escape(week['week'])}: {count} in {escape(band)}</title></rect>")
            base += count
        out.append(f'<text x="{x + 20}" y="{y(base) - 4:.1f}" text-anchor="middle">{week["median_days"]} d</text>')
        out.append(f'<text x="{x + 20}" y="{height - bottom + 16}" text-anchor="middle">{escape(week["week"])}</text>')
    out.append(f'<text x="{width - 20}" y="{height - bottom + 32}" text-anchor="end" fill="#555">'
               "week of the decision notice; label: the week's median</text>")
    legend_x = left
    for band, colour in zip(bands, COLOURS, strict=True):
        out.append(f'<rect x="{legend_x}" y="{height - 22}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{legend_x + 14}" y="{height - 13}">{escape(band)}</text>')
        legend_x += 80
    out.append(f'<text x="14" y="{top + plot_h / 2:.0f}" transform="rotate(-90 14 {top + plot_h / 2:.0f})" '
               'text-anchor="middle">applications decided</text>')
    out.append("</svg>")
    return "\n".join(out)
