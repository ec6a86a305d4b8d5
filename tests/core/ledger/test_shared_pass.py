"""Every plugin's re-tally over one reading of the log: each gets exactly what it would have read
alone, the source is read once, and a reader that stops, fails or dawdles neither hangs the
others nor makes the pass hold the log."""

from __future__ import annotations

import threading

import pytest

from core.ledger import shared_pass
from core.ledger.shared_pass import read_once_for_all


class CountedSource:
    """A re-iterable source of 0..n-1 that counts its passes and how far it has been read."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.passes = 0
        self.produced = 0

    def __iter__(self):
        self.passes += 1
        for k in range(self.n):
            if k == self.fail_at:
                raise OSError("the disk went away")
            self.produced = max(self.produced, k + 1)
            yield k


def total(records):
    return sum(records)


def evens(records):
    return [r for r in records if r % 2 == 0][:5]


def count(records):
    return sum(1 for _ in records)


def test_each_reader_gets_what_it_would_read_alone_and_the_source_is_read_once():
    source = CountedSource(5_555)
    readers = [total, evens, count]
    alone = [reader(range(5_555)) for reader in readers]
    assert alone == [sum(range(5_555)), [0, 2, 4, 6, 8], 5_555]
    assert read_once_for_all(readers, source) == alone
    assert source.passes == 1


def test_a_reader_that_goes_through_twice_reads_the_source_again_on_its_own():
    source = CountedSource(2_500)

    def twice(records):
        return sum(records) + sum(1 for _ in records)

    assert read_once_for_all([twice, total], source) == [sum(range(2_500)) + 2_500, sum(range(2_500))]
    assert source.passes == 2  # the shared pass, and the second reader's own


def test_readers_that_stop_early_or_never_read_do_not_hold_the_others_up():
    source = CountedSource(50_000)

    def first_three(records):
        out = []
        for r in records:
            out.append(r)
            if len(out) == 3:
                return out
        return out

    def never_reads(records):
        return "nothing read"

    assert read_once_for_all([first_three, never_reads, total], source) == [
        [0, 1, 2], "nothing read", sum(range(50_000))]


def test_a_failing_reader_is_reported_and_the_others_still_finish():
    source = CountedSource(20_000)
    finished = threading.Event()

    def fails(records):
        for r in records:
            if r == 1_500:
                raise ValueError("a plugin's bug")
        return None

    def slow_total(records):
        result = sum(records)
        finished.set()
        return result

    with pytest.raises(ValueError, match="a plugin's bug"):
        read_once_for_all([fails, slow_total], source)
    assert finished.is_set()


def test_a_source_that_fails_midway_fails_the_pass_for_every_reader():
    source = CountedSource(10_000, fail_at=4_321)
    with pytest.raises(OSError, match="the disk went away"):
        read_once_for_all([total, evens], source)


def test_the_pass_holds_only_a_few_chunks_ahead_of_the_slowest_reader():
    source = CountedSource(200_000)
    at_the_gate, gate = threading.Event(), threading.Event()
    seen_ahead = []

    def waits_at_the_start(records):
        it = iter(records)
        first = next(it)
        at_the_gate.set()
        gate.wait(10)
        return first + sum(it)

    def watcher(records):
        return sum(records)

    def open_the_gate():
        at_the_gate.wait(10)
        # the other reader runs freely meanwhile; let the pass go as far as it can
        for _ in range(50):
            threading.Event().wait(0.01)
        seen_ahead.append(source.produced)
        gate.set()

    opener = threading.Thread(target=open_the_gate)
    opener.start()
    assert read_once_for_all([waits_at_the_start, watcher], source) == [sum(range(200_000))] * 2
    opener.join()
    # one chunk being read, the held reader's queue full, one chunk being handed over
    assert seen_ahead[0] <= (shared_pass.AHEAD + 3) * shared_pass.CHUNK
    assert source.passes == 1


def test_every_installed_plugin_re_tallies_from_one_reading_of_the_log(tmp_path, manual_clock):
    """The four plugins and a plugin of the test's own: the log is read once for all of them,
    and the reports are those each plugin gives reading the log alone, in pluggy's order."""
    from core import RetallyReport, hookimpl
    from core.engine import Engine
    from core.ledger.verify import Reread, plugin_retally
    from core.plugins import make_plugin_manager
    from tests.support import petition

    class Counter:
        @hookimpl
        def civic_audit_retally(self, records):
            return RetallyReport(plugin="counter", checked=sum(1 for _ in records))

    engine = Engine(str(tmp_path / "civic.db"), plugins=make_plugin_manager(extra=[petition, Counter()]),
                    outbox=tmp_path / "o.jsonl")
    try:
        for n in range(30):
            engine.create(petition.Petition(f"petition {n}"))
        passes = []
        records = Reread(lambda: (passes.append(1), engine.records())[1])
        alone = [r for r in engine.pm.hook.civic_audit_retally(records=Reread(engine.records)) if r is not None]
        passes.clear()
        shared = plugin_retally(engine.pm)(records)
        assert len(passes) == 1
        assert shared == alone
        assert RetallyReport(plugin="counter", checked=engine.position) in shared
        assert len(engine.pm.hook.civic_audit_retally.get_hookimpls()) >= 5  # the four plugins and the counter
    finally:
        engine.close()
