"""Issue 3, point 6: every kind of tampering is detected and the right position is named, on a
live store (raw SQL on the event table, SQLite and PostgreSQL) and on an exported file.

The log used (``build_log``): positions 1–6 petition A, 7 a checkpoint of 6 leaves, 8–13
petition B, 14 a checkpoint of 13, 15–20 petition C, 21 a checkpoint of 20 (also kept outside
the store).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import assume, given
from hypothesis import strategies as st

from core.ledger.checkpoint import Checkpoint, SigningKey, VerifierKey, note_text
from core.ledger.export import ExportFormatError, write_export
from core.ledger.leaf_table import LEAVES
from core.ledger.merkle import root_of
from core.ledger import verify
from core.ledger.verify import VerifyReport, verify_database, verify_export
from core.plugins import make_plugin_manager
from tests.core.ledger.conftest import Store, build_log
from tests.support import petition


def failed_at(report: VerifyReport, position: int | None, *words: str) -> None:
    assert not report.ok
    first = report.first
    assert first is not None
    assert first.position == position, first
    for word in words:
        assert word in first.reason, first.reason


def resigned_elsewhere(note: str) -> str:
    """The same checkpoint, signed by a key that is not the ledger's (but has its name)."""
    body = note_text(note)
    return SigningKey.generate(Checkpoint.parse(body).origin).sign(body)


def with_other_root(note: str) -> str:
    lines = note.split("\n")
    lines[2] = base64.b64encode(hashlib.sha256(b"another root").digest()).decode()
    return "\n".join(lines)


# -- the live store -------------------------------------------------------------------------
@pytest.fixture
def logged(pet_engine):
    build_log(pet_engine)
    return pet_engine


@pytest.fixture
def sqlite_logged(sqlite_pet_engine):
    """For the cover-ups below, which touch the derived table and files, not the store's kind."""
    build_log(sqlite_pet_engine)
    return sqlite_pet_engine


def test_an_untouched_store_verifies(logged):
    report = verify_database(logged)
    assert report.ok, report.problems
    assert (report.records, report.checkpoints) == (21, 3)
    assert report.latest_checkpoint["size"] == 20


def test_store_edited_payload(logged):
    store = Store(logged)
    state = store.state(10)
    state["who"] = "mallory"
    store.set_state(10, state)
    failed_at(verify_database(logged), 10, "changed")


def test_store_deleted_event(logged):
    Store(logged).delete(10)
    failed_at(verify_database(logged), 10, "missing")


def test_store_swapped_events(logged):
    Store(logged).swap(9, 11)
    failed_at(verify_database(logged), 9)


def test_store_inserted_forged_event(logged):
    store = Store(logged)
    forged = dict(store.state(10), who="mallory")
    store.insert_before(10, store.row(10)["topic"], forged)
    assert logged.position == 22
    failed_at(verify_database(logged), 10)


def _edited(store: Store) -> None:
    store.set_state(10, dict(store.state(10), who="mallory"))


def _forged(store: Store) -> None:
    store.insert_before(10, store.row(10)["topic"], dict(store.state(10), who="mallory"))


def _other_root(store: Store) -> None:
    store.set_state(14, dict(store.state(14), note=with_other_root(store.state(14)["note"])))


@pytest.mark.parametrize("tamper", [None, _edited, lambda store: store.delete(10), lambda store: store.swap(9, 11),
                                    _forged, lambda store: store.truncate_from(17), _other_root],
                         ids=["untouched", "edited", "deleted", "swapped", "forged", "truncated", "other root"])
def test_worker_processes_find_what_one_process_finds(logged, monkeypatch, tamper):
    """A large store is hashed by worker processes: tasks of 4 rows here, so that several are
    in flight and must come back in log order."""
    monkeypatch.setattr(verify, "ROWS_PER_TASK", 4)
    if tamper is not None:
        tamper(Store(logged))
    in_pool, alone = verify_database(logged, workers=2), verify_database(logged, workers=1)
    assert [p.to_json() for p in in_pool.problems] == [p.to_json() for p in alone.problems]
    assert (in_pool.records, in_pool.checkpoints, in_pool.root_hash) == (alone.records, alone.checkpoints,
                                                                        alone.root_hash)
    assert in_pool.ok == (tamper is None)


