"""Opening a box on several processes gives exactly what opening each ballot alone gives."""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from core.voting import COUNTED, REPLACED, UNOPENABLE, crypto, open_box

PROCESS = "pb-parallel"
KEY = crypto.ballot_private_key(os.urandom(32))
PUBLIC, PRIVATE = crypto.public_key_text(KEY), crypto.private_key_text(KEY)
contents = st.recursive(st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                        max_leaves=5)
ballot = st.tuples(st.sampled_from(["p1", "p2", "p3", "p4", "p5"]), st.sampled_from(["", "101", "102"]), contents,
                   st.booleans(), st.booleans())  # pseudonym, group, content, superseded, tampered


def make_batches(plan):
    batches = []
    for spec in plan:
        ballots = []
        for name, group, content, superseded, tampered in spec:
            # a tampered ballot is sealed under another group: it does not open under its own
            sealed = crypto.seal(PUBLIC, PROCESS, name, group + ("x" if tampered else ""), content)
            ballots.append({"pseudonym": name, "group": group, "sealed": sealed, "superseded": superseded})
        batches.append(ballots)
    return batches


def reference(batches):
    """Each ballot opened on its own; the last unsuperseded ballot of each pseudonym counts."""
    last = {}
    for b, ballots in enumerate(batches):
        for i, x in enumerate(ballots):
            if not x["superseded"]:
                last[x["pseudonym"]] = (b, i)
    out = []
    for b, ballots in enumerate(batches):
        for i, x in enumerate(ballots):
            try:
                content = crypto.open_sealed(PRIVATE, PROCESS, x["pseudonym"], x["group"], x["sealed"])
                state = COUNTED if last.get(x["pseudonym"]) == (b, i) else REPLACED
            except crypto.UnopenableBallot:
                content, state = None, UNOPENABLE
            out.append((crypto.tracking_code(x["sealed"]), x["pseudonym"], x["group"], content, state, b + 1, i))
    return out


def seen(box):
    return [(x.tracking_code, x.pseudonym, x.group, x.content, x.state, x.batch, x.index) for x in box.ballots]


@settings(max_examples=6, deadline=None)
@given(plan=st.lists(st.lists(ballot, max_size=6), min_size=1, max_size=4))
def test_two_worker_processes_open_exactly_what_each_ballot_opens_to(plan):
    import core.voting.parallel as parallel

    batches = make_batches(plan)
    expected = reference(batches)
    previous = parallel.CHUNK
    parallel.CHUNK = 2  # several tasks per worker even for a small box
    try:
        in_pool = open_box(PROCESS, PRIVATE, iter(batches), list(range(len(batches))), workers=2)
    finally:
        parallel.CHUNK = previous
    assert seen(in_pool) == expected
    assert seen(open_box(PROCESS, PRIVATE, batches, workers=1)) == expected
    assert [x.position for x in in_pool.ballots] == [b for b, ballots in enumerate(batches) for _ in ballots]


@settings(max_examples=6, deadline=None)
@given(plan=st.lists(st.lists(ballot, max_size=7), min_size=1, max_size=4))
def test_batches_read_as_stored_bytes_and_cut_when_large_open_exactly_what_each_ballot_opens_to(plan):
    """What the kit sends from the log: each batch's payload undecoded (``RawBatch``); batches
    longer than two tasks are decoded and cut in the reading process."""
    import core.voting.parallel as parallel

    batches = make_batches(plan)
    expected = reference(batches)
    raw = [parallel.RawBatch(json.dumps({"process_id": PROCESS, "ballots": b}).encode(), len(b)) for b in batches]
    previous = parallel.CHUNK
    parallel.CHUNK = 2  # a batch of more than 4 ballots is cut
    try:
        in_pool = open_box(PROCESS, PRIVATE, iter(raw), workers=2)
        alone = open_box(PROCESS, PRIVATE, raw, workers=1)
    finally:
        parallel.CHUNK = previous
    assert seen(in_pool) == seen(alone) == expected
    counted = [(code, content) for code, _, _, content, state, _, _ in expected if state == COUNTED]
    assert in_pool.counted_contents() == counted
    assert in_pool.tally_input() == [(group, content) for _, _, group, content, state, _, _ in expected
                                     if state == COUNTED]
    for code, *_ in expected:
        assert in_pool.find(code).tracking_code == code


def test_a_released_key_that_is_not_a_key_opens_nothing():
    batches = make_batches([[("p1", "", 1, False, False)]])
    box = open_box(PROCESS, "not-a-key", batches, workers=2)
    assert [x.state for x in box.ballots] == [UNOPENABLE]
