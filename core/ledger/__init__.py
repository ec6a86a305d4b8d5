"""The tamper-evident audit ledger.

``merkle`` (RFC 9162 trees and proofs, pure), ``checkpoint`` (C2SP signed checkpoints and keys),
``leaves`` (what a leaf is), ``follower`` (``engine.ledger``: leaves, checkpoints, proofs,
receipts), ``export`` and ``verify`` (the auditor's file and checks), ``api`` (``/ledger/...``),
``cli`` (``civic audit``). ``docs/audit.md`` specifies the formats.
"""
