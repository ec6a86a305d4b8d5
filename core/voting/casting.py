"""Casting: sealed ballots deposited under a pseudonym, then moved into the box in shuffled
batches so that the order of the box does not reveal the order of voting."""

from __future__ import annotations

import bisect
import logging
import random
import secrets as stdlib_secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic

from core.errors import InvalidInput, RuleViolation, Unauthorized
from core.store import StoreConflict
from core.voting import crypto
from core.voting.base import KitBase, process_key
from core.voting.box import OPEN, BallotBatch, BallotBox, BallotDeposit, BatchIndex, IndexState
from core.voting.committer import FRESH_SECONDS, PendingDeposit, committer
from core.voting.crypto import BallotCredential

DEFAULT_BATCH_SIZE = 50
MAX_BALLOTS_PER_BATCH = 1000  # one flush may write several batches: bounded event size
MAX_BALLOT_BYTES = 64 * 1024
# flush gives up quietly after this many lost races: whoever won moved the same deposits
FLUSH_RETRIES = 20

Validator = Callable[[Any, str], Any]
"""A plugin's ballot check: ``validate(content, group) -> content to seal``; raises
``InvalidInput`` for a ballot the process does not accept (e.g. over budget, too many choices)."""

_shuffler = random.SystemRandom()
log = logging.getLogger(__name__)


@attrs.frozen
class CastReceipt:
    """What a voter keeps: the tracking code to look the ballot up after close."""

    tracking_code: str
    pseudonym: str


def backoff(attempt: int) -> None:
    """A random, growing pause after losing a race, so that contenders stop colliding."""
    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))


