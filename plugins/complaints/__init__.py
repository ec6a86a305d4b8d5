"""Field complaints (응답소 현장민원): intake by channel, routing to field officers, result texts,
inspection reports, an Open311 GeoReport v2 face and the residents' pages."""

from __future__ import annotations

from core import hookimpl


@hookimpl
def civic_register_read_models():
    from plugins.complaints.views import ComplaintIndex

    return [ComplaintIndex]


@hookimpl
def civic_register_routes(engine):
    from plugins.complaints.api import ComplaintsController
    from plugins.complaints.console import ComplaintConsole
    from plugins.complaints.open311 import Open311Controller
    from plugins.complaints.web import ComplaintPages

    return [ComplaintsController, Open311Controller, ComplaintPages, ComplaintConsole]


@hookimpl
def civic_register_commands(cli):
    from core import lazy_command

    cli.add_command(lazy_command('complaints', 'plugins.complaints.cli:complaints',
                                 'Field complaints (응답소 현장민원): intake, handling, reports.'))


@hookimpl
def civic_register_permissions():
    from plugins.complaints.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def civic_audit_retally(records):
    from plugins.complaints.audit import retally

    return retally(records)


@hookimpl
def civic_load_demo(engine, progress):
    from plugins.complaints.demo import load_demo

    load_demo(engine, progress)


@hookimpl
def civic_tick(engine):
    from plugins.complaints.service import tick

    return tick(engine)


@hookimpl
def civic_home_cards(engine):
    from plugins.complaints.web import home_cards

    return home_cards(engine)


@hookimpl
def civic_next_deadline(engine, after):
    from plugins.complaints.service import next_deadline

    return next_deadline(engine, after)


@hookimpl
def civic_staff_links(engine):
    from plugins.complaints.console import staff_links

    return staff_links()
