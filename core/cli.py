"""The ``civic`` command line. Plugins add their commands through ``civic_register_commands``."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from core.engine import DEFAULT_DB, Engine
from core.errors import CivicError, Unauthorized
from core.identity import ANONYMOUS, Actor, authorize, local_operator
from core.plugins import PluginError, describe, make_plugin_manager

# Set by main() before the group runs, so commands share the manager their plugins came from.
_plugin_manager: Any = None


def plugin_manager() -> Any:
    global _plugin_manager
    if _plugin_manager is None:
        _plugin_manager = make_plugin_manager()
    return _plugin_manager


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
def open_engine(db: str) -> Iterator[Engine]:
    """An engine for a command; domain errors become a clear message and exit code 1."""
    engine = Engine(db, plugins=plugin_manager())
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
                actor = authorize(engine, command_actor(engine, token), permission)
                return f(engine=engine, actor=actor, **kwargs)

        run.civic_permission = permission  # type: ignore[attr-defined]
        return db_option(token_option(run))

    return decorate


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="civic")
def cli() -> None:
    """civic: participatory budget votes, apartment elections, committee reviews and field
    complaints, on one auditable event log."""


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--tick-seconds", default=30.0, show_default=True, help="How often deadlines are enforced.")
def serve(db: str, host: str, port: int, tick_seconds: float) -> None:
    """Serve the HTTP API (OpenAPI at /schema) and run the deadline scheduler."""
    import uvicorn

    from core.http import create_app
    from core.service import BackgroundJobs

    engine = Engine(db, plugins=plugin_manager())
    jobs = BackgroundJobs(engine, tick_seconds=tick_seconds)
    jobs.start()
    click.echo(f"civic: serving {engine.kind} store at http://{host}:{port} (OpenAPI: /schema)")
    try:
        uvicorn.run(create_app(engine), host=host, port=port, log_level="info")
    finally:
        jobs.stop()
        engine.close()


@cli.command()
@db_option
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds events.")
def demo(db: str, if_empty: bool) -> None:
    """Load the demo data set (every plugin's part) into an empty store."""
    with open_engine(db) as engine:
        if engine.position:
            if if_empty:
                click.echo(f"civic: {db} already holds {engine.position} events; demo not loaded.")
                return
            raise click.UsageError(f"{db} is not empty ({engine.position} events); use a new file.")
        names = [p["name"] for p in describe(engine.pm) if p["distribution"]]
        with click.progressbar(length=len(names) or 1, label="Loading demo", file=sys.stderr) as bar:

            def progress(step: str) -> None:
                bar.label = f"Loading demo: {step}"
                bar.render_progress()

            for name in names:
                plugin = engine.pm.get_plugin(name)
                impl = getattr(plugin, "civic_load_demo", None)
                if impl is not None:
                    impl(engine=engine, progress=progress)
                bar.update(1)
        engine.read_models.catch_up_all()
        click.echo(f"civic: demo loaded into {db}: {engine.position} events.")


@cli.command("plugins")
@json_option
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins and the hooks each implements."""
    info = describe(plugin_manager())
    if as_json:
        echo_json(info)
        return
    for p in info:
        click.echo(f"{p['name']:<16} {p['module']:<28} {', '.join(p['hooks'])}")


@cli.command()
@db_option
@click.argument("names", nargs=-1)
@json_option
def rebuild(db: str, names: tuple[str, ...], as_json: bool) -> None:
    """Drop read models (all, or NAMES) and rebuild them from the log."""
    with open_engine(db) as engine:
        targets = list(names) or list(engine.read_models.classes)
        try:
            with click.progressbar(length=len(targets) or 1, label="Rebuilding", file=sys.stderr) as bar:
                states = engine.read_models.rebuild(targets, progress=lambda _: bar.update(1))
        except KeyError as exc:
            raise click.UsageError(str(exc.args[0])) from None
        summary = {name: {"bytes": len(state.encode()), "position": engine.read_models.get(name).position}
                   for name, state in states.items()}
        if as_json:
            echo_json(summary)
        else:
            for name, s in summary.items():
                click.echo(f"{name}: rebuilt to position {s['position']} ({s['bytes']} bytes)")


@cli.command()
@db_option
@json_option
def tick(db: str, as_json: bool) -> None:
    """Enforce deadlines now (for cron); harmless to run twice."""
    with open_engine(db) as engine:
        actions = engine.tick()
        if as_json:
            echo_json(actions)
        else:
            for line in actions:
                click.echo(line)
            if not actions:
                click.echo("civic: nothing due")


from core.identity_cli import permissions_cmd, privacy, staff  # noqa: E402 - they use the helpers above

cli.add_command(staff)
cli.add_command(privacy)
cli.add_command(permissions_cmd)

# ``civic audit`` uses the helpers above and attaches itself to ``cli``
import core.ledger.cli  # noqa: E402, F401


def main() -> None:
    global _plugin_manager
    try:
        _plugin_manager = make_plugin_manager()
    except PluginError as exc:
        click.echo(f"civic: {exc}", err=True)
        sys.exit(2)
    _plugin_manager.hook.civic_register_commands(cli=cli)
    cli()


__all__ = ["authorized", "cli", "command_actor", "db_option", "echo_json", "json_option", "main", "open_engine",
           "token_option"]
