"""THE fold of the plugin's log records into state: the read model shows it, the audit recounts
with it. Pure: records in, plain JSON state out."""

from __future__ import annotations

from typing import Any

from core import LogRecord, topic_of
from civic_petitions import rules
from civic_petitions.domain import Petition

OPENED, SUPPORTED = topic_of(Petition.Opened), topic_of(Petition.Supported)
TOPICS = (OPENED, SUPPORTED)


def apply(state: dict[str, Any], record: LogRecord) -> None:
    """Fold one record into ``state`` (petition id -> summary)."""
    payload = record.payload
    if record.topic == OPENED:
        state[record.originator_id] = {"title": payload["title"], "threshold": payload["threshold"],
                                       "supporters": 0, "must_answer": False, "reached_at": None}
    elif record.topic == SUPPORTED:
        petition = state[record.originator_id]
        petition["supporters"] += 1
        if petition["reached_at"] is None and rules.must_answer(petition["supporters"], petition["threshold"]):
            petition["must_answer"], petition["reached_at"] = True, record.position


def fold(records: Any) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for record in records:
        if record.topic in TOPICS:
            apply(state, record)
    return state
