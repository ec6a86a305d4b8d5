from __future__ import annotations

import threading
from datetime import datetime, timezone
from uuid import uuid4

import pytest

from core.engine import Engine, store_env
from core.errors import InvalidInput, NotFound, RuleViolation
from core.plugins import make_plugin_manager
from tests.support import petition
from tests.support.petition import Petition


@pytest.fixture
def pet_engine(db_url, manual_clock, tmp_path):
    eng = Engine(db_url, plugins=make_plugin_manager(extra=[petition]), outbox=tmp_path / "o.jsonl")
    yield eng
    eng.close()


def test_store_env_for_sqlite_and_postgres(tmp_path):
    env = store_env(str(tmp_path / "x.db"))
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"].endswith("x.db")
    env = store_env("postgresql://u:p%40ss@db.example:6543/civic")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_USER"], env["POSTGRES_PASSWORD"],
            env["POSTGRES_DBNAME"]) == ("db.example", "6543", "u", "p@ss", "civic")
    env = store_env("postgresql://postgres@/t1?host=/tmp/sock&port=5999")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("/tmp/sock", "5999")
    assert "CIPHER_TOPIC" not in env
    assert store_env(":memory:", cipher_key="k")["CIPHER_TOPIC"] == "eventsourcing.cryptography:AESCipher"


def test_commands_save_events_in_one_total_order(pet_engine, manual_clock):
    p = pet_engine.create(Petition("More benches on Jeong-dong road"))
    manual_clock.advance(minutes=5)
    pet_engine.update(p.id, lambda x: x.sign("kim"), cls=Petition)
    pet_engine.update(p.id, lambda x: x.sign("lee"), cls=Petition)
    assert pet_engine.position == 3
    records = list(pet_engine.records())
    assert [r.position for r in records] == [1, 2, 3]
    assert [r.event_name for r in records] == ["Petition.Opened", "Petition.Signed", "Petition.Signed"]
    assert records[1].payload["who"] == "kim"
    # timestamps come from the injected clock, not the wall clock
    stamp = datetime.fromisoformat(records[1].timestamp)
    assert stamp == datetime(2016, 3, 2, 0, 5, tzinfo=timezone.utc)
    assert pet_engine.get(p.id, Petition).signers == ["kim", "lee"]


def test_a_refused_command_changes_nothing(pet_engine):
    p = pet_engine.create(Petition("Crosswalk"))
    pet_engine.update(p.id, lambda x: x.sign("kim"), cls=Petition)
    before = pet_engine.position
    with pytest.raises(RuleViolation):
        pet_engine.update(p.id, lambda x: x.sign("kim"), cls=Petition)
    with pytest.raises(InvalidInput):
        pet_engine.update(p.id, lambda x: x.sign("  "), cls=Petition)
    assert pet_engine.position == before
    assert pet_engine.get(p.id, Petition).signers == ["kim"]


def test_unknown_or_wrong_kind_is_not_found(pet_engine):
    with pytest.raises(NotFound):
        pet_engine.get(uuid4(), Petition)
    p = pet_engine.create(Petition("x"))
    with pytest.raises(NotFound):
        pet_engine.get(p.id, Engine)  # exists, but is not of that kind
    dup = Petition._create(Petition.Opened, id=p.id, title="y")  # the same identity twice
    with pytest.raises(RuleViolation):
        pet_engine.create(dup)
    assert pet_engine.get(p.id, Petition).title == "x"


def test_concurrent_commands_on_one_aggregate_all_land(pet_engine):
    p = pet_engine.create(Petition("Street lights"))
    errors: list[BaseException] = []

    def sign_many(prefix: str) -> None:
        try:
            for i in range(15):
                pet_engine.update(p.id, lambda x, i=i: x.sign(f"{prefix}{i}"), cls=Petition)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign_many, args=(name,)) for name in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(pet_engine.get(p.id, Petition).signers) == 45
    positions = [r.position for r in pet_engine.records()]
    # PostgreSQL may leave gaps where a losing insert rolled back; order is still total
    assert len(positions) == 46 and positions == sorted(set(positions))


def test_encryption_at_rest(tmp_path, manual_clock):
    from eventsourcing.cryptography import AESCipher

    key = AESCipher.create_key(16)
    db = str(tmp_path / "enc.db")
    eng = Engine(db, plugins=make_plugin_manager(extra=[petition]), cipher_key=key, outbox=tmp_path / "o")
    p = eng.create(Petition("Secret garden on Sindang-dong"))
    eng.update(p.id, lambda x: x.sign("Hong Gildong"), cls=Petition)
    assert [r.payload.get("who") for r in eng.records()] == [None, "Hong Gildong"]
    eng.close()
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("enc.db*"))
    assert b"Hong Gildong" not in raw and b"Secret garden" not in raw
    reopened = Engine(db, plugins=make_plugin_manager(extra=[petition]), cipher_key=key, outbox=tmp_path / "o")
    assert reopened.get(p.id, Petition).signers == ["Hong Gildong"]
    reopened.close()


def test_notifications_go_to_the_outbox_once(pet_engine):
    from core.notify import Message

    msg = Message(key="k1", channel="sms", to="010-0000-0000", text="done", plugin="test")
    assert pet_engine.send_notification(msg) == "outbox:k1"
    pet_engine.send_notification(msg)
    assert [m["key"] for m in pet_engine.outbox.sent()] == ["k1"]


def test_a_plugin_notifier_wins_over_the_outbox(db_url, manual_clock, tmp_path):
    from core.hookspecs import hookimpl
    from core.notify import Message

    class SmsGateway:
        sent: list[str] = []

        @hookimpl
        def civic_send_notification(self, notification):
            self.sent.append(notification.to)
            return "sms-42"

    gateway = SmsGateway()
    eng = Engine(db_url, plugins=make_plugin_manager(extra=[gateway]), outbox=tmp_path / "o.jsonl")
    try:
        ref = eng.send_notification(Message(key="k", channel="sms", to="010", text="t", plugin="x"))
        assert ref == "sms-42" and gateway.sent == ["010"]
        assert eng.outbox.sent() == []
    finally:
        eng.close()


def test_the_outbox_file_is_readable_by_its_owner_only(pet_engine):
    from core.notify import Message

    pet_engine.send_notification(Message(key="k2", channel="sms", to="010", text="code 123", plugin="t"))
    assert pet_engine.outbox.path.stat().st_mode & 0o777 == 0o600
