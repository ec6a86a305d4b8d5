"""``VotingKit``: what a voting plugin calls from its handlers and commands.

The kit is process-neutral: a plugin owns its process (contests, options, rules) and decides
what a ballot's content is — any JSON value — and validates it; the kit keeps the roll, the
codes, the credentials, the sealed box, the opening, tracking codes and the tie lottery.
Secrets come from the instance secrets file (``engine.secrets``), never from the log:

- ``voting/ballot-key/<process>``: the X25519 private key, released into the log at close;
- ``voting/lottery-seed/<process>``: the tie-lottery seed, committed at creation, revealed at tally;
- ``voting/deposit-key/<process>``: encrypts pending deposits; never released;
- ``voting/credential/<process>``: authenticates ballot credentials;
- ``voting/code-hash``, ``voting/client-hash``: keyed hashes of codes and client addresses.

Its parts: ``enrolment`` (roll, codes, credentials), ``casting`` (deposits and batches),
``counting`` (close, open, track, audit, lottery), on the shared ``base``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.errors import InvalidInput, RuleViolation
from core.voting import crypto, lottery
from core.voting.base import process_key
from core.voting.box import PREPARED, BallotBox, BatchIndex, box_id
from core.voting.casting import DEFAULT_BATCH_SIZE, CastReceipt, Validator
from core.voting.committer import committer
from core.voting.counting import ClosingAndCounting, CloseReport
from core.voting.enrolment import RollAndCodes, RollImport, Turnout
from core.voting.roll import VoterRoll

__all__ = ["CastReceipt", "CloseReport", "RollImport", "Turnout", "Validator", "VotingKit"]


class VotingKit(RollAndCodes, ClosingAndCounting):
    """The voting kit over one engine. Cheap to construct: make one per request if you like."""

    # -- process -------------------------------------------------------------------------------
    def prepare(self, process_id: str | UUID, *, allow_revote: bool = False,
                batch_size: int = DEFAULT_BATCH_SIZE) -> tuple[BallotBox, BatchIndex, VoterRoll]:
        """The box, batch index and roll of a new process, unsaved: save them with the plugin's
        own process aggregate in one transaction (``engine.save(process, *kit.prepare(process.id))``)."""
        pid = process_key(process_id)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 0:
            raise InvalidInput("batch_size must be a whole number ≥ 0 (0: one batch at close).")
        box = BallotBox(process_id=pid, public_key=crypto.public_key_text(self._private_key(pid)),
                        suite=crypto.SUITE_NAME, seed_commitment=lottery.commitment(self._seed(pid)),
                        allow_revote=bool(allow_revote), batch_size=batch_size)
        return box, BatchIndex(process_id=pid), VoterRoll(process_id=pid)

    def with_revote(self, process_id: str | UUID, allow_revote: bool) -> BallotBox:
        """The process's box with its revote setting changed, unsaved: save it with the plugin's
        own settings change in one transaction. Refused once voting has opened."""
        box = self.box(process_id)
        box.change_revote(allow_revote)
        return box

    def create(self, process_id: str | UUID, *, allow_revote: bool = False,
               batch_size: int = DEFAULT_BATCH_SIZE) -> BallotBox:
        aggregates = self.prepare(process_id, allow_revote=allow_revote, batch_size=batch_size)
        return self.engine.create(*aggregates, refusal="This process already has a ballot box.")

    def open(self, process_id: str | UUID) -> None:
        """Open voting: codes can be used and ballots cast from now on."""
        pid = process_key(process_id)
        if not self.roll(pid).entries:
            raise RuleViolation("Import the voter roll before opening voting.")

        def change(box: BallotBox) -> None:
            if box.status != PREPARED:
                raise RuleViolation(f"Voting cannot open: the box is {box.status}.")
            box.open()

        self.engine.update(box_id(pid), change, cls=BallotBox, what="ballot box")
        committer(self.engine).forget(pid)

    def summary(self, process_id: str | UUID) -> dict[str, Any]:
        """The public facts of a process's box, as JSON (for a plugin's status endpoint)."""
        box = self.box(process_id)
        index = self.batch_index(box.process_id)
        return {
            "process_id": box.process_id, "status": box.status, "allow_revote": box.allow_revote,
            "batch_size": box.batch_size, "suite": box.suite, "public_key": box.public_key,
            "seed_commitment": box.seed_commitment, "seed": box.seed,
            "batches": len(index.batches), "ballots_in_box": index.ballots,
            "cutoff": box.cutoff, "private_key": box.private_key,
            "entries": len(self.roll(box.process_id).entries),
        }
