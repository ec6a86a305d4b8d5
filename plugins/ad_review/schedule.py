"""The small committee's weekly schedule (*configurable*) and the ISO week of a moment. Pure: the
zone is given, never read from a clock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import attrs

from core import refuse_unknown_settings


@attrs.frozen
class Schedule:
    """The small committee's week (*configurable*), in local time: the session opens on
    ``open_weekday`` at ``open_time``, takes in applications until ``intake_weekday`` at
    ``intake_time``, and closes (deadline) on ``close_weekday`` at ``close_time``.
    Weekdays: Monday = 0. Times are the district's (Asia/Seoul, given to ``times``). Default: open
    Monday 09:00, intake until Wednesday 18:00, close Friday 18:00."""

    open_weekday: int = 0
    open_time: str = "09:00"
    intake_weekday: int = 2
    intake_time: str = "18:00"
    close_weekday: int = 4
    close_time: str = "18:00"

    def __attrs_post_init__(self) -> None:
        marks = [(self.open_weekday, self.open_time), (self.intake_weekday, self.intake_time),
                 (self.close_weekday, self.close_time)]
        for weekday, clock_text in marks:
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError("weekdays are whole numbers 0 (Monday) to 6 (Sunday)")
            if not isinstance(clock_text, str) or not re.fullmatch(r"\d{2}:\d{2}", clock_text):
                raise ValueError("times are given as HH:MM, e.g. 18:00")
            time.fromisoformat(clock_text)
        offsets = [timedelta(days=w) + _as_delta(t) for w, t in marks]
        if not offsets[0] < offsets[1] <= offsets[2]:
            raise ValueError("a session must open, then end its intake, then close, within one week")

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Schedule:
        refuse_unknown_settings(cls, raw, "schedule")
        return cls(**raw)

    def times(self, week: str, zone: tzinfo) -> tuple[datetime, datetime, datetime]:
        """(opens, intake ends, closes) of the ISO ``week`` ('2016-W10'), aware datetimes."""
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)

        def at(weekday: int, clock_text: str) -> datetime:
            return datetime.combine(monday + timedelta(days=weekday), time.fromisoformat(clock_text), zone)

        return (at(self.open_weekday, self.open_time), at(self.intake_weekday, self.intake_time),
                at(self.close_weekday, self.close_time))


def _as_delta(clock_text: str) -> timedelta:
    t = time.fromisoformat(clock_text)
    return timedelta(hours=t.hour, minutes=t.minute)


def iso_week(moment: datetime, zone: tzinfo) -> str:
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"
