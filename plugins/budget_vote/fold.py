"""The one fold of the participatory budget: the cycles' log records (``LogRecord``) folded into
plain JSON state, one entry per cycle id.

The cycle summaries read model keeps this state as the log grows, the live tally folds a cycle's
records with it for the settings and costs it counts with, and the auditor's re-tally folds an
exported log with it: what is shown, what is tallied and what is re-checked come from one reading
of the log. Pure: records in, plain values out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from core import LogRecord, topic_of
from plugins.budget_vote.domain import Cycle
from plugins.budget_vote.rules import RESULT_FIELDS

Cycles = MutableMapping[str, dict[str, Any]]  # cycle id -> the cycle's folded state

# the parts of a recorded step the audit checks (the rest of a payload is bookkeeping)
OVERRIDE_FIELDS = ("action", "project_id", "reason", "winners")
VALIDATED_FIELDS = ("winners", "funded_total")


def _recorded(record: LogRecord, fields: Iterable[str]) -> dict[str, Any]:
    """A recorded step with its log position. A field missing from the record stays missing, so
    that the audit reports it instead of reading a default."""
    return {"position": record.position,
            "recorded": {f: record.payload[f] for f in fields if f in record.payload}}


def _opened(record: LogRecord) -> dict[str, Any]:
    p = record.payload
    return {"name": p["name"], "budget": p["budget"], "scope": p["scope"], "voting_opens": p["voting_opens"],
            "voting_closes": p["voting_closes"], "phase": "proposal", "proposals": 0,
            "ballot_style": p["ballot_style"], "rule": p["rule"], "last_vote_counts": p["last_vote_counts"],
            # what the amounts count: whole won, unless the cycle was imported from a file
            "currency": "KRW", "amount_decimals": 0,
            "costs": {},  # project id -> cost in won, for the projects on the ballot (screened feasible)
            "closed_at": None,  # position of the step to tallying: no result may come before it
            "result": None, "overrides": [], "validated": None}


def _configured(cycle: dict[str, Any], record: LogRecord) -> None:
    p = record.payload
    cycle.update(ballot_style=p["ballot_style"], rule=p["rule"], last_vote_counts=p["last_vote_counts"])


def _imported(cycle: dict[str, Any], record: LogRecord) -> None:
    cycle.update(currency=record.payload["currency"], amount_decimals=record.payload["amount_decimals"])


def _submitted(cycle: dict[str, Any], record: LogRecord) -> None:
    cycle["proposals"] += 1


def _screened(cycle: dict[str, Any], record: LogRecord) -> None:
    p = record.payload
    if p["feasible"]:
        cycle["costs"][p["project_id"]] = p["cost"]
    else:
        cycle["costs"].pop(p["project_id"], None)


def _withdrawn(cycle: dict[str, Any], record: LogRecord) -> None:
    cycle["proposals"] -= 1  # the proposals still in the cycle
    cycle["costs"].pop(record.payload["project_id"], None)


def _advanced(cycle: dict[str, Any], record: LogRecord) -> None:
    cycle["phase"] = record.payload["to"]
    if cycle["phase"] == "tallying":
        cycle["closed_at"] = record.position


def _result_computed(cycle: dict[str, Any], record: LogRecord) -> None:
    cycle["result"] = _recorded(record, RESULT_FIELDS)


def _overridden(cycle: dict[str, Any], record: LogRecord) -> None:
    cycle["overrides"].append(_recorded(record, OVERRIDE_FIELDS))


def _validated(cycle: dict[str, Any], record: LogRecord) -> None:
    cycle["phase"] = "published"
    cycle["validated"] = _recorded(record, VALIDATED_FIELDS)


_STEPS_BY_EVENT: dict[type, Callable[[dict[str, Any], LogRecord], None]] = {
    Cycle.Configured: _configured,
    Cycle.Imported: _imported,
    Cycle.ProposalSubmitted: _submitted,
    Cycle.ProposalScreened: _screened,
    Cycle.ProposalWithdrawn: _withdrawn,
    Cycle.PhaseAdvanced: _advanced,
    Cycle.ResultComputed: _result_computed,
    Cycle.ResultOverridden: _overridden,
    Cycle.ResultValidated: _validated,
}
# the events the fold reads (what to ask the store for)
CYCLE_EVENTS = (Cycle.Opened, *_STEPS_BY_EVENT)
OPENED = topic_of(Cycle.Opened)
_STEPS = {topic_of(cls): step for cls, step in _STEPS_BY_EVENT.items()}


def fold_record(cycles: Cycles, record: LogRecord) -> None:
    """Fold one record into ``cycles``; records that are not a budget cycle's are ignored."""
    if record.topic == OPENED:
        cycles[record.originator_id] = _opened(record)
        return
    step = _STEPS.get(record.topic)
    if step is None:
        return
    cycle = cycles.get(record.originator_id)
    if cycle is None:  # the cycle's opening is not among the records (a partial export)
        return
    step(cycle, record)


def fold(records: Iterable[LogRecord]) -> dict[str, dict[str, Any]]:
    """Every budget cycle found in ``records`` (in log order), folded."""
    cycles: dict[str, dict[str, Any]] = {}
    for record in records:
        fold_record(cycles, record)
    return cycles
