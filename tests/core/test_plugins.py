from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import hookspecs
from core.plugins import PluginError, describe, make_plugin_manager

BUILTINS = {"budget_vote", "apartment_vote", "ad_review", "complaints"}
ROOT = Path(__file__).resolve().parents[2]


def test_builtins_come_from_the_entry_point_group():
    pm = make_plugin_manager(allow=None)
    info = {p["name"]: p for p in describe(pm)}
    assert BUILTINS <= set(info)
    for name in BUILTINS:
        assert info[name]["distribution"] == "civic" and info[name]["builtin"]
        assert info[name]["module"] == f"plugins.{name}"


def test_allow_list_restricts_what_loads(monkeypatch):
    monkeypatch.setenv("CIVIC_PLUGINS", "complaints, ad_review")
    names = {p["name"] for p in describe(make_plugin_manager())}
    assert names == {"complaints", "ad_review"}
    monkeypatch.setenv("CIVIC_PLUGINS", "complaints,no_such_plugin")
    with pytest.raises(PluginError, match="no_such_plugin"):
        make_plugin_manager()


def test_a_misspelled_hook_fails_at_start():
    class Typo:
        @hookspecs.hookimpl
        def civic_register_route(self, engine):  # missing "s"
            return []

    with pytest.raises(PluginError, match="civic_register_route"):
        make_plugin_manager(allow=set(), extra=[Typo()])


def test_cli_lists_plugins_as_json():
    from core.cli import cli

    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.output)}
    assert BUILTINS <= set(listed)
    assert all(isinstance(p["hooks"], list) for p in listed.values())


TINY_PLUGIN = '''
import click
from litestar import get
from core.hookspecs import hookimpl

@get("/api/tiny/hello", sync_to_thread=False)
def hello() -> dict:
    return {"hello": "from tiny"}

@click.command("tiny-hello")
def tiny_hello():
    """Say hello from the tiny plugin."""
    click.echo("hello from tiny")

@hookimpl
def civic_register_routes(engine):
    return [hello]

@hookimpl
def civic_register_commands(cli):
    cli.add_command(tiny_hello)
'''


def test_an_out_of_tree_plugin_is_found_through_its_entry_point(tmp_path):
    """Install a tiny plugin distribution from a temporary directory into a private target
    directory and run civic with it on the path: its route and command appear, core untouched."""
    src = tmp_path / "src"
    (src / "civic_tiny").mkdir(parents=True)
    (src / "civic_tiny" / "__init__.py").write_text(textwrap.dedent(TINY_PLUGIN))
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "civic-tiny"
        version = "0.0.1"
        [project.entry-points.civic]
        tiny = "civic_tiny"
        [tool.setuptools]
        packages = ["civic_tiny"]
    '''))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(src)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)]), "CIVIC_PLUGINS": ""}

    listed = subprocess.run([sys.executable, "-m", "core", "plugins", "--json"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    tiny = {p["name"]: p for p in json.loads(listed.stdout)}["tiny"]
    assert tiny["distribution"] == "civic-tiny" and not tiny["builtin"]
    assert "civic_register_routes" in tiny["hooks"] and "civic_register_commands" in tiny["hooks"]

    said = subprocess.run([sys.executable, "-m", "core", "tiny-hello"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    assert said.stdout.strip() == "hello from tiny"

    probe = textwrap.dedent(f'''
        from litestar.testing import TestClient
        from core.engine import Engine
        from core.http import create_app
        engine = Engine({str(tmp_path / "t.db")!r})
        with TestClient(create_app(engine)) as c:
            print(c.get("/api/tiny/hello").json()["hello"])
            print("/api/tiny/hello" in c.get("/schema/openapi.json").json()["paths"])
        engine.close()
    ''')
    routed = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True,
                            text=True, check=True)
    assert routed.stdout.split() == ["from", "tiny", "True"]
