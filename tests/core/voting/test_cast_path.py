"""The cast path's shortcuts keep its guarantees: keys derived once are the keys HKDF derives, a
deposit made as a bare event is the one the aggregate records, the writer's look at the box inside
its own transaction still refuses a ballot logged after another engine began closing, and the
writer's wait for casts still preparing gathers them without holding up a lone or refused cast."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import NotFound, RuleViolation, Unauthorized
from core.instance import InstanceSecrets
from core.voting import VotingKit
from core.voting.box import BallotBox, BallotDeposit
from core.voting.committer import PendingDeposit, committer
from tests.core.voting.support import make_engine, open_voting

P = "pb-cast-path"


open_process = partial(open_voting, process_id=P)


@pytest.fixture
def kit(db_url, tmp_path, manual_clock):
    engine = make_engine(db_url, tmp_path)
    yield VotingKit(engine)
    engine.close()


def test_keys_derived_once_are_the_keys_hkdf_derives(tmp_path):
    secrets = InstanceSecrets(tmp_path / "secrets")
    first = secrets.key("voting/credential/p1")
    master = (tmp_path / "secrets").read_bytes()

    def hkdf(purpose: str, length: int = 32) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=f"civic/{purpose}".encode()).derive(master)

    assert first == hkdf("voting/credential/p1") == secrets.key("voting/credential/p1")
    assert secrets.key("voting/credential/p2") == hkdf("voting/credential/p2") != first
    assert secrets.key("voting/credential/p1", 16) == hkdf("voting/credential/p1", 16)
    assert InstanceSecrets(tmp_path / "secrets").key("voting/credential/p1") == first  # stable across restarts


def test_a_deposit_made_as_an_event_is_the_one_the_aggregate_records(kit):
    made = BallotDeposit.deposited("slot-1", P, "blob")
    recorded = BallotDeposit(deposit_key="slot-1", process_id=P, blob="blob").collect_events()[0]
    assert type(made) is type(recorded)
    mapper = kit.engine.store.mapper
    stored, expected = mapper.to_stored_event(made), mapper.to_stored_event(recorded)
    assert (stored.originator_id, stored.originator_version, stored.topic) == \
           (expected.originator_id, expected.originator_version, expected.topic)
    assert kit.engine.decode_payload(stored) == kit.engine.decode_payload(expected)  # same clock time
    # and it reads back as that aggregate
    kit.engine.recorder.insert_events([stored])
    deposit = kit.engine.get(made.originator_id, BallotDeposit)
    assert (deposit.deposit_key, deposit.process_id, deposit.blob) == ("slot-1", P, "blob")


def test_a_ballot_logged_after_another_engine_began_closing_is_refused(kit, db_url, tmp_path):
    """The caster's engine still believes the box open (its look is fresh enough): the look
    inside the writing transaction sees the box changed, and the ballot is refused, not lost."""
    credentials = open_process(kit, ["a", "b"])
    kit.cast(P, credentials["a"], "early")  # this engine has now seen the box open
    other = make_engine(db_url, tmp_path)  # another process on the same store
    try:
        box = other.get(BallotBox.create_id(P), BallotBox)
        box.begin_closing()
        other.save(box)
    finally:
        other.close()
    with pytest.raises(RuleViolation, match="not counted"):
        kit.cast(P, credentials["b"], "late")
    kit.close(P)
    assert kit.tally_input(P) == [("", "early")]
    assert kit.audit(P).ok


def test_while_the_box_is_unchanged_no_read_follows_the_commit(kit, monkeypatch):
    credentials = open_process(kit, ["a", "b", "c"])
    kit.cast(P, credentials["a"], "first")
    reads = []
    real = kit.engine.recorder.select_events
    monkeypatch.setattr(kit.engine.recorder, "select_events", lambda *a, **kw: reads.append(a) or real(*a, **kw))
    kit.cast(P, credentials["b"], "second")
    kit.cast(P, credentials["c"], "third")
    assert reads == []  # the box was looked at inside the transactions that wrote the deposits
    kit.close(P)
    assert sorted(c for _, c in kit.tally_input(P)) == ["first", "second", "third"]


def test_the_writer_waits_for_a_cast_still_preparing(kit, monkeypatch):
    # long enough that a loaded machine cannot make the second cast miss the wait; the writer
    # stops waiting as soon as it is handed over
    monkeypatch.setattr("core.voting.committer.GATHER_SECONDS", 5.0)
    open_process(kit, ["a"])
    deposits = committer(kit.engine)
    sizes = []
    real = deposits._save
    monkeypatch.setattr(deposits, "_save", lambda items: sizes.append(len(items)) or real(items))
    first = PendingDeposit(process_id=P, deposit_key="first", blob="x", single_slot=False)
    second = PendingDeposit(process_id=P, deposit_key="second", blob="x", single_slot=False)
    deposits.announce()  # a second cast is preparing while the first is handed over
    joined = threading.Timer(0.002, lambda: deposits.commit(second, announced=True))
    joined.start()
    deposits.commit(first)
    joined.join()
    assert sizes == [2] and first.position and second.position
    assert deposits._preparing == 0


def test_a_lone_cast_and_a_refused_cast_hold_up_no_writer(kit, monkeypatch):
    monkeypatch.setattr("core.voting.committer.GATHER_SECONDS", 5.0)  # a wait would show
    credentials = open_process(kit, ["a"])
    deposits = committer(kit.engine)
    with pytest.raises(Unauthorized):
        kit.cast(P, "not-a-credential", "x")
    with pytest.raises(NotFound):
        kit.cast("no-such-process", credentials["a"], "x")
    assert deposits._preparing == 0
    started = time.monotonic()
    kit.cast(P, credentials["a"], "alone")
    assert time.monotonic() - started < 2.0
    kit.close(P)
    assert kit.tally_input(P) == [("", "alone")]


def test_many_casts_at_once_each_counted_once_in_few_transactions(kit, monkeypatch):
    voters = [f"v{i}" for i in range(40)]
    credentials = open_process(kit, voters, allow_revote=False)
    deposits = committer(kit.engine)
    sizes = []
    real = deposits._save
    monkeypatch.setattr(deposits, "_save", lambda items: sizes.append(len(items)) or real(items))
    start = threading.Barrier(len(voters) * 2)
    outcomes: dict[str, list[str]] = {v: [] for v in voters}

    def vote(voter: str, attempt: int) -> None:
        start.wait()
        try:
            kit.cast(P, credentials[voter], f"{voter}/{attempt}")
            outcomes[voter].append("ok")
        except RuleViolation:
            outcomes[voter].append("refused")

    threads = [threading.Thread(target=vote, args=(v, n)) for v in voters for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(sorted(o) == ["ok", "refused"] for o in outcomes.values())  # no revote: one each
    assert max(sizes) > 1  # casts shared transactions
    kit.close(P)
    counted = sorted(c.split("/")[0] for _, c in kit.tally_input(P))
    assert counted == sorted(voters)
    assert kit.audit(P).ok
