"""The auditor's re-tally: every recorded apartment result recomputed from the public log alone.

For each election with recorded results: the ballot box is recounted by the voting kit's
``audit_process`` (every deposit before the close in exactly one batch, the released key is the
committed one, every ballot opens, the lottery seed matches its commitment); its counted ballots
go through the same ``replay.compute_results`` (and so the same ``rules.tally``) as the live
close; each contest's recomputed result must equal the recorded one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from core import Discrepancy, LogRecord, RetallyReport, ledger_root
from plugins.apartment_vote import replay, rules

PLUGIN = "apartment_vote"


def ballots_root(tally_input: list[tuple[str, Any]]) -> bytes:
    """SHA-256 over the counted ballots, in an order that does not depend on the box's shuffle."""
    return hashlib.sha256(rules.canonical(sorted(rules.canonical([g, c]) for g, c in tally_input)).encode()).digest()


def retally(records: Sequence[LogRecord]) -> RetallyReport | None:
    from core.voting import audit_process
    from core.voting import draw as lottery_draw

    elections = replay.fold(records)
    if not elections:
        return None
    problems: list[Discrepancy] = []
    checked = 0
    for election_id, view in elections.items():
        for position, problem in view.problems:
            problems.append(Discrepancy(position, f"election {election_id}: {problem}"))
        if not view.results:
            if view.closed_at is not None:
                problems.append(Discrepancy(view.closed_at, f"election {election_id} closed without results"))
            continue
        first = min(pos for pos, *_ in view.results.values())
        missing = sorted(set(view.contests) - set(view.results))
        if missing:
            problems.append(Discrepancy(first, f"election {election_id}: no result for {', '.join(missing)}"))
        for contest_id in sorted(set(view.results) - set(view.contests)):
            problems.append(Discrepancy(view.results[contest_id][0],
                                        f"election {election_id}: a result for unknown contest {contest_id}"))
        if view.closed_at is None or view.closed_at > first:
            problems.append(Discrepancy(first, f"election {election_id}: results recorded before the close"))
        box = audit_process(records, election_id)
        for problem in box.problems:
            problems.append(Discrepancy(first, f"election {election_id} ballot box: {problem}"))
        if box.opened is None:
            problems.append(Discrepancy(first, f"election {election_id}: the ballot box was not opened"))
            continue
        tally_input = box.opened.tally_input()
        seed = box.seed
        closing = _box_closing(records, election_id)
        roots: dict[int, bytes] = {}

        for contest_id, (position, recorded, ballots_up_to, lottery) in sorted(view.results.items()):
            checked += 1
            if contest_id not in view.contests:
                continue
            if ballots_up_to != closing:
                problems.append(Discrepancy(position, f"{contest_id}: counts ballots up to {ballots_up_to} but the "
                                                      f"box closed at {closing}"))
            root = bytes.fromhex(lottery.get("root") or "")
            if lottery.get("root_source") == "ballots" and root != ballots_root(tally_input):
                problems.append(Discrepancy(position, f"{contest_id}: the lottery root is not the hash of the ballots"))
            if recorded.get("tie") and lottery.get("root_source") == "ledger" and closing is not None:
                if root != _ledger_root(records, closing, roots):
                    problems.append(Discrepancy(position, f"{contest_id}: the lottery root is not the ledger root "
                                                          f"at the close (position {closing})"))
            if lottery.get("seed") is not None and (seed is None or seed.hex() != lottery["seed"]):
                problems.append(Discrepancy(position, f"{contest_id}: the lottery seed is not the box's revealed seed"))

            def draw(tied, context, _root=root):
                if seed is None:
                    raise ValueError("a tie was drawn but the box never revealed its lottery seed")
                return lottery_draw(seed, _root, tied, context)

            try:
                recomputed = replay.compute_results(_only(view, contest_id), tally_input, draw)[contest_id]
            except Exception as exc:  # noqa: BLE001 - a changed log may break anything; report, never crash
                problems.append(Discrepancy(position, f"{contest_id}: cannot recount: {getattr(exc, 'detail', exc)}"))
                continue
            if rules.canonical(recomputed) != rules.canonical(recorded):
                differing = sorted(k for k in set(recorded) | set(recomputed) if recorded.get(k) != recomputed.get(k))
                problems.append(Discrepancy(position, f"election {election_id} {contest_id}: the recorded result "
                                                      f"differs from the recount in {', '.join(differing)}"))
    return RetallyReport(plugin=PLUGIN, checked=checked, discrepancies=tuple(problems))


def _only(view: replay.ElectionView, contest_id: str) -> replay.ElectionView:
    """The view restricted to one contest (so one bad contest does not hide the others)."""
    return replay.ElectionView(election_id=view.election_id, title=view.title, complex_code=view.complex_code,
                               contests={contest_id: view.contests[contest_id]}, roll=view.roll,
                               opened_at=view.opened_at, closed_at=view.closed_at)


def _box_closing(records: Sequence[LogRecord], election_id: str) -> int | None:
    from core.voting import BallotBox, box_id
    from eventsourcing.utils import get_topic

    topic, box = get_topic(BallotBox.Closing), str(box_id(election_id))
    return next((r.position for r in records if r.topic == topic and r.originator_id == box), None)


def _ledger_root(records: Sequence[LogRecord], through: int, cache: dict[int, bytes]) -> bytes:
    """The ledger's Merkle root over every record up to ``through`` (RFC 9162, as the ledger
    computes it), recomputed here from the records themselves."""
    if through not in cache:
        cache[through] = ledger_root(r for r in records if r.position <= through)
    return cache[through]
