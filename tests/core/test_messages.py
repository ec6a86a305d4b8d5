"""The message outbox: recorded in the events' transaction, delivered once, retried with growing
pauses, nothing readable left behind, erased with the person."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from eventsourcing.persistence import RecordConflictError

from core.actors import local_operator
from core.engine import Engine
from core.messages import FIRST_RETRY_SECONDS, Dispatched, MessageOutbox, retry_delay
from core.notify import Message
from core.plugins import make_plugin_manager
from tests.support import petition
from tests.support.gateways import FakeGateway
from tests.support.petition import Petition


def open_engine(db: str, tmp_path: Path, *extra, outbox: str | Path | None = None) -> Engine:
    return Engine(db, plugins=make_plugin_manager(extra=[petition, *extra]),
                  outbox=outbox or tmp_path / "outbox.jsonl")


def text(key: str, subject: str | None = "person-1", to: str = "010-5555-0101", body: str = "code 918273") -> Message:
    return Message(key=key, channel="sms", to=to, text=body, plugin="test", subject=subject)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def eng(db_url, manual_clock, tmp_path, gateway):
    engine = open_engine(db_url, tmp_path, gateway)
    yield engine
    engine.close()


def test_a_message_saved_with_its_event_is_delivered_once_after_the_commit(eng, gateway):
    p = Petition("Trees on Toegye-ro")
    eng.save(p, text("m1"))
    assert gateway.delivered == {"m1": 1} and gateway.texts["m1"] == ("010-5555-0101", "code 918273")
    assert eng.messages.status("m1")["status"] == "delivered"
    eng.save(p, text("m1"))  # the same key again: recorded already, never sent twice
    eng.tick()
    assert gateway.delivered == {"m1": 1}


def test_no_message_without_its_event(eng, gateway):
    p = Petition("Benches")
    eng.save(p)
    first, second = eng.get(p.id), eng.get(p.id)
    first.sign("Kim")
    eng.save(first)
    second.sign("Lee")
    with pytest.raises(RecordConflictError):  # another writer won: nothing of this change is saved
        eng.save(second, text("lost-race"))

    def refused():
        raise ValueError("refused before saving")

    with pytest.raises(ValueError):
        eng.transact(lambda: ([eng.get(p.id), text("refused")], refused()))
    assert eng.messages.counts() == {"pending": 0, "delivered": 0}
    assert gateway.attempts == []


def test_transact_records_the_messages_its_change_returns(eng, gateway):
    p = Petition("Lights")
    eng.save(p)

    def sign():
        fresh = eng.get(p.id)
        fresh.sign("Park")
        return [fresh, text("thanks-park", subject="park")], "signed"

    assert eng.transact(sign) == "signed"
    assert gateway.delivered == {"thanks-park": 1}


def test_a_crash_between_commit_and_delivery_loses_nothing(db_url, manual_clock, tmp_path, gateway, monkeypatch):
    first = open_engine(db_url, tmp_path, gateway)
    # the process dies right after the commit: no dispatch runs
    with monkeypatch.context() as patched:
        patched.setattr(MessageOutbox, "dispatch", lambda self, keys=None, **kw: Dispatched())
        first.save(Petition("Crosswalk"), text("after-crash"))
        first.close()
    assert gateway.attempts == []

    restarted = open_engine(db_url, tmp_path, gateway)
    assert "messages: 1 delivered" in restarted.tick()
    restarted.tick()
    assert gateway.delivered == {"after-crash": 1}
    restarted.close()


def test_a_failed_delivery_is_tried_again_after_growing_pauses(eng, gateway, manual_clock):
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(50) == 3600
    gateway.down = True
    assert eng.send_notification(text("slow")) == "pending:slow"
    status = eng.messages.status("slow")
    assert status["attempts"] == 1 and status["last_error"] == "GatewayDown"
    manual_clock.advance(seconds=FIRST_RETRY_SECONDS - 1)
    eng.tick()
    assert gateway.attempts == ["slow"]  # not due yet
    manual_clock.advance(seconds=1)
    assert "messages: 1 not delivered, to be tried again" in eng.tick()
    assert eng.messages.status("slow")["attempts"] == 2
    gateway.down = False
    manual_clock.advance(seconds=retry_delay(2))
    assert "messages: 1 delivered" in eng.tick()
    assert gateway.delivered == {"slow": 1} and len(gateway.attempts) == 3


def test_a_message_to_nobody_in_particular_is_sealed_under_an_instance_key(eng, gateway):
    gateway.down = True
    eng.send_notification(text("staff-notice", subject=None, body="the nightly export is ready"))
    gateway.down = False
    eng.messages.dispatch(["staff-notice"])
    assert eng.messages.status("staff-notice")["status"] == "pending"  # waits for its pause
    eng.clock.advance(seconds=FIRST_RETRY_SECONDS)
    eng.tick()
    assert gateway.texts["staff-notice"] == ("010-5555-0101", "the nightly export is ready")


def store_bytes(db: str) -> bytes:
    return b"".join(p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*") if p.is_file()
                    and not p.name.endswith((".jsonl", ".keys.db")))


def test_nothing_readable_stays_in_the_database(sqlite_engine, gateway, tmp_path):
    engine = open_engine(sqlite_engine.db, tmp_path, gateway)
    phone, code = "010-5555-0199", "472910"
    gateway.down = True
    engine.send_notification(text("secret", to=phone, body=f"Your voting code: {code}"))
    pending = store_bytes(engine.db)
    assert code.encode() not in pending and phone.encode() not in pending  # sealed while pending
    gateway.down = False
    engine.clock.advance(seconds=FIRST_RETRY_SECONDS)
    engine.tick()
    assert gateway.delivered == {"secret": 1}
    with engine.side.transaction(commit=False) as cur:
        row = cur.execute("SELECT sealed, status FROM civic_messages WHERE key = ?", ("secret",)).fetchone()
    assert row == {"sealed": None, "status": "delivered"}  # delivered: only the key is left
    engine.close()


def test_forget_erases_a_persons_pending_and_delivered_messages(eng, gateway, tmp_path):
    eng.pm.unregister(gateway)  # the outbox file takes the first ones, as in development
    eng.send_notification(text("a-1", subject="a", to="010-1000-0001"))
    eng.send_notification(text("b-1", subject="b", to="010-2000-0002"))
    eng.pm.register(gateway)
    gateway.down = True
    eng.send_notification(text("a-2", subject="a", to="010-1000-0001"))
    assert eng.messages.counts() == {"pending": 1, "delivered": 2}

    eng.privacy.forget("a", actor=local_operator())
    assert [m["key"] for m in eng.outbox.sent()] == ["b-1"]
    assert b"010-1000-0001" not in eng.outbox.path.read_bytes()
    assert eng.messages.status("a-1") is None and eng.messages.status("a-2") is None
    assert eng.messages.counts() == {"pending": 0, "delivered": 1}
    gateway.down = False
    eng.clock.advance(hours=2)
    eng.tick()
    assert gateway.delivered == {}  # the pending one is gone, not delivered later
    assert eng.send_notification(text("a-3", subject="a")).startswith("not sent")


def test_with_the_outbox_file_off_an_untaken_message_waits(db_url, manual_clock, tmp_path):
    engine = open_engine(db_url, tmp_path, outbox="off")
    assert engine.send_notification(text("nobody-takes-it")) == "pending:nobody-takes-it"
    assert engine.messages.status("nobody-takes-it")["last_error"] == "no notifier takes sms messages"
    assert not engine.outbox.path.exists()
    engine.close()


def test_two_dispatchers_never_send_one_message_twice(db_url, manual_clock, tmp_path):
    gateway = FakeGateway(pause=0.002)
    engines = [open_engine(db_url, tmp_path, gateway) for _ in range(2)]
    keys = [f"many-{n}" for n in range(60)]
    engines[0].messages.record([text(k, subject=f"p{n % 5}") for n, k in enumerate(keys)])
    start = threading.Barrier(len(engines))

    def run(engine):
        start.wait()
        engine.messages.dispatch(limit=7)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(gateway.delivered) == sorted(keys) and set(gateway.delivered.values()) == {1}
    for engine in engines:
        engine.close()


def test_a_message_that_cannot_be_opened_waits_with_a_reason_and_others_go_on(eng, gateway):
    gateway.down = True
    eng.send_notification(text("lost-key", subject="lost"))
    eng.send_notification(text("fine", subject="fine"))
    with eng.privacy.keys._lock:  # the key store lost one person's key (a wrong backup restored)
        eng.privacy.keys._conn.execute("DELETE FROM subject_keys WHERE subject = 'lost'")
    gateway.down = False
    eng.clock.advance(seconds=FIRST_RETRY_SECONDS)
    eng.tick()
    assert gateway.delivered == {"fine": 1}
    assert eng.messages.status("lost-key")["last_error"] == "cannot be opened: PersonalDataUnavailable"


def test_the_outbox_is_written_even_when_the_environment_asks_for_database_functions(
        db_url, manual_clock, tmp_path, gateway, monkeypatch):
    # eventsourcing's PostgreSQL database-function path would skip the hook that writes messages
    monkeypatch.setenv("POSTGRES_ENABLE_DB_FUNCTIONS", "yes")
    engine = open_engine(db_url, tmp_path, gateway)
    gateway.down = True
    engine.save(Petition("Bus stop"), text("with-functions"))
    assert engine.messages.status("with-functions")["status"] == "pending"
    engine.close()


def test_the_development_file_is_off_unless_asked_for(db_url, manual_clock, tmp_path, monkeypatch):
    monkeypatch.delenv("CIVIC_OUTBOX", raising=False)
    plain = Engine(db_url, plugins=make_plugin_manager(extra=[petition]))
    try:
        assert not plain.outbox_file_on
        assert plain.send_notification(text("code-1")) == "pending:code-1"
        assert not plain.outbox.path.exists()  # nothing in clear on disk: it waits, sealed
        sealed = stored_row(plain, "code-1")["sealed"]
        assert "010-5555-0101" not in sealed and "918273" not in sealed
    finally:
        plain.close()
    monkeypatch.setenv("CIVIC_OUTBOX", "on")  # a developer asks for it: <db>.outbox.jsonl
    asked = Engine(db_url, plugins=make_plugin_manager(extra=[petition]))
    try:
        assert asked.outbox_file_on and asked.outbox.path == Path(asked.store.sibling("outbox.jsonl"))
        asked.clock.advance(seconds=FIRST_RETRY_SECONDS)
        asked.tick()  # the waiting message goes out through the channel now there
        assert [(m["key"], m["to"]) for m in asked.outbox.sent()] == [("code-1", "010-5555-0101")]
        assert stored_row(asked, "code-1")["sealed"] is None
    finally:
        asked.close()


def stored_row(engine: Engine, key: str) -> dict:
    with engine.side.transaction(commit=False) as cur:
        return cur.execute("SELECT * FROM civic_messages WHERE key = ?", (key,)).fetchone()
