"""The one fold of the committee's log records into plain state.

The read models (``views``) and the auditor's re-tally (``audit``) both read the log through
these steps, so what the public sees and what the auditor recomputes cannot drift apart. The
state has five sections, each a plain JSON dict:

- ``committee``: members and their public keys, routing rules, quorum rule and schedule in force;
- ``applications``: application id → its row (status, route, sessions, outcome, notice time);
- ``sessions``: session id → its row (week, times, roster, agenda with who has acted, results);
- ``rosters``: session id → member → public key, fixed when the session opened;
- ``threads``: deliberation id → its session, application, roster, recusals and votes.

A read model keeps one section (``applications`` or ``sessions``) and folds only its events. A
step whose parent row is missing (possible only in a damaged export) changes nothing; the audit
names such records. Pure: no I/O, no clock; times come from the records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import LogRecord, topic_of
from plugins.ad_review.domain import Application, Committee, Deliberation, Session

State = dict[str, Any]
Step = Callable[[State, LogRecord], None]


def iso(value: Any) -> str:
    """A recorded datetime as ISO text (records keep datetimes in a ``{"_type_", "_data_"}`` envelope)."""
    return value["_data_"] if isinstance(value, dict) else value


# -- committee ----------------------------------------------------------------------------------


def _constituted(committee: State, r: LogRecord) -> None:
    p = r.payload
    committee.update(routing=p["routing"], quorum=p["quorum"], schedule=p["schedule"])


def _member_joined(committee: State, r: LogRecord) -> None:
    committee["members"][r.payload["member_id"]] = r.payload["public_key"]


def _member_left(committee: State, r: LogRecord) -> None:
    committee["members"].pop(r.payload["member_id"], None)


def _setting(key: str) -> Step:
    def step(committee: State, r: LogRecord) -> None:
        committee[key] = r.payload[key]

    return step


# -- applications -------------------------------------------------------------------------------


def _submitted(applications: State, r: LogRecord) -> None:
    p = r.payload
    a, route = p["application"], p["route"]
    applications[r.originator_id] = {
        "status": "queued" if route["committee"] == "small" else "referred",
        "committee": route["committee"], "rule_id": route["rule_id"],
        "rule": route["rule"], "sign_type": a["sign_type"], "illumination": a["illumination"],
        "dong": a["location"]["dong"], "address": a["location"]["address"],
        "business": a["applicant"].get("business"), "area_m2": a["size"]["area_m2"],
        "attachments": a["attachments"], "submitted_at": r.timestamp,
        "sessions": [], "session": None, "rollovers": [], "outcome": None, "reasons": [],
        "conditions": [], "noticed_at": None, "notice_sent": False, "position": r.position,
    }


def _application_step(change: Callable[[State, LogRecord], None]) -> Step:
    """A step on an existing application row, which also records the position of its last event."""

    def step(applications: State, r: LogRecord) -> None:
        row = applications.get(r.originator_id)
        if row is not None:
            row["position"] = r.position
            change(row, r)

    return step


def _scheduled(row: State, r: LogRecord) -> None:
    row.update(status="in_session", session=r.payload["session"])
    row["sessions"].append(r.payload["week"])


def _rolled_over(row: State, r: LogRecord) -> None:
    row.update(status="queued", session=None)
    row["rollovers"].append({"session": r.payload["session"], "outcome": r.payload["outcome"]})


def _decided(row: State, r: LogRecord) -> None:
    p = r.payload
    row.update(status="decided", outcome=p["outcome"], reasons=p["reasons"], conditions=p["conditions"],
               noticed_at=r.timestamp, decided_by=p["committee"], session=p["session"])


def _notice_sent(row: State, r: LogRecord) -> None:
    row["notice_sent"] = True


# -- sessions -----------------------------------------------------------------------------------


def _session_opened(sessions: State, r: LogRecord) -> None:
    p = r.payload
    sessions[r.originator_id] = {
        "week": p["week"], "status": "open", "opens_at": iso(p["opens_at"]),
        "intake_until": iso(p["intake_until"]), "closes_at": iso(p["closes_at"]),
        "members": sorted(p["members"]), "quorum": p["quorum"], "items": {}, "results": None,
        "opened_by": p["by"],
    }


def _application_added(sessions: State, r: LogRecord) -> None:
    session = sessions.get(r.originator_id)
    if session is not None:
        session["items"][r.payload["application"]] = {"decided": [], "recused": [], "comments": 0}


def _session_closed(sessions: State, r: LogRecord) -> None:
    session = sessions.get(r.originator_id)
    if session is not None:
        session.update(status="closed", results=r.payload["results"], closed_at=r.timestamp)


def _agenda_item_step(change: Callable[[State, str], None]) -> Step:
    """A member's act, counted on the agenda item it names."""

    def step(sessions: State, r: LogRecord) -> None:
        p = r.payload
        item = sessions.get(p["session"], {}).get("items", {}).get(p["application"])
        if item is not None:
            change(item, p["member"])

    return step


