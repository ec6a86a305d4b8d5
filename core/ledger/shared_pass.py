"""One reading of the log shared by every plugin's re-tally.

Each re-tally goes through the whole log, and reading it (a line of JSON or a row per event) costs
more than most re-tallies do with it: four plugins reading an export of 300,000 events one after
the other read it four times. Here the readers run at once, each on a thread of its own, and the
log is read once: the records go to every reader in chunks, through a short queue each, so no
more of the log is held than a few chunks per reader.

A reader's first pass is the shared one; a reader that goes through the records again reads them
afresh from the source (``records`` is re-iterable), on its own. A reader that stops early, or
never reads, is left out of the rest of the shared pass.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CHUNK = 1000  # records handed over at a time: the queues cost nothing per record
AHEAD = 4  # chunks a reader may have waiting: what the shared pass holds per reader
_WAIT = 0.05  # how often a hand-over blocked on a full queue looks whether its reader left


class _End:
    """The shared pass is over: ``error`` is what stopped the reading of the source, if anything."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Tap(Generic[T]):
    """What one reader iterates: the shared pass first, then fresh passes of the source."""

    def __init__(self, source: Iterable[T]) -> None:
        self._source = source
        self._chunks: queue.Queue[list[T] | _End] = queue.Queue(AHEAD)
        self._shared_taken = False
        self._lock = threading.Lock()
        self.left = threading.Event()  # the reader will take no more of the shared pass

    def __iter__(self) -> Iterator[T]:
        with self._lock:
            first, self._shared_taken = not self._shared_taken, True
        return self._shared() if first else iter(self._source)

    def _shared(self) -> Iterator[T]:
        try:
            while True:
                chunk = self._chunks.get()
                if isinstance(chunk, _End):
                    if chunk.error is not None:
                        raise chunk.error
                    return
                yield from chunk
        finally:
            self.left.set()  # finished, stopped early, or dropped: hand nothing more over

    def hand_over(self, chunk: list[T] | _End) -> None:
        while not self.left.is_set():
            try:
                self._chunks.put(chunk, timeout=_WAIT)
                return
            except queue.Full:
                continue


def read_once_for_all(readers: list[Callable[[Iterable[T]], R]], records: Iterable[T]) -> list[R]:
    """Each reader's result over ``records``, in the readers' order, the source read once for
    all of them (see the module). A reader's exception is raised here, the first reader's first."""
    if len(readers) <= 1:
        return [reader(records) for reader in readers]
    taps = [_Tap(records) for _ in readers]
    results: list[R | None] = [None] * len(readers)
    errors: list[BaseException | None] = [None] * len(readers)

    def run(k: int) -> None:
        try:
            results[k] = readers[k](taps[k])
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
            errors[k] = exc
        finally:
            taps[k].left.set()  # a reader done (or failed) takes no more

    threads = [threading.Thread(target=run, args=(k,), name=f"civic-retally-{k}", daemon=True)
               for k in range(len(readers))]
    for thread in threads:
        thread.start()
    end = _End()
    try:
        source = iter(records)
        while True:
            chunk = list(islice(source, CHUNK))
            if not chunk:
                break
            for tap in taps:
                tap.hand_over(chunk)
            if all(tap.left.is_set() for tap in taps):
                break
    except BaseException as exc:  # noqa: BLE001 - every reader of the shared pass sees it
        end = _End(exc)
    for tap in taps:
        tap.hand_over(end)
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results  # type: ignore[return-value]
