"""The store's message outbox table, written in the same database transaction as the events.

``EventStore.save`` hands the rows of the messages a change causes to the recorder as the keyword
``outbox``; the recorders below insert them with the same cursor, inside the transaction that
inserts the events, on SQLite and PostgreSQL alike. So a message exists exactly when the event
that causes it does: a crash can lose neither without the other (the transactional-outbox
pattern). ``core.messages`` delivers the rows and reads them back."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

TABLE = "civic_messages"

PENDING, DELIVERED = "pending", "delivered"
# given up after too many failed tries, or refused for good: the sealed text stays until staff
# retry it, discard it, or the person is forgotten
DEAD = "dead"
# a dead message staff gave up on: emptied like a delivered one, the key kept so it is never sent
DISCARDED = "discarded"

# One row per message key. ``sealed`` holds the recipient and the text, encrypted (see
# core.messages); it is emptied once the message is delivered, and the row stays as a tombstone
# so that the same key is never sent again. Times are seconds since the epoch (UTC).
CREATE_STATEMENTS = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "key TEXT PRIMARY KEY, plugin TEXT NOT NULL, channel TEXT NOT NULL, subject TEXT, "
    "sealed TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
    "created_at DOUBLE PRECISION NOT NULL, next_attempt_at DOUBLE PRECISION NOT NULL, "
    "claim TEXT, claimed_until DOUBLE PRECISION, last_error TEXT, "
    "delivered_at DOUBLE PRECISION, reference TEXT)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_due ON {TABLE} (status, next_attempt_at)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_subject ON {TABLE} (subject)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_claim ON {TABLE} (claim)",
)

_COLUMNS = ("key", "plugin", "channel", "subject", "sealed", "status", "created_at", "next_attempt_at")
# A key already recorded (pending or delivered) is left as it is: recording is idempotent.
INSERT = (f"INSERT INTO {TABLE} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
          "ON CONFLICT (key) DO NOTHING")


@attrs.frozen
class OutboxRow:
    """A message ready to be recorded: its text and recipient already sealed."""

    key: str
    plugin: str
    channel: str
    subject: str | None
    sealed: str
    created_at: float

    def values(self) -> tuple[Any, ...]:
        return (self.key, self.plugin, self.channel, self.subject, self.sealed, PENDING,
                self.created_at, self.created_at)


def _rows(kwargs: dict[str, Any]) -> Sequence[OutboxRow]:
    return kwargs.get("outbox") or ()


def _newest_versions(kwargs: dict[str, Any]) -> dict[UUID, int | None]:
    """``newest_versions``, a save's optional ``{aggregate id: None}``: both recorders fill in
    each aggregate's newest version as the saving transaction sees it after its inserts (what
    the ballot committer needs to know whether a box began closing before its deposits)."""
    return kwargs.get("newest_versions") or {}


# events inserted by one statement at most (4 parameters each: far below SQLite's 32,766)
EVENTS_PER_INSERT = 500

# one event of the log as read for its public record: position, originator id as text, version,
# topic, state (as stored: encrypted at rest when the store is)
LogRow = tuple[int, str, int, str, bytes]


class SQLiteOutboxRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *CREATE_STATEMENTS]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        rows = _rows(kwargs)
        if rows:
            c.executemany(INSERT, [r.values() for r in rows])
        if len(stored_events) > 1:
            positions = self._insert_together(c, stored_events)
        else:
            positions = super()._insert_events(c, stored_events, **kwargs)
        newest = _newest_versions(kwargs)
        for originator_id in newest:  # read inside the saving transaction, after its inserts
            c.execute(self._newest_version_query, (_stored_id(originator_id),))
            newest[originator_id] = c.fetchone()[0]
        return positions

    @cached_property
    def _newest_version_query(self) -> str:  # written once, not on every save
        return f"SELECT MAX(originator_version) FROM {self.events_table_name} WHERE originator_id = ?"  # noqa: S608 - the recorder's own table

    def _insert_together(self, c: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Several events in one statement, their log positions in the order given. The
        recorder's own insert runs one statement per event, and each lets go of the GIL and
        waits to take it back: with many threads busy (a group commit) that wait was most of
        the transaction."""
        found: dict[tuple[str, int], int] = {}
        for start in range(0, len(stored_events), EVENTS_PER_INSERT):
            chunk = stored_events[start:start + EVENTS_PER_INSERT]
            values = ",".join("(?,?,?,?)" for _ in chunk)
            params = [v for s in chunk for v in (_stored_id(s.originator_id), s.originator_version, s.topic, s.state)]
            c.execute(f"INSERT INTO {self.events_table_name} VALUES {values} "  # noqa: S608 - the recorder's own table
                      "RETURNING originator_id, originator_version, rowid", params)
            for originator_id, version, position in c.fetchall():
                found[(originator_id, version)] = position
        return [found[(_stored_id(s.originator_id), s.originator_version)] for s in stored_events]

    def select_log_rows(self, start: int, limit: int, stop: int | None = None,
                        topics: Sequence[str] = ()) -> list[LogRow]:
        """What ``select_notifications`` selects, as plain ``LogRow`` tuples: building a
        ``Notification`` and a ``UUID`` for every event was most of the cost of reading the log
        (7 of 8 µs an event), and the public records want the id as text anyway."""
        statement = f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} WHERE rowid>=? "  # noqa: S608 - the recorder's own table
        params: list[Any] = [start]
        if stop is not None:
            statement += "AND rowid<=? "
            params.append(stop)
        if topics:
            statement += f"AND topic IN ({','.join('?' * len(topics))}) "
            params.extend(topics)
        statement += "ORDER BY rowid LIMIT ?"
        params.append(limit)
        as_text = _dashed if self.datastore.originator_id_type == "uuid" else str
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [(row[0], as_text(row[1]), row[2], row[3], row[4]) for row in c.fetchall()]