class BallotCasting(KitBase):
    def cast(self, process_id: str | UUID, credential: str | BallotCredential, content: Any,
             validate: Validator | None = None) -> CastReceipt:
        """Seal ``content`` (after the plugin's ``validate(content, group)``) to the process key and
        deposit it under the credential's pseudonym. Where the process allows revoting, a later
        cast with the same credential replaces this one; otherwise it is refused.

        Returns once the ballot is durably in the log: it will be in the box at close."""
        pid = process_key(process_id)
        token = credential.token if isinstance(credential, BallotCredential) else str(credential)
        deposits = committer(self.engine)
        deposits.announce()  # a writer about to commit may wait a moment for this ballot
        try:
            # a slightly old look is enough here: the writer looks again when it writes the deposit
            box = deposits.facts(pid, max_age=FRESH_SECONDS)
            if box.status != OPEN:
                raise RuleViolation("Voting is not open.")
            parsed = crypto.read_credential(self._key("credential", pid), pid, token)
            if parsed is None:
                raise Unauthorized("This is not a ballot credential of this process.")
            nonce, group = parsed
            if validate is not None:
                content = validate(content, group)
            try:
                plaintext = crypto.canonical(content)
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"A ballot's content must be plain JSON: {exc}") from None
            if len(plaintext) > MAX_BALLOT_BYTES:
                raise InvalidInput(f"A ballot may hold at most {MAX_BALLOT_BYTES} bytes of JSON.")
            name = crypto.pseudonym(pid, nonce)
            sealed = crypto.seal(box.sealing_key, pid, name, group, content, plaintext=plaintext)
            pool_key = self._key("deposit-key", pid)
            blob = crypto.wrap_deposit(pool_key, pid, {"pseudonym": name, "group": group, "sealed": sealed})
            slot = stdlib_secrets.token_hex(16) if box.allow_revote else crypto.deposit_slot(pool_key, pid, name)
            deposit = PendingDeposit(process_id=pid, deposit_key=slot, blob=blob, single_slot=not box.allow_revote)
        except BaseException:
            deposits.withdraw()
            raise
        # returns once durable; refuses a second ballot without revote, or one logged after closing
        deposits.commit(deposit, announced=True)
        if box.batch_size and _shuffler.randrange(box.batch_size) == 0:
            # about one cast in batch_size asks for a flush (it writes only when the pool is
            # full): the pool stays bounded without a scheduler. The flush runs on a thread of
            # its own, so this voter's answer never waits for a batch being written.
            self.engine.kept("voting.flusher", lambda: BackgroundFlusher(self.engine)).kick(pid)
        return CastReceipt(tracking_code=crypto.tracking_code(sealed), pseudonym=name)

    # -- batches -------------------------------------------------------------------------------
    def _pending(self, pid: str, after: int, upto: int) -> list[tuple[int, dict[str, Any]]]:
        key = self._key("deposit-key", pid)
        return [(position, crypto.unwrap_deposit(key, pid, blob)) for position, blob in self._pending_blobs(pid, after, upto)]

    def _pending_blobs(self, pid: str, after: int, upto: int) -> list[tuple[int, str]]:
        """(position, sealed deposit) of the process's deposits logged in (after, upto]: counted
        before anything is decrypted."""
        if upto <= after:
            return []
        pool = self.engine.kept(f"voting.pending/{pid}", lambda: PendingDeposits(pid))
        return pool.between(self.engine, after, upto)

    def _batches(self, index: IndexState, pending: list[tuple[int, dict[str, Any]]], through: int) -> list[Any]:
        """The shuffled batches of ``pending``, each with the index's event recording it."""
        last_position: dict[str, int] = {}
        for position, item in pending:
            last_position[item["pseudonym"]] = position
        ballots = [{"pseudonym": item["pseudonym"], "group": item["group"], "sealed": item["sealed"],
                    "superseded": last_position[item["pseudonym"]] != position} for position, item in pending]
        _shuffler.shuffle(ballots)
        made: list[Any] = []
        number, version = len(index.batches), index.version
        for start in range(0, len(ballots), MAX_BALLOTS_PER_BATCH):
            chunk = ballots[start:start + MAX_BALLOTS_PER_BATCH]
            number, version = number + 1, version + 1
            made.append(BallotBatch(process_id=index.process_id, number=number, through=through, ballots=chunk))
            made.append(BatchIndex.recorded(index.process_id, version, number=number, through=through, size=len(chunk)))
        return made

    def pending_count(self, process_id: str | UUID) -> int:
        """Deposits not yet in a batch."""
        pid = process_key(process_id)
        return len(self._pending_blobs(pid, self.batch_index(pid).through, self.engine.position))

    def flush(self, process_id: str | UUID, *, minimum: int | None = None) -> int:
        """Move pending deposits into the box as shuffled batches; returns how many moved.

        By default (what ``tick`` and casts do) it waits for two batches' worth and moves all but
        the newest ``batch_size`` deposits, so that the pool always keeps enough back for the
        final batch at close: every batch then holds at least ``batch_size`` ballots. With
        ``minimum`` it moves every pending deposit if at least that many wait."""
        pid = process_key(process_id)
        for attempt in range(FLUSH_RETRIES):
            # the bound is read before the box: if the box is still open then, the Closing event
            # (if any) comes after the bound, so no deposit refused at close gets into a batch
            through = self.engine.position
            box = committer(self.engine).facts(pid)
            if box.status != OPEN or (minimum is None and not box.batch_size):
                return 0
            index = self.batch_index(pid)
            blobs = self._pending_blobs(pid, index.through, through)
            if minimum is None:
                if len(blobs) < 2 * box.batch_size:
                    return 0  # most ticks end here, having decrypted nothing
                blobs = blobs[:len(blobs) - box.batch_size]
                through = blobs[-1][0]
            elif not blobs or len(blobs) < minimum:
                return 0
            key = self._key("deposit-key", pid)
            pending = [(position, crypto.unwrap_deposit(key, pid, blob)) for position, blob in blobs]
            batches = self._batches(index, pending, through)
            try:
                self._save(*batches)
            except StoreConflict:
                backoff(attempt)
                continue
            return len(pending)
        return 0  # others are flushing: their batches hold these deposits

    def open_processes(self) -> list[str]:
        """Ids of the processes whose voting is open. The scheduler asks every round: the box
        events are read once, each round reads only those logged since the last."""
        seen = self.engine.kept("voting.box-status", _BoxStatus)
        with seen.lock:
            for n in self.engine.notifications(seen.position + 1, topics=seen.topics):
                if n.topic == seen.topics[0]:
                    seen.names[n.originator_id] = self.engine.decode_payload(n)["process_id"]
                if n.originator_id in seen.names:
                    seen.status[seen.names[n.originator_id]] = n.topic
                seen.position = n.id
            return [pid for pid, topic in seen.status.items() if topic == seen.topics[1]]

    def tick(self) -> list[str]:
        """Flush every open box whose pending pool holds two batches' worth. Voting plugins call
        this from their ``civic_tick`` hook (calling it twice is harmless)."""
        lines = []
        for pid in self.open_processes():
            moved = self.flush(pid)
            if moved:
                lines.append(f"voting {pid}: {moved} ballots moved into the box")
        return lines


