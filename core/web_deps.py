"""What a Litestar handler may ask for by name: ``engine: EngineDep`` and ``actor: ActorDep``
(the actor the guard authenticated; anonymous without a token)."""

from __future__ import annotations

from litestar.di import NamedDependency

from core.actors import Actor
from core.engine import Engine

EngineDep = NamedDependency[Engine]
ActorDep = NamedDependency[Actor]
