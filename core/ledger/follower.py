"""The ledger follower: turns every notification of the log into a leaf, signs checkpoints,
answers proofs and receipts.

Leaf hashes live in derived tables of the store's own database (``leaf_table``); the signing
key and the newest checkpoint live outside the store (``keyfile``). The complete subtrees are kept
in memory (rebuilt from the leaf hashes when a process starts), so roots and proofs need no
database round trip.
"""

from __future__ import annotations

import logging
import os
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from core.errors import InvalidInput, NotFound
from core.ledger.checkpoint import (CHECKPOINT_TOPIC, Checkpoint, LedgerCheckpoint, NoteError, SigningKey, VerifierKey,
                                    b64, note_text)
from core.ledger.keyfile import LedgerFiles
from core.ledger.leaf_table import FOLLOW_BATCH, LeafTable, StoredLeaf
from core.ledger.leaves import LeafEncodingError, public_record, record_leaf_hash
from core.ledger.merkle import MerkleTree, ProofError
from core.store import StoreConflict

if TYPE_CHECKING:
    from core.store import EventStore

log = logging.getLogger("civic.ledger")


@attrs.frozen
class SignedCheckpoint:
    """A checkpoint, its signed note, and where the log recorded it (``None`` until it has)."""

    checkpoint: Checkpoint
    note: str
    position: int | None = None

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root_hash(self) -> bytes:
        return self.checkpoint.root_hash

    def to_json(self) -> dict[str, Any]:
        return {**self.checkpoint.to_json(), "note": self.note, "position": self.position}


