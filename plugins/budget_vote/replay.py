"""Reading the budget cycles back from log records (``core.records.LogRecord``) and computing a
cycle's result from the ballots its box counted: the one way both the live tally and the
auditor's re-tally do it. Pure: values in, values out; the same ``rules`` functions decide."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from core.voting import lottery
from plugins.budget_vote import rules

DOMAIN_TOPIC = "plugins.budget_vote.domain:"
CYCLE = DOMAIN_TOPIC + "Cycle."
TIE_CONTEXT = "budget/tie-order"


def cycle_topic(name: str) -> str:
    return CYCLE + name


CYCLE_TOPICS = tuple(cycle_topic(n) for n in (
    "Opened", "Configured", "ProposalSubmitted", "ProposalScreened", "PhaseAdvanced", "ResultComputed",
    "ResultOverridden", "ResultValidated"))


@attrs.frozen
class CountedBallot:
    """A ballot the box counted, as its opening shows it: tracking code and content."""

    tracking_code: str
    choice: tuple[str, ...]
    channel: str

    @classmethod
    def from_content(cls, tracking_code: str, content: Any) -> CountedBallot:
        if not isinstance(content, dict) or not isinstance(content.get("choice"), list):
            raise ValueError("a budget ballot holds a choice list")
        return cls(tracking_code, tuple(content["choice"]), str(content.get("channel", "mobile")))


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
    result: tuple[int, dict[str, Any]] | None = None  # (position, payload)
    overrides: list[tuple[int, dict[str, Any]]] = attrs.field(factory=list)
    validated: tuple[int, dict[str, Any]] | None = None


def collect(records: Iterable[Any]) -> dict[str, CycleLog]:
    """Every budget cycle found in ``records`` (in log order)."""
    cycles: dict[str, CycleLog] = {}
    for r in records:
        topic = r.topic
        if not topic.startswith(CYCLE):
            continue
        p = r.payload
        event = topic[len(DOMAIN_TOPIC):]
        if event == "Cycle.Opened":
            cycles[r.originator_id] = CycleLog(r.originator_id, budget=p["budget"], name=p["name"],
                                               ballot_style=p["ballot_style"], rule=p["rule"],
                                               last_vote_counts=p["last_vote_counts"])
            continue
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
    return cycles


def compute_result(cycle: CycleLog, counted: Sequence[CountedBallot], seed: bytes) -> dict[str, Any]:
    """The result of a closed cycle from the ballots its box counted, with the rule and every
    input it used (what ``Cycle.record_result`` stores and what the audit compares).

    Ties follow the core's verifiable lottery: the seed committed when the box was made and
    revealed at tally, drawn over every project on the ballot, bound to the counted ballots."""
    digest = rules.ballots_digest(b.choice for b in counted)
    order = lottery.draw(seed, bytes.fromhex(digest), sorted(cycle.costs), TIE_CONTEXT)
    rule = rules.WinnerRule.from_dict(cycle.rule)
    ballots = [{p: 1 for p in b.choice} for b in counted]
    outcome = rules.compute_winners(rule, cycle.costs, cycle.budget, ballots, order)
    channels: dict[str, int] = {}
    for b in counted:
        channels[b.channel] = channels.get(b.channel, 0) + 1
    inputs = {
        "budget": cycle.budget,
        "costs": dict(sorted(cycle.costs.items(), key=lambda kv: _natural(kv[0]))),
        "ballot_style": cycle.ballot_style,
        "last_vote_counts": cycle.last_vote_counts,
        "ballots_counted": len(counted),
        "ballots_by_channel": dict(sorted(channels.items())),
        "ballots_digest": digest,
        "lottery": {"seed": seed.hex(), "root": digest, "context": TIE_CONTEXT},
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
