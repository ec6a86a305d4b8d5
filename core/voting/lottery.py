"""The verifiable tie lottery: pure functions, no I/O, no clock.

Before voting opens, a process publishes ``commitment(seed)``. At tally it reveals ``seed``;
anyone checks ``verify_seed`` and recomputes ``draw``. The order of tied options is a function
of the seed, a ledger root chosen by the caller (e.g. the root at the close event), the sorted
set of tied options and a context string (so that two ties in one process draw independently):

    k      = SHA-256("civic/tie-lottery/v1" ‖ JSON[seed hex, root hex, context, sorted options])
    key(o) = HMAC-SHA-256(k, UTF-8(o))
    order  = options sorted by key(o) (ascending), ties of keys broken by the option itself

The JSON is RFC 8785 canonical JSON. An auditor can re-implement this in a few lines.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import rfc8785

COMMIT_DOMAIN = b"civic/lottery-commit/v1\x00"
DRAW_DOMAIN = b"civic/tie-lottery/v1\x00"


def commitment(seed: bytes) -> str:
    """The public commitment to a secret seed (hex)."""
    return hashlib.sha256(COMMIT_DOMAIN + seed).hexdigest()


def verify_seed(seed: bytes, committed: str) -> bool:
    return hmac.compare_digest(commitment(seed), committed.lower())


def draw(seed: bytes, ledger_root: bytes, tied: Iterable[str], context: str = "") -> list[str]:
    """All tied options in lottery order: the first wins the tie, the second comes next..."""
    given = [str(o) for o in tied]
    options = sorted(set(given))
    if len(options) != len(given):
        raise ValueError("tied options must be distinct")
    material = rfc8785.dumps([seed.hex(), bytes(ledger_root).hex(), str(context), options])
    key = hashlib.sha256(DRAW_DOMAIN + material).digest()
    return sorted(options, key=lambda o: (hmac.new(key, o.encode("utf-8"), hashlib.sha256).digest(), o))
