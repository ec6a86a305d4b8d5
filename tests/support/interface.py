"""The public interface of an instance, as plain JSON: every HTTP route, the OpenAPI document and
the CLI command tree. A snapshot of it is kept under ``tests/snapshots`` so that re-laying the
code cannot silently move a route, an option or a schema."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click


def _params(command: click.Command) -> list[dict[str, Any]]:
    out = []
    for p in command.params:
        out.append({"name": p.name, "opts": sorted(p.opts), "kind": type(p).__name__,
                    "required": p.required, "multiple": getattr(p, "multiple", False),
                    "type": p.type.name, "envvar": p.envvar if isinstance(p.envvar, str) else None})
    return sorted(out, key=lambda d: str(d["name"]))


def command_tree(group: click.Command, prefix: str = "civic") -> dict[str, Any]:
    tree: dict[str, Any] = {prefix: _params(group)}
    if isinstance(group, click.Group):
        for name, sub in sorted(group.commands.items()):
            tree.update(command_tree(sub, f"{prefix} {name}"))
    return tree


def interface() -> dict[str, Any]:
    from core.cli import cli, plugin_manager
    from core.engine import Engine
    from core.http import create_app

    pm = plugin_manager()
    pm.hook.civic_register_commands(cli=cli)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(str(Path(tmp) / "interface.db"), plugins=pm)
        try:
            app = create_app(engine)
            routes = sorted(f"{' '.join(sorted(m for m in r.methods if m not in ('HEAD', 'OPTIONS')))} {r.path}"
                            for r in app.routes if hasattr(r, "methods"))
            openapi = app.openapi_schema.to_schema()
        finally:
            engine.close()
    return {"routes": routes, "openapi": openapi, "commands": command_tree(cli)}


if __name__ == "__main__":
    import json
    import sys

    json.dump(interface(), sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
