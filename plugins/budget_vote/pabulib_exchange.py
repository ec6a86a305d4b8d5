"""Pabulib files (https://pabulib.org) in and out of the participatory budget: a cycle's counted
ballots exported, a file of any vote type pabutools reads (approval, choose-1, cumulative,
scoring, ordinal) imported as a closed cycle or tallied directly. The file format itself is
``pabulib.py``; the cycle's commands are ``service.py``.

Amounts: a file's amounts are exact decimals in its own currency. A cycle counts whole numbers,
so an imported cycle counts whole units of the file's smallest written amount (grosze for
``969245.38`` PLN) and records that, with the currency and the file's META, in its ``Imported``
event; the export turns them back into the file's amounts. The direct tally works the same way:
the winner rules are exact and unchanged by scaling every amount alike, so counting in grosze
picks the same winners as counting in złoty."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core import InvalidInput, RuleViolation
from plugins.budget_vote import pabulib, rules

# the cycle and its services (the store, the voting kit) are imported by the functions that need
# them: ``tally_election`` needs none, and ``civic budget tally --pb`` starts without them
if TYPE_CHECKING:
    from core import Engine
    from plugins.budget_vote.domain import Cycle

# META of the ballot style: whole numbers of points, kept by the cycle's style and written back
POINT_META = ("min_points", "max_points", "min_sum_points", "max_sum_points")
# META that describes the file itself, rewritten from the cycle on export
COUNTED_META = ("num_projects", "num_votes")


def amount_of(minor: int, decimals: int) -> Decimal:
    """A cycle's whole-number amount as the decimal amount it counts (10616564, 2 -> 106165.64)."""
    return Decimal(f"{minor}E-{decimals}")  # built from text: exact at any size


def json_amount(value: Decimal) -> int | str:
    """An exact amount for JSON: a whole number as a number, any other as its decimal text
    (``"106165.64"``), never a float."""
    return int(value) if pabulib.is_whole(value) else pabulib.format_amount(value)

def export_pb(engine: Engine, cycle_id: UUID | str) -> str:
    """The cycle's counted ballots as a Pabulib file (only once voting has closed). A cycle
    imported from a file is written back with that file's META, currency and amounts."""
    from plugins.budget_vote.service import counted_ballots, get_cycle

    cycle = get_cycle(engine, cycle_id)
    if cycle.phase not in ("tallying", "published"):
        raise RuleViolation("Ballots are exported only after voting has closed.", phase=cycle.phase)
    counted = counted_ballots(engine, cycle.id)
    style = cycle.style
    decimals = cycle.amount_decimals

    def written(minor: int) -> str:
        return pabulib.format_amount(amount_of(minor, decimals))

    if cycle.source is not None:
        meta = {k: v for k, v in cycle.source["meta"].items() if k not in COUNTED_META}
    else:
        meta = {"description": cycle.name, "country": "South Korea", "unit": "Jung-gu, Seoul",
                "instance": cycle.name, "vote_type": "approval",
                "rule": "greedy" if cycle.winner_rule.name == "greedy" else "equalshares", "currency": "KRW"}
    meta["budget"] = written(cycle.budget)
    if cycle.currency:
        meta["currency"] = cycle.currency
    meta["min_length"] = str(style.min_projects)
    if style.max_projects is not None:
        meta["max_length"] = str(style.max_projects)
    if style.kind == "knapsack":
        meta["max_sum_cost"] = written(style.cost_limit if style.cost_limit is not None else cycle.budget)
    if style.kind != "knapsack" and style.cost_limit is not None:
        meta["max_sum_cost"] = written(style.cost_limit)
    if style.graded:
        meta["vote_type"] = style.kind
        for key in POINT_META:
            if getattr(style, key) is not None:
                meta[key] = str(getattr(style, key))
    # Pabulib's PROJECTS: votes, the ballots naming a project; score, the points they give it
    named = rules.vote_counts(cycle.ballot_costs, ({p: 1 for p in c.choice} for c in counted))
    score = rules.vote_counts(cycle.ballot_costs, (c.weights() for c in counted))
    winners = set(cycle.result["final_winners"]) if cycle.result else None
    projects = []
    for pid, cost in sorted(cycle.ballot_costs.items(), key=lambda kv: rules.natural_order(kv[0])):
        p = cycle.proposals[pid]
        fields = {"name": p["title"], "category": p["category"], "votes": str(named[pid])}
        if style.kind in rules.POINTS_KINDS:
            fields["score"] = str(score[pid])
        if winners is not None:
            fields["selected"] = "1" if pid in winners else "0"
        projects.append(pabulib.PbProject(pid, amount_of(cost, decimals), fields))
    # a ranking is written in its order (its Borda scores are how PbVote keeps that order)
    ballots = [pabulib.PbVote(str(i), rules.borda(c.ranking) if c.ranking is not None else c.weights(),
                              {"voting_method": "paper" if c.channel == "paper" else "internet"})
               for i, c in enumerate(sorted(counted, key=lambda c: c.tracking_code), start=1)]
    return pabulib.render(pabulib.PbElection(meta, projects, ballots))


