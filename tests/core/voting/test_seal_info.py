"""The opener's quick seal info is byte for byte the RFC 8785 one the sealer binds, for any
process id, pseudonym and group (lone surrogates included: both refuse them alike)."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from core.voting import crypto

KEY = crypto.private_key_text(crypto.ballot_private_key(os.urandom(32)))
any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=12)


def outcome(make):
    try:
        return make()
    except Exception:  # noqa: BLE001 - both must refuse alike: no info, no ballot bound to it
        return "refused"


@settings(max_examples=400, deadline=None)
@given(process_id=any_text, pseudonym=any_text, group=any_text)
def test_quick_seal_info_is_the_canonical_one(process_id, pseudonym, group):
    expected = outcome(lambda: crypto._seal_info(process_id, pseudonym, group))
    opener = crypto.BallotOpener(KEY, process_id)
    got = outcome(lambda: opener.info(pseudonym, group))
    assert got == expected


def test_a_ballot_sealed_with_unusual_names_opens():
    public = crypto.public_key_text(crypto.ballot_private_key(crypto.unb64(KEY)))
    sealed = crypto.seal(public, "pb-é\u2028", "p\"\\\n", "동 101", {"choice": ["1"]})
    assert crypto.BallotOpener(KEY, "pb-é\u2028").open("p\"\\\n", "동 101", sealed) == {"choice": ["1"]}
