"""budget_vote plugin: the district's participatory budget (주민참여예산제) with mobile voting."""

from __future__ import annotations

from core import hookimpl

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
    from plugins.budget_vote.views import CycleSummaries

    return [CycleSummaries]


@hookimpl
def civic_register_routes(engine):
    from plugins.budget_vote.api import BudgetController

    return [BudgetController]


@hookimpl
def civic_register_commands(cli):
    from plugins.budget_vote.cli import budget

    cli.add_command(budget)


@hookimpl
def civic_register_permissions():
    return PERMISSIONS


@hookimpl
def civic_audit_retally(records):
    from plugins.budget_vote.audit import retally

    return retally(records)


@hookimpl
def civic_load_demo(engine, progress):
    from plugins.budget_vote.demo import load_demo

    load_demo(engine, progress)


@hookimpl
def civic_tick(engine):
    from plugins.budget_vote.service import close_due

    return close_due(engine)
