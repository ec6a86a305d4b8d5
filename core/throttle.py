"""Failed attempts per client address in a sliding window."""

from __future__ import annotations

import threading
import time
from collections import deque

from core.errors import TooManyAttempts
from core.passwords import CLIENT_FAILURES, CLIENT_WINDOW_S


class ClientThrottle:
    """Failed sign-ins per client address in a sliding window (in memory: it only slows a
    guesser; the per-account lock is the event-sourced part)."""

    def __init__(self, limit: int = CLIENT_FAILURES, window_s: float = CLIENT_WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        q = self._failures.setdefault(client, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def check(self, client: str | None) -> None:
        if not client:
            return
        with self._lock:
            if len(self._recent(client, time.monotonic())) >= self.limit:
                raise TooManyAttempts("Too many failed sign-ins from this address; try again later.")

    def failed(self, client: str | None) -> None:
        if client:
            with self._lock:
                self._recent(client, time.monotonic()).append(time.monotonic())

