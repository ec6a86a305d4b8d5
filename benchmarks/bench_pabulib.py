"""Pabulib files: civic's winner rules against pabutools (an independent implementation) on the
same real approval files, each pair measured in the same run, winners checked identical; greedy
on 100,000 voters; and the start-up of ``civic budget tally --pb``.

Files: the approval files in ``tests/data/pabulib`` and every approval ``.pb`` file in the folder
named by ``BENCH_PABULIB_DIR`` (real files too large to keep in the repository, e.g. Warszawa
2024 Włochy from https://github.com/pabulib/pabulib_files, ``pb_files/``)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

from plugins.budget_vote import pabulib, pabulib_exchange, rules

ROOT = Path(__file__).parents[1]
TEST_FILES = ROOT / "tests" / "data" / "pabulib"
GREEDY_VOTERS = 100_000
STARTS = 5  # CLI start-ups timed; the fastest counts (the machine is shared)


def approval_files() -> list[Path]:
    folders = [TEST_FILES] + ([Path(os.environ["BENCH_PABULIB_DIR"])] if os.environ.get("BENCH_PABULIB_DIR") else [])
    files = [p for folder in folders for p in sorted(folder.glob("*.pb"))]
    return [p for p in files if pabulib.read(p.read_bytes()).vote_type == "approval"]


def timed(work, at_least: float = 0.2, blocks: int = 3) -> tuple[float, object]:
    """Seconds per call and the last result: the fastest of ``blocks`` blocks of calls, each
    repeated until ``at_least`` seconds have passed (one block for work that takes longer than
    that: the shared machine's load swings between blocks, the fastest is the work's own)."""
    best = float("inf")
    for _ in range(blocks):
        calls, started = 0, time.perf_counter()
        while True:
            result = work()
            calls += 1
            elapsed = time.perf_counter() - started
            if elapsed >= at_least:
                break
        best = min(best, elapsed / calls)
        if calls == 1:
            break
    return best, result


def civic_winners(election: pabulib.PbElection, rule: rules.WinnerRule) -> list[str]:
    return sorted(pabulib_exchange.tally_election(election, rule)["winners"])


def pabutools_equal_shares(path: Path):
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import method_of_equal_shares

    instance, profile = parse_pabulib(str(path))
    increment = instance.budget_limit / len(profile) * Fraction(1, 100)  # civic's default 1% step
    return lambda: sorted(p.name for p in method_of_equal_shares(instance, profile, sat_class=Cost_Sat,
                                                                  voter_budget_increment=increment))


def pabutools_greedy(path: Path):
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import greedy_utilitarian_welfare

    instance, profile = parse_pabulib(str(path))
    return lambda: sorted(p.name for p in greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat))


def start_up(command: list[str]) -> float:
    """The fastest of STARTS runs, after one that compiles what it imports (as an installed
    program runs: bytecode cached)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(ROOT)}
    best = float("inf")
    for n in range(STARTS + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
        if n:
            best = min(best, time.perf_counter() - started)
    return best


def run(table) -> None:
    files = approval_files()
    mes = rules.WinnerRule("equal-shares", "cost", "add1")
    greedy = rules.WinnerRule("greedy", "cost")
    for path in files:
        election = pabulib.read(path.read_bytes())
        what = f"{path.stem[:48]} ({len(election.votes):,} voters, {len(election.projects)} projects)"
        theirs_seconds, theirs = timed(pabutools_equal_shares(path))
        mine_seconds, mine = timed(lambda: civic_winners(election, mes))
        if mine != theirs:
            raise AssertionError(f"{path.name}: civic's equal shares {mine} differ from pabutools' {theirs}")
        table.add(f"pabutools equal shares add1: {what}", theirs_seconds, "s", "reference, same run")
        table.add(f"civic equal shares add1: {what}", mine_seconds, "s", "same winners, vs pabutools",
                  ratio=mine_seconds / theirs_seconds, target="<= 0.5x")
    largest = max(files, key=lambda p: p.stat().st_size)
    election = pabulib.read(largest.read_bytes())
    theirs_seconds, theirs = timed(pabutools_greedy(largest))
    mine_seconds, mine = timed(lambda: civic_winners(election, greedy))
    if mine != theirs:
        raise AssertionError(f"{largest.name}: civic's greedy {mine} differs from pabutools' {theirs}")
    what = f"{largest.stem[:48]} ({len(election.votes):,} voters)"
    table.add(f"pabutools greedy: {what}", theirs_seconds, "s", "reference, same run")
    table.add(f"civic greedy: {what}", mine_seconds, "s", "same winners, vs pabutools", ratio=mine_seconds / theirs_seconds)
    # the largest file's ballots drawn again to 100,000 voters (pabutools takes ~30 s for it here:
    # no same-run reference)
    rnd = random.Random(7)
    votes = [pabulib.PbVote(str(n), dict(rnd.choice(election.votes).points)) for n in range(GREEDY_VOTERS)]
    big = pabulib.PbElection({**election.meta, "num_votes": str(GREEDY_VOTERS)}, election.projects, votes)
    seconds, _ = timed(lambda: pabulib_exchange.tally_election(big, greedy), at_least=1.0)
    table.add(f"civic greedy, {GREEDY_VOTERS:,} voters (ballots of {largest.stem[:40]})", seconds, "s",
              "rule and vote counts, file already read", target="<= 0.2 s")
    python = start_up([sys.executable, "-c", "pass"])
    tiny = min(files, key=lambda p: p.stat().st_size)
    civic = start_up([sys.executable, "-m", "core", "budget", "tally", "--pb", str(tiny)])
    table.add("python start-up (-c pass)", python, "s", f"reference, same run, fastest of {STARTS}")
    table.add(f"civic budget tally --pb {tiny.name[:40]}", civic, "s",
              f"whole command, fastest of {STARTS}; ratio: vs python start-up", ratio=civic / python,
              target="<= 0.3 s")
