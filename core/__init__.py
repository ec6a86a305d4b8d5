"""civic core: the event store, plugin host, audit ledger and shared kits.

This package's namespace is the public API for plugins: a plugin imports from ``core`` (and from
``core.voting`` for the voting kit) and from no other core module (import-linter checks it).
Names load on first use, so ``from core import hookimpl`` does not pull in the web framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it (``module:name`` where the name there differs)
_PUBLIC: dict[str, str] = {
    # the plugin contract
    "hookimpl": "core.hookspecs",
    # aggregates and events
    "CivicAggregate": "core.domain",
    "event": "core.domain",
    "natural_id": "core.domain",
    "topic_of": "core.domain",
    # errors (each maps to an HTTP status and a CLI exit)
    "CivicError": "core.errors",
    "InvalidInput": "core.errors",
    "RuleViolation": "core.errors",
    "NotFound": "core.errors",
    "Unauthorized": "core.errors",
    "Forbidden": "core.errors",
    "TooManyAttempts": "core.errors",
    # time
    "SEOUL": "core.clock",
    "Clock": "core.clock",
    "ManualClock": "core.clock",
    "utc_now": "core.clock:now",
    "seoul_time": "core.clock",
    "use_clock": "core.clock",
    # the store and what reads it
    "Engine": "core.engine",
    "Transcoding": "eventsourcing.persistence",
    "StoreConflict": "core.store",
    "LogRecord": "core.records",
    "Discrepancy": "core.records",
    "RetallyReport": "core.records",
    "ReadModel": "core.readmodels",
    "ledger_root": "core.ledger.roots",
    "VerifierKey": "core.ledger.checkpoint",
    "NoteError": "core.ledger.checkpoint",
    # people: who acts, what they may do, their personal data and messages
    "Actor": "core.actors",
    "Role": "core.actors",
    "ANYONE": "core.actors",
    "SIGNED_IN": "core.actors",
    "authorize": "core.permissions",
    "ERASED": "core.privacy",
    "Message": "core.notify",
    "DeliveryFailed": "core.notify",
    "DeliveryRefused": "core.notify",
    "normalise_phone": "core.phone",
    # HTTP
    "EngineDep": "core.web_deps",
    "ActorDep": "core.web_deps",
    "requires": "core.guards",
    # pages
    "HomeCard": "core.web.cards",
    "DONGS": "core.district",
    "DONG_NAMES_EN": "core.district",
    "WHOLE_DISTRICT": "core.district",
    "check_dong": "core.district",
    "StaffLink": "core.web.cards",
    "csv_response": "core.web.files",
    "staff_page": "core.web.console",
    "staff_template": "core.web.console",
    "gettext": "core.web.i18n",
    "ngettext": "core.web.i18n",
    "won": "core.web.i18n",
    "seoul_text": "core.web.i18n:seoul",
    "client_address": "core.web.setup",
    "sign_in_rate_limit": "core.web.setup",
    "browser_id": "core.web.visit",
    "visit_state": "core.web.visit",
    "save_visit_state": "core.web.visit",
    "form_values": "core.web.visit",
    # shared helpers
    "BlobStore": "core.blobs",
    "bar_chart_svg": "core.charts",
    "refuse_unknown_settings": "core.settings",
    # command-line helpers
    "authorized": "core.cli_helpers",
    "db_option": "core.cli_helpers",
    "json_option": "core.cli_helpers",
    "echo_json": "core.cli_helpers",
    "open_engine": "core.cli_helpers",
    "lazy_command": "core.cli_helpers",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    where = _PUBLIC.get(name)
    if where is None:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


if TYPE_CHECKING:  # for type checkers and editors; at run time names load lazily above
    from core.actors import ANYONE, SIGNED_IN, Actor, Role
    from core.blobs import BlobStore
    from core.charts import bar_chart_svg
    from core.cli_helpers import authorized, db_option, echo_json, json_option, lazy_command, open_engine
    from core.clock import SEOUL, Clock, ManualClock, seoul_time, use_clock
    from core.clock import now as utc_now
    from core.domain import CivicAggregate, event, natural_id, topic_of
    from core.engine import Engine
    from core.errors import (CivicError, Forbidden, InvalidInput, NotFound, RuleViolation, TooManyAttempts,
                             Unauthorized)
    from core.guards import requires
    from core.hookspecs import hookimpl
    from core.ledger.checkpoint import NoteError, VerifierKey
    from core.ledger.roots import ledger_root
    from core.notify import DeliveryFailed, DeliveryRefused, Message
    from core.permissions import authorize
    from core.phone import normalise_phone
    from core.privacy import ERASED
    from core.readmodels import ReadModel
    from core.records import Discrepancy, LogRecord, RetallyReport
    from core.settings import refuse_unknown_settings
    from core.store import StoreConflict
    from core.district import DONG_NAMES_EN, DONGS, WHOLE_DISTRICT, check_dong
    from core.web.cards import HomeCard, StaffLink
    from core.web.console import staff_page, staff_template
    from core.web.files import csv_response
    from core.web.i18n import gettext, ngettext, won
    from core.web.i18n import seoul as seoul_text
    from core.web.setup import client_address, sign_in_rate_limit
    from core.web.visit import browser_id, form_values, save_visit_state, visit_state
    from core.web_deps import ActorDep, EngineDep
    from eventsourcing.persistence import Transcoding
