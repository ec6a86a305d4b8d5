"""Casting, revoting, closing, opening, tracking codes and the auditor's recount."""

from __future__ import annotations

import threading
import time

import pytest

from core.errors import InvalidInput, NotFound, RuleViolation, Unauthorized
from core.voting import COUNTED, REPLACED, UNOPENABLE, VotingKit, audit_process
from core.voting.box import BallotBatch
from core.voting.committer import committer
from tests.core.voting.support import make_engine, roll_csv, sign_in

P = "pb-2016-district"


@pytest.fixture
def kit(db_url, manual_clock, tmp_path):
    engine = make_engine(db_url, tmp_path)
    yield VotingKit(engine)
    engine.close()


def open_process(kit: VotingKit, entries, *, allow_revote=True, batch_size=3, process=P):
    kit.create(process, allow_revote=allow_revote, batch_size=batch_size)
    kit.import_roll(process, roll_csv(entries))
    kit.open(process)
    kit.issue_codes(process, "Code {code}")


def approval(content, group):
    """A plugin's validator: a list of distinct project ids, at most two."""
    if not isinstance(content, list) or len(set(content)) != len(content) or len(content) > 2:
        raise InvalidInput("Choose at most two different projects.")
    return sorted(content)


def test_cast_revote_close_open_and_track(kit, manual_clock, monkeypatch):
    # casts try a flush at random (one in batch_size): here only the tick flushes
    monkeypatch.setattr("core.voting.casting._shuffler.randrange", lambda n: 1)
    open_process(kit, [("a", "101"), ("b", "101"), ("c", "102")], batch_size=1)
    ca, cb = sign_in(kit, P, "a"), sign_in(kit, P, "b")
    first = kit.cast(P, ca, ["p2", "p1"], validate=approval)
    manual_clock.advance(minutes=3)
    kit.cast(P, cb.token, ["p3"], validate=approval)
    with pytest.raises(InvalidInput):
        kit.cast(P, ca, ["p1", "p2", "p3"], validate=approval)
    last = kit.cast(P, ca, ["p4"], validate=approval)  # a changes their mind: last vote counts
    with pytest.raises(RuleViolation, match="after voting has closed"):
        kit.opened(P)
    with pytest.raises(NotFound, match="yet"):  # still in the pending pool
        kit.track(P, first.tracking_code)
    # a tick moves all but the newest batch_size deposits into the box: the final batch at
    # close will not be smaller than the others. Tracking shows the ballot, sealed.
    assert kit.open_processes() == [P]
    assert kit.tick() == [f"voting {P}: 2 ballots moved into the box"]
    assert kit.tick() == [] and kit.pending_count(P) == 1
    assert kit.track(P, first.tracking_code).state == "sealed"
    report = kit.close(P)
    assert (report.batches, report.ballots) == (2, 3)
    assert kit.close(P) == report  # closing twice is harmless
    box = kit.opened(P)
    assert sorted(kit.tally_input(P)) == [("101", ["p3"]), ("101", ["p4"])]
    old = kit.track(P, first.tracking_code.upper().replace("-", ""))
    assert (old.state, old.content, old.group) == (REPLACED, ["p1", "p2"], "101")
    new = kit.track(P, last.tracking_code)
    assert (new.state, new.content) == (COUNTED, ["p4"])
    assert new.pseudonym == old.pseudonym == last.pseudonym
    # the position is the log position of the batch event holding the ballot
    records = {r.position: r for r in kit.engine.records()}
    batch_record = records[new.position]
    assert batch_record.event_name == "BallotBatch.Recorded"
    assert batch_record.payload["ballots"][new.index]["pseudonym"] == new.pseudonym
    assert len(box.ballots) == 3
    with pytest.raises(RuleViolation, match="not open"):
        kit.cast(P, cb, ["p1"])
    with pytest.raises(Exception, match="tracking code"):
        kit.track(P, "0000-0000")


def test_without_revote_a_second_ballot_is_refused(kit):
    open_process(kit, [("a", ""), ("b", "")], allow_revote=False, batch_size=0)
    credential = sign_in(kit, P, "a")
    kit.cast(P, credential, {"yes": True})
    before = kit.engine.position
    with pytest.raises(RuleViolation, match="already cast"):
        kit.cast(P, credential, {"yes": False})
    with pytest.raises(InvalidInput, match="plain JSON"):
        kit.cast(P, credential, {"yes": float("nan")})
    with pytest.raises(InvalidInput, match="at most"):
        kit.cast(P, credential, "x" * 70_000)
    assert kit.engine.position == before
    kit.close(P)
    assert kit.tally_input(P) == [("", {"yes": True})]


