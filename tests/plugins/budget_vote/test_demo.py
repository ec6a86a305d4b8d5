"""The demo cycle is the plan's: 11 projects, 345 million won proposed, 190 million to spend,
published, and the audit re-derives its result."""

from __future__ import annotations

from plugins.budget_vote import civic_audit_retally, service
from plugins.budget_vote.demo import BUDGET, CYCLE_NAME, load_demo
from plugins.budget_vote.views import public_result


def test_the_demo_cycle_is_published_and_re_derived(sqlite_engine):
    steps = []
    load_demo(sqlite_engine, steps.append, scale=0.1)
    cycle = service.find_cycle(sqlite_engine, CYCLE_NAME)
    assert cycle.phase == "published"
    assert len(cycle.ballot_costs) == 11 and sum(cycle.ballot_costs.values()) == 345_000_000
    assert cycle.budget == BUDGET == 190_000_000
    result = public_result(cycle)
    assert 0 < result["funded_total"] <= BUDGET
    assert result["inputs"]["ballots_by_channel"]["paper"] == 24
    assert result["inputs"]["ballots_counted"] == 280 + 24
    # greedy: every project left out costs more than what was left
    left = BUDGET - result["funded_total"]
    assert all(cost > left for pid, cost in cycle.ballot_costs.items() if pid not in result["winners"])
    report = civic_audit_retally(list(sqlite_engine.records()))
    assert report.ok and report.checked == 1
    assert steps[0] == "budget: 2016 district cycle"


def test_civic_audit_verify_re_derives_the_published_result(tmp_path, monkeypatch, manual_clock):
    import json

    from click.testing import CliRunner

    from core import cli as cli_module
    from core import cli_helpers
    from core.engine import Engine
    from core.plugins import make_plugin_manager

    pm = make_plugin_manager(allow={"budget_vote"})
    monkeypatch.setattr(cli_helpers, "_plugin_manager", pm)
    db = str(tmp_path / "demo.db")
    engine = Engine(db, plugins=pm, outbox=tmp_path / "o.jsonl")
    load_demo(engine, lambda _: None, scale=0.05)
    engine.close()
    runner = CliRunner()
    live = runner.invoke(cli_module.cli, ["audit", "verify", "--db", db, "--json"], catch_exceptions=False)
    assert live.exit_code == 0, live.output
    report = json.loads(live.output[live.output.index("{"):])
    budget_reports = [r for r in report["retally"] if r["plugin"] == "budget_vote"]
    assert budget_reports and budget_reports[0]["checked"] == 1 and not budget_reports[0]["discrepancies"]
    out = tmp_path / "log.jsonl"
    assert runner.invoke(cli_module.cli, ["audit", "export", "--db", db, "--out", str(out)]).exit_code == 0
    exported = runner.invoke(cli_module.cli, ["audit", "verify", "--log", str(out)], catch_exceptions=False)
    assert exported.exit_code == 0 and "re-tally budget_vote: 1 results checked, 0 differ" in exported.output


def test_only_the_open_cycles_codes_reach_the_development_file(tmp_path, manual_clock):
    from core.engine import Engine
    from core.plugins import make_plugin_manager
    from plugins.budget_vote.demo import OPEN_VOTERS

    engine = Engine(str(tmp_path / "demo.db"), plugins=make_plugin_manager(allow={"budget_vote"}),
                    outbox=tmp_path / "o.jsonl")
    try:
        load_demo(engine, lambda _: None, scale=0.05)
        written = [m["to"] for m in engine.outbox.sent()]
        # the closed cycle's residents took their codes on the way out: nothing of theirs on disk
        assert sorted(written) == [f"0100000{n:04d}" for n in range(1, OPEN_VOTERS + 1)]
        assert engine.messages.counts()["pending"] == 0
    finally:
        engine.close()
