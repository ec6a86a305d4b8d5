"""The auditor's re-tally of the participatory budget, from the public log alone.

For each recorded result: the box is recounted from its own records (``audit_process``), the
result recomputed with the function the live tally used (``rules.compute_result``) over the
cycle as the budget's fold reads it, every field compared, the overrides replayed against the
budget and the published winners and total checked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core import Discrepancy, LogRecord, RetallyReport
from core.voting import BoxAudits
from plugins.budget_vote import rules
from plugins.budget_vote.domain import MIN_REASON
from plugins.budget_vote.fold import fold

PLUGIN = "budget_vote"


def compare(recorded: dict[str, Any], recomputed: dict[str, Any]) -> list[str]:
    """What differs between a recorded result and the recount (empty when they agree)."""
    return [f"{field} differ from the recount" for field in rules.RESULT_FIELDS
            if recorded.get(field) != recomputed[field]]


def final_winners(cycle: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The winners after the recorded overrides, and the problems found applying them."""
    if cycle["result"] is None:
        return [], []
    winners = list(cycle["result"]["recorded"]["winners"])
    problems = []
    for override in cycle["overrides"]:
        position, o = override["position"], override["recorded"]
        try:
            winners = list(rules.apply_overrides(winners, [(o["action"], o["project_id"])], cycle["costs"],
                                                 cycle["budget"]))
        except Exception as exc:  # noqa: BLE001 - any refusal is a discrepancy to report
            problems.append(f"override at {position} is not valid: {exc}")
            continue
        if list(o.get("winners", winners)) != winners:
            problems.append(f"override at {position} records winners that differ from applying it")
        if len((o.get("reason") or "").strip()) < MIN_REASON:
            problems.append(f"override at {position} has no written reason")
    return winners, problems


def retally(records: Iterable[LogRecord]) -> RetallyReport | None:
    """Recount every recorded budget result in ``records`` (the whole public log, in order),
    read once: the boxes' records are gathered while the cycles are folded."""
    boxes = BoxAudits()
    cycles = fold(boxes.watch(records))
    if not cycles:
        return None
    problems: list[Discrepancy] = []
    checked = 0
    for cycle_id, cycle in cycles.items():
        if cycle["result"] is None:
            continue
        checked += 1
        name = cycle["name"]
        position, recorded = cycle["result"]["position"], cycle["result"]["recorded"]
        if cycle["closed_at"] is None or position < cycle["closed_at"]:
            problems.append(Discrepancy(position, f"{name}: a result was recorded before voting closed"))
        # the ballots: recounted from the box's own records (deposits, batches, released key, seed)
        box = boxes.audit(cycle_id)
        problems += [Discrepancy(position, f"{name}: ballot box: {p}") for p in box.problems]
        if box.opened is None or box.seed is None:
            problems.append(Discrepancy(position, f"{name}: the box was not opened or the lottery seed not revealed"))
            continue
        try:
            counted = rules.CountedBallot.from_opened(box.opened.counted_contents())
        except ValueError as exc:
            problems.append(Discrepancy(position, f"{name}: {exc}"))
            continue
        for reason in compare(recorded, rules.compute_result(cycle, counted, box.seed)):
            problems.append(Discrepancy(position, f"{name}: {reason}"))
        winners, override_problems = final_winners(cycle)
        problems += [Discrepancy(position, f"{name}: {p}") for p in override_problems]
        if cycle["validated"] is not None:
            v_position, validated = cycle["validated"]["position"], cycle["validated"]["recorded"]
            if list(validated["winners"]) != winners:
                problems.append(Discrepancy(v_position, f"{name}: published winners differ from the result "
                                                        "after overrides"))
            funded = sum(cycle["costs"][p] for p in winners if p in cycle["costs"])
            if validated["funded_total"] != funded or funded > cycle["budget"]:
                problems.append(Discrepancy(v_position, f"{name}: published funded total is wrong or over budget"))
    return RetallyReport(plugin=PLUGIN, checked=checked, discrepancies=tuple(problems))
