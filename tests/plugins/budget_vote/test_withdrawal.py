"""Withdrawing a proposal before voting: off the ballot, kept in the log with its reason, counted
the same by the read model and by the audit; through the service, the HTTP API and the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from core import InvalidInput, RuleViolation
from core.http import create_app
from plugins.budget_vote import service
from plugins.budget_vote.audit import retally
from plugins.budget_vote.cli import budget
from plugins.budget_vote.views import cycle_summaries
from tests.plugins.budget_vote.support import ADMIN, prepared_cycle, vote


def test_a_withdrawn_proposal_leaves_the_ballot_and_the_result_still_audits(engine):
    cycle = prepared_cycle(engine)  # screening: 1-4 feasible, X not
    before = cycle_summaries(engine)[str(cycle.id)]
    withdrawn = service.withdraw_proposal(engine, cycle.id, "2", reason="The proposer asked to withdraw it.", by=ADMIN)
    assert "2" not in withdrawn.ballot_costs and withdrawn.proposals["2"]["withdrawn"]
    after = cycle_summaries(engine)[str(cycle.id)]
    assert after["proposals"] == before["proposals"] - 1 and after["on_ballot"] == before["on_ballot"] - 1

    with pytest.raises(RuleViolation, match="already withdrawn"):
        service.withdraw_proposal(engine, cycle.id, "2", reason="Twice is refused.", by=ADMIN)
    with pytest.raises(RuleViolation, match="was withdrawn"):
        service.screen(engine, cycle.id, "2", feasible=True, cost=5, reason="screen again", by=ADMIN)
    with pytest.raises(InvalidInput, match="No proposal 9"):
        service.withdraw_proposal(engine, cycle.id, "9", reason="There is no such proposal.", by=ADMIN)
    with pytest.raises(InvalidInput, match="reason"):
        service.withdraw_proposal(engine, cycle.id, "3", reason="  ", by=ADMIN)

    service.advance(engine, cycle.id, "voting", by=ADMIN)
    with pytest.raises(InvalidInput):
        vote(engine, cycle.id, "v1", ["2"])  # no longer on the ballot
    vote(engine, cycle.id, "v1", ["1", "3"])
    with pytest.raises(RuleViolation, match="withdraw a proposal"):
        service.withdraw_proposal(engine, cycle.id, "4", reason="Too late once voting is open.", by=ADMIN)
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    result = service.tally(engine, cycle.id, by=ADMIN)
    assert "2" not in result["inputs"]["costs"]
    report = retally(list(engine.records()))
    assert report.ok and report.checked == 1


def test_withdrawal_over_http_and_from_the_command_line(sqlite_engine, monkeypatch):
    engine = sqlite_engine
    cycle = prepared_cycle(engine)
    with TestClient(create_app(engine)) as client:
        refused = client.post(f"/api/budget/cycles/{cycle.id}/proposals/1/withdrawal", json={"reason": "no token"})
        assert refused.status_code == 401
        assert "1" in service.get_cycle(engine, cycle.id).ballot_costs
    engine.close()
    monkeypatch.delenv("CIVIC_TOKEN", raising=False)
    monkeypatch.delenv("CIVIC_REQUIRE_TOKEN", raising=False)
    out = CliRunner().invoke(budget, ["withdraw", str(cycle.id), "1", "--reason", "A duplicate of proposal 3.",
                                      "--db", engine.db], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "proposal 1 withdrawn; 3 project(s) on the ballot" in out.output

