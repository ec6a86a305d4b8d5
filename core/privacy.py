"""Personal data: sealed in events under a per-subject key, erasable by destroying that key.

A *subject* is a person the system holds data about (a complaint's reporter, a staff member), named
by an opaque id the plugin chooses (``engine.privacy.new_subject()`` gives a fresh one). Each
subject has its own random AES-256 key, kept in a key store *outside* the event store: a small
SQLite file beside the database (``<db>.keys.db``, or under ``CIVIC_HOME`` for PostgreSQL), with
``secure_delete`` on and every key wrapped under a key-encryption key derived from the instance
secrets. Events carry only *envelopes* (JSON dicts holding ciphertext); nothing personal is ever
written to the log in clear.

``forget(subject)`` records a ``SubjectForgotten`` event (no personal data in it) and destroys the
key: from then on every envelope of that subject opens as ``ERASED``, in the API, read models and
exports alike, while the log itself is unchanged (so the audit ledger still verifies).

Rules for plugins (see docs/security.md):
- put envelopes in events, never the plain value;
- read models keep envelopes too, and handlers open them when answering
  (``engine.privacy.reveal(state)``), so an erased value disappears everywhere at once;
- look people up with ``remember``/``subjects`` (a keyed-hash index inside the key store that
  ``forget`` deletes), not by putting hashes of phone numbers in events.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.domain import CivicAggregate, event, natural_id
from core.errors import InvalidInput, RuleViolation
from core.phone import phone_digits

if TYPE_CHECKING:
    from core.actors import Actor
    from core.instance import InstanceSecrets
    from core.store import EventStore

ENVELOPE_VERSION = "civic.pd/1"
KEY_BYTES = 32
NONCE_BYTES = 12


class Erased(str):
    """The type of ``ERASED``: what a personal value reads as once its subject was forgotten. It is
    a ``str`` so that it serialises in JSON answers and exports without special handling; test for
    it with ``value is ERASED``."""

    __slots__ = ()


ERASED = Erased("[erased]")


class PersonalDataUnavailable(RuntimeError):
    """An envelope's key is missing although its subject was never forgotten: the key store was
    lost or belongs to another instance. Reported loudly rather than shown as erased."""


class SubjectForgotten(CivicAggregate):
    """The public record that a subject's personal data was erased (one aggregate per subject,
    so forgetting twice cannot record twice)."""

    @event("Forgotten")
    def __init__(self, id: uuid.UUID, subject: str, by: str) -> None:  # noqa: A002 - eventsourcing name
        self.subject = subject
        self.by = by


def forgotten_id(subject: str) -> uuid.UUID:
    return natural_id("privacy.forgotten", subject)


def is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and value.get("sealed") == ENVELOPE_VERSION


def _aad(subject: str, where: str, field: str) -> bytes:
    # The event's identity (the record holding the value and the field) binds the ciphertext, so
    # an envelope copied into another record or field does not open there.
    return "\x1f".join((ENVELOPE_VERSION, subject, where, field)).encode()


def normalise(kind: str, value: str) -> str:
    """The form a value is hashed in, so that ``010-1234-5678`` and ``01012345678`` match."""
    if kind == "phone":
        return phone_digits(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if kind == "email":
        return text.casefold()
    return " ".join(text.casefold().split())


class KeyStore:
    """Per-subject data keys in their own SQLite file (never in the event store's database)."""

    def __init__(self, path: str | os.PathLike[str], kek: bytes) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._kek = AESGCM(kek)
        self._lock = threading.RLock()
        self._batching = False
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        if self.path.exists():
            os.chmod(self.path, 0o600)
        with self._lock:
            # secure_delete overwrites deleted rows with zeros; a rollback journal (not WAL) keeps
            # no copy of a destroyed key once the deleting transaction commits.
            self._conn.execute("PRAGMA secure_delete=ON")
            self._conn.execute("PRAGMA journal_mode=DELETE")
            self._conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, wrapped BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS forgotten (subject TEXT PRIMARY KEY);
                CREATE TABLE IF NOT EXISTS lookup (digest TEXT NOT NULL, subject TEXT NOT NULL,
                                                   PRIMARY KEY (digest, subject));
                CREATE INDEX IF NOT EXISTS lookup_by_subject ON lookup (subject);
                """
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _unwrap(self, subject: str, wrapped: bytes) -> bytes:
        try:
            return self._kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject.encode())
        except InvalidTag:
            raise PersonalDataUnavailable(
                f"the key store {self.path} does not belong to this instance's secrets") from None

    def is_forgotten(self, subject: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM forgotten WHERE subject = ?", (subject,)).fetchone() is not None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Create many keys in one transaction (one sync to disk instead of one per key). Keys
        are durable when the block ends, so seal inside it and save the events after it."""
        with self._lock:
            if self._batching:  # nested: the outer batch commits
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._batching = True
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._batching = False

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[None]:
        if self._batching:
            yield
            return
        self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    def key(self, subject: str, *, create: bool) -> bytes | Erased | None:
        """The subject's key; ``ERASED`` if forgotten; ``None`` if it has none and ``create`` is
        false."""
        with self._lock, self._transaction(write=create):
            if self._conn.execute("SELECT 1 FROM forgotten WHERE subject = ?", (subject,)).fetchone():
                return ERASED
            row = self._conn.execute("SELECT wrapped FROM subject_keys WHERE subject = ?", (subject,)).fetchone()
            if row is not None:
                return self._unwrap(subject, row[0])
            if not create:
                return None
            key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
            nonce = os.urandom(NONCE_BYTES)
            wrapped = nonce + self._kek.encrypt(nonce, key, subject.encode())
            self._conn.execute("INSERT INTO subject_keys (subject, wrapped) VALUES (?, ?)", (subject, wrapped))
            return key

    def remember(self, subject: str, digest: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO lookup (digest, subject) VALUES (?, ?)", (digest, subject))

    def subjects(self, digest: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT subject FROM lookup WHERE digest = ? ORDER BY subject", (digest,))
            return [r[0] for r in rows]

    def destroy(self, subject: str) -> None:
        """Delete the subject's key and lookup entries, and remember that it was forgotten."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM subject_keys WHERE subject = ?", (subject,))
                self._conn.execute("DELETE FROM lookup WHERE subject = ?", (subject,))
                self._conn.execute("INSERT OR IGNORE INTO forgotten (subject) VALUES (?)", (subject,))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")


class PersonalData:
    """Sealing, opening and erasing personal data over the event store: ``engine.privacy``."""

    def __init__(self, store: EventStore, secrets: InstanceSecrets,
                 erasers: Sequence[Callable[[str], object]] = ()) -> None:
        self.store = store
        # what else holds a subject's data beside the log (the message outbox): erased with the key
        self._erasers = list(erasers)
        path = os.environ.get("CIVIC_KEYS") or store.sibling("keys.db")
        self.keys = KeyStore(path, secrets.key("privacy-key-wrapping"))
        self._lookup_key = secrets.key("privacy-lookup")

    def close(self) -> None:
        self.keys.close()

    def batch(self) -> Any:
        """``with engine.privacy.batch(): ...seal many...`` then save the events: one key-store
        transaction for the lot (a roll of 10,000 households seals in about a second)."""
        return self.keys.batch()

    # -- subjects --------------------------------------------------------------------------
    @staticmethod
    def new_subject() -> str:
        """A fresh, meaningless subject id for a new person."""
        return str(uuid.uuid4())

    # -- sealing ---------------------------------------------------------------------------
    def seal(self, subject: str, field: str, value: Any, *, where: uuid.UUID | str) -> dict[str, str]:
        """Encrypt a JSON-able ``value`` for ``subject``; return the envelope to put in an event.

        ``where`` is the id of the record (aggregate) whose event holds the envelope and ``field``
        the name it is stored under: both are authenticated, so the envelope opens only there.
        Refused for a subject that was forgotten."""
        subject = str(subject)
        if not subject:
            raise InvalidInput("Personal data needs a subject.")
        key = self.keys.key(subject, create=True)
        if key is ERASED:
            raise RuleViolation("This person's data was erased; no new personal data can be kept for them.",
                                title="Erased")
        plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(subject, str(where), field))  # type: ignore[arg-type]
        return {
            "sealed": ENVELOPE_VERSION,
            "subject": subject,
            "where": str(where),
            "field": field,
            "ct": base64.b64encode(nonce + ciphertext).decode(),
        }

    def open(self, envelope: dict[str, str], *, where: uuid.UUID | str | None = None) -> Any:
        """The value sealed in ``envelope``, or ``ERASED`` once its subject was forgotten.

        Pass ``where`` (the id of the record the envelope was read from) to refuse an envelope
        copied from elsewhere."""
        if not is_envelope(envelope):
            raise ValueError("not a personal-data envelope")
        if where is not None and str(where) != envelope["where"]:
            raise ValueError("envelope belongs to another record")
        subject = envelope["subject"]
        key = self.keys.key(subject, create=False)
        if key is ERASED:
            return ERASED
        if key is None:
            raise PersonalDataUnavailable(f"no data key for subject {subject}: is this the instance's key store?")
        raw = base64.b64decode(envelope["ct"])
        try:
            plaintext = AESGCM(key).decrypt(  # type: ignore[arg-type]
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(subject, envelope["where"], envelope["field"])
            )
        except InvalidTag:
            raise ValueError("personal-data envelope was altered") from None
        return json.loads(plaintext)

    def reveal(self, value: Any) -> Any:
        """A copy of a JSON-like structure (a read model's state, an event payload) with every
        envelope replaced by its value, or ``ERASED``."""
        if is_envelope(value):
            return self.open(value)
        if isinstance(value, dict):
            return {k: self.reveal(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.reveal(v) for v in value]
        return value

    # -- lookups ---------------------------------------------------------------------------
    def keyed_hash(self, kind: str, value: str) -> str:
        """HMAC-SHA256 of the normalised value under an instance key (hex). Whoever holds the
        instance secrets can still test guesses against it, so keep it out of events: use
        ``remember``/``subjects``, which ``forget`` cleans up."""
        data = f"{kind}\x1f{normalise(kind, value)}".encode()
        return hmac.new(self._lookup_key, data, hashlib.sha256).hexdigest()

    def remember(self, subject: str, kind: str, value: str) -> None:
        """Index ``subject`` under a value (e.g. kind ``"phone"``) for ``subjects`` to find."""
        if self.keys.is_forgotten(str(subject)):
            raise RuleViolation("This person's data was erased.", title="Erased")
        self.keys.remember(str(subject), self.keyed_hash(kind, value))

    def subjects(self, kind: str, value: str) -> list[str]:
        """The subjects indexed under this value (empty once they are forgotten)."""
        return self.keys.subjects(self.keyed_hash(kind, value))

    # -- erasure ---------------------------------------------------------------------------
    def forgotten(self, subject: str) -> bool:
        return self.keys.is_forgotten(str(subject))

    def forget(self, subject: str, *, actor: Actor) -> bool:
        """Erase a subject: record ``SubjectForgotten`` (``by`` = ``actor.id``), destroy the
        key and delete the subject's messages, pending or delivered. Returns ``False`` when it was already forgotten (running it again finishes an
        interrupted erasure). The calling command authorises: core's own use ``privacy.forget``;
        a plugin may offer its own erasure command under its own permission."""
        subject = str(subject).strip()
        if not subject:
            raise InvalidInput("Which subject? Give its id.")
        record_id = forgotten_id(subject)
        new = not self.store.exists(record_id)
        if new:
            try:
                self.store.create(SubjectForgotten(id=record_id, subject=subject, by=actor.id), what="erasure")
            except RuleViolation:
                new = False  # a concurrent forget recorded it first
        # The event first, then the key: a crash in between leaves a recorded erasure that the
        # next run completes, never an unrecorded one.
        self.keys.destroy(subject)
        for erase in self._erasers:
            erase(subject)
        return new


__all__ = [
    "ERASED",
    "Erased",
    "PersonalData",
    "PersonalDataUnavailable",
    "SubjectForgotten",
    "is_envelope",
    "normalise",
]
