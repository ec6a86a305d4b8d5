"""Opening sealed ballots on every core: the HPKE open is the tally's one real cost.

Batches of sealed ballots go to a pool of worker processes (``concurrent.futures``; threads
would not help, the open holds the GIL for most of its time), each of which parses the released
key once. A worker sends back, per ballot, its tracking code and its plaintext (None when it
does not open); the parent decodes the JSON. Small boxes open in the calling process: starting
workers would cost more than it saves.

Workers come from a ``forkserver``: forking a server process that runs threads (``civic
serve``) could copy a lock some other thread holds; the fork server is a clean process. As
with any spawned worker, a program started as a script file (not ``-m``) is imported again in the
workers, so its work belongs under ``if __name__ == "__main__":`` (``civic``'s own entry points
are).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from core.voting import crypto

# below this many ballots one process opens the box sooner than a pool could start
PARALLEL_FROM = 4000
# ballots per task sent to a worker: big enough that pickling and scheduling are noise
CHUNK = 1000

Sealed = tuple[str, str, str]  # pseudonym, group, sealed ballot
Opened = tuple[str, bytes | None]  # tracking code, plaintext or None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_opener: crypto.BallotOpener | None = None


def _start_worker(private_key: str, process_id: str) -> None:
    global _opener  # noqa: PLW0603 - a worker process's one key, set once when it starts
    _opener = crypto.BallotOpener(private_key, process_id)


def _open_chunk(chunk: Sequence[Sealed]) -> list[Opened]:
    assert _opener is not None
    return open_chunk(_opener, chunk)


def open_chunk(opener: crypto.BallotOpener, chunk: Sequence[Sealed]) -> list[Opened]:
    out: list[Opened] = []
    for pseudonym, group, sealed in chunk:
        try:
            plaintext: bytes | None = opener.plaintext(pseudonym, group, sealed)
        except crypto.UnopenableBallot:
            plaintext = None
        out.append((crypto.tracking_code(sealed), plaintext))
    return out


def _chunks(items: Iterable[Sealed]) -> Iterator[list[Sealed]]:
    chunk: list[Sealed] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def open_all(process_id: str, private_key: str, items: Iterable[Sealed], *, expected: int | None = None,
             workers: int | None = None) -> list[Opened]:
    """(tracking code, plaintext or None) of every sealed ballot of ``items``, in order.

    ``items`` is consumed as it comes (e.g. read from the log batch by batch): chunks go to the
    workers while the rest is still being read. ``expected`` (how many there will be) chooses
    between the pool and this process; ``workers`` overrides the number of processes (1: none).
    """
    try:
        opener = crypto.BallotOpener(private_key, process_id)
    except crypto.UnopenableBallot:
        return [(crypto.tracking_code(sealed), None) for _, _, sealed in items]
    count = workers if workers is not None else usable_cores()
    if count <= 1 or (workers is None and expected is not None and expected < PARALLEL_FROM):
        return [opened for chunk in _chunks(items) for opened in open_chunk(opener, chunk)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["core.voting.parallel"])
    with ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_start_worker,
                             initargs=(private_key, process_id)) as pool:
        futures: list[Future[list[Opened]]] = [pool.submit(_open_chunk, chunk) for chunk in _chunks(items)]
        return [opened for future in futures for opened in future.result()]
