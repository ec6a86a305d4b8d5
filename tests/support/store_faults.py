"""A store that fails while writing events, after the outbox rows of the same transaction are
written: what a full disk does in the middle of a save."""

from __future__ import annotations

import sqlite3

import pytest
from eventsourcing.sqlite import SQLiteApplicationRecorder

from core.message_table import SQLiteOutboxRecorder


def disk_full(*args, **kwargs):
    raise sqlite3.OperationalError("database or disk is full")


def fail_event_inserts(patch: pytest.MonkeyPatch) -> None:
    """Every SQLite event insert fails: one event at a time (the recorder's own insert) and
    several in one statement (civic's)."""
    patch.setattr(SQLiteApplicationRecorder, "_insert_events", disk_full)
    patch.setattr(SQLiteOutboxRecorder, "_insert_together", disk_full)