def test_worker_processes_read_a_store_encrypted_at_rest(tmp_path, manual_clock, monkeypatch):
    from eventsourcing.cryptography import AESCipher

    from core.engine import Engine

    monkeypatch.setattr(verify, "ROWS_PER_TASK", 4)
    engine = Engine(str(tmp_path / "enc.db"), plugins=make_plugin_manager(extra=[petition]),
                    cipher_key=AESCipher.create_key(16), outbox=tmp_path / "o.jsonl")
    try:
        build_log(engine)
        assert verify_database(engine, workers=2).ok
        Store(engine).delete(10)  # the states are ciphertext: the intruder can only remove a row
        failed_at(verify_database(engine, workers=2), 10, "missing")
    finally:
        engine.close()


def test_store_truncated_tail(logged):
    Store(logged).truncate_from(17)
    failed_at(verify_database(logged), 17, "removed")


def test_store_altered_checkpoint(logged):
    store = Store(logged)
    state = store.state(14)
    state["note"] = with_other_root(state["note"])
    store.set_state(14, state)
    failed_at(verify_database(logged), 14, "does not verify")


def test_store_checkpoint_signed_with_another_key(logged):
    store = Store(logged)
    state = store.state(14)
    state["note"] = resigned_elsewhere(state["note"])
    store.set_state(14, state)
    failed_at(verify_database(logged), 14, "not signed by the ledger key")


def test_store_edit_that_also_rewrites_the_derived_hashes_is_caught_by_the_signed_roots(sqlite_logged):
    store = Store(sqlite_logged)
    state = store.state(10)
    state["who"] = "mallory"
    store.set_state(10, state)
    record = next(r for r in sqlite_logged.records() if r.position == 10)
    new_hash = hashlib.sha256(b"\x00" + rfc8785.dumps({
        "position": 10, "originator_id": record.originator_id, "originator_version": record.originator_version,
        "topic": record.topic, "timestamp": record.timestamp, "payload": record.payload})).digest()
    store.run(f"UPDATE {LEAVES} SET hash = ? WHERE position = ?", (new_hash, 10))
    report = verify_database(sqlite_logged)
    assert not report.ok
    first = report.first
    # the checkpoint of 6 leaves still holds, the one of 13 does not: positions 7–13
    assert not first.precise and first.position == 7 and "7–13" in first.reason


def test_store_truncated_with_its_derived_table_is_caught_by_the_checkpoint_kept_outside(sqlite_logged):
    store = Store(sqlite_logged)
    store.truncate_from(17)
    store.run(f"DELETE FROM {LEAVES} WHERE position >= ?", (17,))
    failed_at(verify_database(sqlite_logged), 17, "truncated", "outside the store")


def test_an_auditor_kept_checkpoint_catches_what_the_operator_covered_up(sqlite_logged):
    kept = sqlite_logged.ledger.outside_checkpoint()  # an auditor saved it (checkpoint of 20 leaves)
    store = Store(sqlite_logged)
    older = store.state(14)["note"]
    store.truncate_from(17)
    store.run(f"DELETE FROM {LEAVES} WHERE position >= ?", (17,))
    sqlite_logged.ledger.checkpoint_path.write_text(older)  # an older, genuinely signed checkpoint
    assert verify_database(sqlite_logged).ok  # the store alone cannot tell
    report = verify_database(sqlite_logged, checkpoints=[(kept, "the auditor's checkpoint")])
    failed_at(report, 17, "auditor")


def test_an_altered_checkpoint_file_fails_outside_the_log(sqlite_logged):
    path = sqlite_logged.ledger.checkpoint_path
    path.write_text(with_other_root(path.read_text()))
    report = verify_database(sqlite_logged)
    failed_at(report, None, "outside the store")


