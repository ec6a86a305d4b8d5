"""The one fold of apartment elections: log records (position, originator, topic, JSON payload)
into plain JSON state, election by election.

The public listing (``views.ElectionList``, a read model fed with log records), the live close
and the auditor's re-tally (``audit``) all fold the log here, so what the system shows, what it
counts at close and what an auditor recomputes from an export cannot drift apart. Pure: no
engine, no clock.

One election's state::

    {"title", "complex", "status", "opens_at", "closes_at", "registration_deadline",
     "households": households on the roll at opening,
     "contests": {contest_id: {"kind", "title", "building", "rules",
                               "candidates": {candidate_id: {"name", "withdrawn"?}}}},
     "opened_at", "closed_at": log positions (or None),
     "results": {contest_id: {"position", "result", "ballots_up_to", "lottery"}},
     "roll": household -> building frozen at opening (None until then, or when not folded),
     "problems": [[position, what]] for events that do not fit (only in a changed log)}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core import LogRecord, topic_of
from plugins.apartment_vote.domain import CLOSED, DRAFT, OPEN, Election, ElectionRoll

ELECTION_EVENTS = (Election.Created, Election.ContestAdded, Election.RulesChanged, Election.CandidateRegistered,
                   Election.CandidateWithdrawn, Election.Opened, Election.Closed, Election.ResultRecorded)
ROLL_EVENTS = (ElectionRoll.Frozen,)
EVENTS = ELECTION_EVENTS + ROLL_EVENTS

State = dict[str, dict[str, Any]]


def fold(records: Iterable[LogRecord]) -> State:
    """Every election of the records, as their events say."""
    elections: State = {}
    for record in records:
        apply(elections, record)
    return elections


def apply(elections: State, record: LogRecord) -> None:
    """Fold one record into ``elections``; records of other kinds are ignored."""
    if record.topic == _CREATED:
        _created(elections, record)
    elif record.topic == _FROZEN:
        _roll_frozen(elections, record)
    elif record.topic in _ELECTION_STEPS:
        election = elections.get(record.originator_id)
        if election is None:
            return
        p = record.payload
        if record.topic != _CONTEST_ADDED and "contest_id" in p and p["contest_id"] not in election["contests"]:
            election["problems"].append([record.position,
                                         f"{record.event_name} for unknown contest {p['contest_id']}"])
            return
        _ELECTION_STEPS[record.topic](election, record)


def _created(elections: State, record: LogRecord) -> None:
    p = record.payload
    elections[record.originator_id] = {
        "title": p["title"], "complex": p["complex_code"], "status": DRAFT, "opens_at": p["opens_at"],
        "closes_at": p["closes_at"], "registration_deadline": p["registration_deadline"], "households": 0,
        "contests": {}, "opened_at": None, "closed_at": None, "results": {}, "roll": None, "problems": [],
    }


def _roll_frozen(elections: State, record: LogRecord) -> None:
    election = elections.get(record.payload["election_id"])
    if election is not None:
        election["roll"] = dict(record.payload["households"])


def _contest_added(election: dict[str, Any], record: LogRecord) -> None:
    p = record.payload
    election["contests"][p["contest_id"]] = {"kind": p["kind"], "title": p["title"], "building": p["building"],
                                             "rules": p["rules"], "candidates": {}}


def _rules_changed(election: dict[str, Any], record: LogRecord) -> None:
    election["contests"][record.payload["contest_id"]]["rules"] = record.payload["rules"]


def _candidate_registered(election: dict[str, Any], record: LogRecord) -> None:
    p = record.payload
    election["contests"][p["contest_id"]]["candidates"][p["candidate_id"]] = {"name": p["name"]}


def _candidate_withdrawn(election: dict[str, Any], record: LogRecord) -> None:
    p = record.payload
    candidate = election["contests"][p["contest_id"]]["candidates"].get(p["candidate_id"])
    if candidate is None:
        election["problems"].append([record.position, f"withdrawal of unknown candidate {p['candidate_id']}"])
    else:
        candidate["withdrawn"] = True


def _opened(election: dict[str, Any], record: LogRecord) -> None:
    election["status"] = OPEN
    election["households"] = record.payload["households"]
    election["opened_at"] = record.position


def _closed(election: dict[str, Any], record: LogRecord) -> None:
    election["status"] = CLOSED
    election["closed_at"] = record.position


def _result_recorded(election: dict[str, Any], record: LogRecord) -> None:
    p = record.payload
    election["results"][p["contest_id"]] = {"position": record.position, "result": p["result"],
                                            "ballots_up_to": p["ballots_up_to"], "lottery": p["lottery"]}


_CREATED, _CONTEST_ADDED = topic_of(Election.Created), topic_of(Election.ContestAdded)
_FROZEN = topic_of(ElectionRoll.Frozen)
# the events of an election after its creation: topic -> what each does to the election's state
_ELECTION_STEPS: dict[str, Callable[[dict[str, Any], LogRecord], None]] = {topic_of(cls): step for cls, step in (
    (Election.ContestAdded, _contest_added), (Election.RulesChanged, _rules_changed),
    (Election.CandidateRegistered, _candidate_registered), (Election.CandidateWithdrawn, _candidate_withdrawn),
    (Election.Opened, _opened), (Election.Closed, _closed), (Election.ResultRecorded, _result_recorded),
)}
