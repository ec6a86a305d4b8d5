"""A small plugin used by core's tests: petitions that people sign."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import click
from litestar import get, post
from litestar.params import FromPath, JSONBody

from core.cli_helpers import authorized
from core.domain import CivicAggregate, event
from core.errors import InvalidInput, RuleViolation
from core.hookspecs import hookimpl
from core.web_deps import EngineDep
from core.actors import ANYONE, Actor
from core.guards import requires
from core.web_deps import ActorDep
from core.readmodels import ReadModel


class Petition(CivicAggregate):
    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.signers: list[str] = []
        self.closed = False

    def sign(self, who: str) -> None:
        if not who.strip():
            raise InvalidInput("A signature needs a name.")
        if self.closed:
            raise RuleViolation("The petition is closed.")
        if who in self.signers:
            raise RuleViolation(f"{who} has already signed.")
        self._signed(who)

    @event("Signed")
    def _signed(self, who: str) -> None:
        self.signers.append(who)

    @event("Closed")
    def close(self) -> None:
        self.closed = True


class SignatureCounts(ReadModel):
    name = "petition.signatures"
    event_types = (Petition.Opened, Petition.Signed)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Petition.Opened):
            self.state[key] = {"title": event.title, "signatures": 0, "last": position}
        else:
            self.state[key]["signatures"] += 1
            self.state[key]["last"] = position


@get("/api/petition/{petition_id:uuid}", sync_to_thread=True)
def show_petition(petition_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
    return engine.read_models.get("petition.signatures").state.get(str(petition_id)) or {}


@post("/api/petition", guards=[requires("petition.open")], sync_to_thread=True)
def open_petition(data: JSONBody[dict[str, str]], engine: EngineDep, actor: ActorDep) -> dict[str, str]:
    title = (data.get("title") or "").strip()
    if not title:
        raise InvalidInput("A petition needs a title.", field="title")
    petition = engine.create(Petition(title))
    return {"id": str(petition.id)}


@post("/api/petition/{petition_id:uuid}/sign", guards=[requires("petition.sign")], sync_to_thread=True)
def sign_petition(petition_id: FromPath[UUID], data: JSONBody[dict[str, str]], engine: EngineDep) -> dict[str, int]:
    count = engine.update(petition_id, lambda p: (p.sign(data.get("name", "")), len(p.signers))[1],
                          cls=Petition, what="petition")
    return {"signatures": count}


@post("/api/petition/{petition_id:uuid}/close", guards=[requires("petition.close")], sync_to_thread=True,
      status_code=200)
def close_petition(petition_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, bool]:
    engine.update(petition_id, lambda p: p.close(), cls=Petition, what="petition")
    return {"closed": True}


@click.command("petition-count")
def petition_count() -> None:
    """Say how many petitions there are."""
    click.echo("petitions: 0")


@click.command("petition-close")
@authorized("petition.close")
@click.argument("petition_id", type=click.UUID)
def petition_close(engine: Any, actor: Actor, petition_id: UUID) -> None:
    """Close a petition to further signatures."""
    engine.update(petition_id, lambda p: p.close(), cls=Petition, what="petition")
    click.echo(f"closed {petition_id}")


@hookimpl
def civic_register_permissions():
    return {
        # open to anyone, signed in or not; closing is an administrator's act
        "petition.open": [ANYONE],
        "petition.sign": [ANYONE],
        "petition.close": ["process_admin"],
    }




@hookimpl
def civic_register_read_models():
    return [SignatureCounts]


@hookimpl
def civic_register_routes(engine):
    return [show_petition, open_petition, sign_petition, close_petition]


@hookimpl
def civic_register_commands(cli):
    cli.add_command(petition_count)
    cli.add_command(petition_close)
