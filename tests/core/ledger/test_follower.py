"""The follower on both stores: one leaf per notification, restarts, concurrency, checkpoints
recorded in the log and kept outside it, the signing key's file, receipts and proofs."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import threading

import pytest
import rfc8785
from eventsourcing.persistence import RecordConflictError

from core.engine import Engine
from core.errors import InvalidInput, NotFound
from core.ledger.checkpoint import CHECKPOINT_TOPIC, SigningKey
from core.ledger.leaf_table import LEAVES
from core.ledger.merkle import verify_consistency, verify_inclusion
from core.ledger.verify import check_receipt, verify_database
from core.plugins import make_plugin_manager
from tests.core.ledger.conftest import add_petition, build_log
from tests.support import petition
from tests.support.petition import Petition


def expected_leaf(record) -> bytes:
    """The leaf as the issue defines it, computed here from the public record's fields."""
    public = {"position": record.position, "originator_id": record.originator_id,
              "originator_version": record.originator_version, "topic": record.topic,
              "timestamp": record.timestamp, "payload": record.payload}
    return hashlib.sha256(b"\x00" + rfc8785.dumps(public)).digest()


def stored_rows(engine: Engine) -> list[dict]:
    with engine.side.transaction(commit=False) as cur:
        return cur.execute(f"SELECT leaf_index, position, hash FROM {LEAVES} ORDER BY leaf_index").fetchall()


def test_every_notification_becomes_one_leaf_in_order(pet_engine):
    add_petition(pet_engine, "benches", 4)
    add_petition(pet_engine, "lights", 2)
    assert pet_engine.ledger.follow() == 8
    assert pet_engine.ledger.follow() == 0
    records = list(pet_engine.records())
    rows = stored_rows(pet_engine)
    assert [r["leaf_index"] for r in rows] == list(range(8))
    assert [r["position"] for r in rows] == [r.position for r in records]
    assert [bytes(r["hash"]) for r in rows] == [expected_leaf(r) for r in records]


def test_while_events_keep_arriving_a_follow_takes_what_was_there_in_one_write(sqlite_pet_engine, monkeypatch):
    """A follow ends once it has caught up with the log as it stood: under a steady stream of
    votes, chasing each new event wrote a leaf or two per transaction and kept taking the
    store's writer lock from the voters."""
    engine = sqlite_pet_engine
    add_petition(engine, "benches", 4)
    recorder = engine.store.recorder
    select = recorder.select_log_rows
    reads, writes = [], []
    arriving = iter(range(50))

    def select_while_a_vote_arrives(*args, **kwargs):
        found = select(*args, **kwargs)
        reads.append(len(found))
        if next(arriving, None) is None:
            raise AssertionError("the follow kept chasing new events")
        add_petition(engine, f"arrived {len(reads)}", 0)  # the next event, right after the read
        return found

    monkeypatch.setattr(recorder, "select_log_rows", select_while_a_vote_arrives)
    append = engine.ledger.table.append
    monkeypatch.setattr(engine.ledger.table, "append", lambda rows, cps: (writes.append(len(rows)), append(rows, cps)))
    assert engine.ledger.follow() == 5
    assert reads == [5] and writes == [5]
    monkeypatch.setattr(recorder, "select_log_rows", select)
    assert engine.ledger.follow() == 1  # the event that arrived meanwhile: the next follow's
    assert len(stored_rows(engine)) == engine.store.position


def test_the_follower_survives_restarts_and_continues(db_url, manual_clock, tmp_path):
    plugins = make_plugin_manager(extra=[petition])
    first = Engine(db_url, plugins=plugins, outbox=tmp_path / "o")
    add_petition(first, "one", 3)
    signed = first.ledger.checkpoint()
    root = first.ledger.root(signed.size)
    first.close()

    again = Engine(db_url, plugins=plugins, outbox=tmp_path / "o")
    try:
        assert again.ledger.follow() == 0
        assert again.ledger.latest_checkpoint() == signed
        assert again.ledger.root(signed.size) == root
        add_petition(again, "two", 1)
        assert again.ledger.follow() == 2
        rows = stored_rows(again)
        assert [r["leaf_index"] for r in rows] == list(range(len(rows)))
        assert [bytes(r["hash"]) for r in rows] == [expected_leaf(r) for r in again.records()]
        assert verify_database(again).ok
    finally:
        again.close()


