"""The example plugin of docs/plugins.md (examples/civic_petitions) installs like any third-party
plugin, and its command, route, read model and audit re-tally all work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "civic_petitions"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(EXAMPLE)], check=True, capture_output=True)
    return target


def test_the_example_plugin_runs_from_its_entry_point(site, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "CIVIC_PLUGINS": "",
           "CIVIC_TOKEN": "", "CIVIC_REQUIRE_TOKEN": ""}
    db = str(tmp_path / "p.db")

    def civic(*args: str, ok: bool = True) -> str:
        run = subprocess.run([sys.executable, "-m", "core", *args], env=env, cwd=tmp_path,
                             capture_output=True, text=True)
        assert (run.returncode == 0) == ok, run.stdout + run.stderr
        return run.stdout + run.stderr

    listed = {p["name"]: p for p in json.loads(civic("plugins", "--json"))}
    assert listed["petitions"]["distribution"] == "civic-petitions" and not listed["petitions"]["builtin"]

    petition = civic("petitions", "open", "Benches along the Namsan trail", "--threshold", "2", "--db", db).strip()
    assert civic("petitions", "support", petition, "resident-1", "--db", db).strip() == "1 of 2 supporters"
    assert "already support" in civic("petitions", "support", petition, "resident-1", "--db", db, ok=False)
    assert "Invalid input" in civic("petitions", "open", "Hi", "--threshold", "2", "--db", db, ok=False)
    civic("petitions", "support", petition, "resident-2", "--db", db)
    rows = json.loads(civic("petitions", "list", "--json", "--db", db))
    assert rows[petition]["supporters"] == 2 and rows[petition]["must_answer"]

    verified = json.loads(civic("audit", "verify", "--db", db, "--json"))
    assert verified["ok"] and {"plugin": "petitions", "checked": 2, "discrepancies": []} in verified["retally"]

    probe = textwrap.dedent(f'''
        from litestar.testing import TestClient
        from core.engine import Engine
        from core.http import create_app
        engine = Engine({db!r})
        with TestClient(create_app(engine)) as c:
            print(c.get("/api/petitions").json()[{petition!r}]["supporters"])
            print(c.post("/api/petitions/{petition}/support", json={{"supporter": "resident-3"}}).json()["supporters"])
            print(c.post("/api/petitions", json={{"title": "A new crossing", "threshold": 5}}).status_code)
            print("/api/petitions/{{petition_id}}/support" in c.get("/schema/openapi.json").json()["paths"])
        engine.close()
    ''')
    routed = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert routed.returncode == 0, routed.stderr
    assert routed.stdout.split() == ["2", "3", "401", "True"]
