"""Opening sealed ballots on every core: the HPKE open is the tally's one real cost.

Pieces of the box go to a pool of worker processes (``concurrent.futures``; threads would not
help, the open holds the GIL for most of its time), each of which parses the released key once.
A piece is a batch's payload as the store holds it (JSON bytes: the worker decodes it, so the
reading process only moves bytes) or a slice of a large batch already decoded. A worker sends
back columns, not objects: per ballot its pseudonym, group, superseded flag, tracking code and
plaintext (None when it does not open). Small boxes open in the calling process: starting
workers would cost more than it saves.

Workers come from a ``forkserver``: forking a server process that runs threads (``civic
serve``) could copy a lock some other thread holds; the fork server is a clean process. As
with any spawned worker, a program started as a script file (not ``-m``) is imported again in the
workers, so its work belongs under ``if __name__ == "__main__":`` (``civic``'s own entry points
are).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import attrs

from core.voting import crypto

# below this many ballots one process opens the box sooner than a pool could start
PARALLEL_FROM = 4000
# ballots per task sent to a worker: big enough that pickling and scheduling are noise
CHUNK = 1000

Sealed = tuple[str, str, str]  # pseudonym, group, sealed ballot
Opened = tuple[str, bytes | None]  # tracking code, plaintext or None


@attrs.frozen
class RawBatch:
    """A batch event's payload as stored (JSON bytes holding ``ballots``) and its ballot count."""

    payload: bytes
    size: int


Batch = RawBatch | Sequence[Mapping[str, Any]]


@attrs.define
class Columns:
    """One piece of the box, opened: a list per field, one entry per ballot, in box order."""

    pseudonyms: list[str] = attrs.Factory(list)
    groups: list[str] = attrs.Factory(list)
    superseded: list[bool] = attrs.Factory(list)
    codes: list[str] = attrs.Factory(list)
    plaintexts: list[bytes | None] = attrs.Factory(list)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _opener_for(private_key: str, process_id: str) -> crypto.BallotOpener | None:
    try:
        return crypto.BallotOpener(private_key, process_id)
    except crypto.UnopenableBallot:
        return None  # a released key that is no key: every ballot is unopenable


_opener: crypto.BallotOpener | None = None


def _start_worker(private_key: str, process_id: str) -> None:
    global _opener  # noqa: PLW0603 - a worker process's one key, set once when it starts
    _opener = _opener_for(private_key, process_id)


def _open_task(pieces: list[RawBatch | Sequence[Mapping[str, Any]]]) -> list[Columns]:
    return [open_piece(_opener, piece) for piece in pieces]


def open_piece(opener: crypto.BallotOpener | None, piece: Batch) -> Columns:
    """Open the ballots of one piece (a raw batch payload or decoded ballots)."""
    ballots = json.loads(piece.payload)["ballots"] if isinstance(piece, RawBatch) else piece
    out = Columns()
    code = crypto.tracking_code
    for ballot in ballots:
        pseudonym, group, sealed = ballot["pseudonym"], ballot.get("group", ""), ballot["sealed"]
        plaintext: bytes | None = None
        if opener is not None:
            try:
                plaintext = opener.plaintext(pseudonym, group, sealed)
            except crypto.UnopenableBallot:
                pass
        out.pseudonyms.append(pseudonym)
        out.groups.append(group)
        out.superseded.append(bool(ballot.get("superseded", False)))
        out.codes.append(code(sealed))
        out.plaintexts.append(plaintext)
    return out


def open_chunk(opener: crypto.BallotOpener, chunk: Sequence[Sealed]) -> list[Opened]:
    """(tracking code, plaintext or None) of each (pseudonym, group, sealed) of ``chunk``."""
    ballots = [{"pseudonym": p, "group": g, "sealed": s} for p, g, s in chunk]
    columns = open_piece(opener, ballots)
    return list(zip(columns.codes, columns.plaintexts))


def _size(batch: Batch) -> int:
    return batch.size if isinstance(batch, RawBatch) else len(batch)


def _pieces(batches: Iterable[Batch]) -> Iterator[tuple[int, Batch]]:
    """(batch number from 0, piece): a batch bigger than two tasks is decoded here and cut."""
    for b, batch in enumerate(batches):
        if _size(batch) <= 2 * CHUNK:
            yield b, batch
            continue
        ballots = json.loads(batch.payload)["ballots"] if isinstance(batch, RawBatch) else batch
        for start in range(0, len(ballots), CHUNK):
            yield b, ballots[start:start + CHUNK]


def _tasks(pieces: Iterable[tuple[int, Batch]]) -> Iterator[list[tuple[int, Batch]]]:
    task: list[tuple[int, Batch]] = []
    held = 0
    for item in pieces:
        task.append(item)
        held += _size(item[1])
        if held >= CHUNK:
            yield task
            task, held = [], 0
    if task:
        yield task


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["core.voting.parallel"])
    return context


def warm_up() -> None:
    """Start the fork server now, in the background (it imports the kit once, which takes a
    while), so that the workers of a coming large opening fork from it at once."""
    from multiprocessing import forkserver

    _context()
    threading.Thread(target=forkserver.ensure_running, name="civic-forkserver", daemon=True).start()


def open_batches(process_id: str, private_key: str, batches: Iterable[Batch], *, expected: int | None = None,
                 workers: int | None = None) -> Iterator[tuple[int, Columns]]:
    """(batch number from 0, its opened columns) for every piece of ``batches``, in box order (a
    large batch comes in several pieces, in order).

    ``batches`` is consumed as it comes (e.g. read from the log batch by batch): pieces go to the
    workers while the rest is still being read. ``expected`` (how many ballots there will be)
    chooses between the pool and this process; ``workers`` overrides the number of processes
    (1: none)."""
    count = workers if workers is not None else usable_cores()
    if count <= 1 or (workers is None and expected is not None and expected < PARALLEL_FROM):
        opener = _opener_for(private_key, process_id)
        for b, piece in _pieces(batches):
            yield b, open_piece(opener, piece)
        return
    with ProcessPoolExecutor(max_workers=count, mp_context=_context(), initializer=_start_worker,
                             initargs=(private_key, process_id)) as pool:
        submitted: list[tuple[list[int], Future[list[Columns]]]] = []
        for task in _tasks(_pieces(batches)):
            submitted.append(([b for b, _ in task], pool.submit(_open_task, [piece for _, piece in task])))
        for numbers, future in submitted:
            yield from zip(numbers, future.result())


def open_all(process_id: str, private_key: str, items: Iterable[Sealed], *, expected: int | None = None,
             workers: int | None = None) -> list[Opened]:
    """(tracking code, plaintext or None) of every sealed ballot of ``items``, in order."""
    batch = [{"pseudonym": p, "group": g, "sealed": s} for p, g, s in items]
    opened = open_batches(process_id, private_key, [batch], expected=expected, workers=workers)
    return [pair for _, columns in opened for pair in zip(columns.codes, columns.plaintexts)]