def test_concurrent_followers_never_skip_nor_double_count(db_url, manual_clock, tmp_path):
    plugins = make_plugin_manager(extra=[petition])
    engines = [Engine(db_url, plugins=plugins, outbox=tmp_path / "o") for _ in range(3)]
    try:
        errors: list[BaseException] = []

        def write_and_follow(engine: Engine, name: str) -> None:
            try:
                for i in range(6):
                    add_petition(engine, f"{name}{i}", 3)
                    engine.ledger.follow()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write_and_follow, args=(e, f"t{n}")) for n, e in enumerate(engines)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, [repr(e) for e in errors]
        for e in engines:
            e.ledger.follow()
        records = list(engines[0].records())
        rows = stored_rows(engines[0])
        assert len(records) == 3 * 6 * 4
        assert [r["position"] for r in rows] == [r.position for r in records]
        assert [bytes(r["hash"]) for r in rows] == [expected_leaf(r) for r in records]
        assert len({e.ledger.root() for e in engines}) == 1
    finally:
        for e in engines:
            e.close()


def test_positions_with_gaps_still_give_contiguous_leaves(pet_engine):
    p = add_petition(pet_engine, "gap", 1)
    dup = Petition._create(Petition.Opened, id=p.id, title="again")
    with pytest.raises(RecordConflictError):
        pet_engine.save(dup)  # on PostgreSQL this consumes a notification id
    add_petition(pet_engine, "after", 1)
    pet_engine.ledger.checkpoint()
    rows = stored_rows(pet_engine)
    assert [r["leaf_index"] for r in rows] == list(range(len(rows)))
    assert [r["position"] for r in rows] == [r.position for r in pet_engine.records()]
    assert verify_database(pet_engine).ok


def test_a_checkpoint_is_signed_recorded_as_a_later_leaf_and_kept_outside(pet_engine):
    add_petition(pet_engine, "a", 2)
    signed = pet_engine.ledger.checkpoint()
    records = list(pet_engine.records())
    assert signed.size == 3 and signed.position == records[-1].position
    assert records[-1].topic == CHECKPOINT_TOPIC and records[-1].payload["note"] == signed.note
    key = pet_engine.ledger.verifier_key
    opened = key.open_checkpoint(signed.note)
    leaves = [expected_leaf(r) for r in records]
    assert opened.root_hash == pet_engine.ledger.root(3)
    assert opened.root_hash == _reference_root(leaves[:3])
    assert pet_engine.ledger.size == 4  # the checkpoint record is leaf 3
    assert pet_engine.ledger.outside_checkpoint() == signed.note
    # asking again without new events returns the same checkpoint and records nothing
    assert pet_engine.ledger.checkpoint() == pet_engine.ledger.latest_checkpoint()


def _reference_root(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _reference_root(leaves[:k]) + _reference_root(leaves[k:])).digest()


def test_tick_signs_only_when_new_events_arrived(sqlite_pet_engine):
    ledger = sqlite_pet_engine.ledger
    assert ledger.tick() is None  # empty log
    add_petition(sqlite_pet_engine, "a", 1)
    first = ledger.tick()
    assert first is not None and first.size == 2
    # its own record is not news: no checkpoint chasing checkpoints
    assert ledger.tick() is None and ledger.tick() is None
    assert sqlite_pet_engine.position == 3
    add_petition(sqlite_pet_engine, "b", 0)
    second = ledger.tick()
    assert second is not None and second.size == 4
    proof = ledger.consistency_proof(first.size, second.size)
    assert verify_consistency(first.size, second.size, first.root_hash, second.root_hash, proof)