def _counted_comment(item: State, member: str) -> None:
    item["comments"] += 1


def _listed_recusal(item: State, member: str) -> None:
    item["recused"].append(member)


def _listed_decision(item: State, member: str) -> None:
    item["decided"].append(member)


# -- rosters and threads ------------------------------------------------------------------------


def _roster(rosters: State, r: LogRecord) -> None:
    rosters[r.originator_id] = dict(r.payload["members"])


def _thread_opened(threads: State, r: LogRecord) -> None:
    p = r.payload
    threads[r.originator_id] = {"session": p["session"], "application": p["application"],
                                "members": p["members"], "recusals": [], "votes": {}, "closed": False}


def _thread_step(change: Callable[[State, dict[str, Any]], None]) -> Step:
    def step(threads: State, r: LogRecord) -> None:
        thread = threads.get(r.originator_id)
        if thread is not None:
            change(thread, r.payload)

    return step


def _thread_recusal(thread: State, p: dict[str, Any]) -> None:
    thread["recusals"].append(p["member"])


def _thread_vote(thread: State, p: dict[str, Any]) -> None:
    thread["votes"][p["member"]] = {"decision": p["decision"], "reasons": p["reasons"],
                                    "conditions": p["conditions"]}


def _thread_closed(thread: State, p: dict[str, Any]) -> None:
    thread["closed"] = True


# -- the table ----------------------------------------------------------------------------------

# section → event class → step, in the order a record's steps run
STEPS: dict[str, dict[type, Step]] = {
    "committee": {
        Committee.Constituted: _constituted,
        Committee.MemberJoined: _member_joined,
        Committee.MemberLeft: _member_left,
        Committee.RoutingSet: _setting("routing"),
        Committee.QuorumSet: _setting("quorum"),
        Committee.ScheduleSet: _setting("schedule"),
    },
    "applications": {
        Application.Submitted: _submitted,
        Application.Scheduled: _application_step(_scheduled),
        Application.Decided: _application_step(_decided),
        Application.RolledOver: _application_step(_rolled_over),
        Application.NoticeSent: _application_step(_notice_sent),
    },
    "sessions": {
        Session.Opened: _session_opened,
        Session.ApplicationAdded: _application_added,
        Session.Closed: _session_closed,
        Deliberation.Commented: _agenda_item_step(_counted_comment),
        Deliberation.Recused: _agenda_item_step(_listed_recusal),
        Deliberation.DecisionCast: _agenda_item_step(_listed_decision),
    },
    "rosters": {
        Session.Opened: _roster,
    },
    "threads": {
        Deliberation.Opened: _thread_opened,
        Deliberation.Recused: _thread_step(_thread_recusal),
        Deliberation.DecisionCast: _thread_step(_thread_vote),
        Deliberation.Closed: _thread_step(_thread_closed),
    },
}
_BY_TOPIC: dict[str, dict[str, Step]] = {
    section: {topic_of(cls): step for cls, step in steps.items()} for section, steps in STEPS.items()
}
# every event the plugin records
TOPICS: frozenset[str] = frozenset(topic for steps in _BY_TOPIC.values() for topic in steps)


def event_types(section: str) -> tuple[type, ...]:
    """The event classes a section folds (what its read model follows)."""
    return tuple(STEPS[section])


def empty() -> State:
    return {"committee": {"members": {}, "routing": [], "quorum": {}, "schedule": {}},
            "applications": {}, "sessions": {}, "rosters": {}, "threads": {}}


def fold_section(section: str, state: State, record: LogRecord) -> None:
    """Fold one record into one section's state (a read model's whole state)."""
    step = _BY_TOPIC[section].get(record.topic)
    if step is not None:
        step(state, record)


def fold(state: State, record: LogRecord) -> None:
    """Fold one record into every section of ``state`` (from ``empty()``)."""
    for section in _BY_TOPIC:
        fold_section(section, state[section], record)
