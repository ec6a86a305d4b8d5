"""A petition with some support, for ``civic demo``."""

from __future__ import annotations

from collections.abc import Callable

from core import Actor, Engine, Role
from civic_petitions import service

DEMO_OFFICE = Actor(id="demo:petitions", name="demo office", roles={Role.PROCESS_ADMIN})


def load_demo(engine: Engine, progress: Callable[[str], None]) -> None:
    progress("petitions")
    petition = service.open_petition(engine, DEMO_OFFICE, "Benches along the Cheonggyecheon walk", 3)
    for supporter in ("resident-001", "resident-002", "resident-003"):
        service.support(engine, petition.id, supporter)
