"""After ballots are cast, the exported log links no voter to a ballot: no record holds both a
voter's identity and a ballot, no transaction writes both, and the box's order is not the order
in which people voted."""

from __future__ import annotations

import json
import random

import pytest

from core.voting import VotingKit
from core.voting.roll import entry_aggregate_id
from tests.core.voting.support import make_engine, roll_csv, sign_in

P = "apt-2016-bylaws"
VOTERS = 24


@pytest.fixture
def kit(db_url, manual_clock, tmp_path):
    engine = make_engine(db_url, tmp_path)
    transactions: list[list[int]] = []
    insert = engine.recorder.insert_events

    def recording_insert(stored_events, **kwargs):
        ids = insert(stored_events, **kwargs)
        transactions.append(list(ids or []))
        return ids

    engine.recorder.insert_events = recording_insert
    kit = VotingKit(engine)
    kit.transactions = transactions
    yield kit
    engine.close()


def test_no_record_or_transaction_links_a_voter_to_a_ballot(kit, manual_clock):
    rng = random.Random(7)
    voters = [f"household-{i:03d}" for i in range(VOTERS)]
    kit.create(P, allow_revote=True, batch_size=5)
    kit.import_roll(P, roll_csv([(v, f"building-{i % 3}") for i, v in enumerate(voters)]))
    kit.open(P)
    kit.issue_codes(P, "Code {code}")
    identity = {v: {v, kit.contact(P, v), kit.voter_name(P, v)} - {''} for v in voters}
    cast_order: list[str] = []
    ballots: dict[str, dict[str, str]] = {}  # secret words and pseudonyms of each voter's ballots
    for v in voters[:-4]:  # a few never vote
        credential = sign_in(kit, P, v, client=f"10.0.0.{rng.randrange(250)}")
        manual_clock.advance(seconds=rng.randrange(1, 90))
        for attempt in range(rng.choice((1, 1, 2))):
            word = f"choice-{v}-{attempt}-{rng.getrandbits(32):08x}"
            receipt = kit.cast(P, credential, {"choice": word})
            ballots.setdefault(v, {})[word] = receipt.pseudonym
            cast_order.append(receipt.pseudonym)
            manual_clock.advance(seconds=rng.randrange(1, 30))
        kit.tick()  # as civic serve's scheduler does
    kit.close(P)
    opened = kit.opened(P)

    records = list(kit.engine.records())
    entry_ids = {str(entry_aggregate_id(P, v)) for v in voters}
    sealed = {b.pseudonym: set() for b in opened.ballots}
    for b in opened.ballots:
        batch = next(r for r in records if r.position == b.position)
        sealed[b.pseudonym].add(batch.payload["ballots"][b.index]["sealed"])
    ballot_markers = {w for words in ballots.values() for w in words} | set(sealed) | \
        {s for group in sealed.values() for s in group} | {b.tracking_code for b in opened.ballots}
    identity_markers = {m for ms in identity.values() for m in ms}

    def text(record):
        return json.dumps(record.payload, ensure_ascii=False)

    def holds_identity(record):
        return record.originator_id in entry_ids or any(m in text(record) for m in identity_markers)

    def holds_ballot(record):
        return any(m in text(record) for m in ballot_markers)

    # every ballot is in the log (opened), so the markers are really looked for
    assert {b.content["choice"] for b in opened.ballots} == {w for ws in ballots.values() for w in ws}
    assert any(holds_ballot(r) for r in records) and any(holds_identity(r) for r in records)
    # 1. no record holds both
    both = [r.position for r in records if holds_identity(r) and holds_ballot(r)]
    assert both == []
    # 2. no transaction writes both
    by_position = {r.position: r for r in records}
    assert sum(len(t) for t in kit.transactions) == len(records)
    for transaction in kit.transactions:
        written = [by_position[p] for p in transaction]
        assert not (any(map(holds_identity, written)) and any(map(holds_ballot, written))), transaction
    # 3. deposits, the only ballot records written while people vote, show nothing of the ballot
    deposits = [r for r in records if r.event_name == "BallotDeposit.Deposited"]
    assert len(deposits) == sum(len(w) for w in ballots.values())
    assert not any(holds_ballot(r) for r in deposits)
    # 4. the box's order is not the voting order (a shuffle; equal order has odds 1 in 5!^k)
    box_order = [b.pseudonym for b in opened.ballots]
    assert sorted(box_order) == sorted(cast_order)
    assert box_order != cast_order
    # 5. ballots enter the log only in batches of several, the last one at close included
    batch_sizes = [len(r.payload["ballots"]) for r in records if r.event_name == "BallotBatch.Recorded"]
    assert len(batch_sizes) > 1 and min(batch_sizes) >= 5
    # the counted ballots are the latest of each voter
    latest = {v: list(words)[-1] for v, words in ballots.items()}
    assert sorted(c["choice"] for _, c in opened.tally_input()) == sorted(latest.values())
