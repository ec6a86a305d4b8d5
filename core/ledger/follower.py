"""The ledger follower: turns every notification of the log into a leaf, signs checkpoints,
answers proofs and receipts.

Leaf hashes live in the derived table ``civic_ledger_leaves`` (leaf index, log position, hash)
in the store's own database; the primary key on the leaf index and the unique position make a
leaf impossible to skip or count twice, even with several processes following at once. The
complete subtrees are kept in memory (rebuilt from the leaf hashes when a process starts), so
roots and proofs need no database round trip.

The signing key lives outside the store, in a 0600 file beside the database (``CIVIC_LEDGER_KEY``
moves it). The newest checkpoint is also written outside the store, next to the key, so that a
truncated or rewritten store cannot pass ``civic audit verify --db``.
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
from eventsourcing.persistence import RecordConflictError

from core.errors import InvalidInput, NotFound
from core.instance import load_or_create_private_file
from core.ledger.checkpoint import (
    CHECKPOINT_TOPIC,
    Checkpoint,
    LedgerCheckpoint,
    NoteError,
    SigningKey,
    VerifierKey,
    b64,
    default_origin,
    note_text,
)
from core.ledger.leaves import LeafEncodingError, public_record, record_leaf_hash
from core.ledger.merkle import MerkleTree, ProofError
from core.records import LogRecord

if TYPE_CHECKING:
    from core.store import EventStore

log = logging.getLogger("civic.ledger")

LEAVES = "civic_ledger_leaves"
CHECKPOINTS = "civic_ledger_checkpoints"
FOLLOW_BATCH = 5000


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


@attrs.frozen
class StoredLeaf:
    index: int
    position: int
    leaf_hash: bytes


def read_verifier_key(path: str | os.PathLike[str]) -> VerifierKey | None:
    """The public half of a ledger key file, without creating one."""
    path = Path(path)
    if not path.exists():
        return None
    return SigningKey.parse(path.read_text(encoding="utf-8")).verifier


def checkpoint_path_for(key_path: Path) -> Path:
    name = key_path.name
    stem = name[: -len(".key")] if name.endswith(".key") else name
    return key_path.with_name(stem + ".checkpoint")


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
        self._key_path = Path(key_path) if key_path else None
        self._checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self._lock = threading.RLock()
        self._key: SigningKey | None = None
        self._tables_ready = False
        self._tree: MerkleTree | None = None
        self._positions = array("q")
        self._last_content_index = -1
        self._latest: SignedCheckpoint | None = None

    # -- where things live ---------------------------------------------------------------
    @property
    def key_path(self) -> Path:
        if self._key_path is not None:
            return self._key_path
        return Path(os.environ.get("CIVIC_LEDGER_KEY") or self.store.sibling("ledger.key"))

    @property
    def checkpoint_path(self) -> Path:
        if self._checkpoint_path is not None:
            return self._checkpoint_path
        return Path(os.environ.get("CIVIC_LEDGER_CHECKPOINT") or checkpoint_path_for(self.key_path))

    @property
    def key(self) -> SigningKey:
        """The instance's signing key, generated on first use."""
        if self._key is None:
            fresh = SigningKey.generate(os.environ.get("CIVIC_LEDGER_ORIGIN") or default_origin())
            text = load_or_create_private_file(self.key_path, (str(fresh) + "\n").encode())
            self._key = SigningKey.parse(text.decode("utf-8"))
        return self._key

    @property
    def verifier_key(self) -> VerifierKey:
        return self.key.verifier

    @property
    def origin(self) -> str:
        return self.key.name

    def existing_verifier_key(self) -> VerifierKey | None:
        """The public key if the key file exists (never creates it)."""
        if self._key is not None:
            return self._key.verifier
        return read_verifier_key(self.key_path)

    # -- derived tables ------------------------------------------------------------------
    def _ensure_tables(self) -> None:
        if self._tables_ready:
            return
        blob = self.store.side.blob
        self.store.side.create_tables(
            f"CREATE TABLE IF NOT EXISTS {LEAVES} (leaf_index BIGINT PRIMARY KEY, position"
            f" BIGINT NOT NULL UNIQUE, hash {blob} NOT NULL, is_checkpoint SMALLINT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (leaf_index BIGINT PRIMARY KEY,"
            " position BIGINT NOT NULL, size BIGINT NOT NULL, note TEXT NOT NULL)",
        )
        self._tables_ready = True

    def stored_leaves(self) -> Iterator[StoredLeaf]:
        """The leaves as the follower recorded them, in order (none if it never ran)."""
        with self._lock:
            self._ensure_tables()
        start = 0
        while True:
            with self.store.side.transaction(commit=False) as cur:
                rows = cur.execute(
                    f"SELECT leaf_index, position, hash FROM {LEAVES} WHERE leaf_index >= ?"
                    " ORDER BY leaf_index LIMIT ?",
                    (start, FOLLOW_BATCH),
                ).fetchall()
            for r in rows:
                yield StoredLeaf(int(r["leaf_index"]), int(r["position"]), bytes(r["hash"]))
            if len(rows) < FOLLOW_BATCH:
                return
            start = int(rows[-1]["leaf_index"]) + 1

    def _sync(self) -> None:
        """Bring the in-memory tree up to the leaves table (other processes may follow too)."""
        self._ensure_tables()
        if self._tree is None:
            self._tree = MerkleTree()
            self._positions = array("q")
            self._last_content_index = -1
            self._latest = None
        tree = self._tree
        grew = False
        while True:
            with self.store.side.transaction(commit=False) as cur:
                rows = cur.execute(
                    f"SELECT leaf_index, position, hash, is_checkpoint FROM {LEAVES}"
                    " WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
                    (len(tree), FOLLOW_BATCH),
                ).fetchall()
            for r in rows:
                if int(r["leaf_index"]) != len(tree):
                    raise RuntimeError(f"{LEAVES} has a gap before leaf {r['leaf_index']}; rebuild the ledger")
                tree.append(bytes(r["hash"]))
                self._positions.append(int(r["position"]))
                if not r["is_checkpoint"]:
                    self._last_content_index = len(tree) - 1
            grew = grew or bool(rows)
            if len(rows) < FOLLOW_BATCH:
                break
        if grew or self._latest is None:
            with self.store.side.transaction(commit=False) as cur:
                row = cur.execute(
                    f"SELECT position, size, note FROM {CHECKPOINTS} ORDER BY size DESC, leaf_index DESC LIMIT 1"
                ).fetchone()
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
        """Append a leaf for every notification not yet followed; return how many were added."""
        added = 0
        with self._lock:
            while True:
                self._sync()
                tree = self._tree
                assert tree is not None
                start = (self._positions[-1] + 1) if self._positions else 1
                batch = self.store.recorder.select_notifications(start, FOLLOW_BATCH)
                if not batch:
                    return added
                first = len(tree)
                prepared: list[tuple[int, dict[str, Any], bytes]] = []
                stuck: LeafEncodingError | None = None
                for n in batch:
                    record = public_record(self.store.record_of(n))
                    try:
                        prepared.append((n.id, record, record_leaf_hash(record)))
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
                        with self.store.side.transaction() as cur:
                            cur.executemany(
                                f"INSERT INTO {LEAVES} (leaf_index, position, hash, is_checkpoint)"
                                " VALUES (?, ?, ?, ?)",
                                rows,
                            )
                            if checkpoints:
                                cur.executemany(
                                    f"INSERT INTO {CHECKPOINTS} (leaf_index, position, size, note)"
                                    " VALUES (?, ?, ?, ?)",
                                    checkpoints,
                                )
                except RecordConflictError:
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
            except RecordConflictError:
                pass  # another process recorded this size; Ed25519 signatures are deterministic
            self.follow()
            signed = self._latest
            if signed is None or signed.size < size:  # recorded by someone with another key?
                signed = SignedCheckpoint(checkpoint, note, None)
            self._write_outside(signed)
            return signed

    def tick(self) -> SignedCheckpoint | None:
        """The periodic job: follow, and sign a checkpoint when new events arrived."""
        with self._lock:
            self.follow()
            return self.checkpoint() if self.needs_checkpoint() else None

    def outside_checkpoint(self) -> str | None:
        """The newest checkpoint note kept outside the store, if any."""
        try:
            return self.checkpoint_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def _write_outside(self, signed: SignedCheckpoint) -> None:
        path = self.checkpoint_path
        current = self.outside_checkpoint()
        if current is not None:
            try:
                kept = Checkpoint.parse(note_text(current))
                if kept.origin == signed.checkpoint.origin and kept.size > signed.size:
                    return
            except NoteError:
                pass  # unreadable: replace it
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(signed.note, encoding="utf-8")
        os.replace(tmp, path)

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
    def health(self) -> dict[str, Any]:
        """A summary for ``/healthz``; never raises."""
        try:
            with self._lock:
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

