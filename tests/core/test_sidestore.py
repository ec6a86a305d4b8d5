from __future__ import annotations

import threading

from core.engine import Engine


def test_processes_creating_the_same_table_at_once_all_succeed(db_url, tmp_path):
    """On PostgreSQL, concurrent CREATE TABLE IF NOT EXISTS can fail in the catalogue; starting
    a server and a CLI command at the same moment must not."""
    engines = [Engine(db_url, outbox=tmp_path / f"o{n}") for n in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def create(engine: Engine) -> None:
        try:
            barrier.wait()
            engine.side.create_tables("CREATE TABLE IF NOT EXISTS civic_race (name TEXT PRIMARY KEY)",
                                      "CREATE TABLE IF NOT EXISTS civic_race_2 (name TEXT PRIMARY KEY)")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=create, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with engines[0].side.transaction() as cur:
            cur.execute("INSERT INTO civic_race (name) VALUES (?)", ("ok",))
            assert cur.execute("SELECT name FROM civic_race").fetchall() == [{"name": "ok"}]
    finally:
        for e in engines:
            e.close()
