"""budget_vote plugin: the district's participatory budget (주민참여예산제) with mobile voting.

Hook implementations only; each imports its room when called."""

from __future__ import annotations

from core import hookimpl


@hookimpl
def civic_register_read_models():
    from plugins.budget_vote.views import CycleSummaries

    return [CycleSummaries]


@hookimpl
def civic_register_routes(engine):
    from plugins.budget_vote.api import BudgetController
    from plugins.budget_vote.console import BudgetOffice
    from plugins.budget_vote.web import BudgetPages, short_links

    return [BudgetController, BudgetPages, short_links, BudgetOffice]


@hookimpl
def civic_register_commands(cli):
    from core import lazy_command

    cli.add_command(lazy_command('budget', 'plugins.budget_vote.cli:budget',
                                 'Participatory budget (주민참여예산): cycles, ballots, winners, Pabulib files.'))


@hookimpl
def civic_register_permissions():
    from plugins.budget_vote.permissions import PERMISSIONS

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


@hookimpl
def civic_home_cards(engine):
    from plugins.budget_vote.web import home_cards

    return home_cards(engine)


@hookimpl
def civic_next_deadline(engine, after):
    from plugins.budget_vote.service import next_deadline

    return next_deadline(engine, after)


@hookimpl
def civic_staff_links(engine):
    from plugins.budget_vote.console import staff_links

    return staff_links(engine)
