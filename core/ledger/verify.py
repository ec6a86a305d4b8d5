"""The auditor's check of a whole log: every leaf and root recomputed, every checkpoint's
signature and root checked (so successive checkpoints are consistent), the events replayed
through the plugins' re-tallies.

The same ``Verifier`` reads a live store (``verify_database``) or an export file
(``verify_export``). What the ledger stated about each leaf (its hash, its index, its position)
is used only to *locate* a change; what proves the log is the chain of signed roots.

It streams: one pass over the records, nothing kept per record in memory (leaf hashes and
positions go to a temporary file, ``LeafLog``), and the plugins' re-tallies read the records
again from their source (``records`` is re-iterable) instead of a list of the whole log. Every
signed root is recomputed from the same leaves, so successive checkpoints that each match are
consistent with each other by construction (no separate consistency proof is needed).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from core.canonical import CanonicalizationError, canonical_json
from core.ledger.checkpoint import CHECKPOINT_TOPIC, Checkpoint, NoteError, VerifierKey, b64, unb64
from core.ledger.export import ExportFormatError, open_export, parse_header, parse_line, read_records
from core.ledger.leaves import Entry, log_record, public_record, record_leaf_hash
from core.ledger.merkle import EMPTY_ROOT, LEAF_PREFIX, NODE_PREFIX, verify_inclusion
from core.ledger.shared_pass import read_once_for_all
from core.records import LogRecord, PlainRow, RetallyReport, decode_state

if TYPE_CHECKING:
    from core.engine import Engine
    from core.ledger.leaf_table import StoredLeaf

Retally = Callable[[Iterable[LogRecord]], Sequence[RetallyReport]]
Progress = Callable[[int], None]
MAX_PROBLEMS = 100
PROGRESS_EVERY = 2000


@attrs.frozen
class Problem:
    """Something that does not hold. ``position`` is the first log position concerned (``None``
    for what lies outside the log, e.g. a bad checkpoint file); ``precise`` is False when only
    a range is known (a signed root that no longer matches)."""

    position: int | None
    reason: str
    precise: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "reason": self.reason, "precise": self.precise}



@attrs.frozen
class VerifyReport:
    records: int
    checkpoints: int
    root_hash: bytes
    latest_checkpoint: dict[str, Any] | None
    problems: tuple[Problem, ...]
    more_problems: int
    retally: tuple[RetallyReport, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The problem to name: the earliest located one, else the earliest of a range, else
        one outside the log."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (not p.precise, p.position is None, p.position or 0))

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "tree_size": self.records,
            "root_hash": b64(self.root_hash),
            "latest_checkpoint": self.latest_checkpoint,
            "first_bad_position": first.position if first else None,
            "reason": first.reason if first else None,
            "problems": [p.to_json() for p in self.problems],
            "more_problems": self.more_problems,
            "retally": [
                {"plugin": r.plugin, "checked": r.checked,
                 "discrepancies": [{"position": d.position, "reason": d.reason} for d in r.discrepancies]}
                for r in self.retally
            ],
        }

# (position, is a checkpoint record, its note, stated index, stated leaf hash, leaf hash, problem)
Hashed = tuple[int, bool, Any, int | None, bytes | None, bytes, str | None]


def leaf_digest(record: dict[str, Any], leaf_hash: bytes | None = None,
                text: bytes | None = None) -> tuple[bytes, str | None]:
    """The leaf hash of ``record`` and the problem making it, if any. ``text``, the record's JSON
    as the source holds it, is hashed as it stands when that gives the stated ``leaf_hash``
    (then it is the canonical encoding the ledger hashed); otherwise the record is encoded
    canonically again."""
    if text is not None and leaf_hash is not None:
        digest = hashlib.sha256(LEAF_PREFIX + text).digest()
        if digest == leaf_hash:
            return digest, None
    try:
        return hashlib.sha256(LEAF_PREFIX + canonical_json(record)).digest(), None
    except CanonicalizationError as exc:
        # no leaf can hash to this; later roots will not match either
        return b"\xff" * 32, f"position {record['position']}: the record cannot be canonicalised ({exc})"


def _hashed(record: dict[str, Any], index: int | None, leaf_hash: bytes | None, text: bytes | None) -> Hashed:
    digest, problem = leaf_digest(record, leaf_hash, text)
    checkpoint = record["topic"] == CHECKPOINT_TOPIC
    note = record["payload"].get("note") if checkpoint else None
    return (record["position"], checkpoint, note, index, leaf_hash, digest, problem)


class LeafLog:
    """Every leaf hash and log position seen so far, in a temporary file; in memory only the
    complete subtrees of the tree so far (its compact range, log n hashes), snapshotted every
    ``STRIDE`` leaves, and the leaves since the last multiple of ``CHUNK``, all in a few
    growing buffers rather than many small objects. The root of any
    earlier size then costs at most ``STRIDE`` hashes and a short read, and memory stays flat
    however long the log is. Leaves are hashed into the tree ``CHUNK`` at a time, level by level
    (fewer Python steps per leaf than folding each one in)."""

    CHUNK = 1024
    STRIDE = 4096  # a multiple of CHUNK
    _ROW = 40  # leaf hash (32 bytes) and position (8 bytes)

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="civic-verify-")
        self._pending = bytearray()
        self._written = 0  # leaves in the file
        self._stack: list[tuple[int, bytes]] = []  # (leaves, hash) of complete subtrees, left to right
        self._recent = bytearray()  # leaf hashes after the last multiple of CHUNK, end to end
        # the stack at each multiple of STRIDE, its hashes end to end in one buffer (its widths are
        # the size's binary digits): one growing object, not thousands of small ones scattered
        # over the heap, which would keep freed memory from being returned
        self._snapshots = bytearray()
        self._snapshot_starts = array("q", [0])
        self.size = 0
        self.last_position: int | None = None

    def __len__(self) -> int:
        return self.size

    def append(self, digest: bytes, position: int) -> None:
        self._pending += digest
        self._pending += position.to_bytes(8, "big", signed=True)
        self.last_position = position
        self._recent += digest
        self.size += 1
        if len(self._recent) == 32 * self.CHUNK:
            _fold(self._stack, _subtree(_hashes(self._recent)), self.CHUNK)
            self._recent = bytearray()
            if self.size % self.STRIDE == 0:
                self._snapshots += b"".join(node for _, node in self._stack)
                self._snapshot_starts.append(len(self._snapshots))
            if len(self._pending) >= 1 << 20:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._file.seek(self._written * self._ROW)
            self._file.write(self._pending)
            self._written += len(self._pending) // self._ROW
            self._pending = bytearray()

    def _rows(self, start: int, stop: int) -> bytes:
        self._flush()
        self._file.seek(start * self._ROW)
        return self._file.read((stop - start) * self._ROW)

    def position(self, index: int) -> int:
        return int.from_bytes(self._rows(index, index + 1)[32:], "big", signed=True)

    def root(self, size: int | None = None) -> bytes:
        """The RFC 9162 root of the first ``size`` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"no root for {size} leaves in a tree of {self.size}")
        if size == self.size:
            stack, leaves = list(self._stack), _hashes(self._recent)
        else:
            base = size // self.STRIDE * self.STRIDE
            stack = self._snapshot(base)
            rows = self._rows(base, size)
            leaves = [rows[at:at + 32] for at in range(0, len(rows), self._ROW)]
        for leaf in leaves:
            _fold(stack, leaf, 1)
        return _root(stack)

    def _snapshot(self, size: int) -> list[tuple[int, bytes]]:
        n = size // self.STRIDE
        hashes = self._snapshots[self._snapshot_starts[n - 1]:self._snapshot_starts[n]] if n else b""
        widths = [1 << bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]
        return [(width, bytes(hashes[32 * i:32 * i + 32])) for i, width in enumerate(widths)]

    def close(self) -> None:
        self._file.close()


