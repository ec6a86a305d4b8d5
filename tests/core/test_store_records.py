"""The log's public records are read from plain rows, not through eventsourcing's notifications:
they must say exactly what the notifications say, on every store, encrypted at rest or not."""

from __future__ import annotations

import json
import uuid

import pytest

from core.records import LogRecord
from core.store import EventStore
from core.voting.box import BallotBox, BallotDeposit


def _fill(store: EventStore) -> tuple[list[str], str]:
    """Deposits (Korean in their state), with a box's two events among them."""
    deposits = [BallotDeposit.deposited(f"key-{n}", "a-process", f"blob-{n} 한글") for n in range(23)]
    box = BallotBox("a-process", public_key="pk", suite="hpke", seed_commitment="s", allow_revote=False,
                    batch_size=5)
    box.open()
    events = [store.mapper.to_stored_event(d) for d in deposits]
    events[7:7] = [store.mapper.to_stored_event(e) for e in box.collect_events()]
    for start in range(0, len(events), 4):  # several saves: the log is written over time
        store.recorder.insert_events(events[start:start + 4])
    topic = events[0].topic
    return [d.deposit_key for d in deposits], topic


def _reference(store: EventStore, start: int = 1, stop: int | None = None, topics: tuple[str, ...] = ()) -> list[LogRecord]:
    """The records as eventsourcing's own notifications give them: the id through ``UUID``, the
    state through the mapper's cipher and ``json.loads``."""
    out = []
    for n in store.recorder.select_notifications(start, 10_000, stop=stop, topics=topics):
        state = store.mapper.cipher.decrypt(n.state) if store.mapper.cipher else n.state
        out.append(LogRecord(position=n.id, originator_id=str(uuid.UUID(str(n.originator_id))),
                             originator_version=n.originator_version, topic=n.topic, payload=json.loads(state)))
    return out


@pytest.fixture(params=["plain", "encrypted at rest"])
def store(request, db_url, manual_clock):
    from eventsourcing.cryptography import AESCipher

    key = AESCipher.create_key(16) if request.param == "encrypted at rest" else None
    store = EventStore(db_url, cipher_key=key)
    yield store
    store.close()


def test_records_read_as_rows_say_what_the_notifications_say(store, monkeypatch):
    monkeypatch.setattr("core.store.READ_BATCH", 5)  # the reading goes on across several reads
    keys, deposit_topic = _fill(store)
    records = list(store.records())
    assert records == _reference(store)
    assert [r.payload["deposit_key"] for r in records if r.topic == deposit_topic] == keys
    assert all(r.originator_id == str(uuid.UUID(r.originator_id)) for r in records)  # the usual text form
    middle = records[3].position, records[-4].position
    assert list(store.records(middle[0], middle[1])) == _reference(store, *middle)
    assert list(store.records(topics=[deposit_topic])) == _reference(store, topics=(deposit_topic,))
    assert list(store.records(middle[0], topics=[BallotDeposit.Deposited])) == _reference(
        store, middle[0], topics=(deposit_topic,))
    assert list(store.records(store.position + 1)) == []


def test_a_record_is_the_record_of_its_notification(store):
    _fill(store)
    by_notification = [store.record_of(n) for n in store.notifications()]
    assert list(store.records()) == by_notification
