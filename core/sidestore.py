"""Tables kept beside the event store in the same database: derived state that can be dropped
and rebuilt from the log (read models, ledger hashes), and one exception, the message outbox
(``core.message_table``): messages waiting for delivery, written in the events' own transaction.

Works on the event store's own connection pool, SQLite or PostgreSQL. SQL is written with ``?``
placeholders and translated for psycopg.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import RecordConflictError


# serialises CREATE TABLE across processes on PostgreSQL (any fixed 64-bit number will do)
DDL_LOCK_KEY = 0x63697669632D6464  # "civic-dd"

class Cursor:
    def __init__(self, raw: Any, postgres: bool) -> None:
        self._raw = raw
        self._postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if self._postgres:
            sql = sql.replace("?", "%s")
        self._raw.execute(sql, tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._postgres:
            sql = sql.replace("?", "%s")
        self._raw.executemany(sql, [tuple(r) for r in rows])

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._raw.fetchall()]

    def fetchall_tuples(self) -> list[tuple[Any, ...]]:
        """The rows as tuples, columns in the order selected: for long reads, where making a
        dict of every row was most of the cost."""
        rows = self._raw.fetchall()
        return [tuple(r.values()) for r in rows] if self._postgres else [tuple(r) for r in rows]

    def fetchone(self) -> dict[str, Any] | None:
        row = self._raw.fetchone()
        return None if row is None else dict(row)


class SideStore:
    def __init__(self, datastore: Any, *, postgres: bool) -> None:
        self._datastore = datastore
        self.postgres = postgres

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        with self._datastore.transaction(commit=commit) as raw:
            yield Cursor(raw, self.postgres)

    def create_tables(self, *statements: str) -> None:
        """Run ``CREATE TABLE IF NOT EXISTS`` statements in one transaction. On PostgreSQL two
        processes creating the same table at the same moment make one fail (a unique violation
        in the catalogue, or "relation already exists"), so table creation takes a transaction
        advisory lock first: one process creates, the others then find the tables there."""
        for attempt in range(3):
            try:
                with self.transaction() as cur:
                    if self.postgres:
                        cur.execute("SELECT pg_advisory_xact_lock(?)", (DDL_LOCK_KEY,))
                    for statement in statements:
                        cur.execute(statement)
                return
            except RecordConflictError:
                if attempt == 2:
                    raise

    @property
    def blob(self) -> str:
        return "BYTEA" if self.postgres else "BLOB"

    def upsert_sql(self, table: str, key: str, columns: Sequence[str]) -> str:
        cols = [key, *columns]
        marks = ", ".join("?" for _ in cols)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
        return (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
        )
