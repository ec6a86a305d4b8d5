"""ad_review: the district's online advertisement review committee (광고물 SNS온라인 심의위원회).

Applications are routed by configurable rules to the 5-member small committee's weekly online
session or to the full committee; members decide with Ed25519-signed decisions; the quorum rule
decides at the deadline; the service level (days to decision notice) is reported against the
5-day target and the 28-day baseline."""

from __future__ import annotations

from core import hookimpl


@hookimpl
def civic_register_read_models():
    from plugins.ad_review.views import ApplicationsView, SessionsView

    return [ApplicationsView, SessionsView]


@hookimpl
def civic_register_permissions():
    from plugins.ad_review.permissions import PERMISSIONS

    return PERMISSIONS


@hookimpl
def civic_register_routes(engine):
    from plugins.ad_review.api import AdReviewController
    from plugins.ad_review.console import console_router

    return [AdReviewController, console_router]


@hookimpl
def civic_staff_links(engine):
    from plugins.ad_review.console import staff_links

    return staff_links()


@hookimpl
def civic_register_commands(cli):
    from core import lazy_command

    cli.add_command(lazy_command('adreview', 'plugins.ad_review.cli:adreview',
                                 'Advertisement review committee (광고물 SNS온라인 심의위원회): applications, weekly online sessions, signed decisions, and the service-level report.'))


@hookimpl
def civic_audit_retally(records):
    from plugins.ad_review.audit import retally

    return retally(records)


@hookimpl
def civic_tick(engine):
    from plugins.ad_review.service import tick

    return tick(engine)


@hookimpl
def civic_load_demo(engine, progress):
    from plugins.ad_review.demo import load_demo

    load_demo(engine, progress)


@hookimpl
def civic_next_deadline(engine, after):
    from plugins.ad_review.service import next_deadline

    return next_deadline(engine, after)
