"""``civic budget tally --pb`` imports what it needs and nothing else (its start-up time is a
benchmark figure: ``python -m benchmarks pabulib``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]
FILE = ROOT / "tests" / "data" / "pabulib" / "Poland_Warszawa_2017_Przyczolek_Grochowski.pb"
PROGRAM = """
import json, sys
from core.cli import main
sys.argv = ["civic", "budget", "tally", "--pb", sys.argv[1]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = ("eventsourcing", "litestar", "jinja2", "psycopg", "uvicorn", "cryptography", "core.engine", "core.store",
         "core.voting", "plugins.budget_vote.service", "plugins.apartment_vote.cli", "plugins.complaints.cli",
         "plugins.ad_review.cli", "core.identity_cli", "core.ledger.cli")
print(json.dumps(sorted({m.split(".")[0] if m.split(".")[0] not in ("core", "plugins") else m
                         for m in sys.modules if m.startswith(heavy)})))
"""


def test_tally_of_a_file_imports_no_store_web_or_other_plugin():
    run = subprocess.run([sys.executable, "-c", PROGRAM, str(FILE)], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    *answer, loaded = run.stdout.strip().splitlines()
    assert "winners (greedy): 1772, 1774" in "\n".join(answer)
    assert json.loads(loaded) == []


def test_other_commands_still_load_when_they_run():
    run = subprocess.run([sys.executable, "-m", "core", "permissions", "--json"], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert "budget.manage" in json.loads(run.stdout)
    listing = subprocess.run([sys.executable, "-m", "core", "--help"], capture_output=True, text=True, cwd=ROOT,
                             check=True).stdout
    for name in ("budget", "apartment", "adreview", "complaints", "staff", "audit"):
        assert f"  {name} " in listing
