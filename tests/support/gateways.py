"""Test notifiers: a gateway that can be down, and that counts what it was handed."""

from __future__ import annotations

import threading
import time
from collections import Counter

from core.hookspecs import hookimpl


class GatewayDown(ConnectionError):
    pass


class FakeGateway:
    """Takes every message (tryfirst: before core's own notifiers and the outbox file); raises
    while ``down``. ``delivered`` counts successful hand-overs per key."""

    def __init__(self, *, pause: float = 0.0) -> None:
        self.down = False
        self.pause = pause
        self.attempts: list[str] = []
        self.delivered: Counter[str] = Counter()
        self.texts: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    @hookimpl(tryfirst=True)
    def civic_send_notification(self, notification):
        with self._lock:
            self.attempts.append(notification.key)
            if self.down:
                raise GatewayDown("gateway down")
        if self.pause:
            time.sleep(self.pause)
        with self._lock:
            self.delivered[notification.key] += 1
            self.texts[notification.key] = (notification.to, notification.text)
        return f"gw:{notification.key}"
