"""The complaint index: one summary per complaint, folded from the log by ``rules``."""

from __future__ import annotations

from typing import Any

from core import ReadModel
from plugins.complaints import rules
from plugins.complaints.domain import Complaint

META = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "id"})


def event_facts(name: str, data: dict[str, Any], timestamp: str) -> tuple[str, dict[str, Any], str]:
    """(event name, its attributes, when it happened): the same whether read from a domain
    event or from a log record's payload."""
    facts = {k: v for k, v in data.items() if k not in META}
    return name, facts, facts.get("at") or timestamp


class ComplaintIndex(ReadModel):
    name = "complaints.index"
    version = 1
    event_types = tuple(getattr(Complaint, n) for n in rules.COMPLAINT_EVENTS)

    def empty(self) -> dict[str, Any]:
        return {"complaints": {}, "tokens": {}}

    def apply(self, event: Any, position: int) -> None:
        name, data, at = event_facts(type(event).__name__, event.__dict__, event.timestamp.isoformat())
        cid = str(event.originator_id)
        rules.apply_complaint_event(self.state["complaints"], cid, name, data, at)
        if name == "Received":
            self.state["tokens"][data["token"]] = cid
