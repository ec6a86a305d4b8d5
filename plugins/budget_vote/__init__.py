"""budget_vote plugin: the district's participatory budget (주민참여예산제) with mobile voting."""

from __future__ import annotations

from core import hookimpl
from core import Discrepancy, RetallyReport

PLUGIN = "budget_vote"

PERMISSIONS = {
    "budget.view": ["anyone"],
    "budget.vote": ["anyone"],  # the ballot credential, not a staff account, admits a voter
    "budget.propose": ["resident", "proposer", "committee_member"],
    # the instance's operator (system_admin) may run cycles and imports; validating and
    # overriding a result stay with the process administrators
    "budget.manage": ["process_admin", "system_admin"],
    "budget.screen": ["process_admin", "committee_member"],
    "budget.paper_ballots": ["process_admin"],
    "budget.tally": ["process_admin", "system_admin"],
    "budget.view_embargoed": ["process_admin", "auditor", "system_admin"],
    "budget.override": ["process_admin"],
    "budget.validate": ["process_admin"],
}




@hookimpl
def civic_register_read_models():
    from plugins.budget_vote.readmodels import CycleSummaries

    return [CycleSummaries]


@hookimpl
def civic_register_routes(engine):
    from plugins.budget_vote.api import ROUTES

    return ROUTES


@hookimpl
def civic_register_commands(cli):
    from plugins.budget_vote.cli import budget

    cli.add_command(budget)


@hookimpl
def civic_register_permissions():
    return PERMISSIONS


@hookimpl
def civic_audit_retally(records):
    from core.voting import audit_process
    from plugins.budget_vote import replay

    records = list(records)
    cycles = replay.collect(records)
    if not cycles:
        return None
    problems: list[Discrepancy] = []
    checked = 0
    for cycle in cycles.values():
        if cycle.result is None:
            continue
        checked += 1
        position, recorded = cycle.result
        if cycle.close_position is None or position < cycle.close_position:
            problems.append(Discrepancy(position, f"{cycle.name}: a result was recorded before voting closed"))
        # the ballots: recounted from the box's own records (deposits, batches, released key, seed)
        box = audit_process(records, cycle.cycle_id)
        problems += [Discrepancy(position, f"{cycle.name}: ballot box: {p}") for p in box.problems]
        if box.opened is None or box.seed is None:
            problems.append(Discrepancy(position, f"{cycle.name}: the box was not opened or the lottery seed "
                                                  "not revealed"))
            continue
        try:
            counted = [replay.CountedBallot.from_content(b.tracking_code, b.content) for b in box.opened.counted]
        except ValueError as exc:
            problems.append(Discrepancy(position, f"{cycle.name}: {exc}"))
            continue
        for reason in replay.compare(recorded, replay.compute_result(cycle, counted, box.seed)):
            problems.append(Discrepancy(position, f"{cycle.name}: {reason}"))
        winners, override_problems = replay.final_winners(cycle)
        problems += [Discrepancy(position, f"{cycle.name}: {p}") for p in override_problems]
        if cycle.validated is not None:
            v_position, validated = cycle.validated
            if list(validated["winners"]) != winners:
                problems.append(Discrepancy(v_position, f"{cycle.name}: published winners differ from the result "
                                                        "after overrides"))
            funded = sum(cycle.costs[p] for p in winners if p in cycle.costs)
            if validated["funded_total"] != funded or funded > cycle.budget:
                problems.append(Discrepancy(v_position, f"{cycle.name}: published funded total is wrong or over budget"))
    return RetallyReport(plugin=PLUGIN, checked=checked, discrepancies=tuple(problems))


@hookimpl
def civic_load_demo(engine, progress):
    from plugins.budget_vote.demo import load_demo

    load_demo(engine, progress)


@hookimpl
def civic_tick(engine):
    from plugins.budget_vote.service import close_due

    return close_due(engine)
