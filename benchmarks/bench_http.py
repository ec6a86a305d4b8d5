"""HTTP serving under load: ``civic serve --workers 2`` on PostgreSQL (fsync on) and one ``civic
serve`` on SQLite, driven by locust (headless, FastHttpUser) from 127.0.0.1.

Per store: residents cast ballots through the JSON API a phone app uses (``POST
/api/budget/cycles/{id}/ballot`` with the credential its voting code was traded for) at offered
100, 300 and 500 ballots/s (open loop: enough users that each waits up to 2 s for an answer
without lowering the rate offered, each casting on its own schedule from a random start, so that
the casts arrive spread evenly over time), then as fast as the server answers (closed loop,
saturation); then the public reads (a published cycle's results, the ledger checkpoint, Open311
services.json) and ``/healthz``, closed loop. The cycle, its residents and their credentials are
prepared in this process through the engine, so the measurement is casting alone. Afterwards
every acknowledged ballot must be in the store.

The load generator shares the 2 cores with the server and the database: its CPU is counted and
shown beside each figure. Rates are ratios to ``/healthz`` on the same server in the same run
(the bare round trip through uvicorn, Litestar and the load tool).

Targets (issue 14): >= 1,000 ballots/s at saturation on PostgreSQL with 2 workers; p99 < 50 ms at
300 ballots/s offered. ``BENCH_HTTP_SECONDS`` (default 12) is the measured time of each step."""

from __future__ import annotations

import csv
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locust_civic.py"
SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "12"))
OFFERED = (100, 300, 500)
PER_USER_RATE = 0.5  # users = 2 × offered rate
BUSY_USERS = 96
READ_USERS = 32
RESIDENTS = int(os.environ.get("BENCH_HTTP_RESIDENTS", "1000"))
TARGET_SATURATION = 1000
TARGET_P99_MS = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the store, prepared through the engine ---------------------------------------------------------
def prepare(db: str, home: Path) -> dict[str, Any]:
    """A published cycle (the budget demo's, small), and an open cycle with ``RESIDENTS`` residents
    signed in: their ballot credentials. Returns the locust config."""
    from core.cli_helpers import plugin_manager
    from core.engine import Engine
    from plugins.budget_vote import demo, service

    engine = Engine(db, plugins=plugin_manager(), outbox=home / "outbox.jsonl")
    try:
        demo.load_demo(engine, lambda _: None, scale=0.05)
        published = service.find_cycle(engine, demo.CYCLE_NAME).id
        cycle = service.open_cycle(engine, name="HTTP load", budget=50_000_000, scope="bench",
                                   ballot_style={"kind": "approval", "min_projects": 1, "max_projects": 3},
                                   rule={"name": "greedy"}, last_vote_counts=True, by=demo.ADMIN)
        for n in range(1, 6):
            service.submit_proposal(engine, cycle.id, title=f"Project {n}", dong="필동", category="안전",
                                    proposer="필동 주민")
        service.advance(engine, cycle.id, "screening", by=demo.ADMIN)
        for n in range(1, 6):
            service.screen(engine, cycle.id, str(n), feasible=True, cost=5_000_000, reason="ok", by=demo.COMMITTEE)
        rows = "\n".join(f"L{n:05d},010{n:08d},필동" for n in range(RESIDENTS))
        service.import_roll(engine, cycle.id, "entry_id,contact,group\n" + rows + "\n")
        service.advance(engine, cycle.id, "voting", by=demo.ADMIN)
        service.issue_codes(engine, cycle.id)
        prefix = f"voting-code/{cycle.id}/"
        codes = {m["key"][len(prefix):].split("/")[0]: m["text"].rsplit(" ", 1)[-1]
                 for m in engine.outbox.sent() if m["key"].startswith(prefix)}
        credentials = [service.sign_in_voter(engine, cycle.id, entry, code, f"bench-{n}")
                       for n, (entry, code) in enumerate(sorted(codes.items()))]
        reads = [f"/api/budget/cycles/{published}/results", "/ledger/checkpoint", "/open311/v2/services.json"]
        return {"cycle_id": str(cycle.id), "credentials": credentials, "reads": reads}
    finally:
        engine.close()


def stored_ballots(db: str, home: Path, cycle_id: str) -> int:
    """Deposits of the cycle's box in the store's log (a revote is a deposit too)."""
    from core.cli_helpers import plugin_manager
    from core.engine import Engine
    from core.voting.box import BallotDeposit

    engine = Engine(db, plugins=plugin_manager(), outbox=home / "outbox.jsonl")
    try:
        return sum(1 for n in engine.notifications(1, topics=(BallotDeposit.Deposited,))
                   if engine.decode_payload(n).get("process_id") == cycle_id)
    finally:
        engine.close()