def import_settings(election: pabulib.PbElection) -> dict[str, Any]:
    """What a file becomes as a cycle (budget and costs in whole units of the file's smallest
    written amount, ballot style, rule, currency), or ``InvalidInput`` saying why it cannot
    become one. Pure: nothing is stored."""
    from plugins.budget_vote.domain import MAX_WON, check_import
    from plugins.budget_vote.service import PROJECT_ID

    vote_type = election.vote_type
    meta = election.meta
    minor = election.minor_units()
    unit = f" {election.currency}" if election.currency else ""
    if minor.budget <= 0:
        raise InvalidInput("Pabulib: the budget must be more than 0.")
    if minor.budget > MAX_WON:
        raise InvalidInput(f"Pabulib: the budget {pabulib.format_amount(election.budget)}{unit} written to "
                           f"{minor.decimals} decimal places is more than a cycle can count ({MAX_WON:,} units).")
    for p in election.projects:
        if minor.costs[p.project_id] <= 0:
            raise InvalidInput(f"Pabulib: project {p.project_id} costs nothing; a cycle's projects have a cost.")
        if minor.costs[p.project_id] > minor.budget:
            raise InvalidInput(f"Project {p.project_id} costs more than the whole budget.")
    if not election.projects:
        raise InvalidInput("Pabulib: the file has no projects to import.")
    if not election.votes:
        raise InvalidInput("Pabulib: the file has no votes to import.")
    for p in election.projects:
        if not PROJECT_ID.match(p.project_id):
            raise InvalidInput(f"Pabulib: project id {p.project_id!r} cannot be a cycle's project id "
                               "(1-40 letters, digits, '.', '_' or '-').")
    voter_ids = [v.voter_id for v in election.votes]
    if len(set(voter_ids)) != len(voter_ids):
        raise InvalidInput("Pabulib: a voter id appears twice; each voter of a cycle votes once.")
    check_import(election.currency, minor.decimals, dict(meta))
    graded = vote_type in rules.GRADED_KINDS
    style: dict[str, Any] = {"kind": vote_type if graded else "approval",
                             "min_projects": election.meta_count("min_length") or 0}
    max_length = election.meta_count("max_length")
    if vote_type == "choose-1":
        max_length = 1
    if max_length:
        style["max_projects"] = max_length
    if "max_sum_cost" in minor.meta:
        style["kind"] = vote_type if graded else "knapsack"
        style["cost_limit"] = minor.meta["max_sum_cost"]
    for key in POINT_META:
        # a bound the vote type has no use for (points on a ranking) stays in the kept META only
        applies = vote_type == "cumulative" or (vote_type == "scoring" and key in ("min_points", "max_points"))
        if applies and (value := election.meta_count(key)) is not None:
            style[key] = value
    if style["min_projects"] > len(election.projects):
        raise InvalidInput(f"Pabulib: min_length {style['min_projects']} asks for more projects than the file's "
                           f"{len(election.projects)}.")
    checked_style = rules.BallotStyle.from_dict(style)
    # every ballot is checked before anything is stored: a bad file changes nothing
    for v in election.votes:
        try:
            rules.validate_vote(checked_style, minor.costs, minor.budget, ballot_content(vote_type, v))
        except InvalidInput as exc:
            raise InvalidInput(f"Pabulib: voter {v.voter_id}: {_in_file_amounts(exc.detail, minor)}",
                               **exc.extra) from None
    rule = {"name": "equal-shares" if "equal" in meta.get("rule", "").lower() else "greedy"}
    return {"budget": minor.budget, "costs": dict(minor.costs), "ballot_style": checked_style.as_dict(),
            "rule": rule, "currency": election.currency, "amount_decimals": minor.decimals}


def ballot_content(vote_type: str, vote: pabulib.PbVote) -> list[str] | dict[str, Any]:
    """A file's vote as a cycle's ballot (``rules.validate_vote``): the projects chosen, the
    points given, or the ranking."""
    if vote_type in rules.POINTS_KINDS:
        return {"points": dict(vote.points)}
    if vote_type == "ordinal":
        return {"ranking": list(vote.points)}  # PbVote keeps a ranking in its order
    return list(vote.points)


def _in_file_amounts(detail: str, minor: pabulib.MinorUnits) -> str:
    # the ballot rules speak of whole won; for a file counted in its own smallest unit say so
    if minor.decimals == 0:
        return detail
    return f"{detail} (amounts in units of 10^-{minor.decimals} of the file's currency)"


