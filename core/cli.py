"""The ``civic`` command line. Plugins add their commands through ``civic_register_commands``."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from core import cli_helpers
from core.cli_helpers import db_option, echo_json, json_option, lazily, open_engine, plugin_manager
from core.notify import OUTBOX_ENV
from core.plugins import PluginError, describe, make_plugin_manager

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
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (PostgreSQL only; one of them runs the scheduler and the ledger).")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="One line per request on standard output (off behind a proxy that logs them).")
def serve(db: str, host: str, port: int, tick_seconds: float, workers: int, access_log: bool) -> None:
    """Serve the HTTP API (OpenAPI at /schema) and run the deadline scheduler."""
    from core import serving

    serving.serve(db, host, port, tick_seconds, workers, access_log=access_log)


@cli.command()
@db_option
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds events.")
def demo(db: str, if_empty: bool) -> None:
    """Load the demo data set (every plugin's part) into an empty store. Its text messages go to
    the development message file (<db>.outbox.jsonl, or CIVIC_OUTBOX) unless CIVIC_OUTBOX=off."""
    # a demo is development: its residents read their codes from the file
    with open_engine(db, outbox=os.environ.get(OUTBOX_ENV) or "on") as engine:
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
        engine.ledger.checkpoint()  # the whole demo rests on a signed checkpoint
        click.echo(f"civic: demo loaded into {db}: {engine.position} events.")
        if engine.outbox_file_on:
            click.echo(f"civic: the demo's text messages (voting codes) are in {engine.outbox.path}, in plain text.")


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


def build_cli(pm: Any) -> click.Group:
    """A ``civic`` group with core's commands and every command ``pm``'s plugins register."""
    group = click.Group(name="cli", callback=cli.callback, params=list(cli.params), help=cli.help,
                        context_settings=cli.context_settings, commands=dict(CORE_COMMANDS))
    pm.hook.civic_register_commands(cli=group)
    return group


CORE_COMMANDS = dict(cli.commands)
# core's internal plugin adds its command groups (staff, privacy, permissions, audit) here too,
# each imported when it runs
with lazily():
    make_plugin_manager(allow=set()).hook.civic_register_commands(cli=cli)


def main() -> None:
    try:
        pm = make_plugin_manager()
    except PluginError as exc:
        click.echo(f"civic: {exc}", err=True)
        sys.exit(2)
    cli_helpers.use_plugin_manager(pm)
    with lazily():  # a command's modules are imported when it runs: start-up stays short
        pm.hook.civic_register_commands(cli=cli)
    cli()


__all__ = ["build_cli", "cli", "main"]
