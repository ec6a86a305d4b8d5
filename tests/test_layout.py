"""The house rules of the layout: core never imports a plugin; plugins never import each other;
rules.py modules do no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists())


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_never_imports_a_plugin():
    for path in (ROOT / "core").rglob("*.py"):
        bad = {m for m in imported_modules(path) if m == "plugins" or m.startswith("plugins.")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugins_never_import_each_other(plugin):
    others = {f"plugins.{p}" for p in PLUGINS if p != plugin}
    for path in (ROOT / "plugins" / plugin).rglob("*.py"):
        bad = {m for m in imported_modules(path) if any(m == o or m.startswith(o + ".") for o in others)}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


IO_MODULES = {"os", "sqlite3", "socket", "subprocess", "pathlib", "shutil", "requests", "httpx",
              "eventsourcing", "litestar", "click", "core.engine", "core.clock"}


@pytest.mark.parametrize("rules", sorted((ROOT / "plugins").glob("*/rules.py")), ids=lambda p: p.parent.name)
def test_rules_modules_are_pure(rules):
    bad = {m for m in imported_modules(rules) if m.split(".")[0] in IO_MODULES or m in IO_MODULES}
    assert not bad, f"{rules.relative_to(ROOT)} imports {bad}"
    source = rules.read_text(encoding="utf-8")
    assert "open(" not in source and "datetime.now" not in source
