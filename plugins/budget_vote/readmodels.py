"""Read models of the participatory budget (derived from the log; ``civic rebuild`` refolds them)."""

from __future__ import annotations

from typing import Any

from core.readmodels import ReadModel
from plugins.budget_vote.domain import Ballot, Cycle


class CycleSummaries(ReadModel):
    """Cycle id -> name, phase, budget, dates and ballot counts (no result: results are read
    from the cycle itself, which knows whether they are embargoed)."""

    name = "budget.cycles"
    event_types = (Cycle.Opened, Cycle.PhaseAdvanced, Cycle.ProposalSubmitted, Cycle.ProposalScreened,
                   Cycle.ResultValidated, Ballot.Cast)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Cycle.Opened):
            self.state[key] = {"name": event.name, "budget": event.budget, "scope": event.scope,
                               "voting_opens": event.voting_opens, "voting_closes": event.voting_closes,
                               "phase": "proposal", "proposals": 0, "on_ballot": 0, "voters": 0, "paper": 0}
        elif isinstance(event, Cycle.PhaseAdvanced):
            self.state[key]["phase"] = event.to
        elif isinstance(event, Cycle.ResultValidated):
            self.state[key]["phase"] = "published"
        elif isinstance(event, Cycle.ProposalSubmitted):
            self.state[key]["proposals"] += 1
        elif isinstance(event, Cycle.ProposalScreened):
            feasible = self.state[key].setdefault("feasible", {})
            feasible[event.project_id] = event.feasible
            self.state[key]["on_ballot"] = sum(1 for f in feasible.values() if f)
        elif isinstance(event, Ballot.Cast):
            summary = self.state.get(event.cycle_id)
            if summary is not None:
                summary["voters"] += 1
                summary["paper"] += event.channel == "paper"

    @staticmethod
    def cycles(state: dict[str, Any]) -> dict[str, Any]:
        return {k: {f: v for f, v in s.items() if f != "feasible"} for k, s in state.items()}


class Receipts(ReadModel):
    """Tracking code -> the ballot it belongs to and where it sits in the log, so a voter can
    check the receipt without anyone learning who they are."""

    name = "budget.receipts"
    event_types = (Ballot.Cast, Ballot.Replaced)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Ballot.Cast):
            cycle_id = event.cycle_id
        else:
            previous = self.state.get("_latest", {}).get(key)
            if previous is None:
                return
            cycle_id = self.state[previous]["cycle_id"]
            self.state[previous]["superseded_at"] = position
        self.state[event.tracking_code] = {"cycle_id": cycle_id, "position": position, "channel": event.channel,
                                           "superseded_at": None}
        self.state.setdefault("_latest", {})[key] = event.tracking_code