def _stored_id(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


def _dashed(stored: str) -> str:
    """A UUID as SQLite holds it (32 hex digits) in its usual text form, as ``str(UUID(...))``
    writes it; anything else goes through ``UUID`` itself."""
    if len(stored) == 32:
        h = stored.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(UUID(stored))


try:
    from eventsourcing.postgres import PostgresApplicationRecorder
except ImportError:  # psycopg not installed: SQLite only
    PostgresApplicationRecorder = None  # type: ignore[assignment,misc]
else:
    from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError
    from eventsourcing.utils import retry
    from psycopg import ClientCursor
    from psycopg.pq import TransactionStatus
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    class PostgresOutboxRecorder(PostgresApplicationRecorder):  # type: ignore[no-redef]
        def __init__(self, datastore: Any, **kwargs: Any) -> None:
            super().__init__(datastore, **kwargs)
            self.sql_create_statements.extend(SQL(s) for s in CREATE_STATEMENTS)  # type: ignore[arg-type]
            # the fixed part of every save, written out once: eventsourcing's lock (with its
            # timeout) and NOTIFY; and the read of an aggregate's newest version
            self._lock_and_notify = [s.as_string() for s in self.lock_table_statements] + [
                SQL("NOTIFY {0}").format(Identifier(self.channel_name)).as_string()]
            self._newest_version_query = SQL("SELECT MAX(originator_version) FROM {0}.{1} WHERE originator_id = %s").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name))

        @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
        def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
            """The whole transaction, composed here first, goes to the server as one message:
            BEGIN, the outbox rows, the table lock, the inserts and COMMIT (the simple query
            protocol, the values written into the text by psycopg's client-side binding). The
            positions come back in the same answer.

            The table lock (eventsourcing's: it keeps the log's positions in commit order) makes
            every writer of the log wait for the one holding it. Sent a statement at a time (as
            eventsourcing's insert does, pipelined or not), each statement's values were adapted
            after the lock was taken, and each send waited for this thread to get the GIL back
            among the request threads: the lock was held for milliseconds while the two workers'
            group commits and the box's flushes queued behind it. Now it is held for the
            server's own work and the commit's flush to disk. An insert refused (a unique key
            taken) ends the transaction: nothing is committed and the error is raised. (Pipeline
            mode is not used: with a large save, a voter roll of thousands, psycopg waited for the
            server's answer while the server still waited for the rest of the statement.)"""
            newest = _newest_versions(kwargs)
            with self.datastore.get_connection() as conn:
                client = ClientCursor(conn)
                statements = ["BEGIN"]
                statements += [client.mogrify(INSERT.replace("?", "%s"), row.values()) for row in _rows(kwargs)]
                if stored_events:
                    statements += self._lock_and_notify
                    statements.append(client.mogrify(self.insert_events_statement, (
                        [self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                         for e in stored_events],)))
                    statements += [client.mogrify(self._newest_version_query, (originator_id,)) for originator_id in newest]
                statements.append("COMMIT")
                with conn.cursor(row_factory=tuple_row) as curs:
                    try:
                        curs.execute(";\n".join(statements))
                    except BaseException:
                        # the failed statement left the transaction open and aborted: end it
                        # before the connection goes back to the pool
                        if not conn.closed and conn.info.transaction_status == TransactionStatus.INERROR:
                            conn.rollback()
                        raise
                    if not stored_events:
                        return []
                    answers = []  # the insert's positions, then each newest version read
                    while True:
                        if curs.description is not None:
                            answers.append([row[0] for row in curs.fetchall()])
                        if not curs.nextset():
                            break
                positions = answers[0] if answers else []
                if len(positions) != len(stored_events) or len(answers) != 1 + len(newest):
                    raise ProgrammingError(f"The save's answer does not match it: {len(positions)} positions for "
                                           f"{len(stored_events)} events, {len(answers) - 1} versions for "
                                           f"{len(newest)} aggregates.")
                for originator_id, [version] in zip(newest, answers[1:], strict=True):
                    newest[originator_id] = version
                return positions

        def select_log_rows(self, start: int, limit: int, stop: int | None = None,
                            topics: Sequence[str] = ()) -> list[LogRow]:
            """What ``select_notifications`` selects, as plain ``LogRow`` tuples (the id as text
            from the server: no ``UUID`` built per event)."""
            statement = SQL("SELECT notification_id, originator_id::text, originator_version, topic, state "
                            "FROM {schema}.{table} WHERE notification_id>=%s").format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
            params: list[Any] = [start]
            if stop is not None:
                statement += SQL(" AND notification_id<=%s")
                params.append(stop)
            if topics:
                statement += SQL(" AND topic = ANY(%s)")
                params.append(list(topics))
            statement += SQL(" ORDER BY notification_id LIMIT %s")
            params.append(limit)
            with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                curs.execute(statement, params, prepare=True)
                return [(row[0], row[1], row[2], row[3], bytes(row[4])) for row in curs.fetchall()]


SQLITE_RECORDER_TOPIC = "core.message_table:SQLiteOutboxRecorder"
POSTGRES_RECORDER_TOPIC = "core.message_table:PostgresOutboxRecorder"
