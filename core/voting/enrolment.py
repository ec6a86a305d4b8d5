"""The roll, the one-time codes and the trade of a code for a ballot credential."""

from __future__ import annotations

import hmac
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import attrs

from core import clock
from core.errors import InvalidInput, NotFound, RuleViolation, TooManyAttempts, Unauthorized
from core.notify import Message
from core.privacy import ERASED
from core.voting import crypto
from core.voting.base import KitBase, process_key
from core.voting.box import OPEN, PREPARED
from core.voting.crypto import BallotCredential
from core.voting.roll import (MAX_FAILURES, RollEntry, VotingClient, client_aggregate_id, entry_aggregate_id,
                              parse_roll_csv)

WRONG_CODE = "The voting code is not valid for this roll entry."
SUBJECT_PREFIX = "voter"


def roll_subject(process_id: str, entry_id: str) -> str:
    """The personal-data subject of a roll entry."""
    return f"{SUBJECT_PREFIX}/{process_id}/{entry_id}"


def contact_kind(contact: str) -> str:
    return "email" if "@" in str(contact) else "phone"
CODE_PLACEHOLDER = "{code}"


@attrs.frozen
class RollImport:
    added: int
    total: int
    groups: dict[str, int]


@attrs.frozen
class Turnout:
    entries: int
    credentials_issued: int
    by_group: dict[str, dict[str, int]]  # group -> {"entries": n, "credentials_issued": m}


