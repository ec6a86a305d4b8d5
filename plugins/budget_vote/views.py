"""What the participatory budget shows: the cycle summaries read model (derived from the log;
``civic rebuild`` refolds it) and the views of one cycle, its projects and its result."""

from __future__ import annotations

import csv
import io
from typing import Any

from core import Engine, LogRecord, ReadModel, RuleViolation
from plugins.budget_vote.domain import Cycle

# what a project's "votes" count, named in the open data: ballots choosing it, unless the
# ballots give points (their sum) or rank projects (the Borda scores' sum)
SUPPORT_COLUMN = {"cumulative": "points", "scoring": "points", "ordinal": "borda_score"}
from plugins.budget_vote.fold import CYCLE_EVENTS, fold_record


class CycleSummaries(ReadModel):
    """Cycle id -> the cycle as the budget's fold reads it from the log. Shown as summaries: name,
    phase, budget, dates and proposal counts (no result: results are read from the cycle itself,
    which knows whether they are embargoed)."""

    name = "budget.cycles"
    version = 4  # 3: the state is the fold's (settings, costs and recorded steps too); 4: currency
    event_types = CYCLE_EVENTS
    from_records = True

    def apply(self, record: LogRecord, position: int) -> None:
        fold_record(self.state, record)

    @staticmethod
    def cycles(state: dict[str, Any]) -> dict[str, Any]:
        """The public summary of every cycle."""
        return {cid: {"name": c["name"], "budget": c["budget"], "scope": c["scope"],
                      "voting_opens": c["voting_opens"], "voting_closes": c["voting_closes"], "phase": c["phase"],
                      "proposals": c["proposals"], "on_ballot": len(c["costs"]),
                      "currency": c["currency"], "amount_decimals": c["amount_decimals"]}
                for cid, c in state.items()}


def cycle_summaries(engine: Engine) -> dict[str, Any]:
    """Every cycle's public summary, as the read model has it now."""
    return CycleSummaries.cycles(engine.read_models.get(CycleSummaries.name).state)


def amount_unit(cycle: Cycle) -> dict[str, Any]:
    """What the cycle's whole-number amounts count: won, or for a cycle imported from a file,
    units of 10**-amount_decimals of its currency (amount 10616564 with decimals 2: 106165.64)."""
    return {"currency": cycle.currency, "amount_decimals": cycle.amount_decimals}


def cycle_view(cycle: Cycle) -> dict[str, Any]:
    return {"id": str(cycle.id), "name": cycle.name, "budget": cycle.budget, **amount_unit(cycle), "scope": cycle.scope,
            "phase": cycle.phase, "voting_opens": cycle.voting_opens, "voting_closes": cycle.voting_closes,
            "ballot_style": cycle.ballot_style, "rule": cycle.rule, "last_vote_counts": cycle.last_vote_counts,
            # the proposer's name is personal data: not shown publicly
            "proposals": [{"project_id": pid, **{k: v for k, v in p.items() if k != "proposer"}}
                          for pid, p in cycle.proposals.items()],
            "result_validated": cycle.phase == "published"}


def ballot_projects(cycle: Cycle) -> list[dict[str, Any]]:
    """The projects on the ballot, with their costs."""
    return [{"project_id": pid, "title": cycle.proposals[pid]["title"], "description": cycle.proposals[pid]["description"],
             "dong": cycle.proposals[pid]["dong"], "category": cycle.proposals[pid]["category"], "cost": cost}
            for pid, cost in cycle.ballot_costs.items()]


def project_rows(cycle: Cycle) -> list[dict[str, Any]]:
    result = cycle.result or {}
    votes = result.get("votes", {})
    funded = set(result.get("final_winners", ()))
    rows = []
    for pid, p in cycle.proposals.items():
        rows.append({"project_id": pid, "title": p["title"], "dong": p["dong"], "category": p["category"],
                     "cost": p["cost"], "feasible": p["feasible"], "votes": votes.get(pid),
                     "funded": pid in funded if result else None})
    return rows


def public_result(cycle: Cycle) -> dict[str, Any]:
    """The published result (refused while embargoed)."""
    if cycle.phase != "published":
        raise RuleViolation("The result is embargoed until an official validates it.", phase=cycle.phase)
    return result_view(cycle)


def result_view(cycle: Cycle) -> dict[str, Any]:
    """The computed result, embargoed or not (for officials)."""
    if cycle.result is None:
        raise RuleViolation("The result of this cycle has not been computed yet.", phase=cycle.phase)
    r = cycle.result
    return {"cycle_id": str(cycle.id), "name": cycle.name, "phase": cycle.phase, "budget": cycle.budget,
            **amount_unit(cycle), "ballot_kind": cycle.style.kind,
            "rule": r["rule"], "inputs": r["inputs"], "computed_winners": r["winners"],
            "winners": r["final_winners"], "funded_total": sum(cycle.proposals[p]["cost"] for p in r["final_winners"]),
            "overrides": cycle.overrides, "validated_by": cycle.validated_by, "projects": project_rows(cycle)}


def open_data_csv(cycle: Cycle) -> str:
    """The published result's projects as CSV open data."""
    view = public_result(cycle)
    out = io.StringIO()
    support = SUPPORT_COLUMN.get(view["ballot_kind"], "votes")
    fields = ["project_id", "title", "dong", "category", "cost", "feasible", support, "funded"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in view["projects"]:
        row = {(support if k == "votes" else k): v for k, v in row.items()}
        # open data reads true/false, not Python's True/False
        writer.writerow({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()})
    return out.getvalue()