def test_forged_or_foreign_credentials_are_refused(kit):
    open_process(kit, [("a", "")])
    open_process(kit, [("x", "")], process="other")
    foreign = sign_in(kit, "other", "x")
    for token in ("", "abc", foreign.token, foreign.token[:-2] + "AA"):
        with pytest.raises(Unauthorized):
            kit.cast(P, token, {"yes": True})
    nonce, group, tag = sign_in(kit, P, "a").token.split(".")
    with pytest.raises(Unauthorized):  # the group is authenticated too
        kit.cast(P, f"{nonce}.MTAy.{tag}", {"yes": True})


def test_a_ballot_recorded_after_the_closing_event_is_refused_not_lost(kit):
    open_process(kit, [("a", ""), ("b", "")], batch_size=0)
    ca, cb = sign_in(kit, P, "a"), sign_in(kit, P, "b")
    kit.cast(P, ca, "early")
    deposits = committer(kit.engine)
    real_facts = deposits.facts
    stale = real_facts(P)  # what a slow request read before the box began closing

    box = kit.box(P)
    box.begin_closing()
    kit.engine.save(box)
    answers = [stale]  # the first look at the box is the stale one, later ones are fresh
    deposits.facts = lambda pid, **kw: answers.pop() if answers else real_facts(pid)
    with pytest.raises(RuleViolation, match="not counted"):
        kit.cast(P, cb, "late")
    del deposits.facts
    kit.close(P)
    assert kit.tally_input(P) == [("", "early")]
    audit = kit.audit(P)
    assert audit.ok, audit.problems
    assert (audit.deposits, audit.batched) == (1, 1)


def test_concurrent_casts_while_closing_lose_no_acknowledged_ballot(kit):
    voters = [f"v{i}" for i in range(8)]
    open_process(kit, [(v, "") for v in voters], batch_size=4)
    credentials = {v: sign_in(kit, P, v) for v in voters}
    acknowledged: dict[str, str] = {}
    refused: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(voters) + 1)

    def vote(voter: str) -> None:
        start.wait()
        for n in range(6):
            content = f"{voter}:{n}"
            try:
                receipt = kit.cast(P, credentials[voter], content)
            except RuleViolation:
                with lock:
                    refused.append(content)
                continue
            with lock:
                acknowledged[content] = receipt.tracking_code

    threads = [threading.Thread(target=vote, args=(v,)) for v in voters]
    for t in threads:
        t.start()
    start.wait()
    kit.close(P)
    for t in threads:
        t.join()
    box = kit.opened(P)
    in_box = {b.tracking_code: b for b in box.ballots}
    assert all(code in in_box for code in acknowledged.values())  # nothing acknowledged is lost
    assert not any(b.content in refused for b in box.ballots)
    assert len(box.ballots) == len(acknowledged)
    # the counted ballot of each voter is their last acknowledged one
    last = {}
    for content in acknowledged:
        voter, n = content.split(":")
        last[voter] = max(last.get(voter, -1), int(n))
    assert sorted(c for _, c in box.tally_input()) == sorted(f"{v}:{n}" for v, n in last.items())
    assert kit.audit(P).ok


def test_the_auditor_recounts_from_the_log_alone(kit):
    open_process(kit, [("a", "1"), ("b", "1"), ("c", "2"), ("d", "2")], batch_size=2)
    for voter, content in [("a", 1), ("b", 2), ("c", 3)]:
        kit.cast(P, sign_in(kit, P, voter), content)
    kit.close(P)
    records = list(kit.engine.records())
    audit = audit_process(records, P)
    assert audit.ok, audit.problems
    assert (audit.credentials_issued, audit.deposits, audit.batched) == (3, 3, 3)
    assert sorted(audit.opened.tally_input()) == sorted(kit.tally_input(P)) == [("1", 1), ("1", 2), ("2", 3)]
    # tampering is found: a sealed ballot moved to another pseudonym no longer opens
    batch = next(r for r in records if r.event_name == "BallotBatch.Recorded" and len(r.payload["ballots"]) > 1)
    ballots = batch.payload["ballots"]
    ballots[0]["sealed"], ballots[1]["sealed"] = ballots[1]["sealed"], ballots[0]["sealed"]
    tampered = audit_process(records, P)
    assert any("do not open" in p for p in tampered.problems)
    assert sum(b.state == UNOPENABLE for b in tampered.opened.ballots) == 2
    # a dropped ballot is found by the deposit count
    ballots.pop()
    assert any("deposits" in p for p in audit_process(records, P).problems)


