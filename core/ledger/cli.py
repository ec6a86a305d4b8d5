"""``civic audit``: export the log, verify a store or an export, print receipts and checkpoints.

``verify`` exits 0 when everything holds, 1 naming the first bad position and the reason,
2 for bad usage or input it cannot read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


import click

from core.cli_helpers import db_option, echo_json, json_option, open_engine, plugin_manager
from core.ledger.checkpoint import NoteError, VerifierKey
from core.ledger.export import ExportFormatError, write_export
from core.store import is_postgres_url
from core.ledger.verify import (
    VerifyReport,
    check_receipt,
    load_checkpoint_file,
    plugin_retally,
    verify_database,
    verify_export,
)

PROGRESS_FROM = 20_000  # records (or bytes / 200) below which no bar is drawn


class InputError(click.ClickException):
    exit_code = 2


def _require_store(db: str) -> None:
    if not is_postgres_url(db) and db != ":memory:" and not Path(db).expanduser().exists():
        raise InputError(f"no store at {db}")


def _trusted_key(value: str | None) -> VerifierKey | None:
    if value is None:
        return None
    text = value
    path = Path(value)
    if "+" not in value or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read key {value}: {exc.strerror}") from None
        if text.lstrip().startswith("{"):
            text = json.loads(text).get("verifier_key", "")
    try:
        return VerifierKey.parse(text)
    except NoteError as exc:
        raise InputError(f"--key: {exc}") from None


def _kept_checkpoints(paths: tuple[str, ...]) -> list[tuple[str, str]]:
    kept = []
    for p in paths:
        try:
            kept.append((load_checkpoint_file(p), f"the checkpoint in {p}"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read checkpoint {p}: {exc}") from None
    return kept


@click.group("audit")
def audit() -> None:
    """The tamper-evident ledger: export, verify, receipts, checkpoints."""


@audit.command("export")
@db_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The JSON Lines file to write.")
@click.option("--no-checkpoint", is_flag=True, help="Do not sign a fresh checkpoint before exporting.")
@json_option
def export_cmd(db: str, out: str, no_checkpoint: bool, as_json: bool) -> None:
    """Write the whole log, its checkpoints and public key to one self-contained file."""
    _require_store(db)
    with open_engine(db) as engine:
        total = engine.position
        with click.progressbar(length=max(total, 1), label="Exporting", file=sys.stderr,
                               hidden=total < PROGRESS_FROM) as bar:
            summary = write_export(engine, out, sign=not no_checkpoint, progress=bar.update)
    if as_json:
        echo_json(summary)
    else:
        click.echo(f"civic: exported {summary['records']} records ({summary['checkpoints']} checkpoints) to {out}")


KEY_FROM_FILE = ("the key was read from the file itself: this shows the file is consistent, not that it is "
                 "the district's log; pass --key with the key the district publishes (/ledger/key, the audit page)")


def _report(report: VerifyReport, as_json: bool, source: str, *, key_from_file: bool = False) -> None:
    if as_json:
        extra = {"key_source": "file", "warning": KEY_FROM_FILE} if key_from_file else {}
        echo_json({"source": source, **report.to_json(), **extra})
    else:
        first = report.first
        if first is None:
            latest = report.latest_checkpoint
            click.echo(f"civic: {source}: OK: {report.records} records, {report.checkpoints} checkpoints")
            if latest:
                click.echo(f"  newest checkpoint: {latest['size']} leaves, root {latest['root_hash']}")
            if key_from_file:
                click.echo(f"  warning: {KEY_FROM_FILE}")
        else:
            where = f"position {first.position}" if first.position is not None else "outside the log"
            click.echo(f"civic: {source}: FAILED at {where}: {first.reason}")
            others = len(report.problems) - 1 + report.more_problems
            if others:
                click.echo(f"  ({others} more problem{'s' if others != 1 else ''}; --json lists them)")
        for r in report.retally:
            click.echo(f"  re-tally {r.plugin}: {r.checked} results checked, {len(r.discrepancies)} differ")
    if not report.ok:
        sys.exit(1)


@audit.command("verify")
@click.option("--db", default=None, help="Verify a live store (SQLite file or postgresql:// URL).")
@click.option("--log", "log_file", default=None, type=click.Path(dir_okay=False),
              help="Verify an export file.")
@click.option("--key", default=None, help="The ledger key you trust: a verifier key "
              "(name+id+key) or a file holding it (or the JSON of /ledger/key).")
@click.option("--checkpoint", "kept", multiple=True, type=click.Path(dir_okay=False),
              help="A checkpoint you kept earlier (note text or JSON); may be repeated.")
@click.option("--no-retally", is_flag=True, help="Skip replaying the events through the plugins.")
@json_option
def verify_cmd(db: str | None, log_file: str | None, key: str | None, kept: tuple[str, ...],
               no_retally: bool, as_json: bool) -> None:
    """Recompute every leaf and root, check every checkpoint and its consistency with the one
    before, replay the events through each plugin's re-tally. Exit 0 all holds, 1 something
    does not (the first bad position is named), 2 bad usage or unreadable input."""
    if (db is None) == (log_file is None):
        raise click.UsageError("give exactly one of --db or --log")
    trusted = _trusted_key(key)
    checkpoints = _kept_checkpoints(kept)
    retally = None if no_retally else plugin_retally(plugin_manager())
    if db is not None:
        _require_store(db)
        with open_engine(db) as engine:
            total = engine.position
            with click.progressbar(length=max(total, 1), label="Verifying", file=sys.stderr,
                                   hidden=total < PROGRESS_FROM) as bar:
                report = verify_database(engine, key=trusted, checkpoints=checkpoints,
                                         retally=retally, progress=bar.update)
        _report(report, as_json, db)
        return
    assert log_file is not None
    size = Path(log_file).stat().st_size if Path(log_file).exists() else 0
    try:
        with click.progressbar(length=max(size, 1), label="Verifying", file=sys.stderr,
                               hidden=size < PROGRESS_FROM * 200) as bar:
            report = verify_export(log_file, key=trusted, checkpoints=checkpoints,
                                   retally=retally, progress=bar.update)
    except ExportFormatError as exc:
        raise InputError(f"{log_file}: {exc}") from None
    _report(report, as_json, log_file, key_from_file=trusted is None)


@audit.command("receipt")
@db_option
@click.argument("position", type=int, required=False)
@click.option("--check", "check_file", type=click.Path(dir_okay=False, exists=True),
              help="Check a receipt file offline instead of issuing one.")
@click.option("--key", default=None, help="The trusted ledger key for --check (default: the receipt's own).")
@json_option
def receipt_cmd(db: str, position: int | None, check_file: str | None, key: str | None, as_json: bool) -> None:
    """Print the receipt of the event at POSITION (record, leaf hash, inclusion proof, signed
    checkpoint), or check a receipt with --check."""
    if check_file is not None:
        try:
            receipt = json.loads(Path(check_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read receipt {check_file}: {exc}") from None
        trusted = _trusted_key(key)
        if trusted is None:
            try:
                trusted = VerifierKey.parse(receipt.get("verifier_key", ""))
            except NoteError as exc:
                raise InputError(f"the receipt has no usable verifier_key ({exc}); pass --key") from None
        why = check_receipt(receipt, trusted)
        if as_json:
            echo_json({"ok": why is None, "reason": why, "position": receipt.get("position")})
        elif why is None:
            click.echo(f"civic: receipt for position {receipt.get('position')} holds")
        else:
            click.echo(f"civic: receipt does not hold: {why}")
        if why is not None:
            sys.exit(1)
        return
    if position is None:
        raise click.UsageError("give a POSITION, or --check FILE")
    _require_store(db)
    with open_engine(db) as engine:
        receipt = engine.ledger.receipt(position)
    echo_json(receipt)


@audit.command("checkpoint")
@db_option
@json_option
def checkpoint_cmd(db: str, as_json: bool) -> None:
    """Follow the log and sign a checkpoint now; print it."""
    _require_store(db)
    with open_engine(db) as engine:
        signed = engine.ledger.checkpoint()
    if as_json:
        echo_json(signed.to_json())
    else:
        click.echo(signed.note, nl=False)


__all__ = ["audit"]
