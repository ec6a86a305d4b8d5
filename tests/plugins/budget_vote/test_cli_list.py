"""``civic budget list``."""

from __future__ import annotations

from click.testing import CliRunner

from plugins.budget_vote.cli import budget
from tests.plugins.budget_vote.support import prepared_cycle


def test_civic_budget_list_prints_every_cycle(sqlite_engine):
    """It crashed (KeyError: 'voters') on any store with a cycle."""
    engine = sqlite_engine
    cycle = prepared_cycle(engine)
    engine.close()
    out = CliRunner().invoke(budget, ["list", "--db", engine.db], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert str(cycle.id) in out.output and "4 on the ballot of   5 proposals" in out.output
