"""The auditor's re-tally: every recorded apartment result recomputed from the public log alone.

For each election with recorded results: the ballot box is recounted by the voting kit's
``audit_process`` (every deposit before the close in exactly one batch, the released key is the
committed one, every ballot opens, the lottery seed matches its commitment); the elections come
from the same ``fold`` as the live listing and close, and the counted ballots go through the same
``rules.election_results`` (and so the same ``rules.tally``) as the live close; each contest's
recomputed result must equal the recorded one.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import Discrepancy, LogRecord, RetallyReport, ledger_root, topic_of
from core.voting import BallotBox, audit_process, box_id
from core.voting import draw as lottery_draw
from plugins.apartment_vote import fold, rules
from plugins.apartment_vote.domain import PLUGIN

BOX_CLOSING = topic_of(BallotBox.Closing)


def retally(records: Sequence[LogRecord]) -> RetallyReport | None:
    elections = fold.fold(records)
    if not elections:
        return None
    problems: list[Discrepancy] = []
    checked = 0
    for election_id, election in elections.items():
        for position, problem in election["problems"]:
            problems.append(Discrepancy(position, f"election {election_id}: {problem}"))
        results, contests = election["results"], election["contests"]
        if not results:
            if election["closed_at"] is not None:
                problems.append(Discrepancy(election["closed_at"], f"election {election_id} closed without results"))
            continue
        first = min(r["position"] for r in results.values())
        missing = sorted(set(contests) - set(results))
        if missing:
            problems.append(Discrepancy(first, f"election {election_id}: no result for {', '.join(missing)}"))
        for contest_id in sorted(set(results) - set(contests)):
            problems.append(Discrepancy(results[contest_id]["position"],
                                        f"election {election_id}: a result for unknown contest {contest_id}"))
        if election["closed_at"] is None or election["closed_at"] > first:
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

        for contest_id, recorded_at in sorted(results.items()):
            position, recorded = recorded_at["position"], recorded_at["result"]
            ballots_up_to, lottery = recorded_at["ballots_up_to"], recorded_at["lottery"]
            checked += 1
            if contest_id not in contests:
                continue
            if ballots_up_to != closing:
                problems.append(Discrepancy(position, f"{contest_id}: counts ballots up to {ballots_up_to} but the "
                                                      f"box closed at {closing}"))
            root = bytes.fromhex(lottery.get("root") or "")
            if lottery.get("root_source") == "ballots" and root != rules.ballots_root(tally_input):
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
                # one contest at a time, so that one bad contest does not hide the others
                recomputed = rules.election_results({contest_id: contests[contest_id]}, election["roll"] or {},
                                                    tally_input, draw)[contest_id]
            except Exception as exc:  # noqa: BLE001 - a changed log may break anything; report, never crash
                problems.append(Discrepancy(position, f"{contest_id}: cannot recount: {getattr(exc, 'detail', exc)}"))
                continue
            if rules.canonical(recomputed) != rules.canonical(recorded):
                differing = sorted(k for k in set(recorded) | set(recomputed) if recorded.get(k) != recomputed.get(k))
                problems.append(Discrepancy(position, f"election {election_id} {contest_id}: the recorded result "
                                                      f"differs from the recount in {', '.join(differing)}"))
    return RetallyReport(plugin=PLUGIN, checked=checked, discrepancies=tuple(problems))


def _box_closing(records: Sequence[LogRecord], election_id: str) -> int | None:
    box = str(box_id(election_id))
    return next((r.position for r in records if r.topic == BOX_CLOSING and r.originator_id == box), None)


def _ledger_root(records: Sequence[LogRecord], through: int, cache: dict[int, bytes]) -> bytes:
    """The ledger's Merkle root over every record up to ``through`` (RFC 9162, as the ledger
    computes it), recomputed here from the records themselves."""
    if through not in cache:
        cache[through] = ledger_root(r for r in records if r.position <= through)
    return cache[through]
