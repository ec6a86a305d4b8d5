"""The verifiable tie lottery: determinism, the documented formula, the seed commitment."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import RuleViolation
from core.voting import VotingKit, audit_process, commitment, draw, verify_seed
from tests.core.voting.support import make_engine, roll_csv

ROOT = hashlib.sha256(b"a ledger root").digest()


def reference_draw(seed: bytes, root: bytes, tied: list[str], context: str) -> list[str]:
    """The formula of docs/security.md (Ballot secrecy), written out independently."""
    options = sorted(tied)
    material = json.dumps([seed.hex(), root.hex(), context, options], separators=(",", ":"), ensure_ascii=False)
    key = hashlib.sha256(b"civic/tie-lottery/v1\x00" + material.encode("utf-8")).digest()
    return sorted(options, key=lambda o: (hmac.new(key, o.encode("utf-8"), hashlib.sha256).digest(), o))


options = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
                   min_size=1, max_size=6, unique=True)


@given(seed=st.binary(min_size=32, max_size=32), root=st.binary(min_size=32, max_size=32),
       tied=options, context=st.text(max_size=8), data=st.data())
def test_draw_is_the_documented_pure_function(seed, root, tied, context, data):
    shuffled = data.draw(st.permutations(tied))
    order = draw(seed, root, tied, context)
    assert order == draw(seed, root, shuffled, context)  # the order given does not matter
    assert order == reference_draw(seed, root, tied, context)
    assert sorted(order) == sorted(tied)


def test_draw_depends_on_seed_root_and_context_and_is_fair():
    tied = ["apple", "banana", "cherry"]
    seeds = [hashlib.sha256(str(i).encode()).digest() for i in range(3000)]
    winners = Counter(draw(s, ROOT, tied)[0] for s in seeds)
    assert set(winners) == set(tied)
    assert all(850 < n < 1150 for n in winners.values()), winners  # ~1000 each
    assert len({tuple(draw(seeds[0], hashlib.sha256(bytes([i])).digest(), tied)) for i in range(40)}) > 1
    assert len({tuple(draw(seeds[0], ROOT, tied, context=str(i))) for i in range(40)}) > 1
    with pytest.raises(ValueError):
        draw(seeds[0], ROOT, ["a", "a"])


def test_seed_commitment():
    seed = bytes(range(32))
    assert verify_seed(seed, commitment(seed))
    assert verify_seed(seed, commitment(seed).upper())
    assert not verify_seed(bytes(32), commitment(seed))
    assert commitment(seed) == hashlib.sha256(b"civic/lottery-commit/v1\x00" + seed).hexdigest()


def test_process_commits_before_voting_and_reveals_only_after_close(manual_clock, tmp_path):
    kit = VotingKit(make_engine(str(tmp_path / "civic.db"), tmp_path))
    try:
        kit.create("pb")
        committed = kit.box("pb").seed_commitment
        kit.import_roll("pb", roll_csv([("a", "")]))
        kit.open("pb")
        with pytest.raises(RuleViolation, match="after voting has closed"):
            kit.draw("pb", ROOT, ["x", "y"])
        kit.close("pb")
        order = kit.draw("pb", ROOT, ["y", "x"], context="seat 1")
        seed = kit.reveal_seed("pb")  # revealing again is harmless and gives the same seed
        assert verify_seed(seed, committed)
        assert order == reference_draw(seed, ROOT, ["x", "y"], "seat 1")
        # the auditor, from the log alone, finds the same seed and checks its commitment
        audit = audit_process(kit.engine.records(), "pb")
        assert audit.ok and audit.seed == seed
        assert [r.event_name for r in kit.engine.records()].count("BallotBox.SeedRevealed") == 1
    finally:
        kit.engine.close()
