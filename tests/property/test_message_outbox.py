"""Property: any interleaving of sends (with an event or alone), gateway failures, crashes right
after a commit, restarts and ticks delivers every recorded message exactly once — compared with a
plain set of the keys sent."""

from __future__ import annotations

import shutil
import tempfile
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

    def open(self) -> Engine:
        return Engine(str(self.dir / "civic.db"), plugins=self.pm, outbox=self.dir / "outbox.jsonl")

    def message(self, key: str) -> Message:
        return Message(key=key, channel="sms", to="010-0000-0000", text=f"text of {key}", plugin="prop",
                       subject=f"person-{key}")

    @rule(key=keys, with_event=st.booleans())
    def send(self, key, with_event):
        if with_event:
            self.engine.save(Petition(key), self.message(key))
        else:
            self.engine.send_notification(self.message(key))
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
        self.engine.tick()

    @invariant()
    def never_twice_never_unasked(self):
        assert all(n == 1 for n in self.gateway.delivered.values())
        assert set(self.gateway.delivered) <= self.sent

    def teardown(self):
        try:
            self.gateway.down = False
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
