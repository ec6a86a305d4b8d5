"""The tally alone at scale: a budget vote's box of ``BENCH_TALLY_BALLOTS`` sealed ballots (default
100,000; ``make bench-large``: 1,000,000) is opened on every core and counted with the greedy
rule, against bare HPKE opens of as many ballots spread over the machine's cores (one process per
core, opening at once), measured in the same run.

Casting a million ballots one by one takes hours on a small machine (``bench_budget`` measures
casting), so here the box is filled directly: ballots sealed with the voting kit's own ``seal``
under pseudonyms, written as the kit's batch events in its batch index, then closed by the kit
(the private key released). What is measured is what a tally does after close: read the batches
from the log, open every ballot in worker processes, decide which ballot of each pseudonym counts,
check each ballot's content, hash the counted ballots, reveal the seed and run greedy
(``plugins.budget_vote.rules.compute_result``, the function the budget's tally and its audit use)."""

from __future__ import annotations

import os
import random
import time

from benchmarks import bench_budget
from benchmarks.common import bare_hpke_open_rate, bare_hpke_open_rate_spread, temp_dir
from core.engine import Engine
from core.plugins import make_plugin_manager
from core.voting import VotingKit, crypto, parallel
from core.voting.box import BallotBatch, BatchIndex
from plugins.budget_vote import rules

BALLOTS = int(os.environ.get("BENCH_TALLY_BALLOTS", "100000"))
PER_BATCH = 1000
PROCESS = "bench-tally"
# the budget benchmark's projects and budget (million won)
COSTS = {str(n): c * 1_000_000 for n, c in enumerate(bench_budget.COSTS, start=1)}


def fill_box(engine: Engine, kit: VotingKit) -> None:
    """The box of ``PROCESS`` with ``BALLOTS`` sealed ballots in batches of ``PER_BATCH``, closed."""
    engine.save(*kit.prepare(PROCESS, batch_size=0))
    kit.import_roll(PROCESS, "entry_id,contact\nr0,010-0000-0000\n")
    kit.open(PROCESS)
    public = crypto.ballot_public_key(kit.box(PROCESS).public_key)
    rnd = random.Random(7)
    choices = [sorted(rnd.sample(sorted(COSTS), rnd.randint(1, 5)), key=int) for _ in range(997)]
    for number in range(1, BALLOTS // PER_BATCH + 1):
        ballots = []
        for k in range(PER_BATCH):
            pseudonym = f"p{number:05d}{k:04d}"
            content = {"choice": choices[(number * PER_BATCH + k) % len(choices)], "channel": "mobile"}
            ballots.append({"pseudonym": pseudonym, "group": "", "superseded": False,
                            "sealed": crypto.seal(public, PROCESS, pseudonym, "", content)})
        through = engine.position
        engine.save(BallotBatch(process_id=PROCESS, number=number, through=through, ballots=ballots),
                    BatchIndex.recorded(PROCESS, number + 1, number=number, through=through, size=len(ballots)))
    kit.close(PROCESS)


# what ``compute_result`` reads of a budget cycle's folded state
CYCLE = {"costs": COSTS, "budget": 190_000_000, "rule": {"name": "greedy"}, "last_vote_counts": True,
         "ballot_style": {"kind": "approval", "min_projects": 1, "max_projects": 5}}


def tally(kit: VotingKit) -> dict:
    """What ``plugins.budget_vote.service.tally`` does once the cycle is found: open the box,
    check the counted ballots, reveal the seed, compute the result."""
    opened = kit.opened(PROCESS)
    counted = rules.CountedBallot.from_opened(opened.counted_contents())
    return rules.compute_result(CYCLE, counted, kit.reveal_seed(PROCESS))


def run(table) -> None:  # noqa: ANN001 - benchmarks.__main__.Table
    with temp_dir() as tmp:
        engine = Engine(str(tmp / "tally.db"), plugins=make_plugin_manager(allow=set()), outbox=tmp / "outbox")
        try:
            kit = VotingKit(engine)
            started = time.perf_counter()
            fill_box(engine, kit)
            fill_seconds = time.perf_counter() - started
            parallel.warm_up()  # as a close does in civic: the fork server starts before the tally
            cores = parallel.usable_cores()
            rate, spread = bare_hpke_open_rate(), bare_hpke_open_rate_spread(cores)
            started = time.perf_counter()
            outcome = tally(kit)
            tally_seconds = time.perf_counter() - started
            # before and after: the load drifts
            rate, spread = (rate + bare_hpke_open_rate()) / 2, (spread + bare_hpke_open_rate_spread(cores)) / 2
        finally:
            engine.close()
    assert outcome["inputs"]["ballots_counted"] == BALLOTS and sum(outcome["votes"].values()) > BALLOTS
    assert outcome["winners"]
    limit = BALLOTS / spread
    table.add(f"tally bench: {BALLOTS:,} sealed ballots written as batches and closed", fill_seconds, "s",
              "preparation (sealing in one process), not a figure of civic's casting")
    table.add("bare HPKE open, one core", rate, "opens/s", "reference")
    table.add(f"bare HPKE open, {cores} processes at once", spread, "opens/s",
              f"reference: {spread / (rate * cores):.2f}x {cores} x one core; limit for {BALLOTS:,}: {limit:.2f} s")
    table.add(f"tally of {BALLOTS:,} ballots (open on every core, count, digest, greedy)", tally_seconds, "s",
              f"vs bare opens on {cores} cores ({tally_seconds * rate * cores / BALLOTS:.2f}x {cores} x one core's)",
              ratio=tally_seconds / limit, target="<= 1.5x")
