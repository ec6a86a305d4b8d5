"""The service level: days from submission to decision notice, against the 5-day target and
the 28-day baseline. Pure: the live report (read model rows) and the one rebuilt from log records
are the same function of the same rows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from core import bar_chart_svg
from plugins.ad_review.rules import COMMITTEES
from plugins.ad_review.schedule import iso_week

TARGET_DAYS = 5
BASELINE_DAYS = 28


def sla_rows(applications: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows ``sla_report`` reads, from the folded applications (``fold.py``): the live read
    model's state or the same fold of an exported log."""
    return [{"application": application_id, "committee": a["committee"],
             "submitted_at": datetime.fromisoformat(a["submitted_at"]),
             "noticed_at": datetime.fromisoformat(a["noticed_at"]) if a["noticed_at"] else None}
            for application_id, a in applications.items()]


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


BANDS = ((0, 2), (2, 5), (5, 10), (10, 28), (28, None))
# green within the target, through to red beyond the baseline, one colour per band
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")


def band_label(low: float, high: float | None) -> str:
    if high is None:
        return f"> {low} d"
    return f"≤ {high} d" if low == 0 else f"{low}–{high} d"


def sla_report(
    rows: Iterable[Mapping[str, Any]],
    start: date,
    end: date,
    zone: tzinfo,
    *,
    target_days: int = TARGET_DAYS,
    baseline_days: int = BASELINE_DAYS,
) -> dict[str, Any]:
    """The service-level report over decision notices dated ``start``..``end`` (local dates,
    inclusive). Each row: ``{"application", "committee", "submitted_at", "noticed_at"}``
    (aware datetimes; ``noticed_at`` None while undecided)."""
    by_committee: dict[str, list[float]] = {c: [] for c in COMMITTEES}
    weekly: dict[str, dict[str, Any]] = {}
    pending = 0
    for row in rows:
        noticed = row.get("noticed_at")
        if noticed is None:
            if row["submitted_at"].astimezone(zone).date() <= end:
                pending += 1
            continue
        local_day = noticed.astimezone(zone).date()
        if not start <= local_day <= end:
            continue
        days = days_between(row["submitted_at"], noticed)
        by_committee[row["committee"]].append(days)
        if row["committee"] == "small":
            week = iso_week(noticed, zone)
            bucket = weekly.setdefault(week, {"week": week, "count": 0,
                                              "bands": {band_label(*b): 0 for b in BANDS}, "days": []})
            bucket["count"] += 1
            bucket["days"].append(days)
            for low, high in BANDS:  # (low, high]: the target's own day counts as within it
                if (days > low or low == 0) and (high is None or days <= high):
                    bucket["bands"][band_label(low, high)] += 1
                    break

    def stats(values: list[float]) -> dict[str, Any]:
        within = sum(1 for v in values if v <= target_days)
        med = median(values)
        return {
            "decided": len(values),
            "median_days": _round(med),
            "p90_days": _round(percentile(values, 0.9)),
            "mean_days": _round(sum(values) / len(values)) if values else None,
            "max_days": _round(max(values)) if values else None,
            "within_target": within,
            "share_within_target": round(within / len(values), 4) if values else None,
        }

    small = stats(by_committee["small"])
    weeks = []
    for week in sorted(weekly):
        bucket = weekly[week]
        days = bucket.pop("days")
        bucket["median_days"] = _round(median(days))
        bucket["within_target"] = sum(1 for v in days if v <= target_days)
        weeks.append(bucket)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "target_days": target_days,
        "baseline_days": baseline_days,
        "small_committee": small,
        "full_committee": stats(by_committee["full"]),
        "all": stats(by_committee["small"] + by_committee["full"]),
        "pending": pending,
        "baseline_comparison": {
            "baseline_days": baseline_days,
            "median_days": small["median_days"],
            "days_saved_at_median": _round(baseline_days - small["median_days"]) if small["decided"] else None,
            "median_as_share_of_baseline": (round(small["median_days"] / baseline_days, 4)
                                            if small["decided"] else None),
            "share_within_baseline": (round(sum(1 for v in by_committee["small"] if v <= baseline_days)
                                            / small["decided"], 4) if small["decided"] else None),
        },
        "weekly": weeks,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


CHART_TEXTS = {
    "title": "Small committee: days from submission to decision notice, %(start)s – %(end)s",
    "subtitle": "decided %(decided)s · median %(median)s · p90 %(p90)s · within %(target)s d: %(share)s · "
                "baseline %(baseline)s d",
    "y_label": "applications decided",
    "note": "week of the decision notice; label: the week's median",
    "days": "%(days)s d",
    "bar": "%(week)s: %(count)s in %(band)s",
}


def weekly_chart_svg(report: Mapping[str, Any], texts: Mapping[str, str] | None = None) -> str:
    """The report's weekly distribution as SVG: one stacked bar per week of notice, one colour per
    band of days, each bar labelled with the week's median. ``texts`` (the keys of
    ``CHART_TEXTS``) puts the words in another language. A figure not known yet (no decision in
    the period) reads "—", never "None"."""
    t = {**CHART_TEXTS, **(texts or {})}
    weeks = report["weekly"]
    bands = [band_label(*b) for b in BANDS]
    small = report["small_committee"]
    share = small["share_within_target"]

    def days(value: float | None) -> str:
        return "—" if value is None else t["days"] % {"days": value}

    return bar_chart_svg(
        t["title"] % {"start": report["from"], "end": report["to"]},
        [w["week"] for w in weeks],
        {band: [w["bands"].get(band, 0) for w in weeks] for band in bands},
        stacked=True,
        subtitle=t["subtitle"] % {"decided": small["decided"], "median": days(small["median_days"]),
                                  "p90": days(small["p90_days"]), "target": report["target_days"],
                                  "share": "—" if share is None else f"{share:.1%}",
                                  "baseline": report["baseline_days"]},
        y_label=t["y_label"],
        note=t["note"],
        colours=BAND_COLOURS,
        bar_title=lambda band, week, count: t["bar"] % {"week": week, "count": count, "band": band},
        bar_label=lambda i, _total: days(weeks[i]["median_days"]),
    )
