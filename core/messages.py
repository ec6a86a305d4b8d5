"""The message outbox: messages recorded with the events that cause them, then delivered.

A command that texts or mails someone puts ``core.Message`` values beside its aggregates
(``engine.transact`` / ``engine.save``); the store records them in the outbox table
(``core.message_table``) in the same transaction as the events. After the commit the outbox
delivers them at once through the notifiers (``civic_send_notification``, else the development
message file when it is on); one that fails stays pending and is tried again by ``civic tick`` and the
scheduler of ``civic serve``, with a growing pause, at most ``MAX_ATTEMPTS`` times; then (or at
once, when the notifier says it never will: ``DeliveryRefused``) it is dead: kept sealed, counted
for staff (``civic messages``), tried again only when staff ask. A process that dies between
commit and delivery leaves the message pending: the next dispatch, in any process, delivers it.

Nothing readable stays behind: a pending message's recipient and text are sealed under the
person's key (``core.privacy``, so forgetting the person makes them unreadable even in backups);
once delivered they are deleted and only the key remains, so that a retry of the same key is
never sent twice. ``forget`` deletes what is left of a person's messages.

Delivery is exactly once per key as long as the process does not die between a notifier's
accepting a message and the outbox recording it; in that window the message is tried again after
its claim expires, with the same key, which notifiers pass on as their idempotency key."""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import attrs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core import clock
from core.errors import RuleViolation
from core.message_table import DEAD, DELIVERED, DISCARDED, INSERT, PENDING, TABLE, OutboxRow
from core.notify import DeliveryFailed, DeliveryRefused, Message
from core.privacy import ERASED, is_envelope

if TYPE_CHECKING:
    from core.privacy import PersonalData
    from core.sidestore import SideStore

log = logging.getLogger("civic.messages")

FIRST_RETRY_SECONDS = 30.0
LONGEST_RETRY_SECONDS = 3600.0
# tries before a message is given up (dead): 30 s, 1 min, ... 32 min, 1 h, 1 h: about 3 h in all
MAX_ATTEMPTS = 10
# how long a dispatcher owns the messages it claimed; after that another may try them
CLAIM_SECONDS = 600.0
BATCH = 500
NONCE_BYTES = 12


