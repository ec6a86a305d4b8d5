"""Helpers for the budget tests: a small cycle walked to the voting phase."""

from __future__ import annotations

from core.engine import Engine
from plugins.budget_vote import service

ADMIN = "test:admin"
COSTS = {"1": 60_000_000, "2": 50_000_000, "3": 30_000_000, "4": 20_000_000}


def voting_cycle(engine: Engine, *, name: str = "test cycle", budget: int = 100_000_000, costs=None,
                 ballot_style=None, rule=None, last_vote_counts: bool = True, infeasible: bool = True):
    costs = COSTS if costs is None else costs
    cycle = service.open_cycle(engine, name=name, budget=budget, ballot_style=ballot_style, rule=rule,
                               last_vote_counts=last_vote_counts, by=ADMIN)
    for pid in costs:
        service.submit_proposal(engine, cycle.id, title=f"project {pid}", dong="필동", category="안전",
                                proposer="resident", project_id=pid)
    if infeasible:
        service.submit_proposal(engine, cycle.id, title="too big", dong="명동", category="교통", proposer="council",
                                proposer_role="council_member", project_id="X")
    service.advance(engine, cycle.id, "screening", by=ADMIN)
    for pid, cost in costs.items():
        service.screen(engine, cycle.id, pid, feasible=True, cost=cost, reason="feasible", by=ADMIN)
    if infeasible:
        service.screen(engine, cycle.id, "X", feasible=False, cost=None, reason="not a district matter", by=ADMIN)
    service.advance(engine, cycle.id, "voting", by=ADMIN)
    return service.get_cycle(engine, cycle.id)


def vote(engine: Engine, cycle_id, voter: str, choice, **kw):
    return service.cast_ballot(engine, cycle_id, voter=voter, choice=list(choice), **kw)
