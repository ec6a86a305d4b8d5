"""The complaint index: one summary per complaint (and Open311 tokens), folded from the log
records by ``fold``, the same fold the auditor's re-tally uses."""

from __future__ import annotations

from typing import Any

from core import LogRecord, ReadModel
from plugins.complaints.fold import COMPLAINT_EVENT_TYPES, empty_index, fold_record

INDEX = "complaints.index"


class ComplaintIndex(ReadModel):
    name = INDEX
    version = 1
    event_types = COMPLAINT_EVENT_TYPES
    from_records = True

    def empty(self) -> dict[str, Any]:
        return empty_index()

    def apply(self, record: LogRecord, position: int) -> None:
        fold_record(self.state, record)


def complaint_index(engine: Any) -> dict[str, Any]:
    """The index caught up with the log: ``{"complaints": {id: summary}, "tokens": {token: id}}``."""
    return engine.read_models.get(INDEX).state
