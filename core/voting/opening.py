"""Opening a closed box and recounting it from the public log: pure functions, no I/O (large
boxes open on every core, ``parallel``).

The live system and an auditor's replay of an exported log call the same functions:
``effective_ballots`` (which ballot of each pseudonym counts), ``open_box`` (decrypt with the
released key) and ``audit_process`` (everything public about one process, checked).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import Counter
from itertools import accumulate
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
from eventsourcing.utils import get_topic

from core.records import LogRecord
from core.voting import crypto, lottery, parallel
from core.voting.box import BallotBatch, BallotBox, BallotDeposit
from core.voting.roll import RollEntry

COUNTED, REPLACED, UNOPENABLE = "counted", "replaced", "unopenable"


@attrs.frozen
class OpenedBallot:
    """One ballot of the box after close. ``state``: counted, replaced (by a later ballot of the
    same pseudonym) or unopenable. ``position`` is the log position of its batch event and
    ``index`` its place in that batch: the ledger proves the batch event's inclusion."""

    tracking_code: str
    pseudonym: str
    group: str
    content: Any
    state: str
    batch: int
    index: int
    position: int | None = None


class OpenedBox:
    """Every ballot of a closed box after opening, held as columns (one list per field), so a
    box of a million ballots is a handful of lists, not a million objects; ``ballots`` and
    ``counted`` make ``OpenedBallot`` objects when asked. Identical plaintexts share one decoded
    content (treat contents as read-only)."""

    def __init__(self, process_id: str, *, codes: Sequence[str] = (), pseudonyms: Sequence[str] = (),
                 groups: Sequence[str] = (), contents: Sequence[Any] = (), states: Sequence[str] = (),
                 batch_starts: Sequence[int] = (), positions: Sequence[int | None] = ()) -> None:
        self.process_id = process_id
        self.codes, self.pseudonyms, self.groups = list(codes), list(pseudonyms), list(groups)
        self.contents, self.states = list(contents), list(states)
        self.batch_starts = list(batch_starts)  # where each batch begins in the columns
        self.positions = list(positions)  # log position of each batch's event
        self._ballots: tuple[OpenedBallot, ...] | None = None
        self._by_code: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.codes)

    def _ballot(self, k: int, batch: int) -> OpenedBallot:
        return OpenedBallot(tracking_code=self.codes[k], pseudonym=self.pseudonyms[k], group=self.groups[k],
                            content=self.contents[k], state=self.states[k], batch=batch + 1,
                            index=k - self.batch_starts[batch],
                            position=self.positions[batch] if batch < len(self.positions) else None)

    def _batch_of(self, k: int) -> int:
        return bisect_right(self.batch_starts, k) - 1

    @property
    def ballots(self) -> tuple[OpenedBallot, ...]:
        if self._ballots is None:
            self._ballots = tuple(self._ballot(k, self._batch_of(k)) for k in range(len(self.codes)))
        return self._ballots

    @property
    def counted(self) -> list[OpenedBallot]:
        return [self._ballot(k, self._batch_of(k)) for k, state in enumerate(self.states) if state == COUNTED]

    def counted_contents(self) -> list[tuple[str, Any]]:
        """(tracking code, content) of every counted ballot, in box order, without objects."""
        codes, contents = self.codes, self.contents
        return [(codes[k], contents[k]) for k, state in enumerate(self.states) if state == COUNTED]

    def tally_input(self) -> list[tuple[str, Any]]:
        """(group, content) of every counted ballot, in box order: what a plugin's tally reads."""
        groups, contents = self.groups, self.contents
        return [(groups[k], contents[k]) for k, state in enumerate(self.states) if state == COUNTED]

    def unopenable(self) -> list[str]:
        """Tracking codes of the ballots that did not open."""
        return [self.codes[k] for k, state in enumerate(self.states) if state == UNOPENABLE]

    def find(self, tracking_code: str) -> OpenedBallot | None:
        if self._by_code is None:
            self._by_code = {code: k for k, code in enumerate(self.codes)}
        k = self._by_code.get(crypto.normalise_tracking_code(tracking_code))
        return None if k is None else self._ballot(k, self._batch_of(k))


def effective_ballots(batches: Sequence[Sequence[dict[str, Any]]]) -> dict[tuple[int, int], str]:
    """State of every ballot by (batch number − 1, index): the latest ballot of each pseudonym
    counts. Batches are in log order; inside one batch a pseudonym's earlier ballots are marked
    ``superseded`` when the batch is made (the shuffle hides their order)."""
    current: dict[str, tuple[int, int]] = {}
    states: dict[tuple[int, int], str] = {}
    for b, ballots in enumerate(batches):
        for i, ballot in enumerate(ballots):
            states[(b, i)] = REPLACED
            if not ballot.get("superseded"):
                current[ballot["pseudonym"]] = (b, i)
    for where in current.values():
        states[where] = COUNTED
    return states