def test_the_signing_key_is_private_stable_and_movable(sqlite_engine, tmp_path, monkeypatch):
    ledger = sqlite_engine.ledger
    assert not ledger.key_path.exists()  # nothing is created before it is needed
    ledger.checkpoint()
    assert ledger.key_path == tmp_path / "civic.db.ledger.key"
    assert stat.S_IMODE(os.stat(ledger.key_path).st_mode) == 0o600
    assert ledger.checkpoint_path == tmp_path / "civic.db.ledger.checkpoint"
    assert SigningKey.parse(ledger.key_path.read_text()).verifier == ledger.verifier_key

    moved = tmp_path / "keys" / "my.key"
    monkeypatch.setenv("CIVIC_LEDGER_KEY", str(moved))
    monkeypatch.setenv("CIVIC_LEDGER_ORIGIN", "civic.example/test")
    other = Engine(str(tmp_path / "other.db"), outbox=tmp_path / "o2")
    try:
        other.ledger.checkpoint()
        assert moved.exists() and other.ledger.checkpoint_path == tmp_path / "keys" / "my.checkpoint"
        assert other.ledger.origin == "civic.example/test"
    finally:
        other.close()


def test_a_readable_key_file_is_refused(sqlite_engine, tmp_path):
    sqlite_engine.ledger.checkpoint()
    os.chmod(sqlite_engine.ledger.key_path, 0o644)
    again = Engine(sqlite_engine.db, outbox=tmp_path / "o3")
    try:
        with pytest.raises(PermissionError):
            again.ledger.checkpoint()
    finally:
        again.close()


def test_receipts_prove_inclusion_under_a_signed_checkpoint(sqlite_pet_engine):
    add_petition(sqlite_pet_engine, "a", 3)
    sqlite_pet_engine.ledger.checkpoint()
    add_petition(sqlite_pet_engine, "b", 1)  # not yet covered: the receipt signs a fresh checkpoint
    position = list(sqlite_pet_engine.records())[-1].position
    receipt = sqlite_pet_engine.ledger.receipt(position)
    assert receipt["checkpoint"]["size"] > receipt["leaf_index"]
    assert check_receipt(receipt, sqlite_pet_engine.ledger.verifier_key) is None
    leaf = base64.b64decode(receipt["leaf_hash"])
    proof = [base64.b64decode(p) for p in receipt["inclusion_proof"]]
    root = base64.b64decode(receipt["checkpoint"]["root_hash"])
    assert verify_inclusion(leaf, receipt["leaf_index"], receipt["checkpoint"]["size"], proof, root)
    bent = dict(receipt, record=dict(receipt["record"], payload={"who": "mallory"}))
    assert check_receipt(bent, sqlite_pet_engine.ledger.verifier_key) == "the record does not hash to the receipt's leaf hash"
    with pytest.raises(NotFound):
        sqlite_pet_engine.ledger.receipt(10_000)


def test_proof_requests_out_of_range_are_refused(sqlite_pet_engine):
    add_petition(sqlite_pet_engine, "a", 2)
    ledger = sqlite_pet_engine.ledger
    ledger.follow()
    for call in (lambda: ledger.inclusion_proof(3, 3), lambda: ledger.inclusion_proof(0, 9),
                 lambda: ledger.consistency_proof(2, 1), lambda: ledger.consistency_proof(1, 9),
                 lambda: ledger.root(9)):
        with pytest.raises(InvalidInput):
            call()


def test_health_reports_size_checkpoint_and_state(sqlite_pet_engine):
    add_petition(sqlite_pet_engine, "a", 1)
    health = sqlite_pet_engine.ledger.health()
    assert health["status"] == "following" and health["tree_size"] == 0
    signed = sqlite_pet_engine.ledger.checkpoint()
    health = sqlite_pet_engine.ledger.health()
    assert health["status"] == "ok"
    assert health["tree_size"] == 3 and health["checkpoint"]["size"] == signed.size
    assert health["key_id"] == sqlite_pet_engine.ledger.verifier_key.key_id.hex()


def test_a_record_that_cannot_be_canonicalised_stops_the_follower_at_its_position(sqlite_pet_engine):
    from core.ledger.leaves import LeafEncodingError

    add_petition(sqlite_pet_engine, "a", 1)
    p = Petition("big")
    p._signed(2**60)  # beyond what RFC 8785 (IEEE doubles) can hold
    sqlite_pet_engine.save(p)
    with pytest.raises(LeafEncodingError, match="position 4"):
        sqlite_pet_engine.ledger.follow()
    assert sqlite_pet_engine.ledger.size == 3  # what precedes it is kept
    with pytest.raises(LeafEncodingError):
        sqlite_pet_engine.ledger.follow()
    assert sqlite_pet_engine.ledger.health()["tree_size"] == 3
