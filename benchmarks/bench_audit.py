"""``civic audit verify`` of a large export: time and peak memory, each verify in a fresh
subprocess (its own ``ru_maxrss``), against a bare pass over the same file in the same run
(read each line, decode its JSON, SHA-256 it: what no verifier can go below).

The export is synthetic, written straight in the export format (``docs/audit.md``) rather than
through a store: records shaped like the log's ballot deposits (an aggregate id, a version, a
topic, a timestamp, a payload with an encrypted blob), a checkpoint record signed by the bench's
ledger key every ``CHECKPOINT_EVERY`` records (its size a little behind, as the follower's are),
the leaf hash the ledger would state on every line, the outside checkpoint and the end line.
Filling a store with a million events and exporting it would take far longer and measure the
store, not the verifier.

The peak memory is the subprocess's ``VmHWM`` (Linux): its ``ru_maxrss`` also counts the RSS
of the process it was forked from, which Linux keeps across exec.

``BENCH_AUDIT_EVENTS`` sets the size (default 100,000; ``make bench-large``: 1,000,000 and the
100,000 figure beside it, so the two peak memories compare)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.common import temp_dir
from core.canonical import canonical_json
from core.ledger.checkpoint import CHECKPOINT_TOPIC, Checkpoint, SigningKey, b64
from core.ledger.export import FORMAT, LEAF_RULE, VERSION, record_line
from core.ledger.merkle import LEAF_PREFIX
from core.ledger.verify import LeafLog

EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "100000"))
CHECKPOINT_EVERY = 10_000
CHECKPOINT_LAG = 37  # a checkpoint record lands a few events after the size it signs
DEPOSIT_TOPIC = "core.voting.box:BallotDeposit.Deposited"


def write_synthetic_export(path: Path, events: int, key: SigningKey) -> int:
    """Write an export of ``events`` records (checkpoint records among them); return the count."""
    tree = LeafLog()  # flat memory: this process forks the verifying one, whose peak it would inflate
    rnd = uuid.UUID(int=7).bytes
    blob = b64(hashlib.sha256(rnd).digest() * 9)  # the size of a wrapped deposit
    process = str(uuid.UUID(int=42))
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"type": "header", "format": FORMAT, "version": VERSION, "origin": key.name,
                            "key": key.verifier.to_json(), "leaf": LEAF_RULE, "checkpoint_topic": CHECKPOINT_TOPIC,
                            "exported_at": "2026-12-03T00:00:00+00:00"}) + "\n")
        for index in range(events):
            position = index + 1
            stamp = f"2026-06-01T09:{index // 60000 % 60:02d}:{index // 1000 % 60:02d}.{index % 1000:03d}000+00:00"
            if index % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1 and index > CHECKPOINT_LAG:
                size = index - CHECKPOINT_LAG
                note = key.sign(Checkpoint(key.name, size, tree.root(size)).body())
                record = {"position": position, "originator_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cp{size}")),
                          "originator_version": 1, "topic": CHECKPOINT_TOPIC, "timestamp": stamp,
                          "payload": {"note": note, "timestamp": {"_type_": "datetime_iso", "_data_": stamp}}}
            else:
                record = {"position": position, "originator_id": str(uuid.UUID(int=index * 7919 + 1)),
                          "originator_version": 1, "topic": DEPOSIT_TOPIC, "timestamp": stamp,
                          "payload": {"blob": blob, "deposit_key": f"{index:032x}", "process_id": process,
                                      "originator_topic": "core.voting.box:BallotDeposit",
                                      "timestamp": {"_type_": "datetime_iso", "_data_": stamp}}}
            digest = hashlib.sha256(LEAF_PREFIX + canonical_json(record)).digest()
            tree.append(digest, position)
            f.write(record_line(index, b64(digest), record))
        note = key.sign(Checkpoint(key.name, events, tree.root()).body())
        f.write(json.dumps({"type": "checkpoint", "source": "outside-store", "note": note}) + "\n")
        f.write(json.dumps({"type": "end", "records": events}) + "\n")
    tree.close()
    return events


_CHILD = """
import json, resource, sys, time
from core.ledger.verify import verify_export
started = time.perf_counter()
report = verify_export(sys.argv[1])
seconds = time.perf_counter() - started
# VmHWM: this process's own peak since it started (ru_maxrss also counts the RSS of the
# process it was forked from, kept across exec on Linux)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "ok": report.ok, "records": report.records, "hwm_kb": hwm,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def verify_in_subprocess(path: Path) -> dict:
    """``verify_export`` of ``path`` in a fresh interpreter: its time and its own peak memory."""
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": root})
    return json.loads(out.stdout)


def bare_pass(path: Path) -> float:
    """The reference: every line read, its JSON decoded and SHA-256 hashed, nothing else."""
    started = time.perf_counter()
    with path.open("rb") as f:
        for raw in f:
            json.loads(raw)
            hashlib.sha256(raw).digest()
    return time.perf_counter() - started


def run(table) -> None:
    key = SigningKey.generate("bench.civic.example/ledger")
    sizes = [EVENTS] if EVENTS <= 100_000 else [100_000, EVENTS]
    with temp_dir() as tmp:
        for events in sizes:
            path = tmp / f"export-{events}.jsonl"
            started = time.perf_counter()
            write_synthetic_export(path, events, key)
            table.add(f"audit: synthetic export of {events:,} events written", time.perf_counter() - started, "s",
                      f"{path.stat().st_size / 1e6:,.0f} MB, generated directly in the export format")
            bare = bare_pass(path)
            table.add(f"bare pass over the {events:,}-event export", bare, "s",
                      "reference, same run: read + JSON decode + SHA-256 per line")
            result = verify_in_subprocess(path)
            assert result["ok"] and result["records"] == events, result
            table.add(f"audit verify of a {events:,}-event export", result["seconds"], "s",
                      "leaves, roots, signatures; vs bare pass", ratio=result["seconds"] / bare,
                      target="<= 30 s at 1,000,000")
            table.add(f"audit verify of a {events:,}-event export: peak memory", result["hwm_kb"] / 1024, "MB",
                      f"VmHWM of the verifying subprocess (ru_maxrss {result['maxrss_kb'] / 1024:,.0f} MB, "
                      "which also counts the parent at fork); flat: the same at 100k and 1M")
            path.unlink()
