"""Bar charts as small self-contained SVG documents (reports on pages, in files and over HTTP).

One helper for every plugin: bars grouped by category, one series per colour, stacked or side by
side, each bar carrying a ``<title>`` (the tooltip, and what a screen reader reads)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


def _nice_step(peak: float, ticks: int = 5) -> int:
    return max(1, -(-int(peak) // ticks))


def bar_chart_svg(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    stacked: bool = False,
    subtitle: str = "",
    y_label: str = "",
    note: str = "",
    colours: Sequence[str] = PALETTE,
    bar_title: Callable[[str, str, float], str] | None = None,
    bar_label: Callable[[int, float], str] | None = None,
    legend: Mapping[str, str] | None = None,
) -> str:
    """An SVG bar chart.

    ``series`` maps a series name to one value per category. ``bar_title(series, category,
    value)`` gives each bar's tooltip (default ``"category series: value"``); ``bar_label(i,
    value)`` writes a label above category ``i`` (its stack total when stacked, else each bar's
    value); ``legend`` renames series in the legend."""
    names = list(series)
    width = max(760, 110 + (70 if stacked else 40 * max(len(names), 1) + 30) * len(categories))
    height = 400 if names else 200
    left, right, top, bottom = 70, 20, 70 if subtitle else 50, 90
    plot_w, plot_h = width - left - right, height - top - bottom
    if stacked:
        peak = max((sum(series[n][i] for n in names) for i in range(len(categories))), default=0)
    else:
        peak = max((v for n in names for v in series[n]), default=0)
    step = _nice_step(peak or 1)
    ceiling = step * max(1, -(-int(peak or 1) // step))

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / ceiling

    title_of = bar_title or (lambda s, c, v: f"{c} {s}: {v:,}")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    if subtitle:
        out.append(f'<text x="{left}" y="42">{escape(subtitle)}</text>')
    for tick in range(0, ceiling + 1, step):
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:,}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>')
    group_w = plot_w / max(len(categories), 1)
    for ci, category in enumerate(categories):
        gx = left + ci * group_w + group_w * 0.15
        inner = group_w * 0.7
        base = 0.0
        for si, name in enumerate(names):
            value = series[name][ci]
            colour = colours[si % len(colours)]
            if stacked:
                x, w, y0, y1 = gx, inner, base, base + value
                base += value
            else:
                w = inner / max(len(names), 1)
                x, y0, y1 = gx + si * w, 0.0, value
            if value:
                out.append(f'<rect x="{x:.1f}" y="{y(y1):.1f}" width="{w * 0.95:.1f}" height="{y(y0) - y(y1):.1f}" '
                           f'fill="{colour}"><title>{escape(title_of(name, category, value))}</title></rect>')
            if bar_label is not None and not stacked:
                out.append(f'<text x="{x + w / 2:.1f}" y="{y(y1) - 3:.1f}" text-anchor="middle" font-size="10">'
                           f"{escape(bar_label(ci, value))}</text>")
        if bar_label is not None and stacked:
            out.append(f'<text x="{gx + inner / 2:.1f}" y="{y(base) - 4:.1f}" text-anchor="middle">'
                       f"{escape(bar_label(ci, base))}</text>")
        out.append(f'<text x="{gx + inner / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                   f"{escape(category)}</text>")
    if note:
        out.append(f'<text x="{left + plot_w}" y="{top + plot_h + 34}" text-anchor="end" fill="#555">'
                   f"{escape(note)}</text>")
    if y_label:
        mid = top + plot_h / 2
        out.append(f'<text x="14" y="{mid:.0f}" transform="rotate(-90 14 {mid:.0f})" text-anchor="middle">'
                   f"{escape(y_label)}</text>")
    legend_x = left
    for si, name in enumerate(names):
        label = (legend or {}).get(name, name)
        out.append(f'<rect x="{legend_x}" y="{height - 26}" width="12" height="12" '
                   f'fill="{colours[si % len(colours)]}"/>')
        out.append(f'<text x="{legend_x + 16}" y="{height - 16}">{escape(label)}</text>')
        legend_x += max(90, 16 + 7 * len(label))
    out.append("</svg>")
    return "\n".join(out)
