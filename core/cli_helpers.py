"""Helpers for CLI commands, core's and plugins' alike: ``--db``/``--json``/``--token`` options,
opening an engine for a command, authorising the person running it, printing JSON."""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from core.actors import ANONYMOUS, Actor, local_operator
from core.errors import CivicError, Unauthorized
from core.permissions import authorize
from core.plugins import make_plugin_manager

if TYPE_CHECKING:
    from core.engine import Engine

# core.store's DEFAULT_DB, written out: importing the store (eventsourcing, psycopg) would cost
# every command its start-up time (tests/core/test_cli.py checks the two agree)
DEFAULT_DB = "civic.db"

# The CLI process's plugin manager: set by ``civic``'s main() before the group runs, so commands
# share the manager their plugins came from; made on first use otherwise.
_plugin_manager: Any = None


def plugin_manager() -> Any:
    global _plugin_manager
    if _plugin_manager is None:
        _plugin_manager = make_plugin_manager()
    return _plugin_manager


def use_plugin_manager(pm: Any) -> Any:
    """Make ``pm`` the manager CLI commands use; returns the previous one."""
    global _plugin_manager
    previous, _plugin_manager = _plugin_manager, pm
    return previous


def db_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        envvar="CIVIC_DB",
        default=DEFAULT_DB,
        show_default=True,
        help="SQLite file, or a postgresql:// URL (env CIVIC_DB).",
    )(f)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


@contextmanager
def open_engine(db: str, *, outbox: str | None = None) -> Iterator[Engine]:
    """An engine for a command; domain errors become a clear message and exit code 1.
    ``outbox`` asks for the development message file (see ``core.notify``)."""
    from core.engine import Engine

    engine = Engine(db, plugins=plugin_manager(), outbox=outbox)
    try:
        yield engine
    except CivicError as exc:
        raise click.ClickException(f"{exc.title}: {exc.detail}") from None
    finally:
        engine.close()


TOKEN_ENV = "CIVIC_TOKEN"
# Set to 1 on machines where holding the instance files must not be enough to act (shared hosts):
# then every command needs a token.
REQUIRE_TOKEN_ENV = "CIVIC_REQUIRE_TOKEN"


def token_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--token",
        envvar=TOKEN_ENV,
        default=None,
        help="Bearer token of a staff account (env CIVIC_TOKEN; get one with 'civic staff signin'). "
        "Without it, the local operator acts as system_admin.",
    )(f)


def command_actor(engine: Engine, token: str | None) -> Actor:
    """Who runs a CLI command: the staff account of ``token``, or else the local operator, i.e.
    whoever can read this instance's secrets file (they hold every key anyway)."""
    if token:
        return engine.identity.authenticate(token)
    if os.environ.get(REQUIRE_TOKEN_ENV, "") not in ("", "0"):
        return ANONYMOUS  # public commands (such as signing in) still work
    try:
        _ = engine.secrets.master
    except OSError as exc:
        raise Unauthorized(f"Not the operator of this instance ({exc.__class__.__name__}: cannot read "
                           f"{engine.secrets.path}); give --token or set {TOKEN_ENV}.") from None
    return local_operator()


def authorized(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a function a CLI command body that needs ``permission``: adds ``--db`` and
    ``--token``, opens the engine, authorises through ``core.identity.authorize`` and calls the
    function with ``engine=`` and ``actor=`` (plus its own options)::

        @cli.command("forget")
        @authorized("privacy.forget")
        @click.argument("subject")
        def forget(engine, actor, subject): ...
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def run(db: str, token: str | None, **kwargs: Any) -> Any:
            with open_engine(db) as engine:
                actor = authorize(engine.permissions, command_actor(engine, token), permission)
                return f(engine=engine, actor=actor, **kwargs)

        run.civic_permission = permission  # type: ignore[attr-defined]
        return db_option(token_option(run))

    return decorate


class LazyCommand(click.Command):
    """A command known by its name and help line, imported only when it runs: ``civic budget
    tally`` then imports the budget commands and nothing of the other plugins'."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name, help=help)
        self.target = target

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # the group asks its command for a context to run in: the real command's
        return self.load().make_context(info_name, args, parent=parent, **extra)


_lazy = False  # set while the ``civic`` program registers its commands


@contextmanager
def lazily() -> Iterator[None]:
    """Commands registered inside are imported when they run (``lazy_command``)."""
    global _lazy
    previous, _lazy = _lazy, True
    try:
        yield
    finally:
        _lazy = previous


def lazy_command(name: str, target: str, help: str) -> click.Command:
    """For ``civic_register_commands``: the command at ``target`` (``"package.module:attribute"``)
    named ``name``. In the ``civic`` program it is imported only when it runs (start-up stays
    short whatever the plugins hold); elsewhere (tests, tools walking the command tree) it is the
    command itself::

        cli.add_command(lazy_command("budget", "plugins.budget_vote.cli:budget", "Participatory budget."))
    """
    return LazyCommand(name, target, help) if _lazy else LazyCommand(name, target, help).load()


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))



__all__ = ["DEFAULT_DB", "LazyCommand", "authorized", "command_actor", "db_option", "echo_json", "json_option",
           "lazily", "lazy_command", "open_engine", "plugin_manager", "token_option", "use_plugin_manager"]
