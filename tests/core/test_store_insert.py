"""Saving several events at once: each event gets its own log position in the order given (on
SQLite across statement chunks, on PostgreSQL in one message), a conflict anywhere saves nothing,
and values stay values."""

from __future__ import annotations

from uuid import uuid4

import pytest

from core.store import EventStore, StoreConflict
from core.voting.box import BallotDeposit


@pytest.fixture
def store(tmp_path, manual_clock):
    store = EventStore(str(tmp_path / "civic.db"))
    yield store
    store.close()


def deposits(store: EventStore, keys):
    return [store.mapper.to_stored_event(BallotDeposit.deposited(k, "p", f"blob-{k}")) for k in keys]


def test_many_events_in_one_save_get_positions_in_the_order_given(store, monkeypatch):
    monkeypatch.setattr("core.message_table.EVENTS_PER_INSERT", 3)  # several statements, one transaction
    store.recorder.insert_events(deposits(store, ["first"]))
    keys = [f"k{n}" for n in range(8)]
    positions = store.recorder.insert_events(deposits(store, keys))
    assert positions == list(range(2, 10))
    logged = [store.decode_payload(n)["deposit_key"] for n in store.notifications(2)]
    assert logged == keys  # the log holds them in that order, at those positions
    assert [n.id for n in store.notifications(2)] == positions


def test_a_conflict_in_a_many_event_save_saves_none_of_them(store, monkeypatch):
    monkeypatch.setattr("core.message_table.EVENTS_PER_INSERT", 2)
    store.recorder.insert_events(deposits(store, ["taken"]))
    before = store.position
    with pytest.raises(StoreConflict):
        store.recorder.insert_events(deposits(store, ["a", "b", "c", "taken", "d"]))
    assert store.position == before
    assert not store.exists(BallotDeposit.create_id("a"))


def test_a_roll_of_thousands_is_saved_in_one_transaction_on_every_store(engine):
    """A save of several megabytes (3,000 roll entries, each with a sealed contact) once hung for
    ever on PostgreSQL in pipeline mode; it must finish, and every entry must be there."""
    import threading

    from core.voting import VotingKit

    kit = VotingKit(engine)
    kit.create("big roll", allow_revote=True, batch_size=50)
    rows = "\n".join(f"h{i},010{i:08d},{i % 20}" for i in range(3000))
    outcome: dict[str, object] = {}

    def import_roll() -> None:
        try:
            outcome["result"] = kit.import_roll("big roll", "entry_id,contact,group\n" + rows)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    worker = threading.Thread(target=import_roll, daemon=True)
    worker.start()
    worker.join(180)
    assert not worker.is_alive(), "the save of a large roll did not finish"
    assert "error" not in outcome, outcome.get("error")
    assert len(kit.roll("big roll").entries) == 3000


def test_a_refused_save_saves_nothing_and_the_store_goes_on_on_every_store(engine):
    """On PostgreSQL a save goes to the server as one message (lock, inserts, COMMIT): a
    refusal there aborts all of it, and the connection it used, back in the pool, still works.
    More refusals than the pool has connections, then saves that must all land, in order."""
    recorder, store = engine.recorder, engine.store
    recorder.insert_events(deposits(store, ["taken"]))
    before = engine.position
    for n in range(12):
        with pytest.raises(StoreConflict):
            recorder.insert_events(deposits(store, [f"refused-{n}", "taken", f"after-{n}"]))
    assert engine.position == before
    assert not any(store.exists(BallotDeposit.create_id(f"{kind}-{n}")) for kind in ("refused", "after")
                   for n in range(12))
    saved = [recorder.insert_events(deposits(store, [f"k{n}a", f"k{n}b"])) for n in range(12)]
    positions = [p for pair in saved for p in pair]
    assert positions == sorted(positions) and len(set(positions)) == 24
    logged = [(n.id, store.decode_payload(n)["deposit_key"]) for n in engine.notifications(before + 1)]
    assert logged == list(zip(positions, [f"k{n}{x}" for n in range(12) for x in "ab"], strict=True))


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # the table lock is PostgreSQL's
def test_on_postgresql_a_save_is_written_out_before_the_table_lock_is_taken(engine, monkeypatch):
    """The lock that keeps positions in commit order is held for the server's work only: every
    statement of a save, values included, is composed before any of them is sent (under load,
    composing them a statement at a time held the lock while the writer waited for the GIL)."""
    from psycopg import ClientCursor

    recorder = engine.recorder
    locks_while_composing = []
    compose = ClientCursor.mogrify

    def mogrify_and_look(self, query, params=None):
        with recorder.datastore.get_connection() as other:
            held = other.execute(
                "SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = %s AND l.mode = 'ExclusiveLock'", (recorder.events_table_name,)).fetchone()
        locks_while_composing.append(held["n"])
        return compose(self, query, params)

    monkeypatch.setattr(ClientCursor, "mogrify", mogrify_and_look)
    positions = recorder.insert_events(deposits(engine.store, ["a", "b"]))
    assert locks_while_composing == [0]
    assert [engine.decode_payload(n)["deposit_key"] for n in engine.notifications(positions[0])] == ["a", "b"]


def test_values_with_quotes_percents_and_korean_come_back_as_saved_on_every_store(engine):
    """A PostgreSQL save writes its values into the statement's text: quotes, backslashes,
    ``%`` placeholders and Korean in an event and in an outbox row are values, not syntax."""
    from eventsourcing.persistence import StoredEvent

    from core.message_table import OutboxRow

    state = '{"text": "100% %s %(name)s \' \\\\ 가나다"}'.encode()
    event = StoredEvent(uuid4(), 1, "tests:Odd'%s", state)
    row = OutboxRow(key="k%s'1", plugin="p%", channel="sms", subject="주제 %s 'q'", sealed="s%(z)s", created_at=1.5)
    [position] = engine.recorder.insert_events([event], outbox=[row])
    [stored] = engine.recorder.select_notifications(position, 1)
    assert (stored.topic, stored.state) == (event.topic, state)
    assert engine.messages.status("k%s'1")["plugin"] == "p%"


def test_a_save_reads_the_newest_versions_asked_for_in_its_own_transaction_on_every_store(engine):
    """``newest_versions``: what the ballot writer reads inside the transaction that writes the
    deposits, its own events included (an aggregate with no event reads None)."""
    from eventsourcing.persistence import StoredEvent

    saved, elsewhere, unknown = uuid4(), uuid4(), uuid4()
    engine.recorder.insert_events([StoredEvent(elsewhere, v, "tests:E", b"{}") for v in (1, 2)])
    newest = {elsewhere: None, saved: None, unknown: None}
    positions = engine.recorder.insert_events(
        [StoredEvent(saved, 1, "tests:E", b"{}"), StoredEvent(elsewhere, 3, "tests:E", b"{}")], newest_versions=newest)
    assert newest == {elsewhere: 3, saved: 1, unknown: None}
    assert len(positions) == 2 and positions[0] < positions[1]
