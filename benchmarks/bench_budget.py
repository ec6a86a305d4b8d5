"""Participatory budget: ballots cast through the engine and the core voting kit on SQLite
(validated, sealed to the box key, one deposit event per save), against bare eventsourcing
single-event saves in the same run; then the tally (close the box, open every ballot, run the
winner rule) and the auditor's re-tally of the whole log.

``BENCH_BUDGET_BALLOTS`` changes the number of ballots (default 100,000)."""

from __future__ import annotations

import os
import random
import time

from benchmarks.common import BareItem, bare_app, temp_dir
from core.engine import Engine
from core.plugins import make_plugin_manager
from core.voting import VotingKit
from plugins.budget_vote import civic_audit_retally, service

BALLOTS = int(os.environ.get("BENCH_BUDGET_BALLOTS", "100000"))
BLOCKS = 10  # casting and the baseline alternate in blocks, so drift on a shared machine hits both
BARE_PER_BLOCK = max(200, BALLOTS // 50)
COSTS = [25, 30, 40, 35, 45, 20, 30, 50, 15, 35, 20]  # million won: 345 million on the ballot
ADMIN = "bench:admin"


def open_voting_cycle(engine: Engine, voters: int):
    cycle = service.open_cycle(engine, name="bench", budget=190_000_000, rule={"name": "greedy"},
                               ballot_style={"kind": "approval", "min_projects": 1, "max_projects": 5}, by=ADMIN)
    for n in range(len(COSTS)):
        service.submit_proposal(engine, cycle.id, title=f"project {n + 1}", dong="필동", category="c", proposer="p")
    service.advance(engine, cycle.id, "screening", by=ADMIN)
    for n, cost in enumerate(COSTS, start=1):
        service.screen(engine, cycle.id, str(n), feasible=True, cost=cost * 1_000_000, reason="ok", by=ADMIN)
    roll = "entry_id,contact\n" + "".join(f"r{n},010{n:08d}\n" for n in range(voters))
    service.import_roll(engine, cycle.id, roll)
    service.advance(engine, cycle.id, "voting", by=ADMIN)
    return cycle.id


def run(table) -> None:
    rnd = random.Random(7)
    ids = [str(n) for n in range(1, len(COSTS) + 1)]
    choices = [sorted(rnd.sample(ids, rnd.randint(1, 5)), key=int) for _ in range(997)]
    with temp_dir() as tmp:
        engine = Engine(str(tmp / "budget.db"), plugins=make_plugin_manager(allow={"budget_vote"}),
                        outbox=tmp / "budget.outbox")
        bare = bare_app(tmp / "bare.db")
        started = time.perf_counter()
        cycle_id = open_voting_cycle(engine, BALLOTS)
        roll_seconds = time.perf_counter() - started
        kit = VotingKit(engine)
        started = time.perf_counter()
        # residents checked in (the code exchange is the kit's own figure; here one save each)
        credentials = [kit.issue_credential_in_person(cycle_id, f"r{n}", by=ADMIN).token for n in range(BALLOTS)]
        credential_seconds = time.perf_counter() - started
        cast_seconds = bare_seconds = 0.0
        cast = bare_saved = 0
        per_block = BALLOTS // BLOCKS
        for block in range(BLOCKS):
            started = time.perf_counter()
            for n in range(block * per_block, (block + 1) * per_block):
                service.cast_ballot(engine, cycle_id, credential=credentials[n], choice=choices[n % len(choices)])
            cast_seconds += time.perf_counter() - started
            cast += per_block
            started = time.perf_counter()
            for n in range(BARE_PER_BLOCK):
                bare.save(BareItem(f"b{block}-{n}"))
            bare_seconds += time.perf_counter() - started
            bare_saved += BARE_PER_BLOCK
        bare.close()
        started = time.perf_counter()
        service.advance(engine, cycle_id, "tallying", by=ADMIN)
        close_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = service.tally(engine, cycle_id, by=ADMIN)
        tally_seconds = time.perf_counter() - started
        assert result["inputs"]["ballots_counted"] == cast
        started = time.perf_counter()
        report = civic_audit_retally(list(engine.records()))
        audit_seconds = time.perf_counter() - started
        assert report.ok
        engine.close()
    cast_rate = cast / cast_seconds
    bare_rate = bare_saved / bare_seconds
    table.add(f"budget: voter roll of {cast:,} residents, imported", roll_seconds, "s")
    table.add("budget: ballot credentials issued in person", cast / credential_seconds, "credentials/s")
    table.add(f"budget: cast {cast:,} sealed ballots (1 deposit/save)", cast_rate, "ballots/s")
    table.add("bare eventsourcing: single-event saves", bare_rate, "events/s", "same run, interleaved")
    table.add("ratio budget cast/bare save", cast_rate / bare_rate, "x")
    table.add("budget: close voting (box closed, last batches)", close_seconds, "s")
    table.add(f"budget: tally of {cast:,} ballots (open box + greedy)", tally_seconds, "s")
    table.add(f"budget: audit re-tally of the whole log ({cast:,} ballots)", audit_seconds, "s")
