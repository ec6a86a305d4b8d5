"""The voting kit on SQLite: ballots cast per second (sign-in excluded, then included), closing
and opening a box, against bare eventsourcing saving one small event per transaction."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from core.engine import Engine
from core.voting import VotingKit

VOTERS = 2000


def _engine(tmp: str) -> Engine:
    os.environ["CIVIC_SECRETS"] = str(Path(tmp) / "secrets")
    try:
        return Engine(str(Path(tmp) / "civic.db"), outbox=Path(tmp) / "outbox.jsonl")
    finally:
        del os.environ["CIVIC_SECRETS"]


def run(table) -> None:  # noqa: ANN001 - benchmarks.__main__.Table
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(tmp)
        try:
            kit = VotingKit(engine)
            kit.create("bench", allow_revote=True, batch_size=50)
            rows = "\n".join(f"h{i},010{i:08d},{i % 20}" for i in range(VOTERS))
            started = time.perf_counter()
            kit.import_roll("bench", "entry_id,contact,group\n" + rows)
            table.add("voting: roll import", VOTERS / (time.perf_counter() - started), "entries/s", f"{VOTERS} rows")
            kit.open("bench")
            started = time.perf_counter()
            kit.issue_codes("bench", "Code {code}")
            table.add("voting: codes issued", VOTERS / (time.perf_counter() - started), "codes/s", "to the outbox")
            codes = {m["to"]: m["text"].rsplit(" ", 1)[-1] for m in engine.outbox.sent()}
            half = VOTERS // 2
            started = time.perf_counter()
            credentials = [kit.authenticate("bench", f"h{i}", codes[f"010{i:08d}"], "bench") for i in range(VOTERS)]
            table.add("voting: sign-ins", VOTERS / (time.perf_counter() - started), "sign-ins/s")
            started = time.perf_counter()
            for n, credential in enumerate(credentials):
                kit.cast("bench", credential, {"approve": [n % 7, n % 11]})
            elapsed = time.perf_counter() - started
            table.add("voting: ballots cast", VOTERS / elapsed, "ballots/s", "sealed, deposited, batched by 50")
            started = time.perf_counter()
            for n, credential in enumerate(credentials[:half]):
                kit.cast("bench", credential, {"approve": [n % 5]})
            table.add("voting: revotes cast", half / (time.perf_counter() - started), "ballots/s",
                      f"box already holds {VOTERS}")
            started = time.perf_counter()
            kit.close("bench")
            opened = kit.opened("bench")
            elapsed = time.perf_counter() - started
            assert len(opened.counted) == VOTERS
            table.add("voting: close + open", len(opened.ballots) / elapsed, "ballots/s", f"{len(opened.ballots)} ballots")
            started = time.perf_counter()
            audit = kit.audit("bench")
            assert audit.ok, audit.problems
            table.add("voting: audit recount from log", len(opened.ballots) / (time.perf_counter() - started),
                      "ballots/s")
        finally:
            engine.close()

    # the same machine, the same store: bare eventsourcing, one small event per save
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Dot(Aggregate):
        @event("Made")
        def __init__(self, value: str) -> None:
            self.value = value

    with tempfile.TemporaryDirectory() as tmp:
        app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                               "SQLITE_DBNAME": str(Path(tmp) / "bare.db")})
        started = time.perf_counter()
        for n in range(VOTERS):
            app.save(Dot(value="x" * 200))
        bare = VOTERS / (time.perf_counter() - started)
        table.add("bare eventsourcing: one event per save", bare, "events/s", "reference")
        app.close()
