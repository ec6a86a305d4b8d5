"""Participatory budget: ballots cast through the engine and the core voting kit on SQLite
(validated, sealed to the box key, deposited), one at a time and from many threads at once
(group commit), against bare eventsourcing single-event saves in the same run; then the tally
(close the box, open every ballot, run the winner rule) and the auditor's re-tally of the whole
log (streamed from the store), against bare HPKE opens of as many ballots spread over the
machine's cores (one process per core, opening at once). The ledger follows the log during
casting, as ``civic serve``'s ledger job does.

Every ballot is sealed (HPKE) in the casting process, and cryptography's HPKE keeps the GIL: bare
seals from one and from two threads are measured between the blocks, and the limits they set are
printed beside the casting figures (a bare seal plus a bare save per ballot one at a time; bare
seals alone from many threads, with every other cost, fsyncs included, taken as free).

``BENCH_BUDGET_BALLOTS`` changes the number of ballots (default 100,000; ``make bench-large``:
1,000,000); ``BENCH_CAST_THREADS`` the number of concurrent voters' threads (default 32)."""

from __future__ import annotations

import os
import random
import threading
import time

from benchmarks.common import (BareItem, bare_app, bare_hpke_open_rate, bare_hpke_open_rate_spread,
                               bare_hpke_seal_rate, ledger_following, temp_dir)
from core.voting.parallel import usable_cores
from core.engine import Engine
from core.ledger.verify import Reread
from core.plugins import make_plugin_manager
from core.voting import VotingKit
from plugins.budget_vote import civic_audit_retally, service

BALLOTS = int(os.environ.get("BENCH_BUDGET_BALLOTS", "100000"))
BLOCKS = 10  # casting and the baseline alternate in blocks, so drift on a shared machine hits both
BARE_PER_BLOCK = max(200, BALLOTS // 50)
THREADS = int(os.environ.get("BENCH_CAST_THREADS", "32"))
SEALS_PER_BLOCK = 1000
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
        # half the ballots one at a time (each its own transaction), half from THREADS voters at
        # once (group commit), in alternating blocks with the bare baseline
        serial_seconds = concurrent_seconds = bare_seconds = 0.0
        serial = concurrent = bare_saved = 0
        seal_rates: list[float] = []
        seal_rates_two_threads: list[float] = []
        per_block = BALLOTS // BLOCKS
        half = per_block // 2

        def cast_range(start: int, stop: int) -> None:
            for n in range(start, stop):
                service.cast_ballot(engine, cycle_id, credential=credentials[n], choice=choices[n % len(choices)])

        with ledger_following(engine):  # as in `civic serve`, the ledger follows while ballots arrive
            for block in range(BLOCKS):
                first = block * per_block
                started = time.perf_counter()
                cast_range(first, first + half)
                serial_seconds += time.perf_counter() - started
                serial += half
                rest = per_block - half
                bounds = [first + half + rest * t // THREADS for t in range(THREADS + 1)]
                threads = [threading.Thread(target=cast_range, args=(bounds[t], bounds[t + 1])) for t in range(THREADS)]
                started = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                concurrent_seconds += time.perf_counter() - started
                concurrent += rest
                started = time.perf_counter()
                for n in range(BARE_PER_BLOCK):
                    bare.save(BareItem(f"b{block}-{n}"))
                bare_seconds += time.perf_counter() - started
                bare_saved += BARE_PER_BLOCK
                seal_rates.append(bare_hpke_seal_rate(SEALS_PER_BLOCK))
                seal_rates_two_threads.append(bare_hpke_seal_rate(SEALS_PER_BLOCK, threads=2))
        bare.close()
        cast = serial + concurrent
        started = time.perf_counter()
        service.advance(engine, cycle_id, "tallying", by=ADMIN)
        close_seconds = time.perf_counter() - started
        cores = usable_cores()
        hpke_rate, hpke_spread = bare_hpke_open_rate(), bare_hpke_open_rate_spread(cores)
        started = time.perf_counter()
        result = service.tally(engine, cycle_id, by=ADMIN)
        tally_seconds = time.perf_counter() - started
        assert result["inputs"]["ballots_counted"] == cast
        started = time.perf_counter()
        report = civic_audit_retally(Reread(engine.records))  # streamed from the store, no list
        audit_seconds = time.perf_counter() - started
        assert report.ok
        # before and after: the load drifts
        hpke_rate = (hpke_rate + bare_hpke_open_rate()) / 2
        hpke_spread = (hpke_spread + bare_hpke_open_rate_spread(cores)) / 2
        engine.close()
    bare_rate = bare_saved / bare_seconds
    # every ballot is sealed once, in the casting process, under the GIL: in the same run, a bare
    # seal and a bare save one after the other bound casting one at a time; bare seals alone
    # bound casting from any number of threads (nothing else done, fsyncs free)
    seal_rate = sum(seal_rates) / len(seal_rates)
    seal_rate_two_threads = sum(seal_rates_two_threads) / len(seal_rates_two_threads)
    serial_limit = 1 / (1 / bare_rate + 1 / seal_rate) / bare_rate
    concurrent_limit = seal_rate / bare_rate
    # the physical limit: every ballot opened once, bare, on every core at once
    limit_seconds = cast / hpke_spread
    one_core_limit = cast / (hpke_rate * cores)
    table.add(f"budget: voter roll of {cast:,} residents, imported", roll_seconds, "s")
    table.add("budget: ballot credentials issued in person", cast / credential_seconds, "credentials/s")
    table.add("bare eventsourcing: single-event saves", bare_rate, "events/s", "reference, same run, interleaved")
    table.add("bare HPKE seal, one thread", seal_rate, "seals/s",
              f"reference, same run; bounds casting at {serial_limit:.2f}x one at a time, {concurrent_limit:.2f}x "
              "from threads")
    table.add("bare HPKE seal, two threads", seal_rate_two_threads, "seals/s",
              "reference: HPKE keeps the GIL", ratio=seal_rate_two_threads / seal_rate)
    table.add(f"budget: cast {serial:,} sealed ballots one at a time", serial / serial_seconds, "ballots/s",
              f"vs bare save (bare seal + bare save: {serial_limit:.2f}x)", ratio=serial / serial_seconds / bare_rate,
              target=">= 0.8x")
    table.add(f"budget: cast {concurrent:,} sealed ballots from {THREADS} threads", concurrent / concurrent_seconds,
              "ballots/s", f"group commit, vs bare save (bare seals alone: {concurrent_limit:.2f}x)",
              ratio=concurrent / concurrent_seconds / bare_rate, target=">= 5x")
    table.add("bare HPKE open, one core", hpke_rate, "opens/s", "reference")
    table.add(f"bare HPKE open, {cores} processes at once", hpke_spread, "opens/s",
              f"reference: {hpke_spread / (hpke_rate * cores):.2f}x {cores} x one core; limit for {cast:,}: "
              f"{limit_seconds:.2f} s")
    table.add("budget: close voting (box closed, last batches, ledger checkpoint; ledger followed while casting)",
              close_seconds, "s",
              "vs bare opens", ratio=close_seconds / limit_seconds)
    table.add(f"budget: tally of {cast:,} ballots (open box + greedy)", tally_seconds, "s",
              f"vs bare opens on {cores} cores ({tally_seconds / one_core_limit:.2f}x {cores} x one core's)",
              ratio=tally_seconds / limit_seconds, target="<= 1.5x")
    table.add(f"budget: audit re-tally of the whole log ({cast:,} ballots)", audit_seconds, "s", "vs bare opens",
              ratio=audit_seconds / limit_seconds)
