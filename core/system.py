"""Core's internal plugin: core's own permissions, HTTP routes and command groups, registered
through the same hooks as every plugin, before them."""

from __future__ import annotations

from typing import Any

from core.actors import ANYONE, SIGNED_IN, Role
from core.hookspecs import hookimpl

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "auth.sign_in": (ANYONE,),
    "auth.self": (SIGNED_IN,),  # see oneself, change one's own password
    "staff.read": (Role.SYSTEM_ADMIN.value, Role.AUDITOR.value),
    "staff.manage": (Role.SYSTEM_ADMIN.value,),
    "privacy.find": (Role.SYSTEM_ADMIN.value,),
    "privacy.forget": (Role.SYSTEM_ADMIN.value,),
    "audit.verify": (Role.AUDITOR.value, Role.SYSTEM_ADMIN.value),  # run verification from the console
    "messages.read": (Role.SYSTEM_ADMIN.value, Role.AUDITOR.value),  # counts and errors, never content
    "messages.manage": (Role.SYSTEM_ADMIN.value,),  # send again or discard messages given up
}


@hookimpl
def civic_register_permissions() -> dict[str, tuple[str, ...]]:
    return PERMISSIONS


@hookimpl
def civic_register_routes(engine: Any) -> list[Any]:
    from core.identity_api import identity_router
    from core.ledger.api import ledger_router
    from core.system_api import system_router
    from core.web.pages import pages_router
    from core.web.auditing import audit_console, verify_now
    from core.web.staff import StaffPages

    return [system_router, identity_router, ledger_router, pages_router, StaffPages, audit_console, verify_now]


@hookimpl
def civic_staff_links(engine: Any) -> list[Any]:
    from core.web.staff import core_links

    return core_links()


@hookimpl
def civic_register_commands(cli: Any) -> None:
    from core.identity_cli import permissions_cmd, privacy, staff
    from core.ledger.cli import audit
    from core.messages_cli import messages

    for group in (staff, privacy, permissions_cmd, audit, messages):
        cli.add_command(group)
