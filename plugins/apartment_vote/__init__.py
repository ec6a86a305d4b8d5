"""apartment_vote: K-voting apartment elections and decisions (공동주택 온라인 투표제).

Hook implementations only; see ``domain`` (aggregates), ``rules`` (Art. 11 tally), ``fold``
(the log folded into elections), ``views`` (read models), ``service`` (commands), ``roll`` (the
roll file), ``api`` (HTTP), ``cli`` (``civic apartment ...``), ``audit`` (re-tally),
``certificate`` (signed results), ``web`` (the households' pages), ``permissions`` and ``demo``.
"""

from __future__ import annotations

from core import hookimpl


@hookimpl
def civic_register_read_models():
    from plugins.apartment_vote.views import ComplexList, ElectionList

    return [ElectionList, ComplexList]


@hookimpl
def civic_register_routes(engine):
    from plugins.apartment_vote.api import ApartmentController
    from plugins.apartment_vote.console import ApartmentOffice
    from plugins.apartment_vote.web import ApartmentPages, short_links

    return [ApartmentController, ApartmentPages, short_links, ApartmentOffice]


@hookimpl
def civic_staff_links(engine):
    from plugins.apartment_vote.console import staff_links

    return staff_links()


@hookimpl
def civic_register_commands(cli):
    from core import lazy_command

    cli.add_command(lazy_command('apartment', 'plugins.apartment_vote.cli:apartment',
                                 'Apartment elections and decisions (K-voting, Enforcement Decree Art. 11).'))


@hookimpl
def civic_register_permissions():
    from plugins.apartment_vote.permissions import PERMISSIONS

    return dict(PERMISSIONS)


@hookimpl
def civic_audit_retally(records):
    from plugins.apartment_vote.audit import retally

    return retally(records)


@hookimpl
def civic_load_demo(engine, progress):
    from plugins.apartment_vote.demo import load_demo

    load_demo(engine, progress)


@hookimpl
def civic_tick(engine):
    from plugins.apartment_vote.service import tick

    return tick(engine)


@hookimpl
def civic_next_deadline(engine, after):
    from plugins.apartment_vote.service import next_deadline

    return next_deadline(engine, after)
