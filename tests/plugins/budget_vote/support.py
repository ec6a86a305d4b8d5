"""Helpers for the budget tests: a small cycle walked to the voting phase, with a voter roll."""

from __future__ import annotations

from core.engine import Engine
from core.voting import VotingKit
from plugins.budget_vote import service

ADMIN = "test:admin"
COSTS = {"1": 60_000_000, "2": 50_000_000, "3": 30_000_000, "4": 20_000_000}
ROLL = [f"v{i}" for i in range(40)] + list("abcdefgh") + [f"g{i}" for i in range(6)] + [f"paper-{i}" for i in range(4)]


def roll_csv(entries=ROLL) -> str:
    return "entry_id,contact,group\n" + "".join(f"{e},{e}@example.org,필동\n" for e in entries)


def prepared_cycle(engine: Engine, *, name: str = "test cycle", budget: int = 100_000_000, costs=None,
                   ballot_style=None, rule=None, last_vote_counts: bool = True, infeasible: bool = True,
                   voting_opens=None, voting_closes=None):
    """A cycle screened and with its roll, still in the screening phase."""
    costs = COSTS if costs is None else costs
    cycle = service.open_cycle(engine, name=name, budget=budget, ballot_style=ballot_style, rule=rule,
                               last_vote_counts=last_vote_counts, voting_opens=voting_opens,
                               voting_closes=voting_closes, by=ADMIN)
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
    service.import_roll(engine, cycle.id, roll_csv())
    return service.get_cycle(engine, cycle.id)


def voting_cycle(engine: Engine, **kw):
    cycle = prepared_cycle(engine, **kw)
    service.advance(engine, cycle.id, "voting", by=ADMIN)
    return service.get_cycle(engine, cycle.id)


def credential(engine: Engine, cycle_id, voter: str) -> str:
    """The voter's ballot credential (checked in person by a test official, once)."""
    known = engine.kept("tests.budget_vote.credentials", dict)
    key = (str(cycle_id), voter)
    if key not in known:
        known[key] = VotingKit(engine).issue_credential_in_person(cycle_id, voter, by=ADMIN).token
    return known[key]


def vote(engine: Engine, cycle_id, voter: str, choice):
    return service.cast_ballot(engine, cycle_id, credential=credential(engine, cycle_id, voter), choice=list(choice))