class _BoxStatus:
    """What ``open_processes`` has read of the box events so far (kept per engine)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.topics = tuple(get_topic(t) for t in (BallotBox.Created, BallotBox.Opened, BallotBox.Closing))
        self.position = 0
        self.names: dict[Any, str] = {}
        self.status: dict[str, str] = {}


class PendingDeposits:
    """A box's deposits not yet in a batch, as read from the log so far (kept per engine): each
    deposit is read and decoded once, not again by every flush that looks at the pool."""

    def __init__(self, process_id: str) -> None:
        self.process_id = process_id
        self.lock = threading.Lock()
        self.read_to = 0  # every deposit logged up to here has been read
        self.items: list[tuple[int, str]] = []  # (position, sealed deposit), in log order

    def between(self, engine: Any, after: int, upto: int) -> list[tuple[int, str]]:
        """(position, sealed deposit) of the deposits logged in (after, upto]."""
        with self.lock:
            if self.items and self.items[0][0] <= after:  # batched since (here or by another process)
                self.items = self.items[bisect.bisect_right(self.items, after, key=_position):]
            start = max(self.read_to, after) + 1
            if start <= upto:
                for n in engine.notifications(start, upto, topics=(BallotDeposit.Deposited,)):
                    payload = engine.decode_payload(n)
                    if payload.get("process_id") == self.process_id:
                        self.items.append((n.id, payload["blob"]))
                self.read_to = upto
            return [item for item in self.items if after < item[0] <= upto]


def _position(item: tuple[int, str]) -> int:
    return item[0]


class BackgroundFlusher:
    """Flushes boxes on a thread of its own when casts ask (kept per engine): a thread runs while
    there is a box to flush, then ends. A flush that fails (a lost race) leaves the deposits
    pending: the next flush, the scheduler's tick or the close moves them. Closing the engine
    waits for a flush under way (its store's connections must outlive it) and starts no more."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.wanted: set[str] = set()
        self.thread: threading.Thread | None = None
        self.closed = False
        engine.on_close(self.close)

    def kick(self, process_id: str) -> None:
        with self.lock:
            if self.closed:
                return
            self.wanted.add(process_id)
            if self.thread is not None:
                return
            self.thread = threading.Thread(target=self._run, name="civic-ballot-flush", daemon=True)
            self.thread.start()

    def close(self) -> None:
        with self.lock:
            self.closed, self.wanted = True, set()
            thread = self.thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self.lock:
                if not self.wanted:
                    self.thread = None
                    return
                pid = self.wanted.pop()
            try:
                BallotCasting(self.engine).flush(pid)
            except Exception:  # noqa: BLE001 - nothing is lost: the deposits stay pending
                log.info("flushing the ballot box of %s failed; its deposits stay pending", pid, exc_info=True)
