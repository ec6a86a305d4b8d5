"""The event store: one eventsourcing Application holding every plugin's aggregates, with one
notification log (the one total order the ledger follows).

It knows nothing of plugins or services: it gets, creates and updates aggregates (with the one
optimistic-concurrency retry loop), and reads the log back as notifications, domain events or
public log records.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Notification, RecordConflictError
from eventsourcing.utils import get_topic

from core.errors import NotFound, RuleViolation
from core.message_table import POSTGRES_RECORDER_TOPIC, SQLITE_RECORDER_TOPIC, OutboxRow
from core.records import LogRecord, PlainRow, decode_state
from core.sidestore import SideStore

# Another writer saved the same aggregate version first: re-read and try again, or refuse.
StoreConflict = RecordConflictError

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

DEFAULT_DB = "civic.db"
AES_CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"
# A command that keeps losing the race for an aggregate is reported, not retried forever.
COMMAND_RETRIES = 20
READ_BATCH = 5000


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def store_env(db: str, *, cipher_key: str | None = None) -> dict[str, str]:
    """eventsourcing settings for a ``--db`` value: a SQLite file path or a ``postgresql://`` URL.

    ``postgresql://user:password@host:port/dbname``; a socket directory may be given as
    ``?host=/path``. ``cipher_key`` (base64 AES key) turns on encryption at rest.
    """
    if is_postgres_url(db):
        url = urlsplit(db)
        query = parse_qs(url.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "civic",
            "POSTGRES_HOST": query.get("host", [url.hostname or "localhost"])[0],
            "POSTGRES_PORT": str(url.port or query.get("port", ["5432"])[0]),
            "POSTGRES_USER": unquote(url.username or os.environ.get("PGUSER", "postgres")),
            "POSTGRES_PASSWORD": unquote(url.password or os.environ.get("PGPASSWORD", "")),
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "4",
            "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER_TOPIC,
            # the database-function insert path skips the recorder's hook that writes the outbox
            "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
        }
    else:
        if db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": db if db == ":memory:" else str(Path(db).expanduser()),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER_TOPIC,
        }
    if cipher_key:
        env["CIPHER_TOPIC"] = AES_CIPHER_TOPIC
        env["CIPHER_KEY"] = cipher_key
    return env


def sibling_path(db: str, suffix: str) -> Path:
    """Where a file that belongs with a store lives (outbox, keys): beside a SQLite file, or under
    ``CIVIC_HOME`` (default ``./var``) for PostgreSQL."""
    if is_postgres_url(db) or db == ":memory:":
        home = Path(os.environ.get("CIVIC_HOME", "var"))
        name = urlsplit(db).path.strip("/") or "memory"
        return home / f"{name}.{suffix}"
    return Path(f"{db}.{suffix}")




def _topics(kinds: Iterable[str | type]) -> tuple[str, ...]:
    return tuple(k if isinstance(k, str) else get_topic(k) for k in kinds)


def _in_batches(select: Callable[[int], Sequence[R]], start: int, position: Callable[[R], int],
                size: int | None = None) -> Iterator[Sequence[R]]:
    """``select(first)`` from ``start`` on, ``size`` (``READ_BATCH``) at a time, until a batch
    comes back short."""
    size = READ_BATCH if size is None else size
    while True:
        batch = select(start)
        yield batch
        if len(batch) < size:
            return
        start = position(batch[-1]) + 1


class EventStore(Application):
    """The civic event store. ``transcodings`` registers the value types plugins keep in events."""

    name = "civic"
    log_section_size = 1000

    def __init__(self, db: str = DEFAULT_DB, *, transcodings: Callable[[JSONTranscoder], None] | None = None,
                 cipher_key: str | None = None) -> None:
        self.db = db
        self._transcodings = transcodings
        cipher_key = cipher_key or os.environ.get("CIVIC_CIPHER_KEY") or None
        super().__init__(env=store_env(db, cipher_key=cipher_key))
        self.side = SideStore(self.recorder.datastore, postgres=self.is_postgres)

    @property
    def is_postgres(self) -> bool:
        return is_postgres_url(self.db)

    @property
    def kind(self) -> str:
        return "postgresql" if self.is_postgres else "sqlite"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        if self._transcodings is not None:
            self._transcodings(transcoder)

    def sibling(self, suffix: str) -> Path:
        """Where a file that belongs with this store lives (see ``sibling_path``)."""
        return sibling_path(self.db, suffix)

    # -- commands ------------------------------------------------------------------------
    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save aggregates (and events) in one transaction; ``OutboxRow`` values among them are
        the messages the change causes, recorded in the outbox table by the same transaction."""
        rows = [o for o in objs if isinstance(o, OutboxRow)]
        if rows:
            objs = tuple(o for o in objs if not isinstance(o, OutboxRow))
            kwargs["outbox"] = [*kwargs.get("outbox", ()), *rows]
        return super().save(*objs, **kwargs)

    def get(self, aggregate_id: UUID, cls: type[A] | None = None, *, what: str = "record",
            missing: str | None = None) -> A:
        """The aggregate with this id, or ``NotFound`` (also when it is of another kind). An id
        derived from the caller's own (a complex's code) is not theirs to read: ``missing`` then
        says what is missing in their words."""
        refusal = missing or f"No {what} with id {aggregate_id}."
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(refusal) from None
        if cls is not None and not isinstance(aggregate, cls):
            raise NotFound(refusal)
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def transact(self, change: Callable[[], tuple[Iterable[Aggregate], R]], *, what: str = "record",
                 busy: str | None = None) -> R:
        """Run ``change`` (which loads aggregates, changes them and returns ``(aggregates,
        result)``) and save the aggregates together in one transaction.

        If ``change`` raises, nothing is saved. When another writer saved one of them first, the
        whole command is replayed on fresh state (optimistic concurrency), with a random, growing
        pause so that contenders stop colliding; a command that keeps losing is refused as busy."""
        for attempt in range(COMMAND_RETRIES):
            aggregates, result = change()
            try:
                self.save(*aggregates)
            except RecordConflictError:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            return result
        raise RuleViolation(busy or f"The {what} is busy; please try again.", title="Busy")

    def update(self, aggregate_id: UUID, change: Callable[[A], R], *, cls: type[A] | None = None,
               what: str = "record", missing: str | None = None) -> R:
        """Load an aggregate, apply ``change`` and save its new events in one transaction (see
        ``transact``)."""

        def load_and_change() -> tuple[list[A], R]:
            aggregate = self.get(aggregate_id, cls, what=what, missing=missing)
            return [aggregate], change(aggregate)

        return self.transact(load_and_change, what=what)

    def save_or_refuse(self, *aggregates: Aggregate, refusal: str, title: str | None = None) -> None:
        """Save aggregates in one transaction, or refuse (``RuleViolation`` with ``refusal`` as its
        detail) when another writer saved one of them first; nothing is saved then."""
        try:
            self.save(*aggregates)
        except RecordConflictError:
            raise RuleViolation(refusal, title=title) from None

    def create(self, *aggregates: A, what: str = "record", refusal: str | None = None,
               title: str | None = None) -> A:
        """Save new aggregates in one transaction; refuse when one with the same id exists.
        Returns the first aggregate."""
        self.save_or_refuse(*aggregates, refusal=refusal or f"A {what} with this identity already exists.",
                            title=title)
        return aggregates[0]

    # -- the log -------------------------------------------------------------------------
    @property
    def position(self) -> int:
        """The position of the newest notification (0 for an empty store)."""
        return self.recorder.max_notification_id() or 0

    def notifications(self, start: int = 1, stop: int | None = None, *,
                      topics: Iterable[str | type] = ()) -> Iterator[Notification]:
        """Every notification from ``start`` (inclusive) to ``stop`` (inclusive), in order; only
        those of ``topics`` (event classes or topic strings) when given."""
        wanted = _topics(topics)
        for batch in _in_batches(lambda first: self.recorder.select_notifications(first, READ_BATCH, stop=stop,
                                                                                 topics=wanted),
                                 start, lambda n: n.id):
            yield from batch

    def log_events(self, start: int = 1, stop: int | None = None, *,
                   topics: Iterable[str | type] = ()) -> Iterator[tuple[int, Any]]:
        """(position, domain event) pairs in log order."""
        for n in self.notifications(start, stop, topics=topics):
            yield n.id, self.mapper.to_domain_event(n)

    def payload_bytes(self, notification: Notification) -> bytes:
        """The event's state as the transcoder wrote it (after decryption at rest), still JSON
        text: for work that hands it to another process undecoded."""
        return self._plain_state(notification.state)

    def _plain_state(self, state: bytes) -> bytes:
        if self.mapper.cipher:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor:
            state = self.mapper.compressor.decompress(state)
        return state

    def decode_payload(self, notification: Notification) -> dict[str, Any]:
        """The event's state as the transcoder wrote it (after decryption at rest)."""
        return self._decode_state(notification.state)

    def _decode_state(self, state: bytes) -> dict[str, Any]:
        return decode_state(self._plain_state(state))

    def record_of(self, notification: Notification) -> LogRecord:
        return LogRecord.from_notification(notification, self.decode_payload(notification))

    def records(self, start: int = 1, stop: int | None = None, *,
                topics: Iterable[str | type] = ()) -> Iterator[LogRecord]:
        """The log as public records (what auditors and the plugins' folds read), from the
        recorder's plain rows (``select_log_rows``), not notifications: a re-tally reads every
        event."""
        wanted = _topics(topics)
        for batch in _in_batches(lambda first: self.record_batch(first, READ_BATCH, stop=stop, topics=wanted),
                                 start, lambda record: record.position):
            yield from batch

    def plain_rows(self, size: int) -> Iterator[list[PlainRow]]:
        """The whole log in batches of ``size`` events, their state decrypted but not decoded:
        for a reader that decodes them in other processes (``decode_state``)."""
        plain = self._plain_state

        def batch(first: int) -> list[PlainRow]:
            return [(position, originator_id, version, topic, plain(state))
                    for position, originator_id, version, topic, state in self.recorder.select_log_rows(first, size)]

        for rows in _in_batches(batch, 1, lambda row: row[0], size):
            if rows:
                yield rows

    def record_batch(self, start: int, limit: int, *, stop: int | None = None,
                     topics: Iterable[str | type] = ()) -> list[LogRecord]:
        """At most ``limit`` public records from position ``start`` on, read with one query."""
        decode = self._decode_state
        return [LogRecord(position, originator_id, version, topic, decode(state))
                for position, originator_id, version, topic, state
                in self.recorder.select_log_rows(start, limit, stop=stop, topics=_topics(topics))]
