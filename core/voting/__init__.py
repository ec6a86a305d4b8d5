"""The voting kit shared by the voting plugins: voter roll, one-time codes, ballot credentials,
sealed pseudonymous ballots in shuffled batches, opening, tracking codes and the tie lottery.

A plugin owns its process and decides what a ballot's content is (any JSON value) and how to
validate and tally it; everything else is here. Typical use from a plugin::

    from core.voting import VotingKit

    kit = VotingKit(engine)
    kit.create(process.id, allow_revote=True, batch_size=50)   # or engine.save(process, *kit.prepare(...))
    kit.import_roll(process.id, csv_text)                       # all rows or none
    kit.open(process.id)
    kit.issue_codes(process.id, "Your voting code for the 2016 vote: {code}")
    credential = kit.authenticate(process.id, "101-1203", code_typed, client=request_ip)
    receipt = kit.cast(process.id, credential.token, {"approve": ["p1", "p4"]}, validate=my_check)
    kit.close(process.id)
    for group, content in kit.tally_input(process.id): ...
    kit.track(process.id, receipt.tracking_code)
    order = kit.draw(process.id, ledger_root, ["p2", "p7"], context="last seat")

See ``docs/security.md (Ballot secrecy)`` for what each party can and cannot learn.
"""

from core.voting.box import CLOSED, OPEN, PREPARED, BallotBox, box_id
from core.voting.crypto import BallotCredential
from core.voting.kit import (CastReceipt, CloseReport, RollImport, Turnout, Validator, VotingKit)
from core.voting.lottery import commitment, draw, verify_seed
from core.voting.opening import (COUNTED, REPLACED, UNOPENABLE, BoxAudits, OpenedBallot, OpenedBox,
                                 ProcessAudit, audit_process, open_box)
from core.voting.roll import RollRow, parse_roll_csv

__all__ = [
    "CLOSED", "COUNTED", "OPEN", "PREPARED", "REPLACED", "UNOPENABLE", "BallotBox", "BallotCredential", "BoxAudits", "CastReceipt", "CloseReport", "OpenedBallot",
    "OpenedBox", "ProcessAudit", "RollImport", "RollRow", "Turnout", "Validator", "VotingKit",
    "audit_process", "box_id", "commitment", "draw", "open_box", "parse_roll_csv", "verify_seed",
]
