"""What a leaf of the ledger is: the public record of one notification, canonically encoded.

Leaf bytes are the RFC 8785 (JSON Canonicalization Scheme) encoding of
``{position, originator_id, originator_version, topic, timestamp, payload}``, the payload being
the event's state exactly as the store's transcoder wrote it. Personal data inside stays
encrypted by the privacy layer, so erasing a person's key never changes a leaf.
"""

from __future__ import annotations

from typing import Any

import attrs

from core.canonical import CanonicalizationError, canonical_json
from core.ledger.merkle import leaf_hash
from core.records import LogRecord

RECORD_FIELDS = ("position", "originator_id", "originator_version", "topic", "timestamp", "payload")


class LeafEncodingError(ValueError):
    """A record that RFC 8785 cannot encode (e.g. an integer beyond ±(2^53 − 1))."""


def public_record(record: LogRecord) -> dict[str, Any]:
    return {
        "position": record.position,
        "originator_id": record.originator_id,
        "originator_version": record.originator_version,
        "topic": record.topic,
        "timestamp": record.timestamp,
        "payload": record.payload,
    }


def log_record(public: dict[str, Any]) -> LogRecord:
    """The ``LogRecord`` a re-tally reads, from a public record (e.g. a line of an export)."""
    return LogRecord(
        position=public["position"],
        originator_id=public["originator_id"],
        originator_version=public["originator_version"],
        topic=public["topic"],
        payload=public["payload"],
    )


def leaf_bytes(public: dict[str, Any]) -> bytes:
    try:
        return canonical_json(public)
    except CanonicalizationError as exc:
        raise LeafEncodingError(
            f"position {public.get('position')}: the record cannot be canonicalised ({exc})"
        ) from None


def record_leaf_hash(public: dict[str, Any]) -> bytes:
    return leaf_hash(leaf_bytes(public))


def check_public_record(value: Any) -> dict[str, Any]:
    """``value`` if it has exactly the public record's fields with the right JSON types."""
    if not isinstance(value, dict) or set(value) != set(RECORD_FIELDS):
        raise ValueError(f"a record has exactly the fields {', '.join(RECORD_FIELDS)}")
    for name, kind in (("position", int), ("originator_version", int), ("originator_id", str),
                       ("topic", str), ("payload", dict)):
        if not isinstance(value[name], kind) or isinstance(value[name], bool):
            raise ValueError(f"record field {name!r} must be a JSON {kind.__name__}")
    if value["timestamp"] is not None and not isinstance(value["timestamp"], str):
        raise ValueError("record field 'timestamp' must be a string or null")
    return value


@attrs.frozen
class Entry:
    """One record as the verifier reads it, with what the export stated about it, if anything."""

    record: dict[str, Any]
    index: int | None = None
    leaf_hash: bytes | None = None
    # the record's JSON text exactly as the line holds it: when it hashes to the stated leaf
    # hash it is the canonical encoding, and need not be made again
    text: bytes | None = None
