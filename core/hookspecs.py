"""The plugin contract.

Markers plus documented hook specifications, nothing else. Every hook is named ``civic_...`` after
what it gives. ``docs/plugins.md`` documents each one (a test fails when one is missing there).
"""

from __future__ import annotations

from datetime import datetime

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # names for the signatures only
    from collections.abc import Callable, Iterable, Sequence

    import click
    from eventsourcing.persistence import JSONTranscoder

    from core.notify import Message
    from core.web.cards import HomeCard, StaffLink
    from core.readmodels import ReadModel
    from core.records import LogRecord, RetallyReport

# The engine (``core.engine.Engine``) is built on this contract, so the contract does not import it.
Engine = Any

PROJECT = "civic"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def civic_register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register ``eventsourcing`` transcodings for value types the plugin stores in events.

    Called once per engine while its event store is being built.
    """




@hookspec
def civic_register_routes(engine: Engine) -> Sequence[Any]:
    """Return Litestar route handlers, controllers or routers, mounted under ``/api/<plugin>/``
    by convention. Handlers receive the engine by declaring an ``engine`` parameter."""


@hookspec
def civic_register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``civic`` command line."""


@hookspec
def civic_register_read_models() -> Sequence[type[ReadModel]]:
    """Return read-model classes (projections that follow the notification log)."""


@hookspec
def civic_register_permissions() -> dict[str, Iterable[str]]:
    """Return the plugin's permissions (``"plugin.action"``), each mapped to the roles that hold
    it: ``core.identity.Role`` values, or ``ANYONE`` / ``SIGNED_IN``."""


@hookspec
def civic_audit_retally(records: Iterable[LogRecord]) -> RetallyReport | None:
    """Replay the whole log through the plugin's pure rules and compare every result the plugin
    recorded with the result recomputed; return a report (``None`` when nothing is the plugin's).

    ``records`` is the full public log, in order, as an auditor reads it from an export: a
    re-iterable that reads the log again on each pass (not a list; keep only what the recount
    needs). Every plugin's re-tally runs at once, on a thread of its own, the first pass shared
    by all of them: keep state in the call, not in module globals.
    """


@hookspec(firstresult=True)
def civic_send_notification(notification: Message) -> str | None:
    """Deliver a message to a person (text message, e-mail...), recorded before in core's message
    outbox. The first implementation that returns a delivery reference wins; ``None`` means "not
    mine"; raising means "failed, try again later" (``core.DeliveryFailed`` keeps its reason).
    Core's SMTP and SMS-gateway notifiers run after plugins'; the development message file last,
    when it is on. ``core.DeliveryRefused`` means "never": the message is given up at once."""


@hookspec
def civic_load_demo(engine: Engine, progress: Callable[[str], None]) -> None:
    """Load the plugin's part of the demo data set into an empty store."""


@hookspec
def civic_tick(engine: Engine) -> Sequence[str]:
    """Enforce deadlines that have passed (close votes, close sessions, flag overdue items).

    Called by the scheduler of ``civic serve`` and by ``civic tick``. Must be idempotent: closing
    twice is harmless. Return a line per action taken."""


@hookspec
def civic_next_deadline(engine: Engine, after: datetime) -> datetime | None:
    """The earliest time strictly after ``after`` at which the plugin's ``civic_tick`` has
    something due (a vote to open or close, a session to close, a complaint becoming overdue);
    None when nothing is scheduled. The scheduler of ``civic serve`` ticks as soon as one passes
    instead of waiting for its next round. Must be cheap: read models, no log scans."""


@hookspec
def civic_home_cards(engine: Engine) -> Sequence[HomeCard]:
    """What the plugin puts on the home page: ``core.HomeCard`` values, each in a section
    (``open`` — taking part now, ``results`` — published results, ``services`` — always there).
    Only what anyone may see: an apartment election reached by its own link is not listed."""


@hookspec
def civic_staff_links(engine: Engine) -> Sequence[StaffLink]:
    """The plugin's places in the staff console: ``core.StaffLink`` values (texts already in the
    reader's language). The console shows a link only to roles holding its permission, which
    must be the permission its page's ``staff_page`` guard requires."""
