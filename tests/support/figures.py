"""Figures the reliability tests establish (requests fuzzed, server errors, kills, acknowledged
writes found after restart, duplicates), written as they run and summed at the end of the run:
`make test` prints them, so a closing note or docs/security.md can quote a run instead of a guess.

Each test process appends JSON lines to one file (a short append is atomic), so the figures of
pytest-xdist workers add up."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

FILE_ENV = "CIVIC_TEST_FIGURES"


def record(name: str, **counts: int) -> None:
    path = os.environ.get(FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"name": name, **counts}) + "\n")


def totals(path: Path) -> dict[str, dict[str, int]]:
    summed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            name = entry.pop("name")
            for key, value in entry.items():
                summed[name][key] += value
    return {name: dict(values) for name, values in summed.items()}