# -- the exported file ----------------------------------------------------------------------
@pytest.fixture
def exported(manual_clock, tmp_path):
    # the file is the same whichever store wrote it: SQLite only
    from core.engine import Engine

    engine = Engine(str(tmp_path / "civic.db"), plugins=make_plugin_manager(extra=[petition]),
                    outbox=tmp_path / "o")
    try:
        build_log(engine)
        path = tmp_path / "log.jsonl"
        write_export(engine, path)
    finally:
        engine.close()
    return path


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def at(lines: list[dict], position: int) -> int:
    return next(i for i, line in enumerate(lines) if line["type"] == "record" and line["record"]["position"] == position)


def test_an_untouched_export_verifies(exported):
    report = verify_export(exported)
    assert report.ok, report.problems
    assert (report.records, report.checkpoints) == (21, 3)


def test_export_edited_payload(exported):
    lines = read_lines(exported)
    lines[at(lines, 10)]["record"]["payload"]["who"] = "mallory"
    failed_at(verify_export(write_lines(exported, lines)), 10, "changed")


def test_export_deleted_event(exported):
    lines = read_lines(exported)
    del lines[at(lines, 10)]
    failed_at(verify_export(write_lines(exported, lines)), 10, "missing")


def test_export_swapped_events(exported):
    lines = read_lines(exported)
    i, j = at(lines, 9), at(lines, 11)
    lines[i], lines[j] = lines[j], lines[i]
    failed_at(verify_export(write_lines(exported, lines)), 9)


def test_export_inserted_forged_event(exported):
    lines = read_lines(exported)
    i = at(lines, 10)
    forged = copy.deepcopy(lines[i])
    forged["record"]["payload"]["who"] = "mallory"
    forged["leaf_hash"] = base64.b64encode(hashlib.sha256(b"\x00" + rfc8785.dumps(forged["record"])).digest()).decode()
    lines.insert(i, forged)
    failed_at(verify_export(write_lines(exported, lines)), 10)


def test_export_truncated_tail(exported):
    lines = read_lines(exported)
    kept = [line for line in lines if line["type"] != "record" or line["record"]["position"] < 17]
    failed_at(verify_export(write_lines(exported, kept)), 17)


def test_export_cut_short_without_its_end(exported):
    lines = read_lines(exported)
    failed_at(verify_export(write_lines(exported, lines[: at(lines, 17)])), 17, "cut short")


def test_export_altered_checkpoint(exported):
    lines = read_lines(exported)
    line = lines[at(lines, 14)]
    line["record"]["payload"]["note"] = with_other_root(line["record"]["payload"]["note"])
    failed_at(verify_export(write_lines(exported, lines)), 14, "does not verify")


def test_export_checkpoint_signed_with_another_key(exported):
    lines = read_lines(exported)
    line = lines[at(lines, 14)]
    line["record"]["payload"]["note"] = resigned_elsewhere(line["record"]["payload"]["note"])
    failed_at(verify_export(write_lines(exported, lines)), 14, "not signed by the ledger key")


def test_export_edit_with_rewritten_leaf_hash_is_caught_by_the_signed_roots(exported):
    lines = read_lines(exported)
    line = lines[at(lines, 10)]
    line["record"]["payload"]["who"] = "mallory"
    line["leaf_hash"] = base64.b64encode(hashlib.sha256(b"\x00" + rfc8785.dumps(line["record"])).digest()).decode()
    report = verify_export(write_lines(exported, lines))
    assert not report.ok and not report.first.precise
    assert report.first.position == 7 and "7–13" in report.first.reason


def test_export_altered_outside_checkpoint(exported):
    lines = read_lines(exported)
    lines[-2]["note"] = with_other_root(lines[-2]["note"])
    failed_at(verify_export(write_lines(exported, lines)), None, "outside the store")


