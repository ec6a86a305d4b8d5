"""Property: any interleaving of sends (with an event or alone), gateway failures, crashes right
after a commit, restarts, ticks and staff retries delivers every recorded message exactly once —
compared with a plain set of the keys sent — and gives a message up exactly when it failed
``MAX_ATTEMPTS`` times since it was last sent again, counted from what the gateway saw."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from core import clock
from core.clock import ManualClock
from core.engine import Engine
from core.messages import Dispatched
from core.notify import Message
from core.plugins import make_plugin_manager
from tests.support import petition
from tests.support.gateways import FakeGateway
from tests.support.petition import Petition

keys = st.integers(0, 7).map(lambda n: f"key-{n}")
MAX_ATTEMPTS = 3  # small, so that runs reach it


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.clock = ManualClock()
        self.previous_clock = clock.use_clock(self.clock)
        self.gateway = FakeGateway()
        self.pm = make_plugin_manager(extra=[petition, self.gateway])
        self.engine = self.open()
        self.sent: set[str] = set()  # the model: every key recorded once
        self.failed: Counter[str] = Counter()  # failed tries per key since staff last retried it

    def open(self) -> Engine:
        engine = Engine(str(self.dir / "civic.db"), plugins=self.pm, outbox=self.dir / "outbox.jsonl")
        engine.messages.max_attempts = MAX_ATTEMPTS
        return engine

    def count_failures(self, action) -> None:
        """Run ``action``; every try the gateway saw while down is a failure."""
        seen = len(self.gateway.attempts)
        action()
        if self.gateway.down:
            self.failed.update(self.gateway.attempts[seen:])

    def message(self, key: str) -> Message:
        return Message(key=key, channel="sms", to="010-0000-0000", text=f"text of {key}", plugin="prop",
                       subject=f"person-{key}")

    @rule(key=keys, with_event=st.booleans())
    def send(self, key, with_event):
        if with_event:
            self.count_failures(lambda: self.engine.save(Petition(key), self.message(key)))
        else:
            self.count_failures(lambda: self.engine.send_notification(self.message(key)))
        self.sent.add(key)

    @rule(key=keys)
    def die_right_after_the_commit(self, key):
        self.engine.messages.dispatch = lambda keys=None, **kw: Dispatched()  # never runs
        self.engine.save(Petition(key), self.message(key))
        self.sent.add(key)
        self.engine.close()
        self.engine = self.open()

    @rule(down=st.booleans())
    def gateway_state(self, down):
        self.gateway.down = down

    @rule()
    def restart(self):
        self.engine.close()
        self.engine = self.open()

    @rule(seconds=st.integers(0, 4000))
    def tick(self, seconds):
        self.clock.advance(seconds=seconds)
        self.count_failures(self.engine.tick)

    @rule()
    def staff_retry(self):
        given_up = {k for k, n in self.failed.items() if n == MAX_ATTEMPTS}
        for key in given_up:
            self.failed[key] = 0
        self.count_failures(self.engine.messages.retry)

    @invariant()
    def never_twice_never_unasked(self):
        assert all(n == 1 for n in self.gateway.delivered.values())
        assert set(self.gateway.delivered) <= self.sent

    @invariant()
    def given_up_after_max_attempts_exactly(self):
        assert max(self.failed.values(), default=0) <= MAX_ATTEMPTS
        dead = {row["key"] for row in self.engine.messages.dead()}
        assert dead == {k for k, n in self.failed.items() if n == MAX_ATTEMPTS}

    def teardown(self):
        try:
            self.gateway.down = False
            self.engine.messages.retry()
            self.clock.advance(hours=2)
            self.engine.tick()
            assert set(self.gateway.delivered) == self.sent
            assert all(n == 1 for n in self.gateway.delivered.values())
            assert self.engine.messages.counts()["pending"] == 0
        finally:
            self.engine.close()
            clock.use_clock(self.previous_clock)
            shutil.rmtree(self.dir, ignore_errors=True)


OutboxMachine.TestCase.settings = settings(stateful_step_count=20, deadline=None)
TestOutboxDeliversEveryMessageOnce = OutboxMachine.TestCase
