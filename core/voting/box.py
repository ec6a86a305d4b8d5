"""The ballot box of a process, its pending deposits and its shuffled batches.

- ``BallotBox``: the process's public key, lottery commitment, settings and life cycle
  (prepared → open → closing → closed), the private key once released. It stays a handful of
  events long, so that every cast can afford to read it.
- ``BatchIndex``: the batches written so far and the log position each one covers.
- ``BallotDeposit``: one cast ballot waiting for its batch, encrypted under an instance key
  that is never released. Its own aggregate and its own transaction, so that casting does not
  contend with other voters and an acknowledged ballot is durable at once.
- ``BallotBatch``: deposits moved into the box, in a random order, under their pseudonyms.
"""

from __future__ import annotations

from typing import Any

import attrs

from core.domain import CivicAggregate, event, natural_id, topic_of
from core.errors import RuleViolation

PREPARED, OPEN, CLOSING, CLOSED = "prepared", "open", "closing", "closed"


def box_id(process_id: str):
    return natural_id("voting.box", process_id)


def batch_id(process_id: str, number: int):
    return natural_id("voting.batch", process_id, number)


def batch_index_id(process_id: str):
    return natural_id("voting.batch-index", process_id)


def deposit_id(deposit_key: str):
    return natural_id("voting.deposit", deposit_key)


class BallotBox(CivicAggregate):
    @staticmethod
    def create_id(process_id: str, **_: Any):
        return box_id(process_id)

    @event("Created")
    def __init__(self, process_id: str, public_key: str, suite: str, seed_commitment: str,
                 allow_revote: bool, batch_size: int) -> None:
        self.process_id = process_id
        self.public_key = public_key
        self.suite = suite
        self.seed_commitment = seed_commitment
        self.allow_revote = allow_revote
        self.batch_size = batch_size
        self.status = PREPARED
        self.cutoff: int | None = None
        self.private_key: str | None = None
        self.seed: str | None = None

    @event("Opened")
    def open(self) -> None:
        self.status = OPEN

    def change_revote(self, allow_revote: bool) -> None:
        """Whether a later ballot replaces an earlier one; settled when voting opens (a cast
        relies on it to refuse or take a second ballot)."""
        if self.status != PREPARED:
            raise RuleViolation("Whether a later vote replaces an earlier one is fixed once voting opens.")
        if bool(allow_revote) != self.allow_revote:
            self._revote_set(allow_revote=bool(allow_revote))

    @event("RevoteSet")
    def _revote_set(self, allow_revote: bool) -> None:
        self.allow_revote = allow_revote

    @event("Closing")
    def begin_closing(self) -> None:
        """From here on nothing is cast; deposits logged before this event are all counted."""
        self.status = CLOSING

    @event("Closed")
    def close(self, cutoff: int, private_key: str) -> None:
        """Every deposit before ``cutoff`` (the position of the Closing event) is in a batch;
        the private key is released so that anyone can open every ballot."""
        self.status = CLOSED
        self.cutoff = cutoff
        self.private_key = private_key

    @event("SeedRevealed")
    def reveal_seed(self, seed: str) -> None:
        self.seed = seed


class BatchIndex(CivicAggregate):
    """The batches of a box in order; ``through``: every deposit logged at or before this
    position is in one of them."""

    @staticmethod
    def create_id(process_id: str):
        return batch_index_id(process_id)

    @event("Created")
    def __init__(self, process_id: str) -> None:
        self.process_id = process_id
        self.batches: list[dict[str, Any]] = []
        self.through = 0

    @event("BatchRecorded")
    def record_batch(self, number: int, through: int, size: int) -> None:
        self.batches.append({"number": number, "through": through, "size": size})
        self.through = through

    @classmethod
    def recorded(cls, process_id: str, version: int, *, number: int, through: int,
                 size: int) -> BatchIndex.BatchRecorded:
        """The event ``record_batch`` records at ``version``, made without the aggregate: the
        index grows by a batch every few dozen ballots, and casting keeps it followed
        (``base.FollowedIndexes``) instead of replaying it for every batch."""
        return cls.BatchRecorded(originator_id=batch_index_id(process_id), originator_version=version,
                                 timestamp=cls.Event.create_timestamp(), number=number, through=through, size=size)


@attrs.frozen
class IndexState:
    """A batch index as of ``version``: what casting, closing and counting read of it."""

    process_id: str
    version: int
    batches: tuple[dict[str, Any], ...]

    @property
    def through(self) -> int:
        return self.batches[-1]["through"] if self.batches else 0

    @property
    def ballots(self) -> int:
        return sum(b["size"] for b in self.batches)


class BallotDeposit(CivicAggregate):
    @staticmethod
    def create_id(deposit_key: str, **_: Any):
        return deposit_id(deposit_key)

    @event("Deposited")
    def __init__(self, deposit_key: str, process_id: str, blob: str) -> None:
        self.deposit_key = deposit_key
        self.process_id = process_id
        self.blob = blob

    @classmethod
    def deposited(cls, deposit_key: str, process_id: str, blob: str) -> BallotDeposit.Deposited:
        """The one event of a new deposit, as ``BallotDeposit(...)`` records it, made without
        building the aggregate (casting saves many and never reads them back as aggregates)."""
        return cls.Deposited(originator_id=deposit_id(deposit_key), originator_version=1,
                             timestamp=cls.Event.create_timestamp(), originator_topic=_DEPOSIT_TOPIC,
                             deposit_key=deposit_key, process_id=process_id, blob=blob)


_DEPOSIT_TOPIC = topic_of(BallotDeposit)


class BallotBatch(CivicAggregate):
    @staticmethod
    def create_id(process_id: str, number: int, **_: Any):
        return batch_id(process_id, number)

    @event("Recorded")
    def __init__(self, process_id: str, number: int, through: int, ballots: list[dict[str, Any]]) -> None:
        self.process_id = process_id
        self.number = number
        self.through = through
        self.ballots = ballots
