"""The auditor's recount: each recorded support count must be the number of supports so far."""

from __future__ import annotations

from collections.abc import Sequence

from core import Discrepancy, LogRecord, RetallyReport
from civic_petitions import fold


def retally(records: Sequence[LogRecord]) -> RetallyReport | None:
    state: dict = {}
    problems: list[Discrepancy] = []
    checked = 0
    for record in records:
        if record.topic not in fold.TOPICS:
            continue
        if record.topic == fold.SUPPORTED:
            expected = state[record.originator_id]["supporters"] + 1
            checked += 1
            if record.payload["count"] != expected:
                problems.append(Discrepancy(record.position, f"support count {record.payload['count']} "
                                                             f"should be {expected}"))
        fold.apply(state, record)
    if not state:
        return None
    return RetallyReport(plugin="petitions", checked=checked, discrepancies=tuple(problems))