class Ledger:
    """``engine.ledger``: the tamper-evident view of the engine's log."""

    def __init__(
        self,
        store: EventStore,
        *,
        key_path: str | os.PathLike[str] | None = None,
        checkpoint_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.store = store
        self.files = LedgerFiles(store.sibling("ledger.key"), key_path=key_path, checkpoint_path=checkpoint_path)
        self.table = LeafTable(store.side)
        self._lock = threading.RLock()
        self._tree: MerkleTree | None = None
        self._positions = array("q")
        self._last_content_index = -1
        self._latest: SignedCheckpoint | None = None

    # -- the key and the files outside the store --------------------------------------------
    @property
    def key_path(self) -> Path:
        return self.files.key_path

    @property
    def checkpoint_path(self) -> Path:
        return self.files.checkpoint_path

    @property
    def key(self) -> SigningKey:
        """The instance's signing key, generated on first use."""
        return self.files.key

    @property
    def verifier_key(self) -> VerifierKey:
        return self.files.verifier_key

    @property
    def origin(self) -> str:
        return self.files.origin

    def existing_verifier_key(self) -> VerifierKey | None:
        """The public key if the key file exists (never creates it)."""
        return self.files.existing_verifier_key()

    def outside_checkpoint(self) -> str | None:
        """The newest checkpoint note kept outside the store, if any."""
        return self.files.outside_checkpoint()

    # -- the leaves ----------------------------------------------------------------------
    def stored_leaves(self) -> Iterator[StoredLeaf]:
        """The leaves as the follower recorded them, in order (none if it never ran)."""
        return self.table.stored_leaves()

    def _sync(self) -> None:
        """Bring the in-memory tree up to the leaves table (other processes may follow too)."""
        if self._tree is None:
            self._tree = MerkleTree()
            self._positions = array("q")
            self._last_content_index = -1
            self._latest = None
        tree = self._tree
        grew = False
        while True:
            rows = self.table.rows_from(len(tree))
            for index, position, leaf_hash, is_checkpoint in rows:
                if index != len(tree):
                    raise RuntimeError(f"The ledger's leaf table has a gap before leaf {index}; rebuild the ledger")
                tree.append(bytes(leaf_hash))
                self._positions.append(position)
                if not is_checkpoint:
                    self._last_content_index = len(tree) - 1
            grew = grew or bool(rows)
            if len(rows) < FOLLOW_BATCH:
                break
        if grew or self._latest is None:
            row = self.table.newest_checkpoint()
            if row is not None and (self._latest is None or int(row["size"]) > self._latest.size):
                note = row["note"]
                self._latest = SignedCheckpoint(Checkpoint.parse(note_text(note)), note, int(row["position"]))

    def _ready(self) -> MerkleTree:
        if self._tree is None:
            self._sync()
        assert self._tree is not None
        return self._tree

    # -- following -----------------------------------------------------------------------
    def follow(self) -> int:
        """Append a leaf for every notification recorded before the call (and perhaps a few
        more); return how many were added."""
        added = 0
        with self._lock:
            while True:
                self._sync()
                tree = self._tree
                assert tree is not None
                start = (self._positions[-1] + 1) if self._positions else 1
                batch = self.store.record_batch(start, FOLLOW_BATCH)
                if not batch:
                    return added
                first = len(tree)
                prepared: list[tuple[int, dict[str, Any], bytes]] = []
                stuck: LeafEncodingError | None = None
                for log_record in batch:
                    record = public_record(log_record)
                    try:
                        prepared.append((log_record.position, record, record_leaf_hash(record)))
                    except LeafEncodingError as exc:
                        stuck = exc  # keep what precedes it, then stop here
                        break
                rows: list[tuple[int, int, bytes, int]] = []
                checkpoints: list[tuple[int, int, int, str]] = []
                try:
                    for position, record, digest in prepared:
                        index = len(tree)
                        is_checkpoint = record["topic"] == CHECKPOINT_TOPIC
                        if is_checkpoint:
                            found = self._accept_checkpoint(record, index)
                            if found is not None:
                                checkpoints.append((index, position, found.size, found.note))
                        tree.append(digest)
                        self._positions.append(position)
                        rows.append((index, position, digest, int(is_checkpoint)))
                    if rows:
                        self.table.append(rows, checkpoints)
                except StoreConflict:
                    # another process appended these leaves first: take theirs
                    self._forget()
                    continue
                except BaseException:
                    self._forget()
                    raise
                for index, _, _, is_checkpoint in rows:
                    if not is_checkpoint:
                        self._last_content_index = index
                for index, position, size, note in checkpoints:
                    if self._latest is None or size >= self._latest.size:
                        self._latest = SignedCheckpoint(Checkpoint.parse(note_text(note)), note, position)
                if stuck is not None:
                    raise stuck
                added += len(tree) - first
                if len(batch) < FOLLOW_BATCH:
                    # caught up with the log as it stood: while events keep arriving, chasing
                    # them one by one would take the writer's lock for a leaf or two at a time
                    return added

    def _forget(self) -> None:
        """Drop the in-memory tree; the next use reloads it from the leaves table."""
        self._tree = None
        self._positions = array("q")
        self._latest = None

    def _accept_checkpoint(self, record: dict[str, Any], index: int) -> SignedCheckpoint | None:
        """A checkpoint record the ledger can vouch for: signed by its key, about leaves before
        it, with the root the follower computed. Anything else is logged and left for verify."""
        note = record["payload"].get("note")
        try:
            if not isinstance(note, str):
                raise NoteError("no note")
            checkpoint = self.verifier_key.open_checkpoint(note)
        except NoteError as exc:
            log.warning("checkpoint recorded at position %s is not valid: %s", record["position"], exc)
            return None
        tree = self._tree
        assert tree is not None
        if checkpoint.size > index or tree.root(checkpoint.size) != checkpoint.root_hash:
            log.warning("checkpoint recorded at position %s does not match the log", record["position"])
            return None
        return SignedCheckpoint(checkpoint, note, record["position"])

    # -- checkpoints ---------------------------------------------------------------------
    def latest_checkpoint(self) -> SignedCheckpoint | None:
        with self._lock:
            self._sync()
            return self._latest

    def needs_checkpoint(self) -> bool:
        """True when leaves other than checkpoint records are not yet covered by a checkpoint."""
        with self._lock:
            self._ready()
            latest = self._latest
            return self._last_content_index >= (latest.size if latest else 0)

    def checkpoint(self) -> SignedCheckpoint:
        """Follow the log, then sign a checkpoint of it and record it (unless the newest
        checkpoint already covers every leaf). Plugins call this when a process closes."""
        with self._lock:
            self.follow()
            tree = self._ready()
            size = len(tree)
            latest = self._latest
            if latest is not None and latest.size == size:
                return latest
            checkpoint = Checkpoint(self.origin, size, tree.root(size))
            note = self.key.sign(checkpoint.body())
            try:
                self.store.save(LedgerCheckpoint.record(self.origin, size, note))
            except StoreConflict:
                pass  # another process recorded this size; Ed25519 signatures are deterministic
            self.follow()
            signed = self._latest
            if signed is None or signed.size < size:  # recorded by someone with another key?
                signed = SignedCheckpoint(checkpoint, note, None)
            self.files.write_outside(signed.note, signed.checkpoint.origin, signed.size)
            return signed

    def tick(self) -> SignedCheckpoint | None:
        """The periodic job: follow, and sign a checkpoint when new events arrived."""
        with self._lock:
            self.follow()
            return self.checkpoint() if self.needs_checkpoint() else None

    # -- proofs --------------------------------------------------------------------------
    @property
    def size(self) -> int:
        with self._lock:
            return len(self._ready())

    def _tree_of(self, size: int) -> MerkleTree:
        tree = self._ready()
        if size > len(tree):
            self.follow()
            tree = self._ready()
        if size > len(tree):
            raise InvalidInput(f"The ledger has {len(tree)} leaves, not {size}.", field="size")
        return tree

    def root(self, size: int | None = None) -> bytes:
        with self._lock:
            if size is None:
                self.follow()
                return self._ready().root()
            if size < 0:
                raise InvalidInput("A tree size is not negative.", field="size")
            return self._tree_of(size).root(size)

    def leaf(self, index: int) -> StoredLeaf:
        with self._lock:
            tree = self._tree_of(index + 1 if index >= 0 else 0)
            if index < 0:
                raise InvalidInput("A leaf index is not negative.", field="index")
            return StoredLeaf(index, self._positions[index], tree.leaf(index))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        with self._lock:
            if not 0 <= index < size:
                raise InvalidInput(f"Leaf {index} is not in a tree of {size} leaves.", field="index")
            try:
                return self._tree_of(size).inclusion_proof(index, size)
            except ProofError as exc:
                raise InvalidInput(str(exc)) from None

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        with self._lock:
            if not 0 <= first <= second:
                raise InvalidInput(f"No consistency proof from {first} to {second} leaves.", field="from")
            return self._tree_of(second).consistency_proof(first, second)

    def index_of(self, position: int) -> int:
        """The leaf index of a log position (``NotFound`` if the log has no such position)."""
        with self._lock:
            self._ready()
            if not self._positions or position > self._positions[-1]:
                self.follow()
            i = bisect_left(self._positions, position)
            if i == len(self._positions) or self._positions[i] != position:
                raise NotFound(f"No event at log position {position}.")
            return i

    def receipt(self, position: int) -> dict[str, Any]:
        """Proof that the event at ``position`` is in the log: its public record, leaf hash,
        inclusion proof and a signed checkpoint whose tree holds it."""
        with self._lock:
            index = self.index_of(position)
            signed = self._latest
            if signed is None or signed.size <= index:
                signed = self.checkpoint()
            tree = self._ready()
            proof = tree.inclusion_proof(index, signed.size)
            leaf = tree.leaf(index)
        notification = self.store.recorder.select_notifications(position, 1, stop=position)[0]
        record = public_record(self.store.record_of(notification))
        return {
            "position": position,
            "leaf_index": index,
            "leaf_hash": b64(leaf),
            "record": record,
            "checkpoint": signed.to_json(),
            "inclusion_proof": [b64(p) for p in proof],
            "verifier_key": str(self.verifier_key),
        }

    # -- health --------------------------------------------------------------------------
    def health(self, *, catch_up: bool = True) -> dict[str, Any]:
        """A summary for ``/healthz``; never raises. Without ``catch_up`` it says where the
        follower stands (``civic serve`` follows in the background) instead of reading the log."""
        try:
            with self._lock:
                if catch_up:
                    self._sync()
                tree = self._ready()
                last = self._positions[-1] if self._positions else 0
                latest = self._latest
            store = self.store.position
            key = self.existing_verifier_key()
            if store < last:
                status = "store-behind-ledger"  # the log lost events the ledger had followed
            elif store > last:
                status = "following"
            else:
                status = "ok"
            return {
                "status": status,
                "origin": key.name if key else None,
                "key_id": key.key_id.hex() if key else None,
                "tree_size": len(tree),
                "last_position": last,
                "store_position": store,
                "checkpoint": None if latest is None else {
                    "size": latest.size, "root_hash": b64(latest.root_hash), "position": latest.position,
                },
                "uncovered": self._last_content_index >= (latest.size if latest else 0),
            }
        except Exception as exc:  # health must answer even when the ledger cannot
            log.exception("ledger health failed")
            return {"status": "error", "detail": str(exc)}

