"""Group commit for ballot deposits: casts that arrive together are saved in one transaction.

A cast announces itself, prepares its deposit (credential check, validation, sealing, the stored
event) in its own thread, then hands it to the engine's ``DepositCommitter``. Whoever finds no
transaction in progress becomes the writer: while announced casts are still preparing it waits a
moment (at most ``GATHER_SECONDS``) for them, then takes every deposit waiting and saves them
together; casts arriving meanwhile wait for the next transaction, and are woken when theirs is
written. A lone cast is written at once, so light traffic keeps single-cast latency; under load
one commit (one fsync) carries many ballots. Every cast returns only after the transaction
holding its deposit is durable.

The box is not read per ballot. Its fixed facts (public key, revote, batch size) are read once,
its status is refreshed with one indexed query for new box events, and the writer checks whether
the box began closing inside the very transaction that writes the deposits (one indexed read:
the box's version is still the one last seen open), or, when the box changed, after the commit. A
deposit logged after the Closing event is refused (never acknowledged), every one before it is
counted at close.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Set as AbstractSet
from typing import Any

import attrs
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from eventsourcing.persistence import StoredEvent

from core.errors import RuleViolation
from core.store import StoreConflict
from core.voting import crypto
from core.voting.box import OPEN, BallotBox, BallotDeposit, box_id

# while other casts are still preparing their deposits (checking, sealing), the writer waits at
# most this long for them to join its transaction: under load a commit then carries most of the
# casts in flight instead of the two or three ready at that instant; a lone cast never waits
GATHER_SECONDS = 0.01
# at most this many deposits in one transaction (bounded statement size and latency)
MAX_GROUP = 500
# a cast's first look at the box may be this old: only the writer's look decides
FRESH_SECONDS = 0.25

ALREADY_CAST = ("A ballot was already cast with this credential, and this process does not allow "
                "voting again.")
CLOSED_FIRST = "Voting closed before this ballot was recorded; it is not counted."


@attrs.frozen
class BoxFacts:
    """What casting needs of a box: its fixed settings, and its status when last looked at."""

    process_id: str
    public_key: str
    sealing_key: X25519PublicKey  # ``public_key`` parsed once
    allow_revote: bool
    batch_size: int
    status: str
    version: int
    read_at: float


@attrs.define(eq=False)
class PendingDeposit:
    process_id: str
    deposit_key: str
    blob: str
    single_slot: bool  # revoting not allowed: the key is the credential's one slot
    stored: StoredEvent | None = None  # the event as the store records it (made before the writer's turn)
    done: bool = False
    position: int | None = None
    error: BaseException | None = None


class DepositCommitter:
    """One per engine (``engine.kept``): the writer of every ballot deposit it casts."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._waiting: list[PendingDeposit] = []
        # guards what follows; casts wait on ``_written`` for their deposit to be written, the
        # writer on ``_joined`` for casts still preparing (apart: a deposit handed over wakes
        # the writer only, not every cast waiting)
        self._state = threading.Lock()
        self._written = threading.Condition(self._state)
        self._joined = threading.Condition(self._state)
        self._writing = False  # one cast at a time writes, for itself and every cast waiting
        self._preparing = 0  # casts announced, their deposits not yet handed over
        self._facts: dict[str, BoxFacts] = {}

    # -- the box, without replaying it per ballot -------------------------------------------
    def facts(self, process_id: str, *, max_age: float = 0.0) -> BoxFacts:
        """The box's settings and status: as seen at most ``max_age`` seconds ago, else looked
        up with one indexed query for box events newer than those seen (the box is replayed
        only when it changed)."""
        known = self._facts.get(process_id)
        now = time.monotonic()
        if known is not None:
            if now - known.read_at <= max_age:
                return known
            newer = self.engine.recorder.select_events(box_id(process_id), gt=known.version, limit=1)
            if not newer:
                known = attrs.evolve(known, read_at=now)
                self._facts[process_id] = known
                return known
        box = self.engine.get(box_id(process_id), BallotBox, what="ballot box")
        facts = BoxFacts(process_id=process_id, public_key=box.public_key,
                         sealing_key=crypto.ballot_public_key(box.public_key),
                         allow_revote=box.allow_revote,
                         batch_size=box.batch_size, status=box.status, version=box.version, read_at=now)
        self._facts[process_id] = facts  # one dict operation: atomic
        return facts

    def forget(self, process_id: str) -> None:
        """This engine changed the box: the next look reads it (another engine's change is seen
        within ``FRESH_SECONDS``, and by every writer's look after its commit)."""
        self._facts.pop(process_id, None)

    # -- group commit ------------------------------------------------------------------------
    def prepare(self, deposit: PendingDeposit) -> PendingDeposit:
        """Turn the deposit into the stored event it will be, in the caster's own thread: the
        writer, whose turn every waiting cast shares, then only inserts rows."""
        if deposit.stored is None:
            event = BallotDeposit.deposited(deposit.deposit_key, deposit.process_id, deposit.blob)
            deposit.stored = self.engine.store.mapper.to_stored_event(event)
        return deposit

    def announce(self) -> None:
        """A cast has begun preparing a deposit: a writer may wait a moment for it to join."""
        with self._state:
            self._preparing += 1

    def withdraw(self) -> None:
        """An announced cast ends without a deposit (refused, or failed)."""
        with self._state:
            self._preparing -= 1
            self._joined.notify()

    def commit(self, deposit: PendingDeposit, *, announced: bool = False) -> int:
        """Save ``deposit`` (with whatever else is waiting); its log position once durable.
        Raises ``RuleViolation`` for a second ballot where revoting is not allowed, or for a
        ballot that reached the log after the box began closing. ``announced``: this cast
        called ``announce`` first (and must not call ``withdraw``)."""
        try:
            self.prepare(deposit)
        except BaseException:
            if announced:
                self.withdraw()
            raise
        with self._state:
            self._waiting.append(deposit)
            if announced:
                self._preparing -= 1
            self._joined.notify()
            # a cast whose deposit another writer took just waits to be woken: queueing every
            # such cast on a writer lock, only to find its deposit written, made them leave one
            # by one (a convoy that held transactions to two or three deposits)
            while not deposit.done and self._writing:
                self._written.wait()
            if not deposit.done:
                self._writing = True
        if not deposit.done:
            try:
                self._write_until_done(deposit)
            finally:
                with self._state:
                    self._writing = False
                    self._written.notify_all()  # the next waiting cast takes over
        if deposit.error is not None:
            raise deposit.error
        return deposit.position  # type: ignore[return-value]

    def _write_until_done(self, deposit: PendingDeposit) -> None:
        """(The one writer.) Write waiting deposits, a transaction at a time, until ``deposit``
        is written (more than ``MAX_GROUP`` waiting: it may take a second turn)."""
        while not deposit.done:
            with self._state:
                self._gather()
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            try:
                self._write(group)
            except BaseException as exc:  # noqa: BLE001 - nothing in the group was acknowledged
                for item in group:
                    if not item.done:
                        item.error, item.done = exc, True
            with self._state:
                self._written.notify_all()  # the casts of this group return

    def _gather(self) -> None:
        """(Holding ``_state``.) Wait, at most ``GATHER_SECONDS``, while announced casts are
        still preparing and the transaction has room."""
        deadline = time.monotonic() + GATHER_SECONDS
        while self._preparing > 0 and len(self._waiting) < MAX_GROUP:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._joined.wait(left)

    def _write(self, group: list[PendingDeposit]) -> None:
        slots: set[str] = set()
        to_save = []
        for item in group:
            if item.single_slot and item.deposit_key in slots:
                item.error, item.done = RuleViolation(ALREADY_CAST), True
                continue
            slots.add(item.deposit_key)
            to_save.append(item)
        try:
            unchanged = self._save(to_save)
        except StoreConflict:
            # a credential's one slot was taken already: alone, each deposit meets its own fate
            unchanged = set()
            for item in to_save:
                try:
                    self._save([item])
                except StoreConflict:
                    item.error, item.done = RuleViolation(ALREADY_CAST), True
        self._refuse_after_closing([item for item in to_save if item.position is not None], unchanged)
        for item in to_save:
            item.done = True

    def _save(self, items: list[PendingDeposit]) -> set[str]:
        """Insert the deposits in one transaction and set their positions; returns the processes
        whose box that transaction saw unchanged since it was last seen open."""
        if not items:
            return set()
        stored = [self.prepare(item).stored for item in items]
        # a box still at the version last seen open when looked at inside the transaction that
        # wrote the deposits gets its Closing event, if any, after all of them (SQLite lets one
        # writer in at a time; PostgreSQL's writers take the events table's lock in turn). The
        # look costs one indexed read in that transaction instead of a query after the commit.
        open_boxes = {box_id(pid): (pid, known) for pid in {item.process_id for item in items}
                      if (known := self._facts.get(pid)) is not None and known.status == OPEN}
        newest: dict[Any, int | None] = dict.fromkeys(open_boxes)
        positions = self.engine.recorder.insert_events(stored, newest_versions=newest)
        for item, position in zip(items, positions, strict=True):
            item.position = position
        return {pid for box, (pid, known) in open_boxes.items() if newest[box] == known.version}

    def _refuse_after_closing(self, saved: list[PendingDeposit], unchanged: AbstractSet[str] = frozenset()) -> None:
        """Once per process in the group: if the box began closing, refuse what came after.
        ``unchanged``: processes whose box the writing transaction itself saw still open."""
        for pid in {item.process_id for item in saved} - unchanged:
            if self.facts(pid).status == OPEN:
                # still open after the commit: the Closing event, when it comes, comes later
                continue
            mine = [item for item in saved if item.process_id == pid]
            first = min(item.position for item in mine)
            closing = self._closing_since(pid, first)
            for item in mine:
                if closing is None or item.position > closing:
                    item.position, item.error = None, RuleViolation(CLOSED_FIRST)

    def _closing_since(self, pid: str, start: int) -> int | None:
        """The Closing event's position if it is at or after ``start``; None if it is earlier (the
        log after this group's first deposit is short: it was just written)."""
        wanted = box_id(pid)
        for n in self.engine.notifications(start, topics=(BallotBox.Closing,)):
            if n.originator_id == wanted:
                return n.id
        return None


def committer(engine: Any) -> DepositCommitter:
    return engine.kept("voting.deposit-committer", lambda: DepositCommitter(engine))