def open_box(process_id: str, private_key: str, batches: Iterable[parallel.Batch],
             positions: Sequence[int | None] = (), *, expected: int | None = None,
             workers: int | None = None) -> OpenedBox:
    """Open every ballot with the released key. ``batches`` (each a list of ballots or a
    ``parallel.RawBatch``, the batch event's payload as stored) is read once, in order, and may be
    a stream: each batch goes to the workers (``parallel.open_batches``) as soon as it is read.
    The latest unsuperseded ballot of each pseudonym counts. ``expected`` is the number of
    ballots if known (large boxes open on every core); ``workers`` forces a number of processes."""
    if expected is None and isinstance(batches, Sequence):
        expected = sum(len(b) if not isinstance(b, parallel.RawBatch) else b.size for b in batches)
    codes: list[str] = []
    pseudonyms: list[str] = []
    groups: list[str] = []
    superseded: list[bool] = []
    plaintexts: list[bytes | None] = []
    batch_starts: list[int] = []
    for b, columns in parallel.open_batches(process_id, private_key, batches, expected=expected, workers=workers):
        while len(batch_starts) <= b:  # a new batch (empty ones included)
            batch_starts.append(len(codes))
        codes += columns.codes
        pseudonyms += columns.pseudonyms
        groups += columns.groups
        superseded += columns.superseded
        plaintexts += columns.plaintexts
    if isinstance(batches, Sequence):
        while len(batch_starts) < len(batches):  # trailing empty batches
            batch_starts.append(len(codes))
    # the latest ballot of each pseudonym counts, unless superseded inside its own batch
    current: dict[str, int] = {}
    for k, name in enumerate(pseudonyms):
        if not superseded[k]:
            current[name] = k
    states = [REPLACED] * len(codes)
    for k in current.values():
        states[k] = COUNTED
    decoded: dict[bytes, Any] = {}  # identical ballots are decoded once
    contents: list[Any] = []
    for k, plaintext in enumerate(plaintexts):
        content = None
        if plaintext is None:
            states[k] = UNOPENABLE
        else:
            content = decoded.get(plaintext, _MISSING)
            if content is _MISSING:
                try:
                    content = json.loads(plaintext)
                except ValueError:
                    content = _UNREADABLE
                decoded[plaintext] = content
            if content is _UNREADABLE:
                states[k], content = UNOPENABLE, None
        contents.append(content)
    return OpenedBox(process_id, codes=codes, pseudonyms=pseudonyms, groups=groups, contents=contents,
                     states=states, batch_starts=batch_starts, positions=list(positions))


_MISSING, _UNREADABLE = object(), object()


# -- the auditor's view ------------------------------------------------------------------------
TOPIC = {
    "box_created": get_topic(BallotBox.Created),
    "box_closing": get_topic(BallotBox.Closing),
    "box_closed": get_topic(BallotBox.Closed),
    "seed": get_topic(BallotBox.SeedRevealed),
    "batch": get_topic(BallotBatch.Recorded),
    "deposit": get_topic(BallotDeposit.Deposited),
    "registered": get_topic(RollEntry.Registered),
    "credential": get_topic(RollEntry.CredentialIssued),
}


@attrs.frozen
class ProcessAudit:
    """What anyone can check about one process from the public log alone."""

    process_id: str
    problems: tuple[str, ...]
    credentials_issued: int
    deposits: int
    batched: int
    opened: OpenedBox | None
    seed: bytes | None

    @property
    def ok(self) -> bool:
        return not self.problems


@attrs.define
class _Gathered:
    """What the log says about one process's box, gathered in one pass."""

    box: dict[str, Any] | None = None
    closing_at: int | None = None
    closed: dict[str, Any] | None = None
    seed_hex: str | None = None
    credentials: Counter[str] = attrs.Factory(Counter)  # group -> credentials issued
    deposit_positions: list[int] = attrs.Factory(list)
    batches: list[tuple[int, dict[str, Any]]] = attrs.Factory(list)


