"""The one fold of field complaints: public log records (``LogRecord``) into the complaint index.

The live read model (``views.ComplaintIndex``), the auditor's re-tally (``audit.retally``) and the
report recount from an export all fold records with these functions, so what the system shows
and what an auditor recomputes from the log cannot drift apart. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from core import LogRecord, topic_of
from plugins.complaints import rules
from plugins.complaints.domain import Complaint, Inspection, Taxonomy

COMPLAINT_EVENTS = ("Received", "Transferred", "Accepted", "Reassigned", "Started", "Resolved", "Rejected",
                    "MarkedDuplicate", "PhotoAdded", "OverdueFlagged")
INSPECTION_EVENTS = ("Published",)
# topic -> (aggregate, event name), from the event classes themselves
EVENTS: dict[str, tuple[str, str]] = {
    topic_of(getattr(aggregate, name)): (aggregate.__name__, name)
    for aggregate, names in ((Taxonomy, rules.TAXONOMY_EVENTS), (Complaint, COMPLAINT_EVENTS),
                             (Inspection, INSPECTION_EVENTS))
    for name in names
}
COMPLAINT_EVENT_TYPES = tuple(getattr(Complaint, name) for name in COMPLAINT_EVENTS)
# what the store adds to every event's payload; the rest is what the event says
ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "id"})


class Fact(NamedTuple):
    """One of this plugin's records, read: which aggregate, which event, what it says, when."""

    aggregate: str
    name: str
    data: dict[str, Any]
    at: str


def fact_of(record: LogRecord) -> Fact | None:
    """The record as a fact of this plugin, or None for another plugin's record."""
    kind = EVENTS.get(record.topic)
    if kind is None:
        return None
    data = {k: v for k, v in record.payload.items() if k not in ENVELOPE}
    return Fact(kind[0], kind[1], data, data.get("at") or record.timestamp or "")


def empty_index() -> dict[str, Any]:
    """The read model's state: complaint id -> summary, and Open311 token -> complaint id."""
    return {"complaints": {}, "tokens": {}}


def fold_complaint(state: dict[str, Any], complaint_id: str, fact: Fact) -> None:
    """Fold one complaint fact into the index state, in place."""
    apply_complaint_event(state["complaints"], complaint_id, fact.name, fact.data, fact.at)
    if fact.name == "Received":
        state["tokens"][fact.data["token"]] = complaint_id


def fold_record(state: dict[str, Any], record: LogRecord) -> None:
    """Fold one record into the index state; records of other aggregates change nothing."""
    fact = fact_of(record)
    if fact is not None and fact.aggregate == "Complaint":
        fold_complaint(state, record.originator_id, fact)


def index_from_records(records: Iterable[LogRecord]) -> dict[str, dict[str, Any]]:
    """The complaint index refolded from log records (equal to the live read model's)."""
    state = empty_index()
    for record in records:
        fold_record(state, record)
    return state["complaints"]


def apply_complaint_event(index: dict[str, dict[str, Any]], cid: str, name: str, data: Mapping[str, Any],
                          at: str) -> None:
    """Fold one complaint event into the index (complaint id → summary), in place."""
    if name == "Received":
        index[cid] = {
            "id": cid,
            "token": data["token"],
            "channel": data["channel"],
            "item": data["item"],
            "field": data["field"],
            "department": data["department"],
            "dong": data["dong"],
            "address": data["address"],
            "lat": data["lat"],
            "long": data["long"],
            "description": data["description"],
            "photos": list(data["photos"]),
            "media_url": data.get("media_url"),
            "reporter": data["reporter"],
            "received_at": data["received_at"],
            "deadline": data["deadline"],
            "status": rules.RECEIVED,
            "officer": None,
            "updated_at": data["received_at"],
            "closed_at": None,
            "note": None,
            "duplicate_of": None,
            "duplicates": [],
            "overdue_flagged_at": None,
        }
        return
    entry = index.get(cid)
    if entry is None:
        return
    entry["updated_at"] = at
    if name in ("Transferred", "Reassigned"):
        entry["status"] = rules.TRANSFERRED
        entry["officer"] = data["officer"]
        entry["department"] = data["department"]
        entry["note"] = data.get("note")
    elif name == "Accepted":
        entry["status"] = rules.ACCEPTED
        entry["note"] = data.get("note")
    elif name == "Started":
        entry["status"] = rules.IN_PROGRESS
        entry["note"] = data.get("note")
    elif name in ("Resolved", "Rejected"):
        entry["status"] = rules.RESOLVED if name == "Resolved" else rules.REJECTED
        entry["closed_at"] = at
        entry["note"] = data.get("note")
    elif name == "MarkedDuplicate":
        entry["status"] = rules.DUPLICATE
        entry["closed_at"] = at
        entry["duplicate_of"] = data["original"]
        entry["note"] = data.get("note")
        original = index.get(data["original"])
        if original is not None:
            original["duplicates"].append(cid)
    elif name == "PhotoAdded":
        entry["photos"].append(data["photo"])
    elif name == "OverdueFlagged":
        entry["overdue_flagged_at"] = at
