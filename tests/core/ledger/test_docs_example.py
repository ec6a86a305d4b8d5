"""The example export quoted in docs/audit.md verifies, and the values the page quotes are right."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import rfc8785

from core.ledger.verify import verify_export

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_the_documented_example_verifies_with_the_values_quoted():
    report = verify_export(DOCS / "audit-example.jsonl")
    assert report.ok and report.records == 3 and report.checkpoints == 1
    page = (DOCS / "audit.md").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in (DOCS / "audit-example.jsonl").read_text().splitlines()]
    canonical = rfc8785.dumps(lines[2]["record"])
    assert canonical.decode() in page
    leaf = base64.b64encode(hashlib.sha256(b"\x00" + canonical).digest()).decode()
    assert leaf == lines[2]["leaf_hash"] and leaf in page
    assert base64.b64encode(report.root_hash).decode() in page
    assert report.latest_checkpoint["root_hash"] in page
