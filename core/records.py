"""The public shape of the log, as auditors and plugins' re-tallies read it."""

from __future__ import annotations

import json
from typing import Any

import attrs

_JSON = json.JSONDecoder()

# one event as read for its public record, its state as JSON bytes (decrypted at rest):
# position, originator id as text, version, topic, state
PlainRow = tuple[int, str, int, str, bytes]


def decode_state(plain: bytes) -> dict[str, Any]:
    """An event's state from its JSON bytes as the store's transcoder wrote them (UTF-8:
    decoding it here spares ``json.loads`` guessing)."""
    return _JSON.decode(plain.decode())


@attrs.frozen
class LogRecord:
    """One notification of the global log, decoded to plain JSON values.

    ``payload`` is the event's state exactly as the store's transcoder wrote it (custom values
    keep their ``{"_type_": ..., "_data_": ...}`` envelopes; personal data stays encrypted).
    """

    position: int
    originator_id: str
    originator_version: int
    topic: str
    payload: dict[str, Any]

    @classmethod
    def from_notification(cls, notification: Any, payload: dict[str, Any]) -> LogRecord:
        """The record of a store notification whose state decoded to ``payload``."""
        return cls(position=notification.id, originator_id=str(notification.originator_id),
                   originator_version=notification.originator_version, topic=notification.topic,
                   payload=payload)

    @property
    def event_name(self) -> str:
        """``module:Aggregate.Event`` → ``Aggregate.Event``."""
        return self.topic.rsplit(":", 1)[-1]

    @property
    def timestamp(self) -> str | None:
        stamp = self.payload.get("timestamp")
        if isinstance(stamp, dict):  # transcoded datetime envelope
            return stamp.get("_data_")
        return stamp


@attrs.frozen
class Discrepancy:
    position: int
    reason: str


@attrs.frozen
class RetallyReport:
    """What a plugin's audit re-tally found: how many recorded results it recomputed and every
    result that disagreed, with the log position that recorded it."""

    plugin: str
    checked: int
    discrepancies: tuple[Discrepancy, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.discrepancies
