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
    from core.cli_helpers import lazy_command

    cli.add_command(lazy_command("staff", "core.identity_cli:staff", "Staff accounts: create, roles, passwords, sign-in."))
    cli.add_command(lazy_command("privacy", "core.identity_cli:privacy",
                                 "Personal data: find a person's subject id, erase a subject."))
    cli.add_command(lazy_command("permissions", "core.identity_cli:permissions_cmd",
                                 "Every registered permission and the roles that hold it (public information)."))
    cli.add_command(lazy_command("audit", "core.ledger.cli:audit",
                                 "The tamper-evident ledger: export, verify, receipts, checkpoints."))
    cli.add_command(lazy_command("messages", "core.messages_cli:messages",
                                 "Text messages and e-mail: counts, and the ones given up after failed tries."))