def test_an_export_re_signed_under_another_key_fails_against_the_trusted_key(exported):
    """A forger who rewrites a record and re-signs every checkpoint with a key of their own."""
    lines = read_lines(exported)
    header = lines[0]
    trusted = VerifierKey.parse(header["key"]["verifier_key"])
    forger = SigningKey.generate(header["origin"])
    header["key"] = forger.verifier.to_json()
    lines[at(lines, 10)]["record"]["payload"]["who"] = "mallory"
    leaves: list[bytes] = []
    for line in lines[1:]:
        if line["type"] == "record":
            payload = line["record"]["payload"]
            if "note" in payload:
                size = Checkpoint.parse(note_text(payload["note"])).size
                payload["note"] = forger.sign(Checkpoint(header["origin"], size, root_of(leaves[:size])).body())
            leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(line["record"])).digest()
            line["leaf_hash"] = base64.b64encode(leaf).decode()
            leaves.append(leaf)
        elif line["type"] == "checkpoint":
            size = Checkpoint.parse(note_text(line["note"])).size
            line["note"] = forger.sign(Checkpoint(header["origin"], size, root_of(leaves[:size])).body())
    write_lines(exported, lines)
    assert verify_export(exported).ok  # self-consistent: only a key known from elsewhere can tell
    report = verify_export(exported, key=trusted)
    assert any(p.position is None and "trusted key" in p.reason for p in report.problems)
    failed_at(report, 7, "not signed by the ledger key")


@pytest.mark.parametrize("content", ["", "not json\n", '{"type": "record"}\n',
                                     '{"type":"header","format":"civic-ledger-export","version":99}\n'])
def test_unreadable_exports_raise_a_format_error(tmp_path, content):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ExportFormatError):
        verify_export(path)


def test_a_record_line_of_the_wrong_shape_is_a_format_error(exported):
    lines = read_lines(exported)
    del lines[at(lines, 5)]["record"]["topic"]
    with pytest.raises(ExportFormatError, match="line 6"):
        verify_export(write_lines(exported, lines))


# -- any tampering, anywhere ------------------------------------------------------------------
@pytest.fixture(scope="module")
def export_lines(tmp_path_factory) -> list[dict]:
    from core import clock
    from core.clock import ManualClock
    from core.engine import Engine

    tmp = tmp_path_factory.mktemp("prop")
    previous = clock.use_clock(ManualClock())
    engine = Engine(str(tmp / "civic.db"), plugins=make_plugin_manager(extra=[petition]), outbox=tmp / "o")
    try:
        build_log(engine)
        write_export(engine, tmp / "log.jsonl")
    finally:
        engine.close()
        clock.use_clock(previous)
    return read_lines(tmp / "log.jsonl")


KINDS = ("edit", "delete", "swap", "insert", "truncate")


@given(kind=st.sampled_from(KINDS), position=st.integers(1, 21), other=st.integers(1, 21))
def test_any_tampering_of_an_export_is_named_at_its_position(export_lines, tmp_path_factory, kind, position, other):
    lines = copy.deepcopy(export_lines)
    i = at(lines, position)
    if kind == "edit":
        payload = lines[i]["record"]["payload"]
        if "note" in payload:
            payload["note"] = with_other_root(payload["note"])
        else:
            payload["who"] = "mallory"
    elif kind == "delete":
        del lines[i]
    elif kind == "swap":
        assume(other != position)
        position, later = min(position, other), max(position, other)
        i, j = at(lines, position), at(lines, later)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "insert":
        forged = copy.deepcopy(lines[i])
        forged["record"]["originator_version"] += 100
        forged["leaf_hash"] = base64.b64encode(
            hashlib.sha256(b"\x00" + rfc8785.dumps(forged["record"])).digest()).decode()
        lines.insert(i, forged)
    elif kind == "truncate":
        lines = [x for x in lines if x["type"] != "record" or x["record"]["position"] < position]
    path = tmp_path_factory.mktemp("t") / "log.jsonl"
    failed_at(verify_export(write_lines(path, lines)), position)


def test_one_deleted_line_is_one_located_problem(exported):
    lines = read_lines(exported)
    del lines[at(lines, 3)]
    report = verify_export(write_lines(exported, lines))
    assert report.first.position == 3
    # the shift of every later index is reported once, not once per line
    assert sum("leaf" in p.reason and "missing" in p.reason for p in report.problems) == 1
    assert len(report.problems) <= 6, report.problems