def test_large_flushes_are_split_into_bounded_batches(kit, monkeypatch):
    monkeypatch.setattr("core.voting.casting.MAX_BALLOTS_PER_BATCH", 2)
    open_process(kit, [(f"v{i}", "") for i in range(5)], batch_size=0)
    for i in range(5):
        kit.cast(P, sign_in(kit, P, f"v{i}"), i)
    report = kit.close(P)
    assert (report.batches, report.ballots) == (3, 5)
    sizes = [len(kit.engine.get(BallotBatch.create_id(P, n), BallotBatch).ballots) for n in (1, 2, 3)]
    assert sorted(sizes) == [1, 2, 2]
    assert sorted(c for _, c in kit.tally_input(P)) == [0, 1, 2, 3, 4]
    assert kit.audit(P).ok


def test_two_engines_on_one_store_continue_each_others_batches(kit, db_url, tmp_path, monkeypatch):
    """Two server processes flush the same box in turn: each follows the batch index the other
    wrote (a stale look would reuse a batch number and lose the race every time)."""
    monkeypatch.setattr("core.voting.casting._shuffler.randrange", lambda n: 1)  # only explicit flushes
    open_process(kit, [(f"v{i}", "") for i in range(10)], batch_size=2)
    other = VotingKit(make_engine(db_url, tmp_path))
    try:
        credentials = [sign_in(kit, P, f"v{i}") for i in range(10)]
        for i in range(4):
            kit.cast(P, credentials[i], i)
        assert kit.flush(P) == 2 and kit.batch_index(P).version == 2  # batch 1
        for i in range(4, 8):
            other.cast(P, credentials[i], i)
        assert other.flush(P) == 4  # batch 2: it read batch 1 first
        for i in range(8, 10):
            kit.cast(P, credentials[i], i)
        assert kit.flush(P) == 2  # batch 3, after the other's batch 2
        report = other.close(P)  # the last 2 in batch 4
        assert (report.batches, report.ballots) == (4, 10)
        index = kit.batch_index(P)
        assert [b["number"] for b in index.batches] == [1, 2, 3, 4] and index.ballots == 10
        assert [b["size"] for b in index.batches] == [2, 4, 2, 2]
        assert sorted(c for _, c in kit.tally_input(P)) == list(range(10))
        assert kit.audit(P).ok
    finally:
        other.engine.close()


def test_a_cast_asking_for_a_flush_does_not_wait_for_it_and_the_pool_is_read_once(kit, monkeypatch):
    """About one cast in batch_size asks for a flush; the flush runs on a thread of its own (the
    voter's answer does not wait for a batch being written), and reads each deposit once."""
    open_process(kit, [(f"v{i}", "") for i in range(8)], batch_size=2)
    credentials = [sign_in(kit, P, f"v{i}") for i in range(8)]
    monkeypatch.setattr("core.voting.casting._shuffler.randrange", lambda n: 1)  # no flush asked
    for i in range(5):
        kit.cast(P, credentials[i], i)
    decoded = []
    decode = kit.engine.decode_payload
    monkeypatch.setattr(kit.engine, "decode_payload", lambda n: decoded.append(n.id) or decode(n))
    assert kit.pending_count(P) == 5 and len(decoded) == 5
    assert kit.pending_count(P) == 5 and len(decoded) == 5  # read before: not decoded again
    # the next cast asks for a flush, which is held up: the cast returns all the same
    release, flushing = threading.Event(), threading.Event()
    real_flush = kit.flush.__func__
    threads = []

    def slow_flush(self, process_id, **kw):
        threads.append(threading.current_thread().name)
        flushing.set()
        assert release.wait(10)
        return real_flush(self, process_id, **kw)

    monkeypatch.setattr("core.voting.casting.BallotCasting.flush", slow_flush)
    monkeypatch.setattr("core.voting.casting._shuffler.randrange", lambda n: 0)
    kit.cast(P, credentials[5], 5)
    assert flushing.wait(10) and threads == ["civic-ballot-flush"]
    assert kit.pending_count(P) == 6  # the cast returned while its flush waits
    release.set()
    deadline = time.monotonic() + 10
    while kit.pending_count(P) != 2 and time.monotonic() < deadline:  # all but batch_size moved
        time.sleep(0.02)
    assert kit.pending_count(P) == 2 and kit.batch_index(P).ballots == 4
    assert len(decoded) == 6  # each deposit read once, by every look and the flush together
    monkeypatch.setattr("core.voting.casting._shuffler.randrange", lambda n: 1)
    for i in (6, 7):
        kit.cast(P, credentials[i], i)
    assert kit.close(P).ballots == 8 and kit.audit(P).ok


