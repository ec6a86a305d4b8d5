"""The HTTP routes, the OpenAPI document and the CLI command tree stay as recorded in
``tests/snapshots/interface.json``. Regenerate it on purpose only, when the interface is meant to
change: ``python -m tests.support.interface > tests/snapshots/interface.json``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.interface import interface

SNAPSHOT = Path(__file__).parent / "snapshots" / "interface.json"


def test_routes_openapi_and_commands_are_unchanged():
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    now = json.loads(json.dumps(interface(), sort_keys=True, ensure_ascii=False))
    assert now["routes"] == recorded["routes"]
    assert sorted(now["commands"]) == sorted(recorded["commands"])
    assert now["commands"] == recorded["commands"]
    assert now["openapi"] == recorded["openapi"]
