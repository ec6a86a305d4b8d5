"""``civic staff ...``, ``civic privacy ...`` and ``civic permissions``.

Bootstrap: on the instance's machine, the local operator (whoever can read the secrets file) acts
as system_admin, so the first administrator is made with
``civic staff add admin --name "..." --role system_admin``.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import click

from core.actors import Role
from core.cli_helpers import authorized, echo_json, json_option, plugin_manager
from core.permissions import PermissionRegistry
from core.staff import StaffAccount

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _password(stdin: bool, prompt: str = "Password") -> str:
    # Never an option value: it would show in the process list and the shell history.
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _account(engine: Any, who: str) -> StaffAccount:
    try:
        return engine.identity.get(uuid.UUID(who))
    except ValueError:
        return engine.identity.find(who)


def _show(row: dict[str, Any]) -> str:
    flags = [f for f, on in (("disabled", row["disabled"]), ("locked", row["locked"])) if on]
    return (f"{row['username']:<20} {row['name']:<20} {','.join(row['roles']) or '-':<40} "
            f"{' '.join(flags)}  {row['id']}").rstrip()


@click.group()
def staff() -> None:
    """Staff accounts: create, roles, passwords, sign-in."""


@staff.command("add")
@authorized("staff.manage")
@click.argument("username")
@click.option("--name", required=True, help="The person's name (kept as personal data).")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="A role to grant (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
def staff_add(engine: Any, actor: Any, username: str, name: str, roles: tuple[str, ...],
              password_stdin: bool, as_json: bool) -> None:
    """Create a staff account (the first system_admin: run this on the instance's machine)."""
    account = engine.identity.add_staff(actor, username, name, _password(password_stdin), roles)
    row = engine.identity.describe(account)
    echo_json(row) if as_json else click.echo(f"created {_show(row)}")


@staff.command("list")
@authorized("staff.read")
@json_option
def staff_list(engine: Any, actor: Any, as_json: bool) -> None:
    """List staff accounts and their roles."""
    rows = engine.identity.list_staff(actor)
    if as_json:
        echo_json(rows)
    else:
        for row in rows:
            click.echo(_show(row))


@staff.command("grant")
@authorized("staff.manage")
@click.argument("who")
@click.argument("role", type=ROLE_CHOICE)
def staff_grant(engine: Any, actor: Any, who: str, role: str) -> None:
    """Grant ROLE to WHO (user name or account id)."""
    click.echo(_show(engine.identity.describe(engine.identity.grant(actor, _account(engine, who).id, role))))


@staff.command("revoke")
@authorized("staff.manage")
@click.argument("who")
@click.argument("role", type=ROLE_CHOICE)
def staff_revoke(engine: Any, actor: Any, who: str, role: str) -> None:
    """Take ROLE from WHO."""
    click.echo(_show(engine.identity.describe(engine.identity.revoke(actor, _account(engine, who).id, role))))


@staff.command("disable")
@authorized("staff.manage")
@click.argument("who")
def staff_disable(engine: Any, actor: Any, who: str) -> None:
    """Disable WHO's account; its tokens stop working at once."""
    click.echo(_show(engine.identity.describe(engine.identity.disable(actor, _account(engine, who).id))))


@staff.command("enable")
@authorized("staff.manage")
@click.argument("who")
def staff_enable(engine: Any, actor: Any, who: str) -> None:
    """Enable a disabled account."""
    click.echo(_show(engine.identity.describe(engine.identity.enable(actor, _account(engine, who).id))))


@staff.command("password")
@authorized("staff.manage")
@click.argument("who")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def staff_password(engine: Any, actor: Any, who: str, password_stdin: bool) -> None:
    """Set WHO's password (also lifts a sign-in lock); their tokens stop working."""
    account = _account(engine, who)
    engine.identity.set_password(actor, account.id, _password(password_stdin, "New password"))
    click.echo(f"password set for {who}")


@staff.command("signin")
@authorized("auth.sign_in")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--hours", default=8.0, show_default=True, help="How long the token is valid.")
def staff_signin(engine: Any, actor: Any, username: str, password_stdin: bool, hours: float) -> None:
    """Sign in and print a bearer token (for CIVIC_TOKEN or the HTTP API)."""
    from datetime import timedelta

    if not 0 < hours <= 24 * 30:
        raise click.BadParameter("between 0 and 720 hours", param_hint="--hours")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt("Password", hide_input=True)
    token = engine.identity.sign_in(username, password, client="cli", lifetime=timedelta(hours=hours))
    click.echo(token.token)


@staff.command("whoami")
@authorized("auth.self")
@json_option
def staff_whoami(engine: Any, actor: Any, as_json: bool) -> None:
    """Who the CLI acts as (the token's account, or the local operator)."""
    info = actor.public()
    echo_json(info) if as_json else click.echo(f"{info['name']} ({info['id']}): {', '.join(info['roles'])}")


@click.group()
def privacy() -> None:
    """Personal data: find a person's subject id, erase a subject."""


@privacy.command("find")
@authorized("privacy.find")
@click.argument("kind", type=click.Choice(["phone", "email", "name"]))
@click.argument("value", required=False)
@json_option
def privacy_find(engine: Any, actor: Any, kind: str, value: str | None, as_json: bool) -> None:
    """Subject ids indexed under a phone number, e-mail or name (asked for when not given)."""
    if value is None:
        value = click.prompt(kind.capitalize(), hide_input=True)
    found = engine.privacy.subjects(kind, value)
    if as_json:
        echo_json(found)
    else:
        click.echo("\n".join(found) if found else "no subject found")


@privacy.command("forget")
@authorized("privacy.forget")
@click.argument("subject")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def privacy_forget(engine: Any, actor: Any, subject: str, yes: bool) -> None:
    """Erase SUBJECT's personal data for good: destroys its key; the log keeps only ciphertext."""
    if not yes:
        click.confirm(f"Erase every personal value of subject {subject}? This cannot be undone", abort=True)
    newly = engine.privacy.forget(subject, actor=actor)
    click.echo(f"forgot {subject}" if newly else f"{subject} was already forgotten; its key is gone")


@click.command("permissions")
@json_option
def permissions_cmd(as_json: bool) -> None:
    """Every registered permission and the roles that hold it (public information)."""
    table = PermissionRegistry.from_plugins(plugin_manager()).table()
    if as_json:
        echo_json(table)
    else:
        for name, audience in table.items():
            click.echo(f"{name:<32} {', '.join(audience)}")
