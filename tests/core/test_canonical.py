"""The fast canonical JSON writes byte for byte what the reference RFC 8785 library writes."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from core.canonical import CanonicalizationError, canonical_json

# keys and strings from all of Unicode: controls, quotes, the BMP's private use area and the
# supplementary planes (where UTF-16 order and code point order part), lone surrogates
text = st.text(alphabet=st.characters(), max_size=6) | st.sampled_from(["\ue000", "\U0001f600", "\ud800", "\x7f", "\u2028"])
scalars = (st.none() | st.booleans() | text | st.integers(-(2**60), 2**60)
           | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53) + 1, 2**53 - 1))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                      max_leaves=20)


def reference(value):
    try:
        return rfc8785.dumps(value)
    except Exception as exc:  # noqa: BLE001 - the kind of failure is compared
        return type(exc)


def ours(value):
    try:
        return canonical_json(value)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


@settings(max_examples=600)
@given(values)
def test_the_same_bytes_or_the_same_refusal_as_rfc8785(value):
    assert ours(value) == reference(value)


def test_known_differences_of_plain_json_go_to_the_reference():
    assert canonical_json({"\U0001f600": 1, "\ue000": 2}) == rfc8785.dumps({"\U0001f600": 1, "\ue000": 2})
    assert canonical_json([1.0, 1e21, 5e-7]) == b"[1,1e+21,5e-7]"
    with pytest.raises(CanonicalizationError):
        canonical_json(2**53)
