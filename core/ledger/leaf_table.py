"""The ledger's derived tables in the store's own database: one row per leaf (leaf index, log
position, hash) and one per accepted checkpoint. The primary key on the leaf index and the unique
position make a leaf impossible to skip or count twice, even with several processes following at
once. Everything here can be dropped and rebuilt from the log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from core.sidestore import SideStore

LEAVES = "civic_ledger_leaves"
CHECKPOINTS = "civic_ledger_checkpoints"
FOLLOW_BATCH = 5000


class StoredLeaf(NamedTuple):
    """A leaf as recorded (a tuple: a verify reads one per event of the log)."""

    index: int
    position: int
    leaf_hash: bytes


class LeafTable:
    def __init__(self, side: SideStore) -> None:
        self.side = side
        self._ready = False

    def ensure(self) -> None:
        if self._ready:
            return
        blob = self.side.blob
        self.side.create_tables(
            f"CREATE TABLE IF NOT EXISTS {LEAVES} (leaf_index BIGINT PRIMARY KEY, position"
            f" BIGINT NOT NULL UNIQUE, hash {blob} NOT NULL, is_checkpoint SMALLINT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (leaf_index BIGINT PRIMARY KEY,"
            " position BIGINT NOT NULL, size BIGINT NOT NULL, note TEXT NOT NULL)",
        )
        self._ready = True

    def rows_from(self, index: int, limit: int = FOLLOW_BATCH) -> list[tuple[int, int, bytes, int]]:
        """Up to ``limit`` leaf rows ``(leaf_index, position, hash, is_checkpoint)`` from leaf
        ``index`` on, in order (tuples: a reload or a verify reads one per event of the log)."""
        self.ensure()
        with self.side.transaction(commit=False) as cur:
            return cur.execute(
                f"SELECT leaf_index, position, hash, is_checkpoint FROM {LEAVES}"
                " WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
                (index, limit),
            ).fetchall_tuples()

    def stored_leaves(self) -> Iterator[StoredLeaf]:
        """The leaves as the follower recorded them, in order (none if it never ran)."""
        start = 0
        while True:
            rows = self.rows_from(start)
            for index, position, leaf_hash, _ in rows:
                yield StoredLeaf(index, position, bytes(leaf_hash))
            if len(rows) < FOLLOW_BATCH:
                return
            start = rows[-1][0] + 1

    def newest_checkpoint(self) -> dict[str, Any] | None:
        self.ensure()
        with self.side.transaction(commit=False) as cur:
            return cur.execute(
                f"SELECT position, size, note FROM {CHECKPOINTS} ORDER BY size DESC, leaf_index DESC LIMIT 1"
            ).fetchone()

    def append(self, leaves: Sequence[tuple[int, int, bytes, int]],
               checkpoints: Sequence[tuple[int, int, int, str]]) -> None:
        """Insert ``(leaf_index, position, hash, is_checkpoint)`` rows and ``(leaf_index,
        position, size, note)`` checkpoints in one transaction; raises the store's conflict error
        when another process appended the same leaves first."""
        self.ensure()
        with self.side.transaction() as cur:
            cur.executemany(
                f"INSERT INTO {LEAVES} (leaf_index, position, hash, is_checkpoint) VALUES (?, ?, ?, ?)",
                leaves,
            )
            if checkpoints:
                cur.executemany(
                    f"INSERT INTO {CHECKPOINTS} (leaf_index, position, size, note) VALUES (?, ?, ?, ?)",
                    checkpoints,
                )