def import_pb(engine: Engine, text: str, *, name: str | None = None, by: str,
              rule: dict[str, Any] | None = None) -> Cycle:
    """A closed cycle from a Pabulib file of any vote type: projects, screening and ballots as
    events, then voting closed and the result computed (embargoed until an official validates
    it). Cumulative and scoring ballots keep their points, ordinal ballots their ranking."""
    return import_election(engine, pabulib.parse(text), name=name, by=by, rule=rule)


def import_election(engine: Engine, election: pabulib.PbElection, *, name: str | None = None, by: str,
                    rule: dict[str, Any] | None = None) -> Cycle:
    """``import_pb`` for a file already read (``pabulib.read`` or ``pabulib.parse``)."""
    from core.voting import VotingKit
    from plugins.budget_vote.domain import Cycle
    from plugins.budget_vote.service import (advance, ballot_check, get_cycle, import_roll, open_cycle, screen,
                                             submit_proposal, tally)

    settings = import_settings(election)
    meta = election.meta
    if rule is None:
        rule = settings["rule"]
    rules.WinnerRule.from_dict(rule)  # refused before anything is stored
    # a real file's instance is often just its year: its description names it better
    name = name or (meta.get("description") or meta.get("instance") or "imported")[:200]
    scope = meta.get("subunit") or meta.get("unit") or "district"
    cycle = open_cycle(engine, name=name, budget=settings["budget"], scope=scope[:100],
                       ballot_style=settings["ballot_style"], rule=rule, last_vote_counts=True, by=by)
    engine.update(cycle.id, lambda c: c.record_import(
        source="pabulib", currency=settings["currency"], amount_decimals=settings["amount_decimals"],
        meta=dict(meta), by=by), cls=Cycle, what="budget cycle")
    for p in election.projects:
        submit_proposal(engine, cycle.id, title=(p.fields.get("name") or p.project_id)[:200],
                        dong=(meta.get("subunit") or "-")[:100], district_dong=False,
                        category=(p.fields.get("category") or "-")[:100], proposer="pabulib import",
                        proposer_role="resident", project_id=p.project_id)
    advance(engine, cycle.id, "screening", by=by)
    for p in election.projects:
        screen(engine, cycle.id, p.project_id, feasible=True, cost=settings["costs"][p.project_id],
               reason="Imported from a Pabulib file.", by=by)
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
        kit.cast(cycle.id, credential, ballot_content(election.vote_type, v),
                 validate=ballot_check(engine, cycle.id, channel))
    advance(engine, cycle.id, "tallying", by=by)
    tally(engine, cycle.id, by=by)
    return get_cycle(engine, cycle.id)


def tally_pb(text: str, rule: rules.WinnerRule) -> dict[str, Any]:
    """Winners of a Pabulib file of any vote type pabutools reads, computed directly. A
    published file has no lottery seed: ties are broken as pabutools does by default (project
    ids in lexicographic order), so the answer matches pabutools run on the same file."""
    return tally_election(pabulib.parse(text), rule)


def tally_election(election: pabulib.PbElection, rule: rules.WinnerRule) -> dict[str, Any]:
    """``tally_pb`` for a file already read. Cumulative and scoring ballots count their points,
    ordinal ballots their Borda scores (pabutools' ``Additive_Borda_Sat``): with ``cardinality``
    satisfaction a voter's satisfaction is those points, with ``cost`` points times cost.
    Amounts are exact: whole ones as JSON numbers, others as decimal text (``"106165.64"``)."""
    order = sorted(p.project_id for p in election.projects)
    minor = election.minor_units()
    # the votes' own points, not copies (``ballots()``): the rules only read them
    outcome = rules.compute_winners(rule, minor.costs, minor.budget, [v.points for v in election.votes], order)
    result: dict[str, Any] = {
        "instance": election.meta.get("instance") or election.meta.get("description"),
        "vote_type": election.vote_type, "currency": election.currency,
        "budget": json_amount(election.budget), "rule": rule.as_dict(), "tie_order": order,
        "voters": len(election.votes), "winners": list(outcome.winners),
        "funded_total": json_amount(minor.to_amount(outcome.funded_total)), "votes": dict(outcome.votes)}
    threshold = election.meta.get("min_project_score_threshold", "")
    if threshold and threshold.lower() != "none":
        # the file's own rule leaves out projects below this score; pabutools' rules (and these)
        # do not, so the projects it concerns are named for the reader to judge
        limit = pabulib.amount("min_project_score_threshold", threshold)
        result["min_project_score_threshold"] = json_amount(limit)
        result["below_threshold"] = [p for p in order if outcome.votes[p] < limit]
    return result
