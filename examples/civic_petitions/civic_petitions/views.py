"""The petition list, folded from the log with the plugin's one fold."""

from __future__ import annotations

from typing import Any

from core import ReadModel
from civic_petitions import fold
from civic_petitions.domain import Petition


class PetitionList(ReadModel):
    name = "petitions.list"
    event_types = (Petition.Opened, Petition.Supported)
    from_records = True  # apply() gets public log records, as the audit does

    def apply(self, record: Any, position: int) -> None:
        fold.apply(self.state, record)
