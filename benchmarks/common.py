"""Shared pieces for benchmarks: temporary stores and a bare eventsourcing baseline."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class BareItem(Aggregate):
    """The baseline: a plain eventsourcing aggregate, no civic code involved."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.marks: list[str] = []

    @event("Marked")
    def mark(self, who: str) -> None:
        self.marks.append(who)


class BareApp(Application):
    name = "bare"


@contextmanager
def ledger_following(engine) -> Iterator[None]:
    """As in ``civic serve`` (core.service's ledger job): the ledger follows the log every
    half second while the block runs, so that a close does not have a whole burst to catch up."""
    from core.service import LEDGER_SECONDS

    stop = threading.Event()

    def follow() -> None:
        while not stop.wait(LEDGER_SECONDS):
            engine.ledger.tick()

    thread = threading.Thread(target=follow, name="ledger")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def temp_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="civic-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def bare_app(path: Path) -> BareApp:
    return BareApp(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})


def rate(count: int, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def median(values: list[float]) -> float:
    return statistics.median(values)


_BENCH_INFO = b"civic/bench"


def _sealed_samples(samples: int) -> tuple[Any, list[bytes]]:
    """A fresh box key and ``samples`` ballot-sized plaintexts sealed to it (the kit's suite)."""
    import os

    from core.voting import crypto

    key = crypto.ballot_private_key(os.urandom(32))
    public = key.public_key()
    return key, [crypto.SUITE.encrypt(b'{"choice":["1","2","3"],"channel":"mobile"}', public, info=_BENCH_INFO)
                 for _ in range(samples)]


def _timed_opens(key: Any, sealed: list[bytes]) -> float:
    """Opens per second of ``sealed`` (key parsed once, nothing else done)."""
    from core.voting import crypto

    started = time.perf_counter()
    for ciphertext in sealed:
        crypto.SUITE.decrypt(ciphertext, key, info=_BENCH_INFO)
    return len(sealed) / (time.perf_counter() - started)


def bare_hpke_open_rate(samples: int = 3000) -> float:
    """Opens per second on one core of bare HPKE (the kit's suite, key parsed once, nothing else);
    a tally's limit is what ``bare_hpke_open_rate_spread`` measures on every core at once."""
    return _timed_opens(*_sealed_samples(samples))


def _open_rate_in_process(samples: int, start: Any, rates: Any) -> None:
    """(In a worker process) ``bare_hpke_open_rate``, timed once every worker is ready."""
    key, sealed = _sealed_samples(samples)
    start.wait()
    rates.put(_timed_opens(key, sealed))


def bare_hpke_open_rate_spread(processes: int, samples: int = 6000) -> float:
    """Opens per second of bare HPKE spread over ``processes`` processes opening at once (each
    as ``bare_hpke_open_rate``, started together, its rate timed by itself; the rates summed).
    The tally opens on every core at once: on a shared virtual machine two cores opening together
    do not open twice as fast as one alone, so the limit is this, measured, not one core's rate
    times the cores."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    start, rates = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_open_rate_in_process, args=(samples, start, rates)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    total = sum(rates.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join()
    return total


def bare_hpke_seal_rate(samples: int = 3000, threads: int = 1) -> float:
    """Seals per second of bare HPKE (the kit's suite, the box key parsed once, a ballot-sized
    plaintext), from ``threads`` threads at once: every cast seals its ballot once, so a process
    casts at most this many ballots per second (cryptography's HPKE keeps the GIL: more threads
    do not seal faster)."""
    import os
    import threading

    from core.voting import crypto

    public = crypto.ballot_private_key(os.urandom(32)).public_key()
    plaintext = b'{"channel":"mobile","choice":["1","2","3"]}'
    info = crypto.canonical(["civic/sealed-ballot/v1", "a-process-id", "p" * 32, ""])

    def seal(count: int) -> None:
        for _ in range(count):
            crypto.SUITE.encrypt(plaintext, public, info=info)

    workers = [threading.Thread(target=seal, args=(samples // threads,)) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return samples // threads * threads / (time.perf_counter() - started)
