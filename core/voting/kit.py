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
"""

from __future__ import annotations

import hmac
import random
import secrets as stdlib_secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import RecordConflictError
from eventsourcing.utils import get_topic

from core import clock
from core.errors import InvalidInput, NotFound, RuleViolation, TooManyAttempts, Unauthorized
from core.notify import Message
from core.privacy import ERASED
from core.voting import crypto, lottery
from core.voting.box import (CLOSED, OPEN, PREPARED, BallotBatch, BallotBox, BallotDeposit, BatchIndex,
                             batch_index_id, box_id)
from core.voting.crypto import BallotCredential
from core.voting.opening import OpenedBallot, OpenedBox, ProcessAudit, audit_process, open_box
from core.voting.roll import (MAX_FAILURES, RollEntry, VoterRoll, VotingClient, client_aggregate_id,
                              entry_aggregate_id, parse_roll_csv, roll_id)

DEFAULT_BATCH_SIZE = 50
MAX_BALLOTS_PER_BATCH = 1000  # one flush may write several batches: bounded event size
RETRIES = 20
MAX_BALLOT_BYTES = 64 * 1024
WRONG_CODE = "The voting code is not valid for this roll entry."
CODE_PLACEHOLDER = "{code}"

Validator = Callable[[Any, str], Any]
"""A plugin's ballot check: ``validate(content, group) -> content to seal``; raises
``InvalidInput`` for a ballot the process does not accept (e.g. over budget, too many choices)."""

_shuffler = random.SystemRandom()


@attrs.frozen
class RollImport:
    added: int
    total: int
    groups: dict[str, int]


@attrs.frozen
class CastReceipt:
    """What a voter keeps: the tracking code to look the ballot up after close."""

    tracking_code: str
    pseudonym: str


@attrs.frozen
class CloseReport:
    cutoff: int
    batches: int
    ballots: int


@attrs.frozen
class Turnout:
    entries: int
    credentials_issued: int
    by_group: dict[str, dict[str, int]]  # group -> {"entries": n, "credentials_issued": m}


def _pid(process_id: str | UUID) -> str:
    return str(process_id)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))


class VotingKit:
    """The voting kit over one engine. Cheap to construct: make one per request if you like."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    # -- keys ----------------------------------------------------------------------------------
    def _key(self, purpose: str, process_id: str = "") -> bytes:
        return self.engine.secrets.key(f"voting/{purpose}/{process_id}" if process_id else f"voting/{purpose}")

    def _private_key(self, pid: str):
        return crypto.ballot_private_key(self._key("ballot-key", pid))

    def _seed(self, pid: str) -> bytes:
        return self._key("lottery-seed", pid)

    def _save(self, *aggregates: Any) -> list[Any]:
        return self.engine.save(*aggregates)

    # -- process -------------------------------------------------------------------------------
    def prepare(self, process_id: str | UUID, *, allow_revote: bool = False,
                batch_size: int = DEFAULT_BATCH_SIZE) -> tuple[BallotBox, BatchIndex, VoterRoll]:
        """The box, batch index and roll of a new process, unsaved: save them with the plugin's
        own process aggregate in one transaction (``engine.save(process, *kit.prepare(process.id))``)."""
        pid = _pid(process_id)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 0:
            raise InvalidInput("batch_size must be a whole number ≥ 0 (0: one batch at close).")
        box = BallotBox(process_id=pid, public_key=crypto.public_key_text(self._private_key(pid)),
                        suite=crypto.SUITE_NAME, seed_commitment=lottery.commitment(self._seed(pid)),
                        allow_revote=bool(allow_revote), batch_size=batch_size)
        return box, BatchIndex(process_id=pid), VoterRoll(process_id=pid)

    def create(self, process_id: str | UUID, *, allow_revote: bool = False,
               batch_size: int = DEFAULT_BATCH_SIZE) -> BallotBox:
        aggregates = self.prepare(process_id, allow_revote=allow_revote, batch_size=batch_size)
        try:
            self._save(*aggregates)
        except RecordConflictError:
            raise RuleViolation("This process already has a ballot box.") from None
        return aggregates[0]

    def box(self, process_id: str | UUID) -> BallotBox:
        return self.engine.get(box_id(_pid(process_id)), BallotBox, what="ballot box")

    def batch_index(self, process_id: str | UUID) -> BatchIndex:
        return self.engine.get(batch_index_id(_pid(process_id)), BatchIndex, what="ballot box")

    def roll(self, process_id: str | UUID) -> VoterRoll:
        return self.engine.get(roll_id(_pid(process_id)), VoterRoll, what="voter roll")

    def open(self, process_id: str | UUID) -> None:
        """Open voting: codes can be used and ballots cast from now on."""
        pid = _pid(process_id)
        if not self.roll(pid).entries:
            raise RuleViolation("Import the voter roll before opening voting.")

        def change(box: BallotBox) -> None:
            if box.status != PREPARED:
                raise RuleViolation(f"Voting cannot open: the box is {box.status}.")
            box.open()

        self.engine.update(box_id(pid), change, cls=BallotBox, what="ballot box")

    # -- roll ----------------------------------------------------------------------------------
    def import_roll(self, process_id: str | UUID, data: str | bytes) -> RollImport:
        """Add the entries of a roll CSV (see ``parse_roll_csv``). All rows or none: any bad row
        raises ``InvalidInput`` with ``errors=[{"line", "message"}, ...]`` and nothing is saved.
        Allowed until voting opens; entry ids already on the roll are refused."""
        pid = _pid(process_id)
        for attempt in range(RETRIES):
            if self.box(pid).status != PREPARED:
                raise RuleViolation("The roll is frozen once voting has opened.")
            roll = self.roll(pid)
            rows = parse_roll_csv(data, existing=list(roll.entries))
            with self.engine.privacy.batch():  # keys durable before the events that use them
                entries = [self._new_entry(pid, r) for r in rows]
            roll.add_entries([[r.entry_id, r.group] for r in rows])
            try:
                self._save(roll, *entries)
            except RecordConflictError:
                _backoff(attempt)
                continue
            return RollImport(added=len(rows), total=len(roll.entries), groups=dict(Counter(roll.entries.values())))
        raise RuleViolation("The roll is busy; please try again.", title="Busy")

    def _new_entry(self, pid: str, row: Any) -> RollEntry:
        privacy = self.engine.privacy
        subject = privacy.new_subject()
        where = entry_aggregate_id(pid, row.entry_id)
        return RollEntry(process_id=pid, entry_id=row.entry_id, group=row.group, channel=row.channel,
                         subject=subject, contact=privacy.seal(subject, "contact", row.contact, where=where),
                         name=privacy.seal(subject, "name", row.name, where=where) if row.name else None)

    def contact(self, process_id: str | UUID, entry_id: str) -> str:
        """Where the entry's codes go (opened from its sealed envelope), or ``ERASED``."""
        entry = self.entry(process_id, entry_id)
        return self.engine.privacy.open(entry.contact, where=entry.id)

    def voter_name(self, process_id: str | UUID, entry_id: str) -> str:
        entry = self.entry(process_id, entry_id)
        return "" if entry.name is None else self.engine.privacy.open(entry.name, where=entry.id)

    def entry(self, process_id: str | UUID, entry_id: str) -> RollEntry:
        return self.engine.get(entry_aggregate_id(_pid(process_id), entry_id), RollEntry, what="roll entry")

    # -- codes ---------------------------------------------------------------------------------
    def issue_codes(self, process_id: str | UUID, message: str, entry_ids: Iterable[str] | None = None,
                    *, plugin: str = "voting") -> int:
        """Give a fresh one-time code to every entry (or the ones named) that has no usable code
        and no credential yet; hand each to the notification hook. ``message`` contains
        ``{code}``. Returns how many codes went out. Codes are never returned or stored."""
        return self._issue(process_id, message, entry_ids, plugin=plugin, reissue=False)

    def reissue_code(self, process_id: str | UUID, entry_id: str, message: str, *, plugin: str = "voting") -> int:
        """A new code for one entry (lost or locked code); the old one stops working."""
        return self._issue(process_id, message, [entry_id], plugin=plugin, reissue=True)

    def _issue(self, process_id: str | UUID, message: str, entry_ids: Iterable[str] | None, *,
               plugin: str, reissue: bool) -> int:
        pid = _pid(process_id)
        if CODE_PLACEHOLDER not in message:
            raise InvalidInput("The message must contain {code} where the code goes.")
        if self.box(pid).status not in (PREPARED, OPEN):
            raise RuleViolation("Voting is over: no more codes.")
        roll = self.roll(pid)
        wanted = list(roll.entries) if entry_ids is None else list(entry_ids)
        unknown = [e for e in wanted if e not in roll.entries]
        if unknown:
            raise NotFound(f"Not on the roll: {', '.join(unknown[:10])}.")
        key = self._key("code-hash")
        for attempt in range(RETRIES):
            outgoing: list[tuple[RollEntry, str]] = []
            for entry_id in wanted:
                entry = self.entry(pid, entry_id)
                if entry.credential_issued:
                    if entry_ids is not None and reissue:
                        raise RuleViolation(f"Entry {entry_id} already received its ballot credential.")
                    continue
                if entry.code_usable and not reissue:
                    continue
                code = crypto.new_code()
                entry.issue_code(code_hash=crypto.code_hash(key, pid, entry_id, code), serial=entry.code_serial + 1)
                outgoing.append((entry, code))
            try:
                self._save(*(e for e, _ in outgoing))
            except RecordConflictError:
                _backoff(attempt)
                continue
            # saved first: a code that fails to go out can be re-issued; the reverse would hand
            # people codes that do not work
            for entry, code in outgoing:
                to = self.engine.privacy.open(entry.contact, where=entry.id)
                if to is ERASED:  # the voter's contact was erased: nowhere to send the code
                    continue
                self.engine.send_notification(Message(
                    key=f"voting-code/{pid}/{entry.entry_id}/{entry.code_serial}", channel=entry.channel,
                    to=to, text=message.replace(CODE_PLACEHOLDER, code), plugin=plugin))
            return len(outgoing)
        raise RuleViolation("The roll is busy; please try again.", title="Busy")

    # -- authentication ------------------------------------------------------------------------
    def authenticate(self, process_id: str | UUID, entry_id: str, code: str, client: str) -> BallotCredential:
        """Trade a roll entry's one-time code for a ballot credential (once per entry).

        ``client`` identifies the caller (IP address, session id); it is kept only as a keyed hash.
        Wrong codes count against the entry and the client: the 5th failure locks the code (it
        must be re-issued) and a client with 5 failures in an hour is refused for that hour.
        Errors never contain the code."""
        pid = _pid(process_id)
        if self.box(pid).status != OPEN:
            raise RuleViolation("Voting is not open.")
        client_key = crypto.client_hash(self._key("client-hash"), pid, str(client))
        client_id = client_aggregate_id(pid, client_key)
        code_key = self._key("code-hash")
        for attempt in range(RETRIES):
            now = clock.now()
            guard = self.engine.get(client_id, VotingClient) if self.engine.exists(client_id) else None
            if guard is not None and guard.recent_failures(now) >= MAX_FAILURES:
                raise TooManyAttempts("Too many wrong codes from this client; try again in an hour.")
            entry_agg = entry_aggregate_id(pid, str(entry_id))
            entry = self.engine.get(entry_agg, RollEntry) if self.engine.exists(entry_agg) else None
            if entry is not None and entry.process_id == pid:
                if entry.credential_issued:
                    raise RuleViolation("A ballot credential was already issued for this roll entry.")
                if entry.locked:
                    raise TooManyAttempts("This code is locked after 5 wrong attempts; ask for a new code.")
                if entry.code_hash is not None and hmac.compare_digest(
                        entry.code_hash, crypto.code_hash(code_key, pid, entry.entry_id, code)):
                    entry.credential_given()
                    try:
                        self._save(entry)
                    except RecordConflictError:
                        _backoff(attempt)
                        continue
                    return crypto.new_credential(self._key("credential", pid), pid, entry.group)
            else:
                entry = None
            # a failure: count it against the client, and the entry's code if it has one
            if guard is None:
                guard = VotingClient(process_id=pid, client_key=client_key)
            guard.failed(at=now)
            changed: list[Any] = [guard]
            locked = False
            if entry is not None and entry.code_hash is not None:
                entry.code_failed()
                if entry.failures >= MAX_FAILURES:
                    entry.lock_code()
                    locked = True
                changed.append(entry)
            try:
                self._save(*changed)
            except RecordConflictError:
                _backoff(attempt)
                continue
            if locked:
                raise TooManyAttempts("Wrong code; the code is now locked after 5 wrong attempts. Ask for a new code.")
            if guard.recent_failures(now) >= MAX_FAILURES:
                raise TooManyAttempts("Too many wrong codes from this client; try again in an hour.")
            raise Unauthorized(WRONG_CODE)
        raise RuleViolation("The roll entry is busy; please try again.", title="Busy")

    def issue_credential_in_person(self, process_id: str | UUID, entry_id: str, *, by: str) -> BallotCredential:
        """A ballot credential for a voter an official has checked in person (a polling booth, a
        paper ballot to be entered): no code is needed; the roll records who issued it. The
        plugin marks such ballots in their content if its rules say so."""
        pid = _pid(process_id)
        if not str(by).strip():
            raise InvalidInput("Name the official who checked the voter.")
        if self.box(pid).status != OPEN:
            raise RuleViolation("Voting is not open.")

        def change(entry: RollEntry) -> None:
            if entry.credential_issued:
                raise RuleViolation("A ballot credential was already issued for this roll entry.")
            entry.credential_given(method="in-person", by=str(by).strip())

        self.engine.update(entry_aggregate_id(pid, str(entry_id)), change, cls=RollEntry, what="roll entry")
        return crypto.new_credential(self._key("credential", pid), pid, self.entry(pid, entry_id).group)

    # -- casting -------------------------------------------------------------------------------
    def cast(self, process_id: str | UUID, credential: str | BallotCredential, content: Any,
             validate: Validator | None = None) -> CastReceipt:
        """Seal ``content`` (after the plugin's ``validate(content, group)``) to the process key and
        deposit it under the credential's pseudonym. Where the process allows revoting, a later
        cast with the same credential replaces this one; otherwise it is refused.

        Returns once the ballot is durably in the log: it will be in the box at close."""
        pid = _pid(process_id)
        token = credential.token if isinstance(credential, BallotCredential) else str(credential)
        box = self.box(pid)
        if box.status != OPEN:
            raise RuleViolation("Voting is not open.")
        parsed = crypto.read_credential(self._key("credential", pid), pid, token)
        if parsed is None:
            raise Unauthorized("This is not a ballot credential of this process.")
        nonce, group = parsed
        if validate is not None:
            content = validate(content, group)
        try:
            size = len(crypto.canonical(content))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"A ballot's content must be plain JSON: {exc}") from None
        if size > MAX_BALLOT_BYTES:
            raise InvalidInput(f"A ballot may hold at most {MAX_BALLOT_BYTES} bytes of JSON.")
        name = crypto.pseudonym(pid, nonce)
        sealed = crypto.seal(box.public_key, pid, name, group, content)
        pool_key = self._key("deposit-key", pid)
        blob = crypto.wrap_deposit(pool_key, pid, {"pseudonym": name, "group": group, "sealed": sealed})
        slot = stdlib_secrets.token_hex(16) if box.allow_revote else crypto.deposit_slot(pool_key, pid, name)
        try:
            recordings = self._save(BallotDeposit(deposit_key=slot, process_id=pid, blob=blob))
        except RecordConflictError:
            raise RuleViolation("A ballot was already cast with this credential, and this process does "
                                "not allow voting again.") from None
        position = recordings[-1].notification.id
        box = self.box(pid)
        if box.status != OPEN:
            closing = self._closing_position(box)
            if closing is not None and position > closing:
                raise RuleViolation("Voting closed before this ballot was recorded; it is not counted.")
        elif box.batch_size and _shuffler.randrange(box.batch_size) == 0:
            # about one cast in batch_size tries to flush (it writes only when the pool is full):
            # the pool stays bounded without a scheduler, and casting stays cheap
            self.flush(pid)
        return CastReceipt(tracking_code=crypto.tracking_code(sealed), pseudonym=name)

    # -- batches -------------------------------------------------------------------------------
    def _pending(self, pid: str, after: int, upto: int) -> list[tuple[int, dict[str, Any]]]:
        if upto <= after:
            return []
        key = self._key("deposit-key", pid)
        found = []
        for n in self.engine.notifications(after + 1, upto, topics=(get_topic(BallotDeposit.Deposited),)):
            payload = self.engine.decode_payload(n)
            if payload.get("process_id") == pid:
                found.append((n.id, crypto.unwrap_deposit(key, pid, payload["blob"])))
        return found

    def _batches(self, index: BatchIndex, pending: list[tuple[int, dict[str, Any]]], through: int) -> list[BallotBatch]:
        last_position: dict[str, int] = {}
        for position, item in pending:
            last_position[item["pseudonym"]] = position
        ballots = [{"pseudonym": item["pseudonym"], "group": item["group"], "sealed": item["sealed"],
                    "superseded": last_position[item["pseudonym"]] != position} for position, item in pending]
        _shuffler.shuffle(ballots)
        made = []
        for start in range(0, len(ballots), MAX_BALLOTS_PER_BATCH):
            chunk = ballots[start:start + MAX_BALLOTS_PER_BATCH]
            number = len(index.batches) + 1
            made.append(BallotBatch(process_id=index.process_id, number=number, through=through, ballots=chunk))
            index.record_batch(number=number, through=through, size=len(chunk))
        return made

    def pending_count(self, process_id: str | UUID) -> int:
        """Deposits not yet in a batch."""
        pid = _pid(process_id)
        return len(self._pending(pid, self.batch_index(pid).through, self.engine.position))

    def flush(self, process_id: str | UUID, *, minimum: int | None = None) -> int:
        """Move pending deposits into the box as shuffled batches; returns how many moved.

        By default (what ``tick`` and casts do) it waits for two batches' worth and moves all but
        the newest ``batch_size`` deposits, so that the pool always keeps enough back for the
        final batch at close: every batch then holds at least ``batch_size`` ballots. With
        ``minimum`` it moves every pending deposit if at least that many wait."""
        pid = _pid(process_id)
        for attempt in range(RETRIES):
            # the bound is read before the box: if the box is still open then, the Closing event
            # (if any) comes after the bound, so no deposit refused at close gets into a batch
            through = self.engine.position
            box = self.box(pid)
            if box.status != OPEN or (minimum is None and not box.batch_size):
                return 0
            index = self.batch_index(pid)
            pending = self._pending(pid, index.through, through)
            if minimum is None:
                if len(pending) < 2 * box.batch_size:
                    return 0
                pending = pending[:len(pending) - box.batch_size]
                through = pending[-1][0]
            elif not pending or len(pending) < minimum:
                return 0
            batches = self._batches(index, pending, through)
            try:
                self._save(index, *batches)
            except RecordConflictError:
                _backoff(attempt)
                continue
            return len(pending)
        return 0  # others are flushing: their batches hold these deposits

    def open_processes(self) -> list[str]:
        """Ids of the processes whose voting is open."""
        status: dict[str, str] = {}
        topics = tuple(get_topic(t) for t in (BallotBox.Created, BallotBox.Opened, BallotBox.Closing))
        names: dict[Any, str] = {}
        for n in self.engine.notifications(1, topics=topics):
            if n.topic == topics[0]:
                names[n.originator_id] = self.engine.decode_payload(n)["process_id"]
            if n.originator_id in names:
                status[names[n.originator_id]] = n.topic
        return [pid for pid, topic in status.items() if topic == topics[1]]

    def tick(self) -> list[str]:
        """Flush every open box whose pending pool holds two batches' worth. Voting plugins call
        this from their ``civic_tick`` hook (calling it twice is harmless)."""
        lines = []
        for pid in self.open_processes():
            moved = self.flush(pid)
            if moved:
                lines.append(f"voting {pid}: {moved} ballots moved into the box")
        return lines

    # -- close and open ------------------------------------------------------------------------
    def _closing_position(self, box: BallotBox) -> int | None:
        for n in self.engine.notifications(1, topics=(get_topic(BallotBox.Closing),)):
            if n.originator_id == box.id:
                return n.id
        return None

    def close(self, process_id: str | UUID) -> CloseReport:
        """Close voting: refuse new ballots, move every deposit logged before the Closing event
        into the box, and release the private key into the log. Closing twice is harmless."""
        pid = _pid(process_id)
        for attempt in range(RETRIES):
            box = self.box(pid)
            if box.status in (PREPARED, OPEN):
                box.begin_closing()
                try:
                    self._save(box)
                except RecordConflictError:
                    _backoff(attempt)
                continue
            index = self.batch_index(pid)
            if box.status == CLOSED:
                return CloseReport(cutoff=box.cutoff, batches=len(index.batches), ballots=index.ballots)
            cutoff = self._closing_position(box)
            pending = self._pending(pid, index.through, cutoff - 1)
            batches = self._batches(index, pending, cutoff - 1) if pending else []
            box.close(cutoff=cutoff, private_key=crypto.private_key_text(self._private_key(pid)))
            try:
                self._save(box, index, *batches)
            except RecordConflictError:
                _backoff(attempt)
                continue
        box, index = self.box(pid), self.batch_index(pid)
        if box.status != CLOSED:
            raise RuleViolation("The ballot box is busy; please try closing again.", title="Busy")
        return CloseReport(cutoff=box.cutoff, batches=len(index.batches), ballots=index.ballots)

    def _batch_lists(self, pid: str) -> tuple[list[list[dict[str, Any]]], list[int | None]]:
        index = self.batch_index(pid)
        ids = [BallotBatch.create_id(pid, b["number"]) for b in index.batches]
        if not ids:
            return [], []
        lists = [self.engine.get(i, BallotBatch).ballots for i in ids]
        where: dict[Any, int | None] = dict.fromkeys(ids)
        for n in self.engine.notifications(index.batches[0]["through"] + 1, topics=(get_topic(BallotBatch.Recorded),)):
            if n.originator_id in where:
                where[n.originator_id] = n.id
        return lists, [where[i] for i in ids]

    def opened(self, process_id: str | UUID) -> OpenedBox:
        """Every ballot of a closed box, opened with the released key, with its state."""
        box = self.box(process_id)
        if box.status != CLOSED:
            raise RuleViolation("The box opens only after voting has closed.")
        lists, positions = self._batch_lists(box.process_id)
        return open_box(box.process_id, box.private_key, lists, positions)

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

    # -- turnout and audit ---------------------------------------------------------------------
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

    def turnout(self, process_id: str | UUID) -> Turnout:
        pid = _pid(process_id)
        roll = self.roll(pid)
        group_of = {entry_aggregate_id(pid, e): g for e, g in roll.entries.items()}
        issued: Counter[str] = Counter()
        for n in self.engine.notifications(1, topics=(get_topic(RollEntry.CredentialIssued),)):
            if n.originator_id in group_of:
                issued[group_of[n.originator_id]] += 1
        sizes = Counter(roll.entries.values())
        return Turnout(entries=len(roll.entries), credentials_issued=sum(issued.values()),
                       by_group={g: {"entries": sizes[g], "credentials_issued": issued[g]} for g in sorted(sizes)})

    def audit(self, process_id: str | UUID) -> ProcessAudit:
        """The auditor's recount of this process from the log (``opening.audit_process``)."""
        return audit_process(self.engine.records(), _pid(process_id))

    # -- tie lottery ---------------------------------------------------------------------------
    def reveal_seed(self, process_id: str | UUID) -> bytes:
        """Publish the lottery seed (after close). Returns it."""
        pid = _pid(process_id)
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