class BoxAudits:
    """Reads the log once (``add`` each record, or ``watch`` a stream another reader consumes)
    and keeps what the box audit of every process needs; ``audit(process_id)`` then recounts
    one. A plugin's re-tally that folds the log can watch the same pass instead of reading the
    log again for each box."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, str]] = {}  # entry aggregate id -> (process, group)
        self._boxes: dict[str, str] = {}  # box aggregate id -> process
        self._processes: dict[str, _Gathered] = {}

    def _of(self, process_id: str) -> _Gathered:
        gathered = self._processes.get(process_id)
        if gathered is None:
            gathered = self._processes[process_id] = _Gathered()
        return gathered

    def watch(self, records: Iterable[LogRecord]) -> Iterator[LogRecord]:
        for r in records:
            self.add(r)
            yield r

    def add(self, r: LogRecord) -> None:
        topic, p = r.topic, r.payload
        if topic == TOPIC["registered"]:
            self._entries[r.originator_id] = (str(p.get("process_id")), p.get("group", ""))
        elif topic == TOPIC["credential"]:
            entry = self._entries.get(r.originator_id)
            if entry is not None:
                self._of(entry[0]).credentials[entry[1]] += 1
        elif topic == TOPIC["box_created"]:
            gathered = self._of(str(p.get("process_id")))
            gathered.box = dict(p, id=r.originator_id)
            self._boxes[r.originator_id] = str(p.get("process_id"))
        elif topic == TOPIC["deposit"]:
            self._of(str(p.get("process_id"))).deposit_positions.append(r.position)
        elif topic == TOPIC["batch"]:
            self._of(str(p.get("process_id"))).batches.append((r.position, p))
        elif r.originator_id in self._boxes:
            gathered = self._of(self._boxes[r.originator_id])
            if topic == TOPIC["box_closing"]:
                gathered.closing_at = r.position
            elif topic == TOPIC["box_closed"]:
                gathered.closed = p
            elif topic == TOPIC["seed"]:
                gathered.seed_hex = p["seed"]

    def audit(self, process_id: str) -> ProcessAudit:
        return _audit(str(process_id), self._processes.get(str(process_id)) or _Gathered())


def audit_process(records: Iterable[LogRecord], process_id: str) -> ProcessAudit:
    """Recount one process from log records: every deposit before the Closing event is in exactly
    one batch slot, no more pseudonyms counted than credentials issued, the released key is the
    committed one, every ballot opens, the revealed seed matches its commitment."""
    audits = BoxAudits()
    for r in records:
        audits.add(r)
    return audits.audit(process_id)


def _audit(process_id: str, gathered: _Gathered) -> ProcessAudit:
    problems: list[str] = []
    box, closing_at, closed, seed_hex = gathered.box, gathered.closing_at, gathered.closed, gathered.seed_hex
    credentials, deposit_positions, batches = gathered.credentials, gathered.deposit_positions, gathered.batches
    if box is None:
        return ProcessAudit(process_id, ("no ballot box for this process in the log",), sum(credentials.values()),
                            0, 0, None, None)
    batches.sort(key=lambda item: item[1]["number"])
    if [b["number"] for _, b in batches] != list(range(1, len(batches) + 1)):
        problems.append("batch numbers are not 1, 2, 3, ...")
    throughs = [b["through"] for _, b in batches]
    if throughs != sorted(throughs):
        problems.append("batches do not follow the log order")
    for position, batch in batches:
        if batch["through"] >= position:
            problems.append(f"batch {batch['number']} at position {position} claims deposits up to {batch['through']}")
    cutoff = closed["cutoff"] if closed else None
    if closed is not None and cutoff != closing_at:
        problems.append(f"the box closed with cutoff {cutoff} but its Closing event is at {closing_at}")
    if cutoff is not None and any(t >= cutoff for t in throughs):
        problems.append("a batch takes in deposits logged after the box began closing")
    counted_deposits = [d for d in deposit_positions if cutoff is None or d < cutoff]
    batched = sum(len(b["ballots"]) for _, b in batches)
    if closed is not None and batched != len(counted_deposits):
        problems.append(f"{len(counted_deposits)} deposits before close but {batched} ballots in batches")
    # every deposit logged up to a flush's bound is in that flush's batches or earlier ones
    # (counted by bisection over sorted positions and running totals: linear in the log)
    deposit_positions.sort()
    by_through = sorted((b["through"], len(b["ballots"])) for _, b in batches)
    bounds = [t for t, _ in by_through]
    running = list(accumulate(size for _, size in by_through))
    for through in sorted(set(throughs)):
        covered = bisect_right(deposit_positions, through)
        so_far = running[bisect_right(bounds, through) - 1]
        if covered != so_far:
            problems.append(f"{covered} deposits up to position {through} but {so_far} ballots batched")
    ballot_lists = [b["ballots"] for _, b in batches]
    # a credential names its group, so each group can hold no more pseudonyms than credentials
    # were issued to its entries
    pseudonyms: dict[str, set[str]] = {}
    for ballots in ballot_lists:
        for x in ballots:
            pseudonyms.setdefault(x.get("group", ""), set()).add(x["pseudonym"])
    for group, names in sorted(pseudonyms.items()):
        if len(names) > credentials[group]:
            problems.append(f"group {group!r}: {len(names)} pseudonyms in the box but "
                            f"{credentials[group]} credentials issued")
    opened = None
    if closed is not None:
        if not crypto.keys_match(closed["private_key"], box["public_key"]):
            problems.append("the released private key does not match the published public key")
        else:
            opened = open_box(process_id, closed["private_key"], ballot_lists, [pos for pos, _ in batches])
            bad = opened.unopenable()
            if bad:
                problems.append(f"{len(bad)} ballot(s) do not open, e.g. {bad[0]}")
    seed = None
    if seed_hex is not None:
        seed = bytes.fromhex(seed_hex)
        if not lottery.verify_seed(seed, box["seed_commitment"]):
            problems.append("the revealed lottery seed does not match its commitment")
    return ProcessAudit(process_id=process_id, problems=tuple(problems), credentials_issued=sum(credentials.values()),
                        deposits=len(counted_deposits), batched=batched, opened=opened, seed=seed)
