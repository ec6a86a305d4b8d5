from __future__ import annotations

import json

from click.testing import CliRunner

from core import cli as cli_module
from core import cli_helpers
from core.engine import Engine
from core.plugins import make_plugin_manager
from tests.support import petition
from tests.support.petition import Petition


def run(*args: str):
    return CliRunner().invoke(cli_module.cli, list(args), catch_exceptions=False)


def with_petition_plugin(monkeypatch):
    pm = make_plugin_manager(allow=set(), extra=[petition])
    monkeypatch.setattr(cli_helpers, "_plugin_manager", pm)
    return pm


def test_rebuild_command_reproduces_read_models(tmp_path, monkeypatch, manual_clock):
    pm = with_petition_plugin(monkeypatch)
    db = str(tmp_path / "c.db")
    engine = Engine(db, plugins=pm)
    p = engine.create(Petition("Playground"))
    for who in ("a", "b", "c"):
        engine.update(p.id, lambda x, w=who: x.sign(w), cls=Petition)
    engine.read_models.get("petition.signatures")
    engine.close()  # flush
    before = Engine(db, plugins=pm)
    stored = before.read_models.stored_state("petition.signatures")
    before.close()

    result = run("rebuild", "--db", db, "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["petition.signatures"]["position"] == 4
    after = Engine(db, plugins=pm)
    assert after.read_models.stored_state("petition.signatures") == stored
    after.close()
    assert run("rebuild", "--db", db, "no.such.model").exit_code == 2


def test_demo_refuses_a_store_that_is_not_empty(tmp_path, monkeypatch, manual_clock):
    pm = with_petition_plugin(monkeypatch)
    db = str(tmp_path / "d.db")
    engine = Engine(db, plugins=pm)
    engine.create(Petition("x"))
    engine.close()
    refused = run("demo", "--db", db)
    assert refused.exit_code == 2 and "not empty" in refused.output
    skipped = run("demo", "--db", db, "--if-empty")
    assert skipped.exit_code == 0 and "not loaded" in skipped.output


def test_tick_with_nothing_due(tmp_path, monkeypatch):
    with_petition_plugin(monkeypatch)
    result = run("tick", "--db", str(tmp_path / "t.db"), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_the_default_db_is_the_stores():
    """``--db``'s default is written out in cli_helpers so that commands start without the store."""
    from core import store

    assert cli_helpers.DEFAULT_DB == store.DEFAULT_DB


def test_a_lazy_command_runs_the_real_one_and_lists_its_help_unimported():
    with cli_helpers.lazily():
        lazy = cli_helpers.lazy_command("perms", "core.identity_cli:permissions_cmd", "Every registered permission.")
    assert isinstance(lazy, cli_helpers.LazyCommand)
    group = cli_module.click.Group("civic", commands={"perms": lazy})
    listing = CliRunner().invoke(group, ["--help"], catch_exceptions=False)
    assert "perms  Every registered permission." in listing.output
    out = CliRunner().invoke(group, ["perms", "--json"], catch_exceptions=False)
    assert out.exit_code == 0 and "staff.manage" in json.loads(out.output)
    # outside the program (tests, tools walking the command tree) it is the command itself
    assert cli_helpers.lazy_command("perms", "core.identity_cli:permissions_cmd", "x").name == "permissions"
