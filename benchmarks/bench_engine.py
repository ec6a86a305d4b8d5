"""Events saved per second through the engine, one command per save, against bare eventsourcing
saving the same events on the same kind of SQLite file, measured in the same run."""

from __future__ import annotations

from benchmarks.common import BareItem, bare_app, median, rate, temp_dir
from core.engine import Engine
from core.plugins import make_plugin_manager
from tests.support import petition
from tests.support.petition import Petition

AGGREGATES = 500
MARKS_PER_AGGREGATE = 6
ROUNDS = 3


def engine_run(path) -> tuple[float, float]:
    engine = Engine(str(path), plugins=make_plugin_manager(allow=set(), extra=[petition]),
                    outbox=path.with_suffix(".outbox"))
    ids: list = []
    created = rate(AGGREGATES, lambda: ids.extend(engine.create(Petition(f"p{i}")).id for i in range(AGGREGATES)))

    def commands() -> None:
        for round_ in range(MARKS_PER_AGGREGATE):
            for pid in ids:
                engine.update(pid, lambda p, r=round_: p.sign(f"r{r}"), cls=Petition)

    updated = rate(AGGREGATES * MARKS_PER_AGGREGATE, commands)
    engine.close()
    return created, updated


def bare_run(path) -> tuple[float, float]:
    app = bare_app(path)
    ids: list = []

    def create() -> None:
        for i in range(AGGREGATES):
            item = BareItem(f"p{i}")
            app.save(item)
            ids.append(item.id)

    created = rate(AGGREGATES, create)

    def commands() -> None:
        for round_ in range(MARKS_PER_AGGREGATE):
            for pid in ids:
                item = app.repository.get(pid)
                item.mark(f"r{round_}")
                app.save(item)

    updated = rate(AGGREGATES * MARKS_PER_AGGREGATE, commands)
    app.close()
    return created, updated


def run(table) -> None:
    results: dict[str, list[tuple[float, float]]] = {"engine": [], "bare": []}
    with temp_dir() as tmp:
        for n in range(ROUNDS):
            # alternate which goes first so drift on a shared machine hits both alike
            order = ("engine", "bare") if n % 2 == 0 else ("bare", "engine")
            for who in order:
                path = tmp / f"{who}-{n}.db"
                results[who].append(engine_run(path) if who == "engine" else bare_run(path))
    eng_create = median([r[0] for r in results["engine"]])
    bare_create = median([r[0] for r in results["bare"]])
    eng_update = median([r[1] for r in results["engine"]])
    bare_update = median([r[1] for r in results["bare"]])
    table.add("engine: create command (1 event/save)", eng_create, "events/s")
    table.add("bare eventsourcing: create (1 event/save)", bare_create, "events/s")
    table.add("engine: update command (get+change+save)", eng_update, "events/s")
    table.add("bare eventsourcing: get+change+save", bare_update, "events/s")
    table.add("ratio engine/bare, create", eng_create / bare_create, "x", "target >= 0.8")
    table.add("ratio engine/bare, update", eng_update / bare_update, "x", "target >= 0.8")
