"""The streaming verify of a big-ish export: several thousand records (so the leaf log's chunks,
its snapshots and the reads back from its file all take part), read by worker processes or by
this one alone. Each kind of tampering is found at the same position with the same reason by
both readings, and the roots agree with the in-memory Merkle tree of the RFC."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest

from core.ledger.export import write_export
from core.ledger.merkle import MerkleTree
from core.ledger.verify import LeafLog, VerifyReport, verify_export
from tests.support.petition import Petition

EVENTS_PER_SAVE = 500
SAVES = 18  # about 9,000 records, with a checkpoint after every few saves


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    from core.engine import Engine
    from core.plugins import make_plugin_manager
    from tests.support import petition

    tmp = tmp_path_factory.mktemp("streaming")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CIVIC_HOME", str(tmp / "home"))
        return _write_big_export(tmp, Engine(str(tmp / "civic.db"), plugins=make_plugin_manager(extra=[petition]),
                                             outbox=tmp / "o.jsonl"))


def _write_big_export(tmp: Path, engine) -> Path:
    try:
        for n in range(SAVES):
            p = Petition(f"petition {n}")
            for i in range(EVENTS_PER_SAVE - 1):
                p._signed(f"signer {i}")
            engine.save(p)
            if n % 5 == 4:
                engine.ledger.checkpoint()
        out = tmp / "log.jsonl"
        write_export(engine, out)
    finally:
        engine.close()
    return out


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def tampered_copy(path: Path, tmp_path: Path, change) -> Path:
    lines = lines_of(path)
    change(lines)
    out = tmp_path / "tampered.jsonl"
    out.write_text("".join(lines), encoding="utf-8")
    return out


def both(path: Path) -> tuple[VerifyReport, VerifyReport]:
    in_pool, alone = verify_export(path, workers=2), verify_export(path, workers=1)
    assert [p.to_json() for p in in_pool.problems] == [p.to_json() for p in alone.problems]
    assert (in_pool.records, in_pool.checkpoints, in_pool.root_hash) == (alone.records, alone.checkpoints,
                                                                        alone.root_hash)
    return in_pool, alone


def record_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.startswith('{"type":"record"')]


def test_the_untouched_export_verifies_the_same_both_ways(big_export):
    report, _ = both(big_export)
    assert report.ok, report.problems
    assert report.records > 8000 and report.checkpoints >= 3


def test_a_changed_leaf_is_named_both_ways(big_export, tmp_path):
    def change(lines):
        i = record_lines(lines)[5000]
        lines[i] = lines[i].replace('"who":"signer', '"who":"mallory', 1)

    report, _ = both(tampered_copy(big_export, tmp_path, change))
    position = json.loads(lines_of(big_export)[record_lines(lines_of(big_export))[5000]])["record"]["position"]
    assert not report.ok
    assert report.first.position == position and "changed" in report.first.reason


def test_a_changed_leaf_with_its_stated_hash_removed_breaks_the_signed_root(big_export, tmp_path):
    # without the stated hash only the roots can tell: the change is located between checkpoints
    def change(lines):
        i = record_lines(lines)[7000]
        obj = json.loads(lines[i])
        obj["leaf_hash"] = None
        obj["record"]["payload"]["who"] = "mallory"
        lines[i] = json.dumps(obj, ensure_ascii=False) + "\n"

    report, _ = both(tampered_copy(big_export, tmp_path, change))
    assert not report.ok
    assert "do not hash to the root" in report.first.reason
    assert report.first.precise is False


def test_a_forged_root_and_a_forged_signature_are_named_both_ways(big_export, tmp_path):
    def forge(lines):
        i = next(i for i in record_lines(lines) if "LedgerCheckpoint.Signed" in lines[i])
        obj = json.loads(lines[i])
        note = obj["record"]["payload"]["note"].split("\n")
        note[2] = base64.b64encode(b"\x01" * 32).decode()  # another root, the old signature
        obj["record"]["payload"]["note"] = "\n".join(note)
        lines[i] = json.dumps(obj, ensure_ascii=False) + "\n"

    report, _ = both(tampered_copy(big_export, tmp_path, forge))
    assert not report.ok
    assert "not valid" in report.first.reason or "signature" in report.first.reason


def test_a_removed_line_is_named_both_ways(big_export, tmp_path):
    lines = lines_of(big_export)
    gone = record_lines(lines)[6000]
    position = json.loads(lines[gone])["record"]["position"]
    report, _ = both(tampered_copy(big_export, tmp_path, lambda ls: ls.pop(gone)))
    assert not report.ok
    assert report.first.position == position and "missing" in report.first.reason


def test_the_leaf_log_gives_the_roots_of_the_rfc_tree_at_every_size():
    rng = random.Random(3)
    tree, log = MerkleTree(), LeafLog()
    try:
        for n in range(LeafLog.STRIDE * 2 + 777):
            digest = rng.randbytes(32)
            tree.append(digest)
            log.append(digest, n + 1)
        sizes = [0, 1, 2, LeafLog.CHUNK - 1, LeafLog.CHUNK, LeafLog.CHUNK + 1, LeafLog.STRIDE, LeafLog.STRIDE + 1,
                 len(tree)] + rng.sample(range(len(tree) + 1), 40)
        for size in sizes:
            assert log.root(size) == tree.root(size), size
        assert [log.position(i) for i in (0, 4097, len(tree) - 1)] == [1, 4098, len(tree)]
    finally:
        log.close()
