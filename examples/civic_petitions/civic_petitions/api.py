"""``/api/petitions``: one controller, its path and tags declared once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs
from litestar import Controller, get, post
from litestar.params import JSONBody

from core import ActorDep, EngineDep, requires
from civic_petitions import service


@attrs.define
class PetitionIn:
    title: str
    threshold: int


@attrs.define
class SupportIn:
    supporter: str


class PetitionsController(Controller):
    path = "/api/petitions"
    tags = ["petitions"]

    @get("/", guards=[requires("petitions.view")], sync_to_thread=True, summary="Petitions and their support")
    def list_petitions(self, engine: EngineDep) -> dict[str, Any]:
        return service.petitions(engine)

    @post("/", guards=[requires("petitions.open")], sync_to_thread=True, summary="Open a petition")
    def open_petition(self, data: JSONBody[PetitionIn], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        petition = service.open_petition(engine, actor, data.title, data.threshold)
        return {"id": str(petition.id), "title": petition.title, "threshold": petition.threshold}

    @post("/{petition_id:uuid}/support", guards=[requires("petitions.support")], sync_to_thread=True,
          status_code=200, summary="Support a petition (once per supporter)")
    def support(self, petition_id: UUID, data: JSONBody[SupportIn], engine: EngineDep) -> dict[str, Any]:
        return service.support(engine, petition_id, data.supporter)