def retry_delay(attempts: int) -> float:
    """The pause before the next try after ``attempts`` failed ones: 30 s, doubling, at most 1 h."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS)


@attrs.frozen
class Dispatched:
    """What one dispatch did."""

    delivered: int = 0
    failed: int = 0  # to be tried again
    dropped: int = 0  # the person was forgotten before delivery
    dead: int = 0  # given up: see ``civic messages``

    def lines(self) -> list[str]:
        out = []
        if self.delivered:
            out.append(f"messages: {self.delivered} delivered")
        if self.failed:
            out.append(f"messages: {self.failed} not delivered, to be tried again")
        if self.dead:
            out.append(f"messages: {self.dead} given up after failed tries; "
                       "'civic messages status' lists them, 'civic messages retry' sends them again")
        return out


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class MessageOutbox:
    """``engine.messages``: records, delivers and erases messages."""

    def __init__(self, side: SideStore, privacy: Callable[[], PersonalData], instance_key: Callable[[], bytes],
                 deliver: Callable[[Message], str], *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self._side = side
        self.max_attempts = max_attempts
        self._privacy = privacy
        self._instance_key = instance_key  # read only when a message names no person
        self._deliver = deliver

    @cached_property
    def _instance_cipher(self) -> AESGCM:
        return AESGCM(self._instance_key())

    # -- recording -----------------------------------------------------------------------
    def seal(self, message: Message) -> OutboxRow | None:
        """The row to record for a message, its recipient and text sealed; None when the person
        it goes to was forgotten (nothing to send)."""
        content = {"to": message.to, "text": message.text}
        if message.subject:
            try:
                sealed: Any = self._privacy().seal(message.subject, "message", content, where=f"message:{message.key}")
            except RuleViolation:  # forgotten: no message to them any more
                return None
        else:
            # no person named: sealed under an instance key, deleted on delivery like the rest
            nonce = os.urandom(NONCE_BYTES)
            plain = json.dumps(content, ensure_ascii=False).encode()
            ct = self._instance_cipher.encrypt(nonce, plain, message.key.encode())
            sealed = {"instance": base64.b64encode(nonce + ct).decode()}
        return OutboxRow(key=message.key, plugin=message.plugin, channel=message.channel, subject=message.subject,
                         sealed=json.dumps(sealed), created_at=clock.now().timestamp())

    def split(self, things: Iterable[Any]) -> tuple[list[Any], list[OutboxRow]]:
        """Aggregates stay as they are; messages become sealed rows for the store to record."""
        kept: list[Any] = []
        rows: list[OutboxRow] = []
        for thing in things:
            if isinstance(thing, Message):
                row = self.seal(thing)
                if row is not None:
                    rows.append(row)
            else:
                kept.append(thing)
        return kept, rows

    def _open(self, key: str, sealed: str) -> dict[str, str] | None:
        value = json.loads(sealed)
        if is_envelope(value):
            content = self._privacy().open(value, where=f"message:{key}")
            return None if content is ERASED else content
        raw = base64.b64decode(value["instance"])
        return json.loads(self._instance_cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key.encode()))

    # -- delivering ----------------------------------------------------------------------
    def dispatch(self, keys: Sequence[str] | None = None, *, limit: int = BATCH) -> Dispatched:
        """Deliver the messages due now (or only those of ``keys``, just committed), each
        claimed first so that two dispatchers never send the same one."""
        totals = [0, 0, 0, 0]
        while True:
            claim, rows = self._claim(keys, limit)
            if not rows:
                break
            outcome = self._deliver_rows(claim, rows)
            totals = [a + b for a, b in zip(totals, outcome, strict=True)]
            if keys is not None or len(rows) < limit:
                break
        return Dispatched(*totals)

    def _claim(self, keys: Sequence[str] | None, limit: int) -> tuple[str, list[dict[str, Any]]]:
        claim = uuid.uuid4().hex
        now = clock.now().timestamp()
        due = f"status = '{PENDING}' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
        with self._side.transaction() as cur:
            if keys is None:
                # the condition again outside: on PostgreSQL a dispatcher that waited for another's
                # claim re-checks the row it then sees, and leaves it to the other
                cur.execute(f"UPDATE {TABLE} SET claim = ?, claimed_until = ? WHERE {due} AND key IN "
                            f"(SELECT key FROM {TABLE} WHERE {due} ORDER BY next_attempt_at LIMIT ?)",
                            (claim, now + CLAIM_SECONDS, now, now, now, now, limit))
            else:
                for chunk in _chunks(list(keys), limit):
                    marks = ", ".join("?" for _ in chunk)
                    cur.execute(f"UPDATE {TABLE} SET claim = ?, claimed_until = ? WHERE {due} AND key IN ({marks})",
                                (claim, now + CLAIM_SECONDS, now, now, *chunk))
            rows = cur.execute(f"SELECT key, plugin, channel, subject, sealed, attempts FROM {TABLE} "
                               "WHERE claim = ? ORDER BY created_at, key", (claim,)).fetchall()
        return claim, rows

    def _failure(self, row: dict[str, Any], claim: str, reason: str, *, refused: bool = False) -> tuple[Any, ...]:
        """The row's update after a failed try: pending again later, or dead when refused for
        good or out of tries."""
        attempts = int(row["attempts"]) + 1
        status = DEAD if refused or attempts >= self.max_attempts else PENDING
        return (status, attempts, clock.now().timestamp() + retry_delay(attempts), reason[:200], row["key"], claim)

    def _deliver_rows(self, claim: str, rows: list[dict[str, Any]]) -> tuple[int, int, int, int]:
        done: list[tuple[Any, ...]] = []
        failures: list[tuple[Any, ...]] = []
        gone: list[tuple[Any, ...]] = []
        counts = [0, 0, 0, 0]

        def failed(update: tuple[Any, ...]) -> None:
            failures.append(update)
            counts[3 if update[0] == DEAD else 1] += 1

        for row in rows:
            try:
                content = self._open(row["key"], row["sealed"])
            except Exception as exc:  # e.g. the key store is missing: keep it, say why, go on
                log.error("message %s cannot be opened (%s)", row["key"], type(exc).__name__)
                failed(self._failure(row, claim, f"cannot be opened: {type(exc).__name__}"))
                continue
            if content is None:
                gone.append((row["key"], claim))
                counts[2] += 1
                continue
            message = Message(key=row["key"], channel=row["channel"], to=content["to"], text=content["text"],
                              plugin=row["plugin"], subject=row["subject"])
            try:
                reference = self._deliver(message)
            except Exception as exc:  # any notifier failure: the message waits for the next try
                reason = str(exc) if isinstance(exc, DeliveryFailed) else type(exc).__name__
                update = self._failure(row, claim, reason, refused=isinstance(exc, DeliveryRefused))
                if update[0] == DEAD:  # staff must act: say so where the operator looks
                    log.error("message %s given up (%s); see 'civic messages status'", row["key"], reason)
                else:
                    log.warning("message %s not delivered (%s); will retry", row["key"], reason)
                failed(update)
                continue
            done.append((clock.now().timestamp(), str(reference)[:200], row["key"], claim))
            counts[0] += 1
            if len(done) >= 100:  # recorded as it goes: a crash leaves at most this many to re-send
                self._record(done, failures, gone)
                done, failures, gone = [], [], []
        self._record(done, failures, gone)
        return counts[0], counts[1], counts[2], counts[3]

    def _record(self, done: list[tuple[Any, ...]], failures: list[tuple[Any, ...]],
                gone: list[tuple[Any, ...]]) -> None:
        if not (done or failures or gone):
            return
        with self._side.transaction() as cur:
            if done:
                # the recipient and the text go; the key stays, so the message is never sent again
                cur.executemany(f"UPDATE {TABLE} SET status = '{DELIVERED}', sealed = NULL, delivered_at = ?, "
                                "reference = ?, claim = NULL, claimed_until = NULL, last_error = NULL "
                                "WHERE key = ? AND claim = ?", done)
            if failures:
                cur.executemany(f"UPDATE {TABLE} SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
                                "claim = NULL, claimed_until = NULL WHERE key = ? AND claim = ?", failures)
            if gone:
                cur.executemany(f"DELETE FROM {TABLE} WHERE key = ? AND claim = ?", gone)

    # -- reading and erasing -------------------------------------------------------------
    def record(self, messages: Iterable[Message]) -> list[str]:
        """Record messages in their own transaction (for a sender with no event to save them
        with); a key already recorded is left alone. Returns the keys recorded or already there."""
        _, rows = self.split(messages)
        if rows:
            self._save_rows(rows)
        return [r.key for r in rows]

    def _save_rows(self, rows: Sequence[OutboxRow]) -> None:
        with self._side.transaction() as cur:
            cur.executemany(INSERT, [r.values() for r in rows])

    def status(self, key: str) -> dict[str, Any] | None:
        """A message's state: status, attempts, last_error, reference (never its content)."""
        with self._side.transaction(commit=False) as cur:
            return cur.execute(f"SELECT key, plugin, channel, status, attempts, next_attempt_at, last_error, "
                               f"delivered_at, reference FROM {TABLE} WHERE key = ?", (key,)).fetchone()

    def counts(self) -> dict[str, int]:
        """How many messages are pending and delivered (and dead or discarded, when any are)."""
        with self._side.transaction(commit=False) as cur:
            rows = cur.execute(f"SELECT status, COUNT(*) AS n FROM {TABLE} GROUP BY status").fetchall()
        return {PENDING: 0, DELIVERED: 0, **{r["status"]: int(r["n"]) for r in rows}}

    def dead(self) -> list[dict[str, Any]]:
        """The messages given up, oldest first: key, plugin, channel, tries, last error (never
        the recipient or the text)."""
        with self._side.transaction(commit=False) as cur:
            return cur.execute(f"SELECT key, plugin, channel, attempts, last_error, created_at FROM {TABLE} "
                               f"WHERE status = '{DEAD}' ORDER BY created_at, key").fetchall()

    def retry(self, keys: Sequence[str] | None = None) -> Dispatched:
        """Put dead messages (all, or those of ``keys``) back to pending with a fresh count of
        tries, and try them now."""
        revived = self._revive(keys)
        return self.dispatch(revived) if revived else Dispatched()

    def _revive(self, keys: Sequence[str] | None) -> list[str]:
        now = clock.now().timestamp()
        with self._side.transaction() as cur:
            wanted = self._dead_keys(cur, keys)
            cur.executemany(f"UPDATE {TABLE} SET status = '{PENDING}', attempts = 0, next_attempt_at = ? "
                            f"WHERE key = ? AND status = '{DEAD}'", [(now, k) for k in wanted])
        return wanted

    def discard(self, keys: Sequence[str] | None = None) -> int:
        """Give up dead messages (all, or those of ``keys``) for good: their recipient and text
        are deleted; the key stays, so the same message is never recorded and sent again."""
        with self._side.transaction() as cur:
            wanted = self._dead_keys(cur, keys)
            cur.executemany(f"UPDATE {TABLE} SET status = '{DISCARDED}', sealed = NULL "
                            f"WHERE key = ? AND status = '{DEAD}'", [(k,) for k in wanted])
        return len(wanted)

    def _dead_keys(self, cur: Any, keys: Sequence[str] | None) -> list[str]:
        rows = cur.execute(f"SELECT key FROM {TABLE} WHERE status = '{DEAD}' ORDER BY created_at, key").fetchall()
        dead = [r["key"] for r in rows]
        if keys is None:
            return dead
        unknown = sorted(set(keys) - set(dead))
        if unknown:
            raise RuleViolation(f"Not a message given up: {', '.join(unknown[:5])}.")
        return [k for k in dead if k in set(keys)]

    def forget(self, subject: str) -> int:
        """Delete every message to ``subject``, pending or delivered; returns how many."""
        with self._side.transaction() as cur:
            n = cur.execute(f"SELECT COUNT(*) AS n FROM {TABLE} WHERE subject = ?", (subject,)).fetchone()
            cur.execute(f"DELETE FROM {TABLE} WHERE subject = ?", (subject,))
        return int(n["n"]) if n else 0


__all__ = ["MAX_ATTEMPTS", "Dispatched", "MessageOutbox", "retry_delay"]
