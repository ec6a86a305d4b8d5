"""Small saves on PostgreSQL (fsync on) while other threads of the process keep the CPU busy, as a
``civic serve`` worker's request threads do: civic's save (BEGIN, table lock, inserts and COMMIT
composed first and sent as one message) against eventsourcing's own pipelined insert (a statement
at a time, COMMIT sent once the inserts are answered), the same events on the same database in the
same run, alternating.

Every save takes the events table's lock until it commits, so the time it holds the lock bounds
how many saves go through. eventsourcing's insert holds it while the saving thread adapts the
values and sends each statement, each time waiting for the GIL behind the busy threads."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid

from benchmarks.common import median

SECONDS = float(os.environ.get("BENCH_PG_SAVE_SECONDS", "3"))
WRITERS = 8  # threads saving, as casts' group commits and other commands do
BUSY_THREADS = 2  # threads computing meanwhile (sealing, parsing, answering requests)
ROUNDS = 3


def _measure(insert, stored_event, seconds: float) -> tuple[float, float]:  # noqa: ANN001
    """Saves per second and their median latency (ms)."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []

    def busy() -> None:
        while time.monotonic() < stop:
            sum(i * i for i in range(2000))

    def write() -> None:
        originator, version = uuid.uuid4(), 0
        while time.monotonic() < stop:
            version += 1
            started = time.perf_counter()
            insert([stored_event(originator, version)])
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=busy) for _ in range(BUSY_THREADS)]
    threads += [threading.Thread(target=write) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / seconds, median(latencies) * 1000


def run(table) -> None:  # noqa: ANN001 - benchmarks.__main__.Table
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder

    from core.store import EventStore
    from tests.support.pgserver import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("  PostgreSQL binaries not found: skipped", file=sys.stderr)
        return
    server = PostgresServer(bindir, durable=True).start()
    try:
        store = EventStore(server.create_database("civic_pg_save"))
        recorder = store.recorder
        try:
            def stored_event(originator: uuid.UUID, version: int) -> StoredEvent:
                return StoredEvent(originator, version, "bench:Deposited", b'{"blob": "' + b"x" * 600 + b'"}')

            def bare(events: list[StoredEvent]) -> object:
                return PostgresApplicationRecorder.insert_events(recorder, events)

            civic, reference = [], []
            for _ in range(ROUNDS):
                reference.append(_measure(bare, stored_event, SECONDS))
                civic.append(_measure(recorder.insert_events, stored_event, SECONDS))
        finally:
            store.close()
    finally:
        server.stop()
    ours, bare_rate = median([r for r, _ in civic]), median([r for r, _ in reference])
    note = f"{WRITERS} threads saving, {BUSY_THREADS} busy; median of {ROUNDS} runs of {SECONDS:.0f} s"
    table.add("PostgreSQL: eventsourcing's pipelined insert, 1 event/save", bare_rate, "saves/s",
              f"p50 {median([p for _, p in reference]):.1f} ms; {note}; the reference")
    table.add("PostgreSQL: civic's save, 1 event/save (one message)", ours, "saves/s",
              f"p50 {median([p for _, p in civic]):.1f} ms; {note}", ratio=ours / bare_rate, target="> 1x")
