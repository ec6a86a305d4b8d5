"""The ledger's root over a run of log records, as an auditor recomputes it from an export."""

from __future__ import annotations

from collections.abc import Iterable

from core.ledger.leaves import public_record, record_leaf_hash
from core.ledger.merkle import root_of
from core.records import LogRecord


def ledger_root(records: Iterable[LogRecord]) -> bytes:
    """RFC 9162 root of the leaves of ``records`` (in log order)."""
    return root_of([record_leaf_hash(public_record(r)) for r in records])
