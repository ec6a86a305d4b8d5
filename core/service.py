"""Background work inside ``civic serve``: deadlines, read models, and any other periodic job."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from datetime import datetime

from core import clock
from core.engine import Engine
from core.leadership import Leadership

log = logging.getLogger("civic.service")
# The loop wakes every 0.2 s; a job runs when its period has passed since its last run ended.
LEDGER_SECONDS = 0.5
DEADLINE_WATCH_SECONDS = 1.0
MESSAGES_SECONDS = 5.0


class BackgroundJobs:
    """Runs periodic jobs on daemon threads: the ledger on its own (so that it follows the log
    through a burst of ballots while a slow read model or mail round runs, and a close finds
    little left to follow), the others on one more. A failing job is logged and retried on its
    next turn; it never stops the others."""

    def __init__(self, engine: Engine, *, tick_seconds: float = 30.0, leadership: Leadership | None = None) -> None:
        self.engine = engine
        # with several workers on one store, only the leader runs the once-only jobs below
        self.leadership = leadership
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_tick: datetime | None = None
        self.jobs: list[tuple[str, float, Callable[[], object]]] = [
            ("deadlines", tick_seconds, self._leading(self._tick)),
            # a deadline between two rounds (a vote closing at 18:00) is met within a second
            ("deadline watch", DEADLINE_WATCH_SECONDS, self._leading(self._tick_if_due)),
            ("read models", 1.0, self._read_models),
            # signs a checkpoint whenever new events arrived: at least one a second under load
            ("ledger", LEDGER_SECONDS, self._leading(engine.ledger.tick)),
            # messages whose delivery failed, once their pause is over (new ones go at once); every
            # worker may run it: a dispatcher claims what it sends, so none is sent twice
            ("messages", MESSAGES_SECONDS, engine.messages.dispatch),
        ]

    def leads(self) -> bool:
        return self.leadership is None or self.leadership.held()

    def _leading(self, job: Callable[[], Any]) -> Callable[[], Any]:
        def run_if_leading() -> Any:
            return job() if self.leads() else None

        return run_if_leading

    def _tick(self) -> list[str]:
        self._last_tick = clock.now()
        return self.engine.tick()

    def _tick_if_due(self) -> list[str]:
        """Tick when a deadline passed since the last tick began (each one once: a deadline the
        tick could not act on does not make it tick every second)."""
        if self._last_tick is None:
            return []
        due = self.engine.next_deadline(self._last_tick)
        if due is not None and due <= clock.now():
            return self._tick()
        return []

    def _read_models(self) -> None:
        self.engine.read_models.catch_up_all()
        self.engine.read_models.flush()

    def add(self, name: str, every_seconds: float, job: Callable[[], object]) -> None:
        self.jobs.append((name, every_seconds, job))

    def run_once(self) -> None:
        for name, _, job in self.jobs:
            self._run(name, job)

    def _run(self, name: str, job: Callable[[], object]) -> None:
        try:
            result = job()
            if name.startswith("deadline") and result:
                for line in result:  # type: ignore[union-attr]
                    log.info("deadline: %s", line)
        except Exception:
            log.exception("background job %r failed; will retry", name)

    def _loop(self, jobs: list[tuple[str, float, Callable[[], object]]]) -> None:
        due = {name: 0.0 for name, _, _ in jobs}
        while not self._stop.is_set():
            now = time.monotonic()
            for name, every, job in jobs:
                if now >= due[name]:
                    self._run(name, job)
                    due[name] = time.monotonic() + every
            self._stop.wait(0.2)

    def start(self) -> None:
        ledger = [job for job in self.jobs if job[0] == "ledger"]
        others = [job for job in self.jobs if job[0] != "ledger"]
        self._threads = [threading.Thread(target=self._loop, args=(jobs,), name=name, daemon=True)
                         for name, jobs in (("civic-ledger", ledger), ("civic-jobs", others)) if jobs]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        # a last checkpoint, so that what was acknowledged before shutdown is covered
        self._run("ledger", self.engine.ledger.tick)
        if self.leadership is not None:
            self.leadership.release()
