from __future__ import annotations

import pytest

from core.engine import Engine
from core.plugins import make_plugin_manager
from core.readmodels import TABLE, canonical_json
from tests.support import petition
from tests.support.petition import Petition


def open_engine(db_url, tmp_path):
    return Engine(db_url, plugins=make_plugin_manager(extra=[petition]), outbox=tmp_path / "o.jsonl")


def fill(engine, petitions=3, signatures=4):
    ids = []
    for n in range(petitions):
        p = engine.create(Petition(f"petition {n}"))
        for s in range(signatures + n):
            engine.update(p.id, lambda x, s=s: x.sign(f"resident {s}"), cls=Petition)
        ids.append(p.id)
    return ids


def test_read_model_follows_the_log(db_url, manual_clock, tmp_path):
    engine = open_engine(db_url, tmp_path)
    ids = fill(engine)
    state = engine.read_models.get("petition.signatures").state
    assert {k: v["signatures"] for k, v in state.items()} == {str(i): 4 + n for n, i in enumerate(ids)}
    engine.update(ids[0], lambda x: x.sign("late"), cls=Petition)
    assert engine.read_models.get("petition.signatures").state[str(ids[0])]["signatures"] == 5
    engine.close()


def test_read_model_survives_restart_and_reads_only_what_is_new(db_url, manual_clock, tmp_path):
    engine = open_engine(db_url, tmp_path)
    ids = fill(engine)
    first = engine.read_models.get("petition.signatures")
    position = first.position
    engine.close()  # flushes the state and its position

    reopened = open_engine(db_url, tmp_path)
    loaded = reopened.read_models._load("petition.signatures")
    assert loaded.position == position and loaded.state == first.state
    reopened.update(ids[1], lambda x: x.sign("after restart"), cls=Petition)
    assert reopened.read_models.get("petition.signatures").state[str(ids[1])]["signatures"] == 6
    reopened.close()


def test_rebuild_reproduces_the_state_byte_for_byte(db_url, manual_clock, tmp_path):
    engine = open_engine(db_url, tmp_path)
    fill(engine, petitions=4)
    engine.read_models.get("petition.signatures")
    engine.read_models.flush()
    before = engine.read_models.stored_state("petition.signatures")
    with engine.side.transaction() as cur:  # a damaged read model...
        cur.execute(f"UPDATE {TABLE} SET state = ? WHERE name = ?", ("{}", "petition.signatures"))
    rebuilt = engine.read_models.rebuild()
    after = engine.read_models.stored_state("petition.signatures")
    assert before is not None and after == before == rebuilt["petition.signatures"]
    assert after == canonical_json(engine.read_models.get("petition.signatures").state)
    engine.close()


def test_a_changed_version_is_rebuilt(sqlite_engine, tmp_path):
    db = sqlite_engine.db
    sqlite_engine.close()
    engine = Engine(db, plugins=make_plugin_manager(extra=[petition]), outbox=tmp_path / "o.jsonl")
    fill(engine, petitions=1)
    engine.read_models.get("petition.signatures")
    engine.read_models.flush()
    with engine.side.transaction() as cur:
        cur.execute(f"UPDATE {TABLE} SET version = 0, state = ? WHERE name = ?", ("{}", "petition.signatures"))
    engine.close()
    reopened = Engine(db, plugins=make_plugin_manager(extra=[petition]), outbox=tmp_path / "o.jsonl")
    assert len(reopened.read_models.get("petition.signatures").state) == 1
    reopened.close()


def test_unknown_read_model_names_are_refused(sqlite_engine):
    with pytest.raises(KeyError):
        sqlite_engine.read_models.get("nope")
    with pytest.raises(KeyError):
        sqlite_engine.read_models.rebuild(["nope"])