# -- the server --------------------------------------------------------------------------------------
class Server:
    def __init__(self, db: str, home: Path, workers: int) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CIVIC_HOME": str(home), "CIVIC_OUTBOX": str(home / "outbox.jsonl"), "PYTHONPATH": str(ROOT)}
        self.log = open(home / f"serve-{self.port}.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core", "serve", "--db", db, "--port", str(self.port), "--workers", str(workers),
             "--tick-seconds", "5", "--no-access-log"],
            cwd=home, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"civic serve did not come up; see {self.log.name}")
            time.sleep(0.3)

    def cpu_seconds(self) -> float:
        try:
            root = psutil.Process(self.proc.pid)
            return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])
        except psutil.NoSuchProcess:
            return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _postgres_cpu(data_dir: Path | None) -> float:
    if data_dir is None:
        return 0.0
    try:
        postmaster = psutil.Process(int((data_dir / "postmaster.pid").read_text().split()[0]))
        return sum(sum(p.cpu_times()[:2]) for p in [postmaster, *postmaster.children()])
    except (OSError, psutil.Error):
        return 0.0


# -- one locust run ----------------------------------------------------------------------------------
def locust(server: Server, work: Path, config: Path, user_class: str, users: int, *, pg_data: Path | None,
           per_user_rate: float = PER_USER_RATE) -> dict[str, Any]:
    """Run locust headless for ramp-up + ``SECONDS`` (stats reset once every user runs); the
    figures of the measured part, the acknowledged casts of the whole run, and who used the CPU."""
    prefix = work / f"{user_class}-{users}"
    result = work / f"{user_class}-{users}.json"
    ramp = max(1.0, users / 400)
    env = {**os.environ, "CIVIC_LOAD_CONFIG": str(config), "CIVIC_LOAD_RESULT": str(result),
           "CIVIC_LOAD_PER_USER_RATE": str(per_user_rate)}
    before = (resource.getrusage(resource.RUSAGE_CHILDREN), server.cpu_seconds(), _postgres_cpu(pg_data))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", server.base,
         "-u", str(users), "-r", str(users / ramp), "-t", f"{int(ramp + SECONDS + 1)}s", "--reset-stats",
         "--stop-timeout", "10", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", user_class],
        env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=ramp + SECONDS + 60)
    wall = time.perf_counter() - started
    after = (resource.getrusage(resource.RUSAGE_CHILDREN), server.cpu_seconds(), _postgres_cpu(pg_data))
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    with open(f"{prefix}_failures.csv", encoding="utf-8") as f:
        failures = sorted(csv.DictReader(f), key=lambda r: -int(r["Occurrences"]))
    count = int(row["Request Count"])
    return {
        "rate": float(row["Requests/s"]), "count": count, "failures": int(row["Failure Count"]),
        "p50": float(row["50%"] or 0), "p99": float(row["99%"] or 0),
        "acknowledged": json.loads(result.read_text())["acknowledged"] if result.exists() else 0,
        # CPU over the whole locust run (ramp-up included), as a share of the machine's cores
        "cpu": {"load tool": (after[0].ru_utime + after[0].ru_stime - before[0].ru_utime - before[0].ru_stime),
                "server": after[1] - before[1], "postgres": after[2] - before[2]},
        "wall": wall, "failure": failures[0]["Error"] if failures else "",
    }


def _failed(run: dict[str, Any]) -> str:
    return f"{run['failures']} failed" + (f" (most: {run['failure'][:120]})" if run["failures"] else "")


def _cpu_note(run: dict[str, Any]) -> str:
    total = run["wall"] * (os.cpu_count() or 1)
    return "CPU " + ", ".join(f"{k} {v / total:.0%}" for k, v in run["cpu"].items() if v)


