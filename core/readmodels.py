"""Read models: projections that follow the notification log.

A read model folds events into plain JSON state. Its state and the position it has reached are
kept in the ``civic_read_models`` table, so it survives restarts and only reads what is new.
Everything in that table is derived: ``civic rebuild`` drops it and folds the whole log again,
which gives byte-identical state (states are stored as canonical JSON).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.utils import get_topic

if TYPE_CHECKING:
    from core.store import EventStore

TABLE = "civic_read_models"
# Persisting a large state on every read would dominate; the position persisted with the state
# is all a restart needs, so saving at most this often loses nothing.
PERSIST_INTERVAL_S = 2.0


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ReadModel:
    """Subclass, set ``name``, and implement ``apply``. ``event_types`` (aggregate event
    classes) restricts the events read, which makes following the log cheaper. Bump
    ``version`` when ``apply`` changes meaning: stored state of another version is rebuilt.

    With ``from_records = True``, ``apply`` receives public log records (``LogRecord``), the
    very records an auditor reads from an export, instead of domain events: a read model can
    then share its plugin's pure fold with the plugin's audit re-tally."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    event_types: ClassVar[Sequence[type]] = ()
    from_records: ClassVar[bool] = False

    def __init__(self) -> None:
        self.state: Any = self.empty()
        self.position = 0

    def empty(self) -> Any:
        return {}

    def apply(self, event: Any, position: int) -> None:
        raise NotImplementedError

    @classmethod
    def topics(cls) -> tuple[str, ...]:
        return tuple(get_topic(t) for t in cls.event_types)


class ReadModelHost:
    def __init__(self, store: EventStore, model_classes: Sequence[type[ReadModel]]) -> None:
        self.store = store
        names = [m.name for m in model_classes]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"read model names must be unique: {sorted(duplicates)}")
        self.classes = {m.name: m for m in model_classes}
        self._models: dict[str, ReadModel] = {}
        self._locks = {name: threading.Lock() for name in self.classes}
        self._saved_at: dict[str, float] = {}
        self._saved_position: dict[str, int] = {}
        self._table_ready = False

    # -- storage -------------------------------------------------------------------------
    def _ensure_table(self) -> None:
        if self._table_ready:
            return
        self.store.side.create_tables(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, version INTEGER NOT"
            " NULL, position BIGINT NOT NULL, state TEXT NOT NULL)"
        )
        self._table_ready = True

    def _load(self, name: str) -> ReadModel:
        self._ensure_table()
        model = self.classes[name]()
        with self.store.side.transaction(commit=False) as cur:
            row = cur.execute(
                f"SELECT version, position, state FROM {TABLE} WHERE name = ?", (name,)
            ).fetchone()
        if row is not None and row["version"] == model.version:
            model.state = json.loads(row["state"])
            model.position = int(row["position"])
        self._saved_position[name] = model.position
        self._saved_at[name] = time.monotonic()
        return model

    def _save(self, model: ReadModel) -> None:
        self._ensure_table()
        sql = self.store.side.upsert_sql(TABLE, "name", ["version", "position", "state"])
        with self.store.side.transaction() as cur:
            cur.execute(sql, (model.name, model.version, model.position, canonical_json(model.state)))
        self._saved_position[model.name] = model.position
        self._saved_at[model.name] = time.monotonic()

    def stored_state(self, name: str) -> str | None:
        """The state as persisted (canonical JSON), for comparison and export."""
        self._ensure_table()
        with self.store.side.transaction(commit=False) as cur:
            row = cur.execute(f"SELECT state FROM {TABLE} WHERE name = ?", (name,)).fetchone()
        return None if row is None else row["state"]

    # -- following the log ---------------------------------------------------------------
    def _catch_up(self, model: ReadModel) -> int:
        applied = 0
        if model.from_records:
            for record in self.store.records(model.position + 1, topics=model.topics()):
                model.apply(record, record.position)
                model.position = record.position
                applied += 1
            return applied
        for position, event in self.store.log_events(model.position + 1, topics=model.topics()):
            model.apply(event, position)
            model.position = position
            applied += 1
        return applied

    def get(self, name: str) -> ReadModel:
        """The read model, caught up with the log. Raises KeyError for an unknown name."""
        if name not in self.classes:
            raise KeyError(f"no read model named {name!r}; known: {sorted(self.classes)}")
        with self._locks[name]:
            model = self._models.get(name)
            if model is None:
                model = self._models[name] = self._load(name)
            self._catch_up(model)
            due = time.monotonic() - self._saved_at.get(name, 0.0) >= PERSIST_INTERVAL_S
            if model.position != self._saved_position.get(name) and due:
                self._save(model)
            return model

    def catch_up_all(self) -> None:
        for name in self.classes:
            self.get(name)

    def flush(self) -> None:
        """Persist every loaded model that is ahead of what was stored."""
        for name, model in list(self._models.items()):
            with self._locks[name]:
                if model.position != self._saved_position.get(name):
                    self._save(model)

    def rebuild(self, names: Sequence[str] | None = None, progress: Callable[[str], None] | None = None) -> dict[str, str]:
        """Drop and refold read models from position 1; return their canonical states."""
        self._ensure_table()
        names = list(names) if names else list(self.classes)
        unknown = [n for n in names if n not in self.classes]
        if unknown:
            raise KeyError(f"no read model named {unknown[0]!r}; known: {sorted(self.classes)}")
        result: dict[str, str] = {}
        for name in names:
            with self._locks[name]:
                with self.store.side.transaction() as cur:
                    cur.execute(f"DELETE FROM {TABLE} WHERE name = ?", (name,))
                model = self.classes[name]()
                self._catch_up(model)
                self._save(model)
                self._models[name] = model
                result[name] = canonical_json(model.state)
            if progress:
                progress(name)
        return result
