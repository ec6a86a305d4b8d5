"""Pabulib files (https://pabulib.org) in and out of the participatory budget: a cycle's counted
ballots exported, an approval file imported as a closed cycle, any file tallied directly. The
file format itself is ``pabulib.py``; the cycle's commands are ``service.py``."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from core import Engine, InvalidInput, RuleViolation
from core.voting import VotingKit
from plugins.budget_vote import pabulib, rules
from plugins.budget_vote.domain import Cycle
from plugins.budget_vote.service import (advance, ballot_check, counted_ballots, get_cycle, import_roll, open_cycle,
                                         screen, submit_proposal, tally)


def export_pb(engine: Engine, cycle_id: UUID | str) -> str:
    """The cycle's counted ballots as a Pabulib file (only once voting has closed)."""
    cycle = get_cycle(engine, cycle_id)
    if cycle.phase not in ("tallying", "published"):
        raise RuleViolation("Ballots are exported only after voting has closed.", phase=cycle.phase)
    counted = counted_ballots(engine, cycle.id)
    style = cycle.style
    meta = {"description": cycle.name, "country": "South Korea", "unit": "Jung-gu, Seoul",
            "instance": cycle.name, "budget": str(cycle.budget), "vote_type": "approval",
            "rule": "greedy" if cycle.winner_rule.name == "greedy" else "equalshares"}
    meta["min_length"] = str(style.min_projects)
    if style.max_projects is not None:
        meta["max_length"] = str(style.max_projects)
    if style.kind == "knapsack":
        meta["max_sum_cost"] = str(style.cost_limit if style.cost_limit is not None else cycle.budget)
    votes = rules.vote_counts(cycle.ballot_costs, ({p: 1 for p in c.choice} for c in counted))
    winners = set(cycle.result["final_winners"]) if cycle.result else None
    projects = []
    for pid, cost in sorted(cycle.ballot_costs.items(), key=lambda kv: rules.natural_order(kv[0])):
        p = cycle.proposals[pid]
        fields = {"name": p["title"], "category": p["category"], "votes": str(votes[pid])}
        if winners is not None:
            fields["selected"] = "1" if pid in winners else "0"
        projects.append(pabulib.PbProject(pid, cost, fields))
    ballots = [pabulib.PbVote(str(i), {p: 1 for p in c.choice},
                              {"voting_method": "paper" if c.channel == "paper" else "internet"})
               for i, c in enumerate(sorted(counted, key=lambda c: c.tracking_code), start=1)]
    return pabulib.render(pabulib.PbElection(meta, projects, ballots))


def import_pb(engine: Engine, text: str, *, name: str | None = None, by: str,
              rule: dict[str, Any] | None = None) -> Cycle:
    """A closed cycle from a Pabulib approval file: projects, screening and ballots as events,
    then voting closed and the result computed (embargoed until an official validates it)."""
    election = pabulib.parse(text)
    if election.vote_type != "approval":
        raise InvalidInput("Only approval Pabulib files become cycles; use `civic budget tally --pb` for "
                           f"{election.vote_type} files.")
    meta = election.meta
    style: dict[str, Any] = {"kind": "approval", "min_projects": int(meta.get("min_length", 0) or 0)}
    if meta.get("max_length"):
        style["max_projects"] = int(meta["max_length"])
    if meta.get("max_sum_cost"):
        style["kind"] = "knapsack"
        style["cost_limit"] = pabulib.whole_amount("max_sum_cost", meta["max_sum_cost"])
    if rule is None:
        rule = {"name": "equal-shares" if "equal" in meta.get("rule", "").lower() else "greedy"}
    name = name or meta.get("instance") or meta.get("description") or "imported"
    budget = election.budget
    for p in election.projects:
        if p.cost > budget:
            raise InvalidInput(f"Project {p.project_id} costs more than the whole budget.")
    if not election.votes:
        raise InvalidInput("Pabulib: the file has no votes to import.")
    # every ballot is checked before anything is stored: a bad file changes nothing
    checked_style, costs = rules.BallotStyle.from_dict(style), election.costs
    for v in election.votes:
        try:
            rules.validate_choice(checked_style, costs, budget, list(v.points))
        except InvalidInput as exc:
            raise InvalidInput(f"Pabulib: voter {v.voter_id}: {exc.detail}", **exc.extra) from None
    cycle = open_cycle(engine, name=name, budget=budget, scope=meta.get("subunit") or meta.get("unit") or "district",
                       ballot_style=style, rule=rule, last_vote_counts=True, by=by)
    for p in election.projects:
        submit_proposal(engine, cycle.id, title=p.fields.get("name") or p.project_id, dong=meta.get("subunit") or "-",
                        district_dong=False, category=p.fields.get("category") or "-", proposer="pabulib import",
                        proposer_role="resident", project_id=p.project_id)
    advance(engine, cycle.id, "screening", by=by)
    for p in election.projects:
        screen(engine, cycle.id, p.project_id, feasible=True, cost=p.cost, reason="Imported from a Pabulib file.",
               by=by)
    roll = io.StringIO()
    writer = csv.writer(roll, lineterminator="\n")
    writer.writerow(["entry_id", "contact"])
    for n, v in enumerate(election.votes):
        writer.writerow([f"pb-{v.voter_id}", f"voter{n}@pabulib.invalid"])
    import_roll(engine, cycle.id, roll.getvalue())
    advance(engine, cycle.id, "voting", by=by)
    kit = VotingKit(engine)
    for v in election.votes:
        # the file's ballots were checked by the organisers who published them: entered as
        # paper ballots by the importing official, one credential per voter of the file
        credential = kit.issue_credential_in_person(cycle.id, f"pb-{v.voter_id}", by=by)
        channel = "paper" if v.fields.get("voting_method", "") == "paper" else "mobile"
        kit.cast(cycle.id, credential, list(v.points), validate=ballot_check(engine, cycle.id, channel))
    advance(engine, cycle.id, "tallying", by=by)
    tally(engine, cycle.id, by=by)
    return get_cycle(engine, cycle.id)


def tally_pb(text: str, rule: rules.WinnerRule) -> dict[str, Any]:
    """Winners of a Pabulib file (approval or cumulative), computed directly. A published file
    has no lottery seed: ties are broken as pabutools does by default (project ids in
    lexicographic order), so the answer matches pabutools run on the same file."""
    election = pabulib.parse(text)
    order = sorted(p.project_id for p in election.projects)
    outcome = rules.compute_winners(rule, election.costs, election.budget, election.ballots(), order)
    return {"instance": election.meta.get("instance") or election.meta.get("description"),
            "vote_type": election.vote_type, "budget": election.budget, "rule": rule.as_dict(),
            "tie_order": order, "voters": len(election.votes), "winners": list(outcome.winners),
            "funded_total": outcome.funded_total, "votes": dict(outcome.votes)}