class RollAndCodes(KitBase):
    # -- roll ----------------------------------------------------------------------------------
    def import_roll(self, process_id: str | UUID, data: str | bytes) -> RollImport:
        """Add the entries of a roll CSV (see ``parse_roll_csv``). All rows or none: any bad row
        raises ``InvalidInput`` with ``errors=[{"line", "message"}, ...]`` and nothing is saved.
        Allowed until voting opens; entry ids already on the roll are refused."""
        pid = process_key(process_id)

        def add() -> tuple[list[Any], RollImport]:
            if self.box(pid).status != PREPARED:
                raise RuleViolation("The roll is frozen once voting has opened.")
            roll = self.roll(pid)
            rows = parse_roll_csv(data, existing=list(roll.entries))
            with self.engine.privacy.batch():  # keys durable before the events that use them
                entries = [self._new_entry(pid, r) for r in rows]
            roll.add_entries([[r.entry_id, r.group] for r in rows])
            return [roll, *entries], RollImport(added=len(rows), total=len(roll.entries),
                                                groups=dict(Counter(roll.entries.values())))

        return self.engine.transact(add, busy="The roll is busy; please try again.")

    def _new_entry(self, pid: str, row: Any) -> RollEntry:
        privacy = self.engine.privacy
        # the subject names the entry, so that a voter found by their contact is found on the roll
        subject = roll_subject(pid, row.entry_id)
        where = entry_aggregate_id(pid, row.entry_id)
        privacy.remember(subject, contact_kind(row.contact), row.contact)
        return RollEntry(process_id=pid, entry_id=row.entry_id, group=row.group, channel=row.channel,
                         subject=subject, contact=privacy.seal(subject, "contact", row.contact, where=where),
                         name=privacy.seal(subject, "name", row.name, where=where) if row.name else None,
                         language=row.language)

    def entry_for_contact(self, process_id: str | UUID, contact: str) -> str | None:
        """The roll entry whose contact (phone number or e-mail) this is, so that a voter signs in
        with what they know; None when it is on no entry of this process. The lookup goes through
        the key store's index, which erasing the person removes."""
        prefix = roll_subject(process_key(process_id), "")
        for subject in self.engine.privacy.subjects(contact_kind(contact), contact):
            if subject.startswith(prefix):
                return subject[len(prefix):]
        return None

    def contact(self, process_id: str | UUID, entry_id: str) -> str:
        """Where the entry's codes go (opened from its sealed envelope), or ``ERASED``."""
        entry = self.entry(process_id, entry_id)
        return self.engine.privacy.open(entry.contact, where=entry.id)

    def voter_name(self, process_id: str | UUID, entry_id: str) -> str:
        entry = self.entry(process_id, entry_id)
        return "" if entry.name is None else self.engine.privacy.open(entry.name, where=entry.id)

    # -- codes ---------------------------------------------------------------------------------
    def issue_codes(self, process_id: str | UUID, message: str | Mapping[str, str],
                    entry_ids: Iterable[str] | None = None, *, plugin: str = "voting") -> int:
        """Give a fresh one-time code to every entry (or the ones named) that has no usable code
        and no credential yet; hand each to the notification hook. ``message`` contains
        ``{code}``; it may be one text per language (``{"ko": ..., "en": ...}``), each entry
        getting the text of the language the roll gives it (Korean when there is none).
        Returns how many codes went out. Codes are never returned or stored."""
        return self._issue(process_id, message, entry_ids, plugin=plugin, reissue=False)

    def reissue_code(self, process_id: str | UUID, entry_id: str, message: str | Mapping[str, str], *,
                     plugin: str = "voting") -> int:
        """A new code for one entry (lost or locked code); the old one stops working."""
        return self._issue(process_id, message, [entry_id], plugin=plugin, reissue=True)

    def _issue(self, process_id: str | UUID, message: str | Mapping[str, str], entry_ids: Iterable[str] | None, *,
               plugin: str, reissue: bool) -> int:
        pid = process_key(process_id)
        texts = {"ko": message} if isinstance(message, str) else dict(message)
        if "ko" not in texts or any(CODE_PLACEHOLDER not in t for t in texts.values()):
            raise InvalidInput("The message must contain {code} where the code goes, in Korean at least.")
        if self.box(pid).status not in (PREPARED, OPEN):
            raise RuleViolation("Voting is over: no more codes.")
        roll = self.roll(pid)
        wanted = list(roll.entries) if entry_ids is None else list(entry_ids)
        unknown = [e for e in wanted if e not in roll.entries]
        if unknown:
            raise NotFound(f"Not on the roll: {', '.join(unknown[:10])}.")
        key = self._key("code-hash")

        def new_codes() -> tuple[list[Any], int]:
            changed: list[Any] = []
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
                changed.append(entry)
                to = self.engine.privacy.open(entry.contact, where=entry.id)
                if to is ERASED:  # the voter's contact was erased: nowhere to send the code
                    continue
                text = texts.get(getattr(entry, "language", "ko"), texts["ko"])
                # recorded with the code's hash in one transaction, so a code that works always
                # reaches its voter; the outbox seals it and deletes it once delivered
                changed.append(Message(
                    key=f"voting-code/{pid}/{entry.entry_id}/{entry.code_serial}", channel=entry.channel,
                    to=to, text=text.replace(CODE_PLACEHOLDER, code), plugin=plugin, subject=entry.subject))
            return changed, sum(1 for c in changed if isinstance(c, RollEntry))

        return self.engine.transact(new_codes, busy="The roll is busy; please try again.")

    # -- authentication ------------------------------------------------------------------------
    def authenticate(self, process_id: str | UUID, entry_id: str, code: str, client: str) -> BallotCredential:
        """Trade a roll entry's one-time code for a ballot credential (once per entry).

        ``client`` identifies the caller (IP address, session id); it is kept only as a keyed hash.
        Wrong codes count against the entry and the client: the 5th failure locks the code (it
        must be re-issued) and a client with 5 failures in an hour is refused for that hour.
        Errors never contain the code."""
        pid = process_key(process_id)
        if self.box(pid).status != OPEN:
            raise RuleViolation("Voting is not open.")
        client_key = crypto.client_hash(self._key("client-hash"), pid, str(client))
        client_id = client_aggregate_id(pid, client_key)
        code_key = self._key("code-hash")

        def attempt() -> tuple[list[Any], BallotCredential | Exception]:
            """The aggregates to save, and the credential, or the refusal to raise once the
            failure is recorded."""
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
                    return [entry], crypto.new_credential(self._key("credential", pid), pid, entry.group)
            else:
                entry = None
            # a failure: count it against the client, and the entry's code if it has one
            if guard is None:
                guard = VotingClient(process_id=pid, client_key=client_key)
            guard.failed(at=now)
            changed: list[Any] = [guard]
            if entry is not None and entry.code_hash is not None:
                entry.code_failed()
                if entry.failures >= MAX_FAILURES:
                    entry.lock_code()
                    changed.append(entry)
                    return changed, TooManyAttempts(
                        "Wrong code; the code is now locked after 5 wrong attempts. Ask for a new code.")
                changed.append(entry)
            if guard.recent_failures(now) >= MAX_FAILURES:
                return changed, TooManyAttempts("Too many wrong codes from this client; try again in an hour.")
            return changed, Unauthorized(WRONG_CODE)

        outcome = self.engine.transact(attempt, busy="The roll entry is busy; please try again.")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def issue_credential_in_person(self, process_id: str | UUID, entry_id: str, *, by: str) -> BallotCredential:
        """A ballot credential for a voter an official has checked in person (a polling booth, a
        paper ballot to be entered): no code is needed; the roll records who issued it. The
        plugin marks such ballots in their content if its rules say so."""
        pid = process_key(process_id)
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

    def turnout(self, process_id: str | UUID) -> Turnout:
        pid = process_key(process_id)
        roll = self.roll(pid)
        group_of = {entry_aggregate_id(pid, e): g for e, g in roll.entries.items()}
        issued: Counter[str] = Counter()
        for n in self.engine.notifications(1, topics=(RollEntry.CredentialIssued,)):
            if n.originator_id in group_of:
                issued[group_of[n.originator_id]] += 1
        sizes = Counter(roll.entries.values())
        return Turnout(entries=len(roll.entries), credentials_issued=sum(issued.values()),
                       by_group={g: {"entries": sizes[g], "credentials_issued": issued[g]} for g in sorted(sizes)})
