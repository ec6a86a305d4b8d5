"""``civic audit``: exit codes, JSON output, the re-tally hook, receipts, kept checkpoints."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import core.cli
import core.cli_helpers
from core.cli import cli
from core.engine import Engine
from core.hookspecs import hookimpl
from core.plugins import make_plugin_manager
from core.records import Discrepancy, RetallyReport
from tests.core.ledger.conftest import Store, build_log
from tests.support import petition


class SignatureRetally:
    """A plugin's audit: every signature must be by someone other than 'mallory'."""

    seen: list = []

    @hookimpl
    def civic_audit_retally(self, records):
        SignatureRetally.seen = list(records)
        signed = [r for r in records if r.event_name == "Petition.Signed"]
        bad = tuple(Discrepancy(r.position, "a signature by mallory") for r in signed
                    if r.payload.get("who") == "mallory")
        return RetallyReport("petition", checked=len(signed), discrepancies=bad)


@pytest.fixture
def plugins(monkeypatch):
    pm = make_plugin_manager(extra=[petition, SignatureRetally()])
    monkeypatch.setattr(core.cli_helpers, "_plugin_manager", pm)
    return pm


@pytest.fixture
def db(plugins, manual_clock, tmp_path) -> str:
    path = str(tmp_path / "civic.db")
    engine = Engine(path, plugins=plugins, outbox=tmp_path / "o")
    try:
        build_log(engine)
    finally:
        engine.close()
    return path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_export_then_verify_both_ways(db, tmp_path):
    out = tmp_path / "log.jsonl"
    result = run("audit", "export", "--db", db, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "exported 21 records" in result.output  # everything was covered already: no new checkpoint
    for source in (["--db", db], ["--log", str(out)]):
        result = run("audit", "verify", *source, "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["ok"] and report["records"] == 21 and report["checkpoints"] == 3
        assert report["retally"] == [{"plugin": "petition", "checked": 15, "discrepancies": []}]
    assert [r.position for r in SignatureRetally.seen] == list(range(1, 22))
    result = run("audit", "verify", "--log", str(out))
    assert result.exit_code == 0 and "OK: 21 records, 3 checkpoints" in result.output


def test_export_signs_a_fresh_checkpoint_when_events_are_uncovered(plugins, manual_clock, tmp_path):
    path = str(tmp_path / "c.db")
    engine = Engine(path, plugins=plugins, outbox=tmp_path / "o")
    from tests.core.ledger.conftest import add_petition

    add_petition(engine, "a", 2)
    engine.close()
    out = tmp_path / "x.jsonl"
    assert run("audit", "export", "--db", path, "--out", str(out)).exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[-1] == {"type": "end", "records": 4}
    assert lines[-2]["type"] == "checkpoint" and "\n3\n" in lines[-2]["note"]


def test_a_tampered_store_exits_1_naming_the_position(db):
    engine = Engine(db, plugins=core.cli.plugin_manager())
    try:
        store = Store(engine)
        state = store.state(10)
        state["who"] = "someone else"
        store.set_state(10, state)
    finally:
        engine.close()
    result = run("audit", "verify", "--db", db)
    assert result.exit_code == 1
    assert "FAILED at position 10" in result.output
    result = run("audit", "verify", "--db", db, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["first_bad_position"] == 10 and not report["ok"] and report["problems"]


def test_a_retally_discrepancy_fails_verify_at_its_position(plugins, manual_clock, tmp_path):
    path = str(tmp_path / "r.db")
    engine = Engine(path, plugins=plugins, outbox=tmp_path / "o")
    try:
        p = petition.Petition("x")
        p.sign("kim")
        p.sign("mallory")
        engine.save(p)
        engine.ledger.checkpoint()
    finally:
        engine.close()
    result = run("audit", "verify", "--db", path)
    assert result.exit_code == 1
    assert "FAILED at position 3: petition: a signature by mallory" in result.output
    assert run("audit", "verify", "--db", path, "--no-retally").exit_code == 0


def test_bad_usage_and_unreadable_input_exit_2(db, tmp_path):
    assert run("audit", "verify").exit_code == 2
    assert run("audit", "verify", "--db", db, "--log", "x").exit_code == 2
    assert run("audit", "verify", "--db", str(tmp_path / "absent.db")).exit_code == 2
    assert run("audit", "verify", "--log", str(tmp_path / "absent.jsonl")).exit_code == 2
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not an export\n")
    result = run("audit", "verify", "--log", str(garbage))
    assert result.exit_code == 2 and "line 1" in result.output
    assert run("audit", "verify", "--db", db, "--key", "not-a-key+zz+abc").exit_code == 2
    assert run("audit", "verify", "--db", db, "--checkpoint", str(tmp_path / "none")).exit_code == 2
    assert not (tmp_path / "absent.db").exists()  # verify never creates a store


def test_kept_checkpoints_and_pinned_keys(db, tmp_path):
    engine = Engine(db, plugins=core.cli.plugin_manager())
    try:
        key = str(engine.ledger.verifier_key)
        kept = tmp_path / "kept.json"
        kept.write_text(json.dumps(engine.ledger.latest_checkpoint().to_json()))
    finally:
        engine.close()
    assert run("audit", "verify", "--db", db, "--key", key, "--checkpoint", str(kept)).exit_code == 0
    key_file = tmp_path / "key.txt"
    key_file.write_text(key + "\n")
    assert run("audit", "verify", "--db", db, "--key", str(key_file)).exit_code == 0
    from core.ledger.checkpoint import SigningKey

    stranger = str(SigningKey.generate("somebody.example").verifier)
    result = run("audit", "verify", "--db", db, "--key", stranger)
    assert result.exit_code == 1 and "FAILED at position 7" in result.output


def test_receipts_from_the_command_line(db, tmp_path):
    result = run("audit", "receipt", "--db", db, "10")
    assert result.exit_code == 0
    receipt = json.loads(result.stdout)
    assert receipt["position"] == 10 and receipt["leaf_index"] == 9
    path = tmp_path / "receipt.json"
    path.write_text(result.stdout)
    assert run("audit", "receipt", "--check", str(path)).exit_code == 0
    receipt["record"]["payload"]["who"] = "someone else"
    path.write_text(json.dumps(receipt))
    result = run("audit", "receipt", "--check", str(path))
    assert result.exit_code == 1 and "does not hold" in result.output
    assert run("audit", "receipt", "--db", db).exit_code == 2


def test_checkpoint_command_prints_a_signed_note(db):
    result = run("audit", "checkpoint", "--db", db)
    assert result.exit_code == 0
    lines = result.stdout.split("\n")
    assert lines[1] == "21" and lines[4].startswith("\u2014 ")


def test_the_audit_group_loads_whichever_module_is_imported_first():
    import subprocess
    import sys

    for first in ("core.ledger.cli", "core.cli"):
        code = f"import {first}; from core.cli import cli; print('audit' in cli.commands)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "True"


def test_verifying_an_export_without_a_key_says_whose_key_it_trusted(db, tmp_path):
    """An export verified against the key it carries proves consistency, not authorship: say so."""
    out = tmp_path / "log.jsonl"
    assert run("audit", "export", "--db", db, "--out", str(out)).exit_code == 0
    alone = run("audit", "verify", "--log", str(out))
    assert alone.exit_code == 0 and "warning: the key was read from the file itself" in alone.output
    assert json.loads(run("audit", "verify", "--log", str(out), "--json").stdout)["key_source"] == "file"
    pinned = run("audit", "verify", "--log", str(out), "--key", _verifier_key(db))
    assert pinned.exit_code == 0 and "warning" not in pinned.output


def _verifier_key(db: str) -> str:
    from core.engine import Engine

    engine = Engine(db)
    try:
        return str(engine.ledger.verifier_key)
    finally:
        engine.close()