def test_closing_the_engine_waits_for_a_flush_under_way_and_starts_no_more(db_url, tmp_path, monkeypatch):
    """A flush the casts asked for must end before the store's connections do (on SQLite, a
    connection closed under a running query crashed the process)."""
    kit = VotingKit(make_engine(db_url, tmp_path))
    open_process(kit, [(f"v{i}", "") for i in range(3)], batch_size=1)
    credentials = [sign_in(kit, P, f"v{i}") for i in range(3)]
    release, flushing, flushed = threading.Event(), threading.Event(), []
    real_flush = kit.flush.__func__

    def slow_flush(self, process_id, **kw):
        flushing.set()
        assert release.wait(10)
        flushed.append(real_flush(self, process_id, **kw))
        return flushed[-1]

    monkeypatch.setattr("core.voting.casting.BallotCasting.flush", slow_flush)
    monkeypatch.setattr("core.voting.casting._shuffler.randrange", lambda n: 0)  # every cast asks
    for credential in credentials:
        kit.cast(P, credential, 1)
    assert flushing.wait(10)
    closer = threading.Thread(target=kit.engine.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # close waits for the flush under way
    release.set()
    closer.join(10)
    assert not closer.is_alive() and flushed == [2]  # it flushed on an open store, then close ended
    flusher = kit.engine.kept("voting.flusher", lambda: None)
    flusher.kick(P)
    assert flusher.thread is None  # a closed engine starts no flush


def test_turnout_counts_credentials_by_group(kit):
    open_process(kit, [("a", "101"), ("b", "101"), ("c", "102")])
    sign_in(kit, P, "a")
    turnout = kit.turnout(P)
    assert (turnout.entries, turnout.credentials_issued) == (3, 1)
    assert turnout.by_group == {"101": {"entries": 2, "credentials_issued": 1},
                                "102": {"entries": 1, "credentials_issued": 0}}


def test_an_official_issues_a_credential_in_person_once(kit):
    open_process(kit, [("a", "101"), ("b", "101")])
    credential = kit.issue_credential_in_person(P, "a", by="officer-17")
    assert credential.group == "101"
    with pytest.raises(RuleViolation, match="already issued"):
        kit.issue_credential_in_person(P, "a", by="officer-17")
    with pytest.raises(InvalidInput):
        kit.issue_credential_in_person(P, "b", by=" ")
    kit.cast(P, credential, {"paper": True, "choice": "p1"})
    issued = [r for r in kit.engine.records() if r.event_name == "RollEntry.CredentialIssued"]
    assert [(r.payload["method"], r.payload["by"]) for r in issued] == [("in-person", "officer-17")]
    summary = kit.summary(P)
    assert (summary["status"], summary["entries"], summary["private_key"]) == ("open", 2, None)
    kit.close(P)
    assert kit.tally_input(P) == [("101", {"paper": True, "choice": "p1"})]
    assert kit.summary(P)["private_key"] and kit.audit(P).ok


def test_the_audit_finds_more_ballots_in_a_group_than_credentials_issued_to_it(kit):
    open_process(kit, [("a", "101"), ("b", "102")])
    kit.cast(P, sign_in(kit, P, "a"), 1)
    kit.close(P)
    records = list(kit.engine.records())
    batch = next(r for r in records if r.event_name == "BallotBatch.Recorded")
    batch.payload["ballots"][0]["group"] = "102"  # claimed for a group whose voter never signed in
    problems = audit_process(records, P).problems
    assert any("group '102'" in p for p in problems)
    assert any("do not open" in p for p in problems)  # the group is sealed with the ballot
