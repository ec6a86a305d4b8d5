"""``civic petitions ...``"""

from __future__ import annotations

import click

from core import authorized, echo_json, json_option
from civic_petitions import service


@click.group()
def petitions() -> None:
    """Petitions: open one, support one, list them."""


@petitions.command("open")
@authorized("petitions.open")
@click.argument("title")
@click.option("--threshold", type=int, required=True, help="Supporters needed for an answer.")
def open_cmd(engine, actor, title: str, threshold: int) -> None:
    """Open a petition titled TITLE."""
    petition = service.open_petition(engine, actor, title, threshold)
    click.echo(str(petition.id))


@petitions.command("support")
@authorized("petitions.support")
@click.argument("petition_id")
@click.argument("supporter")
def support_cmd(engine, actor, petition_id: str, supporter: str) -> None:
    """Record SUPPORTER's support for PETITION_ID."""
    row = service.support(engine, petition_id, supporter)
    click.echo(f"{row['supporters']} of {row['threshold']} supporters")


@petitions.command("list")
@authorized("petitions.view")
@json_option
def list_cmd(engine, actor, as_json: bool) -> None:
    """Every petition with its support."""
    rows = service.petitions(engine)
    if as_json:
        echo_json(rows)
        return
    for pid, row in rows.items():
        flag = " (must be answered)" if row["must_answer"] else ""
        click.echo(f"{pid}  {row['supporters']:>6}/{row['threshold']:<6} {row['title']}{flag}")
