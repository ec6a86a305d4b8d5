"""The event store: one eventsourcing Application holding every plugin's aggregates, with one
notification log (the one total order the ledger follows), and command dispatch."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Notification, RecordConflictError

from core import clock as clock_module
from core.errors import NotFound, RuleViolation
from core.instance import InstanceSecrets
from core.notify import FallbackNotifierPlugin, Notification as Message, OutboxFileNotifier
from core.records import LogRecord
from core.sidestore import SideStore

if TYPE_CHECKING:
    from core.identity import Identity
    from core.privacy import PersonalData

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
        }
    else:
        if db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": db if db == ":memory:" else str(Path(db).expanduser()),
            "SQLITE_LOCK_TIMEOUT": "30",
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


class Engine(Application):
    """The civic application. Plugins' aggregates live side by side in its one store."""

    name = "civic"
    log_section_size = 1000

    def __init__(
        self,
        db: str = DEFAULT_DB,
        *,
        plugins: Any | None = None,
        clock: clock_module.Clock | None = None,
        cipher_key: str | None = None,
        outbox: str | os.PathLike[str] | None = None,
    ) -> None:
        from core.plugins import make_plugin_manager  # the manager imports hook specs only

        self.db = db
        self.pm = plugins if plugins is not None else make_plugin_manager()
        if clock is not None:
            clock_module.use(clock)
        cipher_key = cipher_key or os.environ.get("CIVIC_CIPHER_KEY") or None
        super().__init__(env=store_env(db, cipher_key=cipher_key))
        self.side = SideStore(self.recorder.datastore, postgres=self.is_postgres)
        outbox_path = outbox or os.environ.get("CIVIC_OUTBOX") or sibling_path(db, "outbox.jsonl")
        self.outbox = OutboxFileNotifier(outbox_path)
        self.secrets = InstanceSecrets(os.environ.get("CIVIC_SECRETS") or sibling_path(db, "secrets"))
        name = "core.outbox"
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        self.pm.register(FallbackNotifierPlugin(self.outbox), name=name)

        from core.readmodels import ReadModelHost

        models = [m for group in self.pm.hook.civic_register_read_models() for m in group]
        self.read_models = ReadModelHost(self, models)

        from core.ledger.follower import Ledger

        # touches neither the database nor the key file until first used
        self.ledger = Ledger(self)

    # -- configuration -------------------------------------------------------------------
    @property
    def is_postgres(self) -> bool:
        return is_postgres_url(self.db)

    @property
    def kind(self) -> str:
        return "postgresql" if self.is_postgres else "sqlite"

    @property
    def clock(self) -> clock_module.Clock:
        return clock_module.current()

    def now(self):  # noqa: ANN201 - datetime
        return clock_module.now()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        self.pm.hook.civic_register_transcodings(transcoder=transcoder)

    # -- commands ------------------------------------------------------------------------
    def get(self, aggregate_id: UUID, cls: type[A] | None = None, *, what: str = "record") -> A:
        """The aggregate with this id, or ``NotFound`` (also when it is of another kind)."""
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"No {what} with id {aggregate_id}.") from None
        if cls is not None and not isinstance(aggregate, cls):
            raise NotFound(f"No {what} with id {aggregate_id}.")
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def update(
        self,
        aggregate_id: UUID,
        change: Callable[[A], R],
        *,
        cls: type[A] | None = None,
        what: str = "record",
    ) -> R:
        """Load an aggregate, apply ``change`` and save its new events in one transaction.

        If ``change`` raises, nothing is saved. When another writer saved the same aggregate
        first, the command is replayed on the fresh state (optimistic concurrency)."""
        for attempt in range(COMMAND_RETRIES):
            aggregate = self.get(aggregate_id, cls, what=what)
            result = change(aggregate)
            try:
                self.save(aggregate)
            except RecordConflictError:
                # back off a random, growing while so that contenders stop colliding
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            return result
        raise RuleViolation(f"The {what} is busy; please try again.", title="Busy")

    def create(self, aggregate: A, *, what: str = "record") -> A:
        """Save a new aggregate; refuse if one with the same id exists."""
        try:
            self.save(aggregate)
        except RecordConflictError:
            raise RuleViolation(f"A {what} with this identity already exists.") from None
        return aggregate

    # -- the log -------------------------------------------------------------------------
    @property
    def position(self) -> int:
        """The position of the newest notification (0 for an empty store)."""
        return self.recorder.max_notification_id() or 0

    def notifications(
        self, start: int = 1, stop: int | None = None, *, topics: tuple[str, ...] = ()
    ) -> Iterator[Notification]:
        """Every notification from ``start`` (inclusive) to ``stop`` (inclusive), in order."""
        while True:
            batch = self.recorder.select_notifications(start, READ_BATCH, stop=stop, topics=topics)
            yield from batch
            if len(batch) < READ_BATCH:
                return
            start = batch[-1].id + 1

    def log_events(
        self, start: int = 1, stop: int | None = None, *, topics: tuple[str, ...] = ()
    ) -> Iterator[tuple[int, Any]]:
        """(position, domain event) pairs in log order."""
        for n in self.notifications(start, stop, topics=topics):
            yield n.id, self.mapper.to_domain_event(n)

    def decode_payload(self, notification: Notification) -> dict[str, Any]:
        """The event's state as the transcoder wrote it (after decryption at rest)."""
        state = notification.state
        if self.mapper.cipher:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor:
            state = self.mapper.compressor.decompress(state)
        return json.loads(state)

    def records(self, start: int = 1, stop: int | None = None) -> Iterator[LogRecord]:
        for n in self.notifications(start, stop):
            yield LogRecord(
                position=n.id,
                originator_id=str(n.originator_id),
                originator_version=n.originator_version,
                topic=n.topic,
                payload=self.decode_payload(n),
            )

    # -- people --------------------------------------------------------------------------
    def send_notification(self, message: Message) -> str:
        return self.pm.hook.civic_send_notification(notification=message)

    @cached_property
    def identity(self) -> Identity:
        """Permissions, staff accounts, sign-in and tokens (``core.identity``)."""
        from core.identity import Identity

        return Identity(self)

    @cached_property
    def privacy(self) -> PersonalData:
        """Sealing, opening and erasing personal data (``core.privacy``)."""
        from core.privacy import PersonalData

        return PersonalData(self)

    # -- life cycle ----------------------------------------------------------------------
    def tick(self) -> list[str]:
        return [line for lines in self.pm.hook.civic_tick(engine=self) for line in lines or ()]

    def close(self) -> None:
        read_models = getattr(self, "read_models", None)
        if read_models is not None:
            read_models.flush()
        if "privacy" in self.__dict__:
            self.privacy.close()
        super().close()