# -- one store -----------------------------------------------------------------------------------------
def measure(table, label: str, db: str, home: Path, workers: int, pg_data: Path | None) -> dict[str, Any]:  # noqa: ANN001
    # a PostgreSQL store's keys and secrets live under CIVIC_HOME: the same for this process and the server
    os.environ["CIVIC_HOME"] = str(home)
    started = time.perf_counter()
    config = prepare(db, home)
    config_file = home / "load.json"
    config_file.write_text(json.dumps(config))
    print(f"  {label}: prepared {len(config['credentials'])} residents in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)
    server = Server(db, home, workers)
    figures: dict[str, Any] = {}
    acknowledged = 0
    try:
        first = httpx.post(f"{server.base}/api/budget/cycles/{config['cycle_id']}/ballot", timeout=30,
                           json={"credential": config["credentials"][0], "choice": ["1"]})
        if first.status_code != 201:
            raise RuntimeError(f"{label}: a cast was refused: {first.status_code} {first.text}")
        acknowledged += 1
        health = locust(server, home, _reads_config(home, ["/healthz"]), "Reader", READ_USERS, pg_data=pg_data)
        figures["healthz"] = health
        for offered in OFFERED:
            run = locust(server, home, config_file, "OfferedVoter", int(offered / PER_USER_RATE), pg_data=pg_data)
            figures[offered] = run
            acknowledged += run["acknowledged"]
        busy = locust(server, home, config_file, "BusyVoter", BUSY_USERS, pg_data=pg_data)
        figures["saturation"] = busy
        acknowledged += busy["acknowledged"]
        for path in config["reads"]:
            figures[path] = locust(server, home, _reads_config(home, [path]), "Reader", READ_USERS, pg_data=pg_data)
    finally:
        server.stop()
    stored = stored_ballots(db, home, config["cycle_id"])
    assert stored >= acknowledged, f"{label}: {acknowledged} ballots acknowledged, only {stored} in the store"
    reference = health["rate"]
    table.add(f"http {label}: /healthz, {READ_USERS} users closed loop", reference, "req/s",
              f"p50 {health['p50']:.0f} ms, p99 {health['p99']:.0f} ms; the reference; {_cpu_note(health)}")
    for offered in OFFERED:
        run = figures[offered]
        target = f"p99 < {TARGET_P99_MS} ms" if offered == 300 else ""
        table.add(f"http {label}: ballots at {offered}/s offered, achieved", run["rate"], "ballots/s",
                  f"p50 {run['p50']:.0f} ms, p99 {run['p99']:.0f} ms, {_failed(run)}; {_cpu_note(run)}",
                  ratio=run["rate"] / reference, target=target)
        table.add(f"http {label}: ballot p99 at {offered}/s offered", run["p99"], "ms", f"p50 {run['p50']:.0f} ms",
                  ratio=run["p99"] / max(health["p50"], 1), target=f"< {TARGET_P99_MS} ms" if offered == 300 else "")
    busy = figures["saturation"]
    table.add(f"http {label}: ballots at saturation ({BUSY_USERS} users closed loop)", busy["rate"], "ballots/s",
              f"p50 {busy['p50']:.0f} ms, p99 {busy['p99']:.0f} ms, {_failed(busy)}; {_cpu_note(busy)}",
              ratio=busy["rate"] / reference, target=f">= {TARGET_SATURATION:,}/s" if workers > 1 else "")
    for path in config["reads"]:
        run = figures[path]
        name = path.rsplit("/", 2)[-1] if "results" in path else path
        table.add(f"http {label}: GET {name}, {READ_USERS} users", run["rate"], "req/s",
                  f"p50 {run['p50']:.0f} ms, p99 {run['p99']:.0f} ms, {_failed(run)}; {_cpu_note(run)}",
                  ratio=run["rate"] / reference)
    table.add(f"http {label}: acknowledged ballots found in the store", acknowledged, "ballots",
              f"{stored} deposits stored (a cast cut off at the end may be stored unacknowledged)")
    return figures


def _reads_config(home: Path, paths: list[str]) -> Path:
    path = home / f"reads-{abs(hash(tuple(paths)))}.json"
    path.write_text(json.dumps({"cycle_id": "-", "credentials": ["-"], "reads": paths}))
    return path


def run(table) -> None:  # noqa: ANN001 - benchmarks.__main__.Table
    saved_home = os.environ.get("CIVIC_HOME")
    try:
        _run(table)
    finally:
        if saved_home is None:
            os.environ.pop("CIVIC_HOME", None)
        else:
            os.environ["CIVIC_HOME"] = saved_home


def _run(table) -> None:  # noqa: ANN001
    from tests.support.pgserver import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("  PostgreSQL binaries not found: the PostgreSQL part is skipped", file=sys.stderr)
    else:
        server = PostgresServer(bindir, durable=True).start()
        try:
            with tempfile.TemporaryDirectory(prefix="civic-bench-http-") as tmp:
                measure(table, "PostgreSQL, 2 workers", server.create_database("civic_http"), Path(tmp), 2, server.data)
        finally:
            server.stop()
    with tempfile.TemporaryDirectory(prefix="civic-bench-http-") as tmp:
        measure(table, "SQLite, 1 process", str(Path(tmp) / "civic.db"), Path(tmp), 1, None)
