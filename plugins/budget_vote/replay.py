"""Reading the budget cycles back from log records (``core.records.LogRecord``): the one way
both the live tally and the auditor's re-tally gather a cycle's inputs. Pure: records in,
values out; the same ``rules`` functions compute the result from them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import attrs

from plugins.budget_vote import rules

DOMAIN_TOPIC = "plugins.budget_vote.domain:"
CYCLE = DOMAIN_TOPIC + "Cycle."
BALLOT = DOMAIN_TOPIC + "Ballot."


def cycle_topic(name: str) -> str:
    return CYCLE + name


def ballot_topic(name: str) -> str:
    return BALLOT + name


CYCLE_TOPICS = tuple(cycle_topic(n) for n in (
    "Opened", "Configured", "ProposalSubmitted", "ProposalScreened", "PhaseAdvanced", "ResultComputed",
    "ResultOverridden", "ResultValidated"))
BALLOT_TOPICS = (ballot_topic("Cast"), ballot_topic("Replaced"))


@attrs.define
class CastRecord:
    position: int
    cycle_id: str
    voter: str
    choice: tuple[str, ...]
    channel: str
    tracking_code: str


@attrs.define
class CycleLog:
    cycle_id: str
    budget: int = 0
    name: str = ""
    ballot_style: dict[str, Any] = attrs.field(factory=dict)
    rule: dict[str, Any] = attrs.field(factory=dict)
    last_vote_counts: bool = True
    costs: dict[str, int] = attrs.field(factory=dict)  # feasible projects
    close_position: int | None = None
    casts: list[CastRecord] = attrs.field(factory=list)
    result: tuple[int, dict[str, Any]] | None = None  # (position, payload)
    overrides: list[tuple[int, dict[str, Any]]] = attrs.field(factory=list)
    validated: tuple[int, dict[str, Any]] | None = None


def collect(records: Iterable[Any]) -> dict[str, CycleLog]:
    """Every budget cycle found in ``records`` (in log order)."""
    cycles: dict[str, CycleLog] = {}
    ballot_owner: dict[str, tuple[str, str]] = {}  # ballot aggregate id -> (cycle id, voter)
    for r in records:
        topic = r.topic
        if not topic.startswith(DOMAIN_TOPIC):
            continue
        p = r.payload
        event = topic[len(DOMAIN_TOPIC):]
        if event == "Cycle.Opened":
            cycles[r.originator_id] = CycleLog(r.originator_id, budget=p["budget"], name=p["name"],
                                               ballot_style=p["ballot_style"], rule=p["rule"],
                                               last_vote_counts=p["last_vote_counts"])
            continue
        if event.startswith("Cycle."):
            c = cycles.get(r.originator_id)
            if c is None:
                continue
            if event == "Cycle.Configured":
                c.ballot_style, c.rule, c.last_vote_counts = p["ballot_style"], p["rule"], p["last_vote_counts"]
            elif event == "Cycle.ProposalScreened":
                if p["feasible"]:
                    c.costs[p["project_id"]] = p["cost"]
                else:
                    c.costs.pop(p["project_id"], None)
            elif event == "Cycle.PhaseAdvanced" and p["to"] == "tallying":
                c.close_position = r.position
            elif event == "Cycle.ResultComputed":
                c.result = (r.position, p)
            elif event == "Cycle.ResultOverridden":
                c.overrides.append((r.position, p))
            elif event == "Cycle.ResultValidated":
                c.validated = (r.position, p)
        elif event == "Ballot.Cast":
            ballot_owner[r.originator_id] = (p["cycle_id"], p["voter"])
            _add_cast(cycles, r.position, p["cycle_id"], p["voter"], p)
        elif event == "Ballot.Replaced":
            owner = ballot_owner.get(r.originator_id)
            if owner is not None:
                _add_cast(cycles, r.position, owner[0], owner[1], p)
    return cycles


def _add_cast(cycles: dict[str, CycleLog], position: int, cycle_id: str, voter: str, p: dict[str, Any]) -> None:
    c = cycles.get(cycle_id)
    if c is not None:
        c.casts.append(CastRecord(position, cycle_id, voter, tuple(p["choice"]), p["channel"], p["tracking_code"]))


def counted_casts(cycle: CycleLog) -> dict[str, CastRecord]:
    """Voter -> the cast that counts: recorded before voting closed; the last one (or the first,
    when the cycle does not let a vote be replaced)."""
    counted: dict[str, CastRecord] = {}
    for cast in cycle.casts:
        if cycle.close_position is not None and cast.position > cycle.close_position:
            continue
        if cycle.last_vote_counts or cast.voter not in counted:
            counted[cast.voter] = cast
    return counted


def tie_seed(cycle_id: str, digest: str) -> bytes:
    """Public seed of the tie-break lottery: fixed by the counted ballots themselves once voting
    has closed, so no official can choose it and anyone can recompute it."""
    return hashlib.sha256(f"civic/budget/tie/{cycle_id}/{digest}".encode()).digest()


def compute_result(cycle: CycleLog) -> dict[str, Any]:
    """The result of a closed cycle, with the rule and every input it used (what
    ``Cycle.record_result`` stores and what the audit compares)."""
    counted = counted_casts(cycle)
    digest = rules.ballots_digest((v, c.choice) for v, c in counted.items())
    seed = tie_seed(cycle.cycle_id, digest)
    order = rules.tie_order_from_seed(seed, cycle.costs)
    rule = rules.WinnerRule.from_dict(cycle.rule)
    ballots = [{p: 1 for p in c.choice} for c in counted.values()]
    outcome = rules.compute_winners(rule, cycle.costs, cycle.budget, ballots, order)
    channels: dict[str, int] = {}
    for c in counted.values():
        channels[c.channel] = channels.get(c.channel, 0) + 1
    inputs = {
        "budget": cycle.budget,
        "costs": dict(sorted(cycle.costs.items(), key=lambda kv: _natural(kv[0]))),
        "ballot_style": cycle.ballot_style,
        "last_vote_counts": cycle.last_vote_counts,
        "close_position": cycle.close_position,
        "ballots_counted": len(counted),
        "ballots_by_channel": dict(sorted(channels.items())),
        "ballots_digest": digest,
        "tie_seed": seed.hex(),
        "tie_order": order,
    }
    return {"rule": rule.as_dict(), "inputs": inputs, "winners": list(outcome.winners),
            "funded_total": outcome.funded_total, "votes": dict(outcome.votes)}


def _natural(project_id: str) -> tuple[int, str]:
    return (int(project_id), "") if project_id.isdigit() else (1 << 62, project_id)


RESULT_FIELDS = ("rule", "inputs", "winners", "funded_total", "votes")


def compare(recorded: dict[str, Any], recomputed: dict[str, Any]) -> list[str]:
    """What differs between a recorded result and the recount (empty when they agree)."""
    problems = []
    for field in RESULT_FIELDS:
        if recorded.get(field) != recomputed[field]:
            problems.append(f"{field} differ from the recount")
    return problems


def final_winners(cycle: CycleLog) -> tuple[list[str], list[str]]:
    """The winners after the recorded overrides, and the problems found applying them."""
    if cycle.result is None:
        return [], []
    winners = list(cycle.result[1]["winners"])
    problems = []
    all_costs = dict(cycle.costs)
    for position, o in cycle.overrides:
        try:
            winners = list(rules.apply_overrides(winners, [(o["action"], o["project_id"])], all_costs, cycle.budget))
        except Exception as exc:  # noqa: BLE001 - any refusal is a discrepancy to report
            problems.append(f"override at {position} is not valid: {exc}")
            continue
        if list(o.get("winners", winners)) != winners:
            problems.append(f"override at {position} records winners that differ from applying it")
        if len((o.get("reason") or "").strip()) < 10:
            problems.append(f"override at {position} has no written reason")
    return winners, problems
