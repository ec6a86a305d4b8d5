"""Property: for random rolls and random sequences of votes and revotes, the opened box holds
exactly one ballot per entry that voted, each the latest — compared with a plain dict."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core import clock
from core.clock import ManualClock
from core.voting import VotingKit, audit_process
from tests.core.voting.support import make_engine, roll_csv, sign_in

P = "prop"


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True)


@st.composite
def elections(draw):
    size = draw(st.integers(1, 10))
    groups = draw(st.lists(st.sampled_from(["", "101", "102", "103"]), min_size=size, max_size=size))
    entries = [(f"h{i}", g) for i, g in enumerate(groups)]
    casts = draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 3)), max_size=30))
    flush_at = draw(st.lists(st.integers(0, 30), max_size=3))
    batch_size = draw(st.integers(0, 4))
    return entries, casts, set(flush_at), batch_size


@given(elections())
def test_opened_box_holds_the_latest_ballot_of_each_entry_that_voted(election):
    entries, casts, flush_at, batch_size = election
    previous = clock.use_clock(ManualClock())
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(str(Path(tmp) / "civic.db"), Path(tmp))
        try:
            kit = VotingKit(engine)
            kit.create(P, allow_revote=True, batch_size=batch_size)
            kit.import_roll(P, roll_csv(entries))
            kit.open(P)
            kit.issue_codes(P, "Code {code}")
            credentials = {}
            model: dict[str, tuple[str, object]] = {}  # entry -> (group, latest content)
            for step, (who, choice) in enumerate(casts):
                entry_id, group = entries[who]
                if entry_id not in credentials:
                    credentials[entry_id] = sign_in(kit, P, entry_id)
                content = {"step": step, "choice": choice}
                kit.cast(P, credentials[entry_id], content)
                model[entry_id] = (group, content)
                if step in flush_at:
                    kit.flush(P, minimum=1)
            kit.close(P)
            counted = kit.tally_input(P)
            assert len(counted) == len(model)
            assert sorted(counted, key=canonical) == sorted(model.values(), key=canonical)
            opened = kit.opened(P)
            assert len(opened.ballots) == len(casts)
            assert len({b.pseudonym for b in opened.counted}) == len(model)
            audit = audit_process(engine.records(), P)
            assert audit.ok, audit.problems
            assert sorted(audit.opened.tally_input(), key=canonical) == sorted(counted, key=canonical)
            assert audit.credentials_issued == len(model)
        finally:
            engine.close()
            clock.use_clock(previous)
