"""Read models of the participatory budget (derived from the log; ``civic rebuild`` refolds them)."""

from __future__ import annotations

from typing import Any

from core import LogRecord, ReadModel
from plugins.budget_vote.fold import CYCLE_EVENTS, fold_record


class CycleSummaries(ReadModel):
    """Cycle id -> the cycle as the budget's fold reads it from the log. Shown as summaries: name,
    phase, budget, dates and proposal counts (no result: results are read from the cycle itself,
    which knows whether they are embargoed)."""

    name = "budget.cycles"
    version = 3  # 3: the state is the fold's (settings, costs and recorded steps too)
    event_types = CYCLE_EVENTS
    from_records = True

    def apply(self, record: LogRecord, position: int) -> None:
        fold_record(self.state, record)

    @staticmethod
    def cycles(state: dict[str, Any]) -> dict[str, Any]:
        """The public summary of every cycle."""
        return {cid: {"name": c["name"], "budget": c["budget"], "scope": c["scope"],
                      "voting_opens": c["voting_opens"], "voting_closes": c["voting_closes"], "phase": c["phase"],
                      "proposals": c["proposals"], "on_ballot": len(c["costs"])}
                for cid, c in state.items()}
