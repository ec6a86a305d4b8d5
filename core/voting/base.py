"""What every part of the voting kit shares: the engine, the process's keys, and the kit's
aggregates by process id."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from core.errors import NotFound
from core.voting import crypto
from core.voting.box import BallotBox, BatchIndex, IndexState, batch_index_id, box_id
from core.voting.roll import RollEntry, VoterRoll, entry_aggregate_id, roll_id


def process_key(process_id: str | UUID) -> str:
    return str(process_id)


class KitBase:
    """The voting kit over one engine. Cheap to construct: make one per request if you like."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    # -- keys (from the instance secrets, never from the log) ------------------------------------
    def _key(self, purpose: str, process_id: str = "") -> bytes:
        return self.engine.secrets.key(f"voting/{purpose}/{process_id}" if process_id else f"voting/{purpose}")

    def _private_key(self, pid: str):
        return crypto.ballot_private_key(self._key("ballot-key", pid))

    def _seed(self, pid: str) -> bytes:
        return self._key("lottery-seed", pid)

    def _save(self, *aggregates: Any) -> list[Any]:
        return self.engine.save(*aggregates)

    # -- the kit's aggregates --------------------------------------------------------------------
    def box(self, process_id: str | UUID) -> BallotBox:
        return self.engine.get(box_id(process_key(process_id)), BallotBox, what="ballot box")

    def batch_index(self, process_id: str | UUID) -> IndexState:
        indexes = self.engine.kept("voting.batch-indexes", lambda: FollowedIndexes(self.engine.store))
        return indexes.get(process_key(process_id))

    def roll(self, process_id: str | UUID) -> VoterRoll:
        return self.engine.get(roll_id(process_key(process_id)), VoterRoll, what="voter roll")

    def entry(self, process_id: str | UUID, entry_id: str) -> RollEntry:
        return self.engine.get(entry_aggregate_id(process_key(process_id), entry_id), RollEntry, what="roll entry")

    def _closing_position(self, box: BallotBox, start: int = 1) -> int | None:
        """Where the box's Closing event is in the log (looked for from ``start``)."""
        for n in self.engine.notifications(start, topics=(BallotBox.Closing,)):
            if n.originator_id == box.id:
                return n.id
        return None


class FollowedIndexes:
    """Each process's batch index as last read, brought up to date with one indexed query for
    its newer events (kept per engine: replaying an index of thousands of batches for every
    batch made casting slow down as the box filled)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.known: dict[str, IndexState] = {}

    def get(self, process_id: str) -> IndexState:
        with self.lock:
            known = self.known.get(process_id)
            aggregate_id = batch_index_id(process_id)
            version, batches = (0, []) if known is None else (known.version, list(known.batches))
            newer = list(self.store.repository.event_store.get(originator_id=aggregate_id, gt=version or None))
            if known is None and not newer:
                raise NotFound(f"No ballot box with id {aggregate_id}.")
            for event in newer:
                if isinstance(event, BatchIndex.BatchRecorded):
                    batches.append({"number": event.number, "through": event.through, "size": event.size})
                version = event.originator_version
            if known is None or newer:
                known = IndexState(process_id=process_id, version=version, batches=tuple(batches))
                self.known[process_id] = known
            return known
