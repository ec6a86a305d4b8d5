"""Fixtures for the ledger tests: an isolated key/checkpoint home, an engine with the petition
sample plugin, a small log with checkpoints, and raw-SQL tampering on the store's own table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from uuid import uuid4

import pytest

from core.engine import Engine
from core.plugins import make_plugin_manager
from tests.support import petition
from tests.support.petition import Petition


@pytest.fixture(autouse=True)
def ledger_home(tmp_path, monkeypatch):
    """Keys and outside checkpoints of PostgreSQL stores go under CIVIC_HOME: keep them in the
    test's directory."""
    home = tmp_path / "home"
    monkeypatch.setenv("CIVIC_HOME", str(home))
    for name in ("CIVIC_LEDGER_KEY", "CIVIC_LEDGER_CHECKPOINT", "CIVIC_LEDGER_ORIGIN"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def pet_engine(db_url, manual_clock, tmp_path) -> Iterator[Engine]:
    eng = Engine(db_url, plugins=make_plugin_manager(extra=[petition]), outbox=tmp_path / "o.jsonl")
    yield eng
    eng.close()


@pytest.fixture
def sqlite_pet_engine(manual_clock, tmp_path) -> Iterator[Engine]:
    """For what does not depend on the store: SQLite only."""
    eng = Engine(str(tmp_path / "civic.db"), plugins=make_plugin_manager(extra=[petition]),
                 outbox=tmp_path / "o.jsonl")
    yield eng
    eng.close()


def add_petition(engine: Engine, title: str, signers: int) -> Petition:
    p = Petition(title)
    for i in range(signers):
        p.sign(f"{title}-signer-{i}")
    engine.save(p)
    return p


def build_log(engine: Engine) -> None:
    """21 events: three petitions of 6 events, each followed by a checkpoint record.

    positions 1–6 petition A, 7 checkpoint of 6 leaves, 8–13 B, 14 checkpoint of 13,
    15–20 C, 21 checkpoint of 20 (also kept outside the store)."""
    for title in ("A", "B", "C"):
        add_petition(engine, title, 5)
        engine.ledger.checkpoint()
    assert engine.position == 21


# -- raw SQL on the event store's table ------------------------------------------------------
class Store:
    """Edits the event table the way an intruder with database access would."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pg = engine.is_postgres
        self.id = "notification_id" if self.pg else "rowid"
        self.table = engine.recorder.events_table_name

    def run(self, sql: str, params=()) -> list[dict]:
        with self.engine.side.transaction() as cur:
            cur.execute(sql, params)
            try:
                return cur.fetchall()
            except Exception:  # statements without rows
                return []

    def row(self, position: int) -> dict:
        rows = self.run(f"SELECT originator_id, originator_version, topic, state FROM {self.table}"
                        f" WHERE {self.id} = ?", (position,))
        assert rows, f"no row at {position}"
        return rows[0]

    def state(self, position: int) -> dict:
        return json.loads(bytes(self.row(position)["state"]))

    def set_state(self, position: int, state: dict) -> None:
        self.run(f"UPDATE {self.table} SET state = ? WHERE {self.id} = ?",
                 (json.dumps(state).encode(), position))

    def delete(self, position: int) -> None:
        self.run(f"DELETE FROM {self.table} WHERE {self.id} = ?", (position,))

    def truncate_from(self, position: int) -> None:
        self.run(f"DELETE FROM {self.table} WHERE {self.id} >= ?", (position,))

    def swap(self, a: int, b: int) -> None:
        self.run(f"UPDATE {self.table} SET {self.id} = -1 WHERE {self.id} = ?", (a,))
        self.run(f"UPDATE {self.table} SET {self.id} = ? WHERE {self.id} = ?", (a, b))
        self.run(f"UPDATE {self.table} SET {self.id} = ? WHERE {self.id} = -1", (b,))

    def insert_before(self, position: int, topic: str, state: dict) -> None:
        """Make room at ``position`` by moving later rows up one, and put a forged event there."""
        self.run(f"UPDATE {self.table} SET {self.id} = {self.id} + 1000000 WHERE {self.id} >= ?", (position,))
        self.run(f"UPDATE {self.table} SET {self.id} = {self.id} - 999999 WHERE {self.id} >= 1000000")
        forged = uuid4()
        self.run(f"INSERT INTO {self.table} ({self.id}, originator_id, originator_version, topic, state)"
                 " VALUES (?, ?, ?, ?, ?)",
                 (position, str(forged) if self.pg else forged.hex, 1, topic, json.dumps(state).encode()))
