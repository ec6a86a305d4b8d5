"""The composition root: one instance of civic over one store.

``Engine`` builds the event store and the services around it, and hands each service only what
it uses (the store, the instance secrets, the permission registry). Plugins receive the engine: it
offers the store's operations (``get``, ``create``, ``update``, ``transact``, the log) and the
services (``identity``, ``privacy``, ``ledger``, ``read_models``, ``messages``)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from core import clock
from core.blobs import BlobStore
from core.instance import InstanceSecrets
from core.ledger.follower import Ledger
from core.notify import OUTBOX_ENV, Message, NoNotifier, OutboxFileNotifier, development_file_path
from core.permissions import PermissionRegistry
from core.plugins import make_plugin_manager
from core.readmodels import ReadModelHost
from core.store import DEFAULT_DB, EventStore, is_postgres_url, sibling_path, store_env

if TYPE_CHECKING:
    from core.identity import Identity
    from core.messages import MessageOutbox
    from core.privacy import PersonalData

T = TypeVar("T")

__all__ = ["DEFAULT_DB", "Engine", "is_postgres_url", "sibling_path", "store_env"]


class Engine:
    """One civic instance: the store, the plugins, and the services built on them."""

    def __init__(
        self,
        db: str = DEFAULT_DB,
        *,
        plugins: Any | None = None,
        cipher_key: str | None = None,
        outbox: str | os.PathLike[str] | None = None,
    ) -> None:
        self.pm = plugins if plugins is not None else make_plugin_manager()
        self.store = EventStore(db, cipher_key=cipher_key,
                                transcodings=lambda t: self.pm.hook.civic_register_transcodings(transcoder=t))
        self.db = db
        # where residents reach this instance: the links in text messages start here
        self.public_url = (os.environ.get("CIVIC_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
        # the development message file (plain text on disk): off unless asked for, by ``outbox=``
        # or CIVIC_OUTBOX (a path, or "on" for <db>.outbox.jsonl); off, a message no notifier
        # takes waits sealed in the store's outbox table
        path = development_file_path(outbox if outbox is not None else os.environ.get(OUTBOX_ENV),
                                     self.store.sibling("outbox.jsonl"))
        self.outbox_file_on = path is not None
        self.outbox = OutboxFileNotifier(path or self.store.sibling("outbox.jsonl"))
        self.secrets = InstanceSecrets(os.environ.get("CIVIC_SECRETS") or self.store.sibling("secrets"))
        self.permissions = PermissionRegistry.from_plugins(self.pm)
        models = [m for group in self.pm.hook.civic_register_read_models() for m in group]
        self.read_models = ReadModelHost(self.store, models)
        # touches neither the database nor the key file until first used
        self.ledger = Ledger(self.store)
        # the store's operations, offered on the engine (bound once: no extra call per use)
        store = self.store
        self.get, self.exists = store.get, store.exists
        self.create, self.update = store.create, store.update
        self.save_or_refuse = store.save_or_refuse
        self.notifications, self.log_events, self.records = store.notifications, store.log_events, store.records
        self.decode_payload, self.payload_bytes, self.record_of = store.decode_payload, store.payload_bytes, store.record_of
        self.side, self.recorder = store.side, store.recorder
        self._kept: dict[str, Any] = {}
        self._kept_lock = threading.Lock()
        self._kept_locks: dict[str, threading.Lock] = {}
        self._on_close: list[Callable[[], None]] = []

    # -- the store -----------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self.store.position

    @property
    def is_postgres(self) -> bool:
        return self.store.is_postgres

    @property
    def kind(self) -> str:
        return self.store.kind

    @property
    def clock(self) -> clock.Clock:
        return clock.current()

    def now(self):  # noqa: ANN201 - datetime
        return clock.now()

    def blob_store(self, name: str, *, env: str | None = None, what: str = "file") -> BlobStore:
        """A content-addressed file store beside the store (``<db>.<name>/``), or at ``$env``."""
        return BlobStore((os.environ.get(env) if env else None) or self.store.sibling(name), what=what)

    def kept(self, key: str, make: Callable[[], T]) -> T:
        """An object a plugin keeps for this engine between calls (a cache, a lock), made by
        ``make`` on first use. Lives and dies with the engine: no module-level state. A slow
        ``make`` holds up only callers of the same key."""
        if key in self._kept:
            return self._kept[key]
        with self._kept_lock:
            key_lock = self._kept_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._kept:
                self._kept[key] = make()
            return self._kept[key]

    # -- saving, with the messages a change causes ---------------------------------------
    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save aggregates in one transaction, with any ``Message`` among them recorded in the
        outbox by the same transaction and delivered once it commits."""
        aggregates, rows = self.messages.split(objs)
        recordings = self.store.save(*aggregates, *rows, **kwargs)
        if rows:
            self.messages.dispatch([r.key for r in rows])
        return recordings

    def transact(self, change: Callable[[], tuple[Any, T]], *, what: str = "record", busy: str | None = None) -> T:
        """``store.transact``: ``change`` returns ``(things to save, result)``; the things may
        include ``Message`` values, recorded with the events and delivered after the commit."""
        recorded: list[str] = []

        def change_with_messages() -> tuple[list[Any], T]:
            things, result = change()
            aggregates, rows = self.messages.split(things)
            recorded[:] = [r.key for r in rows]
            return [*aggregates, *rows], result

        result = self.store.transact(change_with_messages, what=what, busy=busy)
        if recorded:
            self.messages.dispatch(recorded)
        return result

    # -- people --------------------------------------------------------------------------
    def send_notification(self, message: Message) -> str:
        """Record a message in the outbox (on its own: a sender with an event to save should put
        the message beside it in ``transact``) and deliver it now. Returns the delivery reference,
        ``pending:<key>`` when it waits for a retry, ``dead:<key>`` when it was given up (or
        ``not sent: ...`` for a forgotten person)."""
        if not self.messages.record([message]):
            return f"not sent: {message.key} (the person's data was erased)"
        self.messages.dispatch([message.key])
        status = self.messages.status(message.key) or {}
        return status.get("reference") or f"{status.get('status') or 'pending'}:{message.key}"

    def deliver(self, message: Message) -> str:
        """Hand one message to the first notifier that takes it, else to the development outbox
        file (when it is on); raises when delivery failed, for the outbox to try again."""
        reference = self.pm.hook.civic_send_notification(notification=message)
        if reference is not None:
            return reference
        if not self.outbox_file_on:
            raise NoNotifier(f"no notifier takes {message.channel} messages")
        return self.outbox.send(message)

    @cached_property
    def messages(self) -> MessageOutbox:
        """The message outbox (``core.messages``)."""
        from core.messages import MessageOutbox

        return MessageOutbox(self.store.side, lambda: self.privacy, lambda: self.secrets.key("message-sealing"),
                             self.deliver)

    @cached_property
    def privacy(self) -> PersonalData:
        """Sealing, opening and erasing personal data (``core.privacy``)."""
        from core.privacy import PersonalData

        return PersonalData(self.store, self.secrets, erasers=[self._forget_messages])

    def _forget_messages(self, subject: str) -> None:
        self.messages.forget(subject)
        self.outbox.forget(subject)

    @cached_property
    def identity(self) -> Identity:
        """Staff accounts, sign-in and tokens (``core.identity``)."""
        from core.identity import Identity

        return Identity(self.store, self.privacy, self.secrets, self.permissions)

    # -- life cycle ----------------------------------------------------------------------
    def tick(self) -> list[str]:
        """Deliver messages due for another try, then run every plugin's deadlines."""
        done = self.messages.dispatch().lines()
        return done + [line for lines in self.pm.hook.civic_tick(engine=self) for line in lines or ()]

    def next_deadline(self, after: datetime) -> datetime | None:
        """The earliest time after ``after`` that a plugin has something due, or None."""
        times = [t for t in self.pm.hook.civic_next_deadline(engine=self, after=after) if t is not None]
        return min(times) if times else None

    def on_close(self, stop: Callable[[], None]) -> None:
        """Have ``close`` call ``stop`` first: a thread working on this engine (kept by a plugin
        or the kit) must end before the store's connections do."""
        self._on_close.append(stop)

    def close(self) -> None:
        for stop in self._on_close:
            stop()
        self.read_models.flush()
        if "privacy" in self.__dict__:
            self.privacy.close()
        self.store.close()
