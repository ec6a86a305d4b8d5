"""Messages to people (text messages, e-mail), and the development message file that takes them
when no notifier delivers them.

The file is a stand-in for a real SMS gateway or mail server on a developer's machine: it holds
every message it took in plain text (phone numbers, one-time codes) until ``forget`` removes a
person's lines. It is off unless asked for (``CIVIC_OUTBOX``, or the engine's ``outbox=``;
``civic demo`` and ``make run`` ask for it): off, a message no notifier takes stays pending in
the store's outbox (``core.messages``), sealed, instead of landing on disk in clear."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Literal

import attrs


Channel = Literal["sms", "email"]

OUTBOX_ENV = "CIVIC_OUTBOX"
_OFF = ("", "off", "none", "0", "no", "false")
_ON = ("on", "1", "yes", "true")


def development_file_path(setting: str | os.PathLike[str] | None, default: str | os.PathLike[str]) -> str | None:
    """Where the development message file goes: ``setting`` is a path, or "on" for ``default``;
    None (not set) or "off" turn it off."""
    if setting is None:
        return None
    text = str(setting).strip()
    if text.lower() in _OFF:
        return None
    return str(default) if text.lower() in _ON else text


@attrs.frozen
class Message:
    """One message to deliver. ``key`` identifies it across retries so that a notifier can
    deliver it exactly once. ``subject`` is the person it goes to (``core.privacy``): the
    outbox seals the message under that person's key, and forgetting them erases it."""

    key: str
    channel: Channel
    to: str
    text: str
    plugin: str
    subject: str | None = None


class DeliveryFailed(Exception):
    """A notifier could not deliver a message now; the outbox tries again later. The reason is
    kept with the pending message, so it must not contain the recipient or the text."""


class DeliveryRefused(DeliveryFailed):
    """A notifier was told the message will never be accepted (a malformed number, a refused
    recipient): the outbox does not try it again by itself; it waits, sealed, for staff."""


class NoNotifier(DeliveryFailed):
    """No notifier took the message and the development message file is off."""


class OutboxFileNotifier:
    """The development message file: writes each message as one JSON line to a local file
    (``CIVIC_OUTBOX``; "on" means ``<db>.outbox.jsonl``), in plain text. It never writes the
    same key twice. Not for a live instance."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: set[str] | None = None

    def _load_seen(self) -> set[str]:
        return {line["key"] for line in self.sent()}

    def send(self, notification: Message) -> str:
        with self._lock:
            if self._seen is None:
                self._seen = self._load_seen()
            if notification.key not in self._seen:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # messages carry phone numbers and one-time codes: owner-only, like the secrets
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(attrs.asdict(notification), ensure_ascii=False) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                self._seen.add(notification.key)
            return f"outbox:{notification.key}"

    def sent(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def forget(self, subject: str) -> int:
        """Remove every message to ``subject`` from the file (rewritten whole, then renamed over
        the old one); returns how many were removed."""
        with self._lock:
            lines = self.sent()
            kept = [line for line in lines if line.get("subject") != subject]
            if len(kept) == len(lines):
                return 0
            temporary = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in kept)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, self.path)
            # the keys stay "seen": a retry of a forgotten person's message is not written again
            return len(lines) - len(kept)
