"""The one clock of the system.

Domain code never calls ``datetime.now()``: events take their timestamps from the clock that is
current here, so tests and property tests can drive time. Storage is UTC; people read Asia/Seoul.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to (tests, demos, replays)."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2016, 3, 2, 0, 0, tzinfo=timezone.utc)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        with self._lock:
            self._now = when.astimezone(timezone.utc)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._now += step
            return self._now


_current: Clock = SystemClock()


def current() -> Clock:
    return _current


def use_clock(clock: Clock) -> Clock:
    """Make ``clock`` the process-wide clock; returns the previous one. Only tests, demos and
    replays call this; nothing does it as a side effect."""
    global _current
    previous, _current = _current, clock
    return previous


def now() -> datetime:
    return _current.now()


def seoul_time(when: datetime) -> datetime:
    """A stored UTC time as people in the district read it."""
    return when.astimezone(SEOUL)
