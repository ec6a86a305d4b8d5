"""``civic messages ...``: where the outbox's messages are, and the ones given up.

A message no notifier could deliver after ``core.messages.MAX_ATTEMPTS`` tries (or that a
notifier refused for good) is dead: kept sealed, never tried again by itself. Staff see them here,
fix the cause (a notifier's settings, a gateway's account) and send them again, or discard them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import click

from core.cli_helpers import authorized, echo_json, json_option


@click.group()
def messages() -> None:
    """Text messages and e-mail: counts, and the ones given up after failed tries."""


@messages.command("status")
@authorized("messages.read")
@json_option
def messages_status(engine: Any, actor: Any, as_json: bool) -> None:
    """How many messages are pending, delivered and given up; each one given up, with its last
    error (never its recipient or text)."""
    counts, dead = engine.messages.counts(), engine.messages.dead()
    if as_json:
        echo_json({"counts": counts, "dead": dead})
        return
    click.echo(", ".join(f"{status}: {n}" for status, n in counts.items()))
    if not engine.outbox_file_on and counts["pending"]:
        click.echo("civic: no development message file; pending messages wait for a notifier "
                   "(docs/messages.md)")
    for row in dead:
        made = datetime.fromtimestamp(row["created_at"], timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"dead  {row['key']}  {row['channel']}  {made}  {row['attempts']} tries  {row['last_error']}")


@messages.command("retry")
@authorized("messages.manage")
@click.argument("keys", nargs=-1)
def messages_retry(engine: Any, actor: Any, keys: tuple[str, ...]) -> None:
    """Send messages given up (KEYS, or every one) again now, with a fresh count of tries."""
    done = engine.messages.retry(list(keys) or None)
    click.echo(f"messages: {done.delivered} delivered, {done.failed} to be tried again, {done.dead} given up again")


@messages.command("discard")
@authorized("messages.manage")
@click.argument("keys", nargs=-1)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def messages_discard(engine: Any, actor: Any, keys: tuple[str, ...], yes: bool) -> None:
    """Delete the recipient and text of messages given up (KEYS, or every one): they are never sent."""
    if not yes:
        click.confirm(f"Never send {len(keys) or 'every'} message(s) given up?", abort=True)
    click.echo(f"messages: {engine.messages.discard(list(keys) or None)} discarded")
