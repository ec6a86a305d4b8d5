"""Commands and queries: what the HTTP API and the CLI both call."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import Actor, Engine, NotFound, authorize
from civic_petitions.domain import Petition


def open_petition(engine: Engine, actor: Actor, title: str, threshold: int) -> Petition:
    authorize(engine.permissions, actor, "petitions.open")
    petition = Petition.open(title, threshold, by=actor.id)
    return engine.create(petition, refusal=f"A petition titled {petition.title!r} exists already.")


def support(engine: Engine, petition_id: UUID | str, supporter: str) -> dict[str, Any]:
    try:
        key = UUID(str(petition_id))
    except ValueError:
        raise NotFound(f"No petition {petition_id}.") from None
    engine.update(key, lambda p: p.support(supporter), cls=Petition, what="petition")
    return petitions(engine)[str(key)]


def petitions(engine: Engine) -> dict[str, Any]:
    return engine.read_models.get("petitions.list").state
