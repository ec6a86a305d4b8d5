"""``/healthz`` and ``/api/plugins``."""

from __future__ import annotations

from typing import Any

from litestar import Router, get

from core.plugins import describe
from core.web_deps import EngineDep


@get("/healthz", sync_to_thread=True, summary="Store and ledger state")
def healthz(engine: EngineDep) -> dict[str, Any]:
    # cheap enough to poll: the plugin list is read once (reading package metadata is slow), and
    # the ledger reports where its follower stands instead of catching up inside the request
    plugins = engine.kept("healthz-plugins", lambda: [p["name"] for p in describe(engine.pm) if p["distribution"]])
    ledger = engine.ledger.health(catch_up=False)
    # the ledger read the store's position after its own: one query, not a second one here
    position = ledger["store_position"] if "store_position" in ledger else engine.position
    return {
        "status": "ok",
        "store": {"kind": engine.kind, "position": position},
        "ledger": ledger,
        "plugins": plugins,
    }


@get("/api/plugins", sync_to_thread=False, summary="Installed plugins and their hooks")
def plugins_list(engine: EngineDep) -> list[dict[str, Any]]:
    return describe(engine.pm)


system_router = Router(path="/", route_handlers=[healthz, plugins_list], tags=["system"])
