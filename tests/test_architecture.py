"""The architecture, checked by tools made for it: import-linter's contracts (pyproject.toml),
no import cycle among core's modules (grimp, the graph import-linter builds on, counting imports
inside functions and under TYPE_CHECKING too), and every module importing alone in a fresh
interpreter."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_import_cycles_in_core():
    graph = grimp.build_graph("core")
    cycles = sorted(f"{a} -> {b} -> ... -> {a}" for a in graph.modules
                    for b in graph.find_modules_directly_imported_by(a)
                    if graph.chain_exists(importer=b, imported=a))
    assert cycles == []


def all_modules() -> list[str]:
    names = []
    for package in ("core", "plugins"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py":
                continue  # running it is its job
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_alone_in_a_fresh_interpreter():
    def import_alone(name: str) -> tuple[str, str]:
        run = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
        return name, "" if run.returncode == 0 else run.stderr.strip().splitlines()[-1]

    modules = all_modules()
    assert len(modules) > 50
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = {name: error for name, error in pool.map(import_alone, modules) if error}
    assert failures == {}


@pytest.mark.parametrize("name", ["core", "core.voting"])
def test_the_public_api_names_resolve(name):
    module = __import__(name, fromlist=["__all__"])
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
