"""Group commit of ballot deposits: many voters casting at once all count once, the last ballot
of each counts, a second ballot without revote is refused even inside one transaction, and a
ballot racing the close is counted or refused, never acknowledged and dropped."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import RuleViolation
from core.voting import VotingKit
from core.voting.committer import PendingDeposit, committer
from tests.core.voting.support import make_engine, open_voting

P = "pb-group-commit"


@pytest.fixture
def kit(db_url, manual_clock, tmp_path):
    engine = make_engine(db_url, tmp_path)
    yield VotingKit(engine)
    engine.close()


open_process = partial(open_voting, process_id=P, batch_size=5)


def run_together(work, args) -> None:
    start = threading.Barrier(len(args))
    errors = []

    def body(arg) -> None:
        start.wait()
        try:
            work(arg)
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def slow_first_save(kit: VotingKit, monkeypatch, seconds=0.3) -> list[int]:
    """Hold the first transaction open a while, so that the casts behind it gather; returns the
    sizes of the transactions written."""
    sizes: list[int] = []
    deposits = committer(kit.engine)
    real = deposits._save

    def save(items):
        sizes.append(len(items))
        if len(sizes) == 1:
            time.sleep(seconds)
        return real(items)

    monkeypatch.setattr(deposits, "_save", save)
    return sizes


def test_many_voters_at_once_share_transactions_and_all_count_once(kit, monkeypatch):
    voters = [f"v{i}" for i in range(24)]
    credentials = open_process(kit, voters, batch_size=0)
    sizes = slow_first_save(kit, monkeypatch)
    receipts = {}
    run_together(lambda v: receipts.__setitem__(v, kit.cast(P, credentials[v], {"voter": v})), voters)
    assert sum(sizes) == len(voters) and max(sizes) > 1  # the casts behind the first one went together
    kit.close(P)
    opened = kit.opened(P)
    assert sorted(c["voter"] for _, c in opened.tally_input()) == sorted(voters)
    assert {b.tracking_code for b in opened.ballots} == {r.tracking_code for r in receipts.values()}
    assert kit.audit(P).ok


def test_a_cast_behind_more_than_one_transaction_returns_only_once_written(kit, monkeypatch):
    monkeypatch.setattr("core.voting.committer.MAX_GROUP", 3)
    open_process(kit, ["a"], batch_size=0)
    deposits = committer(kit.engine)
    ahead = [PendingDeposit(process_id=P, deposit_key=f"ahead-{n}", blob="x", single_slot=False) for n in range(5)]
    deposits._waiting.extend(ahead)  # five casts queued before this one: two transactions' worth
    mine = PendingDeposit(process_id=P, deposit_key="mine", blob="x", single_slot=False)
    position = deposits.commit(mine)
    assert isinstance(position, int) and mine.position == position
    assert all(item.done and item.position for item in ahead)
    assert kit.pending_count(P) == 6


def test_a_second_ballot_in_the_same_transaction_is_refused_without_revote(kit, monkeypatch):
    credentials = open_process(kit, ["a", "b"], allow_revote=False, batch_size=0)
    sizes = slow_first_save(kit, monkeypatch)
    outcomes: list[str] = []
    lock = threading.Lock()

    def cast(n: int) -> None:
        voter = "a" if n else "b"  # b's ballot goes first and holds the transaction open
        if n:
            time.sleep(0.05)
        try:
            kit.cast(P, credentials[voter], f"{voter}{n}")
            with lock:
                outcomes.append(f"{voter}:ok")
        except RuleViolation as exc:
            assert "already cast" in str(exc)
            with lock:
                outcomes.append(f"{voter}:refused")

    run_together(cast, range(7))
    assert sorted(outcomes) == ["a:ok"] + ["a:refused"] * 5 + ["b:ok"]
    assert sum(sizes) <= 3  # at most one deposit of a's written (a later one refused by the store)
    kit.close(P)
    assert sorted(c[0] for _, c in kit.tally_input(P)) == ["a", "b"]


def test_one_transaction_holding_two_ballots_of_one_credential_saves_the_first(kit):
    open_process(kit, ["a"], allow_revote=False, batch_size=0)
    deposits = committer(kit.engine)
    first, second, other = (PendingDeposit(process_id=P, deposit_key=key, blob="x", single_slot=True)
                            for key in ("slot-a", "slot-a", "slot-b"))
    deposits._write([first, second, other])
    assert first.position is not None and other.position is not None
    assert second.position is None and "already cast" in str(second.error)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.lists(st.integers(0, 99), min_size=1, max_size=4), min_size=2, max_size=8))
def test_concurrent_voters_revotes_count_last(tmp_path_factory, manual_clock, plan):
    """Model: each voter's counted ballot is the last one that voter was acknowledged for."""
    tmp = tmp_path_factory.mktemp("gc")
    kit = VotingKit(make_engine(str(tmp / "civic.db"), tmp))
    try:
        voters = [f"v{i}" for i in range(len(plan))]
        credentials = open_process(kit, voters, batch_size=2)
        acknowledged: dict[str, object] = {}

        def vote(i: int) -> None:
            for content in plan[i]:
                kit.cast(P, credentials[voters[i]], [voters[i], content])
                acknowledged[voters[i]] = [voters[i], content]

        run_together(vote, range(len(plan)))
        kit.close(P)
        counted = sorted(tuple(c) for _, c in kit.tally_input(P))
        assert counted == sorted(tuple(c) for c in acknowledged.values())
        assert len(kit.opened(P).ballots) == sum(len(p) for p in plan)
        assert kit.audit(P).ok
    finally:
        kit.engine.close()


def test_casts_racing_the_close_are_counted_or_refused(kit):
    voters = [f"v{i}" for i in range(12)]
    credentials = open_process(kit, voters, batch_size=3)
    acknowledged: dict[str, str] = {}
    refused: list[str] = []
    lock = threading.Lock()

    def vote(voter: str) -> None:
        for n in range(8):
            try:
                receipt = kit.cast(P, credentials[voter], f"{voter}:{n}")
            except RuleViolation:
                with lock:
                    refused.append(f"{voter}:{n}")
                continue
            with lock:
                acknowledged[receipt.tracking_code] = f"{voter}:{n}"

    threads = [threading.Thread(target=vote, args=(v,)) for v in voters]
    for t in threads:
        t.start()
    time.sleep(0.05)
    kit.close(P)
    for t in threads:
        t.join()
    opened = kit.opened(P)
    assert {b.tracking_code for b in opened.ballots} == set(acknowledged)
    assert not {b.content for b in opened.ballots} & set(refused)
    assert kit.audit(P).ok
