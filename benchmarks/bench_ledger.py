"""The audit ledger at 100,000 events: follower leaf append rate, proof generation, export,
and the auditor's verify of the exported file (targets: proofs ≤ 1 ms, verify ≤ 10 s)."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from core.engine import Engine
from core.ledger.export import write_export
from core.ledger.verify import verify_database, verify_export
from core.plugins import make_plugin_manager

EVENTS = int(os.environ.get("BENCH_LEDGER_EVENTS", "100000"))
PER_SAVE = 1000
PROOFS = 2000


def _load(engine: Engine, events: int) -> None:
    from tests.support.petition import Petition  # `make bench` runs from the repository root

    made = 0
    while made < events:
        batch = min(PER_SAVE, events - made)
        p = Petition(f"petition {made}")
        for i in range(batch - 1):
            p._signed(f"signer {i}")  # skip the duplicate check: it is quadratic and not measured
        engine.save(p)
        made += batch


def _per_call_ms(fn, args: list[tuple[int, int]]) -> float:
    started = time.perf_counter()
    for a in args:
        fn(*a)
    return (time.perf_counter() - started) / len(args) * 1000


def run(table) -> None:
    from tests.support import petition

    with tempfile.TemporaryDirectory(prefix="civic-bench-ledger-") as tmp:
        db = str(Path(tmp) / "civic.db")
        engine = Engine(db, plugins=make_plugin_manager(extra=[petition]), outbox=Path(tmp) / "o")
        try:
            _load(engine, EVENTS)
            events = engine.position

            started = time.perf_counter()
            added = engine.ledger.follow()
            elapsed = time.perf_counter() - started
            table.add("ledger follower append", added / elapsed, "leaves/s",
                      f"{added:,} notifications → leaf hashes stored (SQLite)")

            signed = engine.ledger.checkpoint()
            size = signed.size
            rng = random.Random(7)
            inclusion = [(rng.randrange(size), size) for _ in range(PROOFS)]
            consistency = [(rng.randrange(1, size), size) for _ in range(PROOFS)]
            ledger = engine.ledger
            table.add("inclusion proof at 100k leaves", _per_call_ms(ledger.inclusion_proof, inclusion), "ms",
                      f"mean of {PROOFS:,}, tree of {size:,} (target ≤ 1 ms)")
            table.add("consistency proof at 100k leaves", _per_call_ms(ledger.consistency_proof, consistency), "ms",
                      f"mean of {PROOFS:,} (target ≤ 1 ms)")
            restarted = time.perf_counter()
            again = Engine(db, plugins=make_plugin_manager(extra=[petition]), outbox=Path(tmp) / "o")
            again.ledger.size  # noqa: B018 - loads the tree from the leaves table
            table.add("ledger reload after restart", time.perf_counter() - restarted, "s",
                      f"{size:,} leaf hashes read, tree rebuilt in memory")
            again.close()

            # on every core (as `civic audit verify --db` does with a store this large), then in
            # this process alone, the reference
            started = time.perf_counter()
            report = verify_database(engine)
            assert report.ok, report.first
            on_every_core = time.perf_counter() - started
            started = time.perf_counter()
            assert verify_database(engine, workers=1).ok
            alone = time.perf_counter() - started
            table.add("audit verify of the live store, one process", alone, "s",
                      f"{report.records:,} records read from SQLite and checked")
            table.add("audit verify of the live store", on_every_core, "s",
                      "records decoded and hashed on every core, vs one process", ratio=on_every_core / alone)

            out = Path(tmp) / "log.jsonl"
            started = time.perf_counter()
            summary = write_export(engine, out)
            table.add("audit export", time.perf_counter() - started, "s",
                      f"{summary['records']:,} records, {out.stat().st_size / 1e6:,.0f} MB")
        finally:
            engine.close()

        timings = []
        for _ in range(2):
            started = time.perf_counter()
            report = verify_export(out)
            timings.append(time.perf_counter() - started)
            assert report.ok, report.first
        table.add("audit verify of the export", statistics.median(timings), "s",
                  f"{report.records:,} records ({events:,} events + checkpoints): leaves, roots, "
                  "signatures, consistency (target ≤ 10 s)")
