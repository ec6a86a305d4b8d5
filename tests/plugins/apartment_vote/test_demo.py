"""The demo: every kind of outcome, and the audit re-derives every result, from the live store
and from an export, and names a result changed in the export."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core import cli as cli_module
from core import cli_helpers
from core.engine import Engine
from core.plugins import make_plugin_manager
from plugins.apartment_vote import demo
from plugins.apartment_vote.audit import retally


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    where = tmp_path_factory.mktemp("apartment-demo")
    engine = Engine(str(where / "demo.db"), outbox=where / "outbox.jsonl")
    steps: list[str] = []
    outcome = demo.load_demo(engine, steps.append)
    engine.close()
    return where, outcome, steps


def test_demo_has_every_outcome_and_the_audit_agrees(demo_db):
    where, outcome, steps = demo_db
    assert steps and outcome["status"] == "closed"
    by_title = {r["title"]: r for r in outcome["results"].values()}
    assert by_title["Building 101 representative"]["status"] == "elected"
    assert by_title["Building 102 representative"]["status"] == "elected"
    failed = by_title["Building 103 representative"]
    assert failed["status"] == "not_elected" and not failed["quorum_met"]
    assert failed["reason"].startswith("not elected: turnout ") and "below the required more than 1/2" in failed["reason"]
    assert by_title["Building 104 representative"]["status"] == "no_candidate"
    assert by_title["Chair of the residents' council"]["status"] == "elected"
    assert len(by_title["Auditors (2 seats)"]["elected"]) == 2
    assert by_title["Amend the management bylaw: pets in the lifts"]["status"] == "not_adopted"
    assert by_title["Install 12 EV chargers in the car park"]["status"] == "adopted"
    chair = by_title["Chair of the residents' council"]
    assert chair["households"] == sum(demo.BUILDINGS.values())
    assert sum(b["voted"] for b in chair["by_building"].values()) == chair["voted"]

    engine = Engine(str(where / "demo.db"), outbox=where / "outbox.jsonl")
    try:
        report = retally(list(engine.records()))
        assert report.ok, report.discrepancies
        assert report.checked == len(outcome["results"]) == 9
        listing = engine.read_models.get("apartment.elections").state
        assert [e["status"] for e in listing.values()] == ["closed"]
        # the demo households read their codes; none went to the outbox
        assert engine.outbox.sent() == []
    finally:
        engine.close()


def test_the_audit_of_an_export_re_derives_every_result_and_names_a_changed_one(demo_db, tmp_path, monkeypatch):
    where, _, _ = demo_db
    db = str(where / "demo.db")
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager())
    runner = CliRunner()
    export = tmp_path / "export.jsonl"
    assert runner.invoke(cli_module.cli, ["audit", "export", "--db", db, "--out", str(export)]).exit_code == 0
    r = runner.invoke(cli_module.cli, ["audit", "verify", "--log", str(export), "--json"])
    assert r.exit_code == 0, r.output
    mine = [x for x in json.loads(r.output)["retally"] if x["plugin"] == "apartment_vote"]
    assert mine == [{"plugin": "apartment_vote", "checked": 9, "discrepancies": []}]

    lines = export.read_text().splitlines()
    for i, line in enumerate(lines):
        if "Election.ResultRecorded" in line and '"Building 103 representative"' in line:
            lines[i] = line.replace('"status":"not_elected"', '"status":"elected"', 1)
            break
    else:
        raise AssertionError("no result of building 103 in the export")
    export.write_text("\n".join(lines) + "\n")
    r = runner.invoke(cli_module.cli, ["audit", "verify", "--log", str(export), "--json"])
    assert r.exit_code == 1
    mine = [x for x in json.loads(r.output)["retally"] if x["plugin"] == "apartment_vote"][0]
    assert len(mine["discrepancies"]) == 1 and "differs from the recount in status" in mine["discrepancies"][0]["reason"]
