"""Closing the box, opening it with the released key, tracking codes, the auditor's recount and
the tie lottery."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

import attrs

from core.errors import NotFound, RuleViolation
from core.store import StoreConflict
from core.voting import crypto, lottery, parallel
from core.voting.base import process_key
from core.voting.box import CLOSED, OPEN, PREPARED, BallotBatch, BallotBox, box_id
from core.voting.casting import BallotCasting, backoff
from core.voting.committer import committer
from core.voting.parallel import RawBatch
from core.voting.opening import OpenedBallot, OpenedBox, ProcessAudit, audit_process, open_box

# closing is two steps (begin, then close with the cutoff): each may lose a race and be redone
CLOSE_RETRIES = 20


@attrs.frozen
class CloseReport:
    cutoff: int
    batches: int
    ballots: int


class ClosingAndCounting(BallotCasting):
    def close(self, process_id: str | UUID) -> CloseReport:
        """Close voting: refuse new ballots, move every deposit logged before the Closing event
        into the box, and release the private key into the log. Closing twice is harmless."""
        pid = process_key(process_id)
        for attempt in range(CLOSE_RETRIES):
            box = self.box(pid)
            if box.status in (PREPARED, OPEN):
                box.begin_closing()
                try:
                    self._save(box)
                except StoreConflict:
                    backoff(attempt)
                committer(self.engine).forget(pid)
                continue
            index = self.batch_index(pid)
            if box.status == CLOSED:
                return CloseReport(cutoff=box.cutoff, batches=len(index.batches), ballots=index.ballots)
            if index.ballots >= parallel.PARALLEL_FROM:
                parallel.warm_up()  # the opening after close will want worker processes
            # every batch so far was written while the box was open: the Closing event is later
            cutoff = self._closing_position(box, index.through + 1)
            pending = self._pending(pid, index.through, cutoff - 1)
            batches = self._batches(index, pending, cutoff - 1) if pending else []
            box.close(cutoff=cutoff, private_key=crypto.private_key_text(self._private_key(pid)))
            try:
                self._save(box, *batches)
            except StoreConflict:
                backoff(attempt)
                continue
        box, index = self.box(pid), self.batch_index(pid)
        if box.status != CLOSED:
            raise RuleViolation("The ballot box is busy; please try closing again.", title="Busy")
        return CloseReport(cutoff=box.cutoff, batches=len(index.batches), ballots=index.ballots)

    def _batch_lists(self, pid: str) -> tuple[list[list[dict[str, Any]]], list[int | None]]:
        positions: list[int | None] = []
        lists = [json.loads(raw.payload)["ballots"] for raw in self._stream_batches(pid, positions)]
        return lists, positions

    def _stream_batches(self, pid: str, positions: list[int | None]) -> Iterator[RawBatch]:
        """The box's batches, read from the log one at a time in order, as stored (the payload's
        JSON undecoded, for the process that opens it; no aggregate rebuilt); ``positions``
        receives each batch's log position as it is read."""
        index = self.batch_index(pid)
        sizes = {b["number"]: b["size"] for b in index.batches}
        wanted = {BallotBatch.create_id(pid, b["number"]): b["number"] for b in index.batches}
        if not wanted:
            return
        found = 0
        for n in self.engine.notifications(index.batches[0]["through"] + 1, topics=(BallotBatch.Recorded,)):
            number = wanted.get(n.originator_id)
            if number is None:
                continue
            found += 1
            if number != found:  # batches are numbered in log order: anything else is damage
                raise RuleViolation(f"Batch {number} of the box is out of order in the log.")
            positions.append(n.id)
            yield RawBatch(self.engine.payload_bytes(n), sizes[number])
            if found == len(wanted):
                return
        raise RuleViolation(f"The log holds {found} of the box's {len(wanted)} batches.")

    def opened(self, process_id: str | UUID) -> OpenedBox:
        """Every ballot of a closed box, opened with the released key, with its state. A closed
        box never changes, so it is opened once per engine and kept (receipts look into it).
        Batches stream from the log to the workers that open them."""
        box = self.box(process_id)
        if box.status != CLOSED:
            raise RuleViolation("The box opens only after voting has closed.")

        def open_it() -> OpenedBox:
            expected = self.batch_index(box.process_id).ballots
            positions: list[int | None] = []
            return open_box(box.process_id, box.private_key, self._stream_batches(box.process_id, positions),
                            positions, expected=expected)

        return self.engine.kept(f"voting.opened-box/{box.process_id}", open_it)

    def tally_input(self, process_id: str | UUID) -> list[tuple[str, Any]]:
        """(group, content) of every counted ballot: one per credential, the latest."""
        return self.opened(process_id).tally_input()

    def track(self, process_id: str | UUID, tracking_code: str) -> OpenedBallot:
        """A ballot by its tracking code. After close: its opened content, state (counted or
        replaced) and log position. Before close: found once its batch is in the box, sealed."""
        box = self.box(process_id)
        if box.status == CLOSED:
            found = self.opened(process_id).find(tracking_code)
        else:
            lists, positions = self._batch_lists(box.process_id)
            wanted = crypto.normalise_tracking_code(tracking_code)
            found = next((OpenedBallot(tracking_code=wanted, pseudonym=x["pseudonym"], group=x["group"],
                                       content=None, state="sealed", batch=b + 1, index=i, position=positions[b])
                          for b, ballots in enumerate(lists) for i, x in enumerate(ballots)
                          if crypto.tracking_code(x["sealed"]) == wanted), None)
        if found is None:
            raise NotFound("No ballot with this tracking code in the box"
                           + ("." if box.status == CLOSED else " yet: ballots enter it in batches and at close."))
        return found

    def audit(self, process_id: str | UUID) -> ProcessAudit:
        """The auditor's recount of this process from the log (``opening.audit_process``)."""
        return audit_process(self.engine.records(), process_key(process_id))

    def locate(self, tracking_code: str) -> dict[str, Any] | None:
        """Which box holds the ballot with this tracking code, in which batch, recorded at which
        log position: found without opening anything, in any process, before or after close."""
        wanted = crypto.normalise_tracking_code(tracking_code)
        if len(wanted) < 8:
            return None
        for record in self.engine.records(topics=(BallotBatch.Recorded,)):
            for index, ballot in enumerate(record.payload.get("ballots", ())):
                if crypto.tracking_code(ballot["sealed"]) == wanted:
                    return {"process_id": record.payload["process_id"], "batch": record.payload["number"],
                            "index": index, "position": record.position, "tracking_code": wanted}
        return None

    # -- tie lottery ---------------------------------------------------------------------------
    def reveal_seed(self, process_id: str | UUID) -> bytes:
        """Publish the lottery seed (after close). Returns it."""
        pid = process_key(process_id)
        seed = self._seed(pid)

        def change(box: BallotBox) -> None:
            if box.status != CLOSED:
                raise RuleViolation("The lottery seed is revealed only after voting has closed.")
            if box.seed is None:
                if not lottery.verify_seed(seed, box.seed_commitment):
                    raise RuleViolation("The instance secrets changed since the process was created: "
                                        "the committed lottery seed is lost.")
                box.reveal_seed(seed.hex())

        self.engine.update(box_id(pid), change, cls=BallotBox, what="ballot box")
        return seed

    def draw(self, process_id: str | UUID, ledger_root: bytes, tied: Iterable[str], context: str = "") -> list[str]:
        """Tied options in lottery order (first wins), revealing the seed if not done yet."""
        seed = self.reveal_seed(process_id)
        return lottery.draw(seed, ledger_root, tied, context)