def _hashes(joined: bytes | bytearray) -> list[bytes]:
    return [bytes(joined[at:at + 32]) for at in range(0, len(joined), 32)]


def _subtree(leaves: list[bytes]) -> bytes:
    """The hash of a complete subtree (a power of two of leaves), level by level."""
    level = leaves
    while len(level) > 1:
        level = [hashlib.sha256(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def _fold(stack: list[tuple[int, bytes]], node: bytes, width: int) -> None:
    """Push a complete subtree of ``width`` leaves, merging equal neighbours (RFC 9162 shape)."""
    while stack and stack[-1][0] == width:
        node = hashlib.sha256(NODE_PREFIX + stack.pop()[1] + node).digest()
        width *= 2
    stack.append((width, node))


def _root(stack: list[tuple[int, bytes]]) -> bytes:
    if not stack:
        return EMPTY_ROOT
    node = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        node = hashlib.sha256(NODE_PREFIX + left + node).digest()
    return node


class Verifier:
    """Feed records in log order with ``add`` (or ``add_record``), outside checkpoints with
    ``add_outside``, then ``finish``.

    ``key`` is the key checkpoints must be signed with. ``stored`` are the leaves the follower
    recorded (live store only), read along in order: they locate a changed, missing or inserted
    record exactly. ``retally`` is given ``records``, a re-iterable of the log's records (read
    again from the source, not kept), when the verifier finishes.
    """

    def __init__(
        self,
        key: VerifierKey | None,
        *,
        stored: Iterable[StoredLeaf] | None = None,
        retally: Retally | None = None,
        records: Iterable[LogRecord] | None = None,
    ) -> None:
        self.key = key
        self.stored: Iterator[StoredLeaf] | None = iter(stored) if stored is not None else None
        self._next_stored: StoredLeaf | None = None
        self.retally = retally
        self.records = records
        self.tree = LeafLog()
        self.problems: list[Problem] = []
        self.more_problems = 0
        self.checkpoints = 0
        self._good_sizes = array("q")  # sizes of the checkpoints whose roots matched
        self.latest: dict[str, Any] | None = None
        self._aligned = True  # stored leaves still line up with the records
        self._index_mismatches: list[tuple[int, int, int, int | None]] = []
        self._awaited: set[int] = set()  # leaf indexes skipped where the stated index jumped, until seen
        self._offset = 0  # stated index − actual index of the previous line
        self._outside: list[tuple[str, str]] = []

    # -- problems ------------------------------------------------------------------------
    def problem(self, position: int | None, reason: str, *, precise: bool = True) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(position, reason, precise))
        else:
            self.more_problems += 1

    @property
    def last_position(self) -> int | None:
        return self.tree.last_position

    # -- records -------------------------------------------------------------------------
    def add(self, entry: Entry) -> None:
        self.add_record(entry.record, entry.index, entry.leaf_hash, entry.text)

    def add_record(self, record: dict[str, Any], index: int | None = None, leaf_hash: bytes | None = None,
                   text: bytes | None = None) -> None:
        """One record in log order (see ``leaf_digest`` for ``text``)."""
        self.add_hashed(_hashed(record, index, leaf_hash, text))

    def add_hashed(self, line: Hashed) -> None:
        """One record in log order, already hashed (``_hashed``; possibly in another process)."""
        position, checkpoint, note, index, leaf_hash, digest, problem = line
        k = self.tree.size
        previous = self.tree.last_position
        if problem is not None:
            self.problem(position, problem)
        if previous is not None and position <= previous:
            self.problem(position, f"position {position} comes after position {previous}: out of order")
        if index is not None:
            offset = index - k
            if offset != self._offset:
                # one line removed or added shifts every later index: report where the shift starts
                if offset != 0 and len(self._index_mismatches) < MAX_PROBLEMS:
                    self._index_mismatches.append((k, index, position, previous))
                    if index > k:
                        self._awaited.add(k)
                self._offset = offset
            if self._awaited:
                self._awaited.discard(index)
        if checkpoint:  # first: its reason is the more telling one
            self._check_recorded_checkpoint(position, note, k)
        if leaf_hash is not None and leaf_hash != digest:
            self.problem(position, f"the record at position {position} does not match the leaf hash "
                                   f"the ledger stated for leaf {k}: it was changed")
        if self.stored is not None and self._aligned:
            stored = next(self.stored, None)
            if stored is not None:
                self._compare_stored(stored, position, digest)
        self.tree.append(digest, position)

    def _compare_stored(self, stored: StoredLeaf, position: int, digest: bytes) -> None:
        k = stored.index
        if stored.position < position:
            self._aligned = False
            self.problem(stored.position, f"position {stored.position} (leaf {k}) is missing: the ledger "
                                          f"followed it, the log now has position {position} in its place")
        elif stored.position > position:
            self._aligned = False
            self.problem(position, f"position {position} was never followed by the ledger (leaf {k} was "
                                   f"position {stored.position}): it was inserted")
        elif stored.leaf_hash != digest:
            self.problem(position, f"the record at position {position} differs from the leaf the ledger "
                                   f"recorded for it: it was changed or replaced")

    def _check_recorded_checkpoint(self, position: int, note: Any, k: int) -> None:
        self.checkpoints += 1
        where = f"the checkpoint recorded at position {position}"
        if not isinstance(note, str):
            self.problem(position, f"{where} carries no signed note")
            return
        checkpoint = self._open(note, position, where)
        if checkpoint is None:
            return
        if checkpoint.size > k:
            self.problem(position, f"{where} claims {checkpoint.size} leaves, but only {k} precede it")
            return
        self._check_root(checkpoint, where, position)

    def _open(self, note: str, position: int | None, where: str) -> Checkpoint | None:
        if self.key is None:
            self.problem(position, f"{where}: no ledger key to check its signature against (pass --key)")
            return None
        try:
            return self.key.open_checkpoint(note)
        except NoteError as exc:
            self.problem(position, f"{where} is not valid: {exc}")
            return None

    def _check_root(self, checkpoint: Checkpoint, where: str, position: int | None) -> None:
        size = checkpoint.size
        if self.tree.root(size) == checkpoint.root_hash:
            self._good_sizes.append(size)
            if self.latest is None or size >= self.latest["size"]:
                self.latest = {**checkpoint.to_json(), "where": where}
            return
        before = max((s for s in self._good_sizes if s < size), default=0)
        first, last = self.tree.position(before), self.tree.position(size - 1)
        self.problem(first, f"the first {size} leaves do not hash to the root signed in {where}; the last "
                            f"matching checkpoint covers {before} leaves, so a record among positions "
                            f"{first}–{last} was changed, removed, inserted or reordered", precise=False)

    # -- outside the log -----------------------------------------------------------------
    def add_outside(self, note: str, label: str) -> None:
        """A checkpoint kept outside the log (the ledger's file, an auditor's copy)."""
        self._outside.append((note, label))

    def _check_outside(self, note: str, label: str) -> None:
        checkpoint = self._open(note, None, label)
        if checkpoint is None:
            return
        n = len(self.tree)
        if checkpoint.size > n:
            last = self.last_position
            missing = (last or 0) + 1
            self.problem(missing, f"{label} covers {checkpoint.size} leaves, but the log has only {n} "
                                  f"(up to position {last}): the log was truncated from position {missing} on")
            return
        self._check_root(checkpoint, label, None)

    # -- the end ---------------------------------------------------------------------------
    def finish(self, *, expected_records: int | None = None, progress: Progress | None = None) -> VerifyReport:
        try:
            return self._finish(expected_records)
        finally:
            self.tree.close()

    def _finish(self, expected_records: int | None) -> VerifyReport:
        n = len(self.tree)
        for k, stated, position, previous in self._index_mismatches:
            if stated > k and k in self._awaited:
                self.problem((previous or 0) + 1, f"leaf {k} is missing: nothing between position "
                                                  f"{previous} and position {position}")
            else:
                self.problem(position, f"position {position} is stated as leaf {stated} but is leaf {k}: "
                                       f"records were reordered or inserted")
        if self.stored is not None and self._aligned:
            gone = next(self.stored, None)
            if gone is not None:
                more = sum(1 for _ in self.stored)
                self.problem(gone.position, f"the log ends at position {self.last_position}, but the ledger "
                                            f"followed {n + 1 + more} leaves: position {gone.position} and "
                                            f"{more} more were removed")
        inner_gap = any(k < n and k in self._awaited for k, _, _, _ in self._index_mismatches)
        if expected_records is not None and expected_records > n and inner_gap:
            self.problem(None, f"the export announces {expected_records} records but holds {n}", precise=False)
        elif expected_records is not None and expected_records > n:
            missing = (self.last_position or 0) + 1
            self.problem(missing, f"the export announces {expected_records} records but holds {n}: "
                                  f"cut short after position {self.last_position}")
        elif expected_records is not None and expected_records < n:
            extra = self.tree.position(expected_records)
            self.problem(extra, f"the export announces {expected_records} records but holds {n}: "
                                f"records from position {extra} on were added")
        for note, label in self._outside:
            self._check_outside(note, label)
        reports: tuple[RetallyReport, ...] = ()
        if self.retally is not None and self.records is not None:
            reports = self._run_retally()
        return VerifyReport(
            records=n,
            checkpoints=self.checkpoints,
            root_hash=self.tree.root() if n else EMPTY_ROOT,
            latest_checkpoint=self.latest,
            problems=tuple(self.problems),
            more_problems=self.more_problems,
            retally=reports,
        )

    def _run_retally(self) -> tuple[RetallyReport, ...]:
        assert self.retally is not None and self.records is not None
        try:
            reports = tuple(r for r in self.retally(self.records) if r is not None)
        except Exception as exc:  # a plugin's bug must not pass as a clean audit
            self.problem(None, f"a plugin's re-tally failed: {type(exc).__name__}: {exc}")
            return ()
        for report in reports:
            for d in report.discrepancies:
                self.problem(d.position, f"{report.plugin}: {d.reason}")
        return reports


# -- the two sources ------------------------------------------------------------------------
class Reread:
    """The log's records, read afresh from their source on every iteration: each plugin's
    re-tally may go through them as often as it needs, and no list of the whole log is kept."""

    def __init__(self, read: Callable[[], Iterable[LogRecord]]) -> None:
        self._read = read

    def __iter__(self) -> Iterator[LogRecord]:
        return iter(self._read())


def export_records(path: str | Path) -> Iterator[LogRecord]:
    """The records of an export file as ``LogRecord``s (for the re-tallies)."""
    for record in read_records(path):
        yield log_record(record)


def plugin_retally(pm: Any) -> Retally:
    """Every plugin's ``civic_audit_retally`` over the records, in the order pluggy calls them,
    the log read once for all of them (``read_once_for_all``)."""

    def retally(records: Iterable[LogRecord]) -> list[RetallyReport]:
        plugins = [impl.plugin for impl in reversed(pm.hook.civic_audit_retally.get_hookimpls())]
        callers = [pm.subset_hook_caller("civic_audit_retally", [p for p in plugins if p is not plugin])
                   for plugin in plugins]
        readers = [lambda rs, call=call: call(records=rs) for call in callers]
        return [r for results in read_once_for_all(readers, records) for r in results if r is not None]

    return retally


def verify_database(
    engine: Engine,
    *,
    key: VerifierKey | None = None,
    checkpoints: Iterable[tuple[str, str]] = (),
    retally: Retally | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Verify a live store read-only: its records, the checkpoints recorded in it, the
    checkpoint file kept outside it, and any ``(note, label)`` an auditor brings. A large store's
    records are decoded and hashed on every core (``workers`` overrides how many)."""
    ledger = engine.ledger
    key = key or ledger.existing_verifier_key()
    verifier = Verifier(key, stored=ledger.stored_leaves(), retally=retally, records=Reread(engine.records))
    if workers is None:
        workers = _usable_cores() if engine.position >= PARALLEL_FROM_RECORDS else 1
    for count, line in enumerate(_hashed_records(engine, workers), 1):
        verifier.add_hashed(line)
        if progress and count % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    outside = ledger.outside_checkpoint()
    if outside is not None:
        verifier.add_outside(outside, f"the checkpoint kept outside the store ({ledger.checkpoint_path})")
    for note, label in checkpoints:
        verifier.add_outside(note, label)
    return verifier.finish()


# stores with at least this many events are decoded and hashed by worker processes (as large
# exports are, below)
PARALLEL_FROM_RECORDS = 20_000
ROWS_PER_TASK = 2000


def _hash_rows(rows: Sequence[PlainRow]) -> list[Hashed]:
    """Each of ``rows`` (``EventStore.plain_rows``) decoded, made public and hashed."""
    return [_hashed(public_record(LogRecord(position, originator_id, version, topic, decode_state(state))),
                    None, None, None)
            for position, originator_id, version, topic, state in rows]


def _hashed_records(engine: Engine, workers: int) -> Iterator[Hashed]:
    """Every record of the store, hashed, in log order; on ``workers`` processes (1: this one)."""
    if workers <= 1:
        for record in engine.records():
            yield _hashed(public_record(record), None, None, None)
        return
    for hashed in _in_workers(_hash_rows, ((rows,) for rows in engine.store.plain_rows(ROWS_PER_TASK)), workers):
        yield from hashed


# exports at least this large are read by worker processes (parsing and hashing each line is
# the verify's cost; the order-dependent checks stay in this process)
PARALLEL_FROM_BYTES = 8 << 20
LINES_PER_TASK = 2000

T = TypeVar("T")


def _in_workers(work: Callable[..., T], tasks: Iterable[tuple[Any, ...]], workers: int) -> Iterator[T]:
    """``work(*task)`` of every task, in order, on ``workers`` processes, with a bounded number
    of tasks in flight so that memory stays flat however long the input."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["core.ledger.verify"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[T]] = deque()
        for task in tasks:
            pending.append(pool.submit(work, *task))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _hash_block(first: int, block: bytes) -> list[tuple[str, Any, int]]:
    """Parse and hash the lines of ``block`` (line ``first`` on): (kind, value, line number),
    kind and value being "record" and a ``Hashed``, "checkpoint" and its note, "end" and the
    count, or "error" and the ``ExportFormatError`` where reading stops."""
    out: list[tuple[str, Any, int]] = []
    lines = block.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    for number, raw in enumerate(lines, first):
        try:
            line = parse_line(number, raw)
        except ExportFormatError as exc:
            out.append(("error", exc, number))
            break
        if line is None:
            continue
        kind, value = line
        if kind == "record":
            out.append(("record", _hashed(value.record, value.index, value.leaf_hash, value.text), number))
        else:
            out.append((kind, value, number))
    return out


def _blocks(f: Any, progress: Progress | None) -> Iterator[tuple[int, bytes]]:
    number = 2
    while True:
        lines = list(islice(f, LINES_PER_TASK))
        if not lines:
            return
        block = b"".join(lines)
        if progress:
            progress(len(block))
        yield number, block
        number += len(lines)


def _hashed_lines(f: Any, progress: Progress | None, workers: int) -> Iterator[tuple[str, Any, int]]:
    """Every line after the header, parsed and hashed, in order; on ``workers`` processes (1:
    this one), with a bounded number of blocks in flight so that memory stays flat."""
    if workers <= 1:
        for first, block in _blocks(f, progress):
            yield from _hash_block(first, block)
        return
    for lines in _in_workers(_hash_block, _blocks(f, progress), workers):
        yield from lines


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def verify_export(
    path: str | Path,
    *,
    key: VerifierKey | None = None,
    checkpoints: Iterable[tuple[str, str]] = (),
    retally: Retally | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Verify an export file. ``key`` pins the key the auditor trusts; without it, the key the
    export names is used (which proves integrity only against that key). One pass over the
    file, large ones parsed and hashed on every core (``workers`` overrides how many)."""
    records = Reread(lambda: export_records(path))
    with open_export(path) as f:
        size = os.fstat(f.fileno()).st_size
        first = f.readline()
        if not first:
            raise ExportFormatError(1, "the file is empty")
        if progress:
            progress(len(first))
        header = parse_header(first)
        stated = header["key"]
        if key is not None and stated is not None and stated != key:
            verifier = Verifier(key, retally=retally, records=records)
            verifier.problem(None, f"the export names the key {stated}, not the trusted key {key}")
        else:
            verifier = Verifier(key or stated, retally=retally, records=records)
        if header.get("checkpoint_topic") != CHECKPOINT_TOPIC:
            # checkpoint records are recognised by this verifier's own topic, never the file's
            verifier.problem(None, f"the export names checkpoint records {header.get('checkpoint_topic')!r}, "
                                   f"not {CHECKPOINT_TOPIC!r}")
        if workers is None:
            workers = _usable_cores() if size >= PARALLEL_FROM_BYTES else 1
        expected: int | None = None
        try:
            for kind, value, number in _hashed_lines(f, progress, workers):
                if kind == "error":
                    raise value
                if expected is not None:
                    raise ExportFormatError(number, "content after the end line")
                if kind == "record":
                    verifier.add_hashed(value)
                elif kind == "checkpoint":
                    verifier.add_outside(value, "the checkpoint kept outside the store (in the export)")
                elif kind == "end":
                    expected = value
        except BaseException:
            verifier.tree.close()
            raise
    if expected is None:
        verifier.problem((verifier.last_position or 0) + 1,
                         "the export has no end line: it was cut short after position "
                         f"{verifier.last_position}")
    for note, label in checkpoints:
        verifier.add_outside(note, label)
    return verifier.finish(expected_records=expected)


def check_receipt(receipt: dict[str, Any], key: VerifierKey) -> str | None:
    """Why a receipt does not hold, or ``None`` when it does: the checkpoint is signed by
    ``key``, the record hashes to the leaf, and the inclusion proof leads to the signed root."""
    try:
        checkpoint = key.open_checkpoint(receipt["checkpoint"]["note"])
    except NoteError as exc:
        return f"the receipt's checkpoint: {exc}"
    except (KeyError, TypeError) as exc:
        return f"malformed receipt: no checkpoint note ({exc})"
    try:
        leaf = unb64(receipt["leaf_hash"], "leaf_hash")
        proof = [unb64(p, "a proof hash") for p in receipt["inclusion_proof"]]
        index = int(receipt["leaf_index"])
    except (KeyError, TypeError, ValueError) as exc:
        return f"malformed receipt: {exc}"
    record = receipt.get("record")
    if record is not None:
        if record_leaf_hash(record) != leaf:
            return "the record does not hash to the receipt's leaf hash"
        if record.get("position") != receipt.get("position"):
            return "the record's position is not the receipt's"
    if not verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root_hash):
        return "the inclusion proof does not lead to the checkpoint's root"
    return None


def load_checkpoint_file(path: str | Path) -> str:
    """A checkpoint an auditor kept: the signed note itself, or JSON with a ``note`` field (as
    ``/ledger/checkpoint`` and receipts give it)."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        value = json.loads(text)
        if isinstance(value.get("checkpoint"), dict):
            value = value["checkpoint"]
        note = value.get("note")
        if not isinstance(note, str):
            raise ValueError(f"{path}: no 'note' field")
        return note
    return text
