"""Messages to people (text messages, e-mail) and the local outbox that takes them when no
plugin delivers them."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Literal

import attrs


Channel = Literal["sms", "email"]


@attrs.frozen
class Message:
    """One message to deliver. ``key`` identifies it across retries so that a notifier can
    deliver it exactly once."""

    key: str
    channel: Channel
    to: str
    text: str
    plugin: str


class OutboxFileNotifier:
    """Writes each message as one JSON line to a local file (``CIVIC_OUTBOX``, default
    ``outbox.jsonl`` beside the database). It never writes the same key twice."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: set[str] | None = None

    def _load_seen(self) -> set[str]:
        seen: set[str] = set()
        if self.path.exists():
            with self.path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        seen.add(json.loads(line)["key"])
        return seen

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
