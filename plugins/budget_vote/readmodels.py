"""Read models of the participatory budget (derived from the log; ``civic rebuild`` refolds them)."""

from __future__ import annotations

from typing import Any

from core import ReadModel
from plugins.budget_vote.domain import Cycle


class CycleSummaries(ReadModel):
    """Cycle id -> name, phase, budget, dates and proposal counts (no result: results are read
    from the cycle itself, which knows whether they are embargoed)."""

    name = "budget.cycles"
    version = 2
    event_types = (Cycle.Opened, Cycle.PhaseAdvanced, Cycle.ProposalSubmitted, Cycle.ProposalScreened,
                   Cycle.ResultValidated)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Cycle.Opened):
            self.state[key] = {"name": event.name, "budget": event.budget, "scope": event.scope,
                               "voting_opens": event.voting_opens, "voting_closes": event.voting_closes,
                               "phase": "proposal", "proposals": 0, "on_ballot": 0, "feasible": {}}
        elif isinstance(event, Cycle.PhaseAdvanced):
            self.state[key]["phase"] = event.to
        elif isinstance(event, Cycle.ResultValidated):
            self.state[key]["phase"] = "published"
        elif isinstance(event, Cycle.ProposalSubmitted):
            self.state[key]["proposals"] += 1
        elif isinstance(event, Cycle.ProposalScreened):
            feasible = self.state[key]["feasible"]
            feasible[event.project_id] = event.feasible
            self.state[key]["on_ballot"] = sum(1 for f in feasible.values() if f)

    @staticmethod
    def cycles(state: dict[str, Any]) -> dict[str, Any]:
        return {k: {f: v for f, v in s.items() if f != "feasible"} for k, s in state.items()}
