"""Aggregates of apartment elections: the complex and its roll, the election with its contests
and results, and the roll frozen when voting opens. Codes, credentials and ballots live in the
core voting kit's aggregates (the election's id is the kit's process id).

Every command checks first and raises a ``core.errors`` error before any event is triggered, so
a refused command changes nothing. Event arguments are plain JSON values (times as ISO-8601 UTC
strings) so that the fold (``fold``) reads them from an exported log without the classes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from core import CivicAggregate, InvalidInput, RuleViolation, event, natural_id, seoul_text
from plugins.apartment_vote import rules

# the plugin's name, on the messages it sends and the audit report it gives
PLUGIN = "apartment_vote"
DRAFT, OPEN, CLOSED = "draft", "open", "closed"


def iso(when: datetime) -> str:
    if when.tzinfo is None:
        raise InvalidInput("Times must carry a time zone.")
    return when.astimezone(timezone.utc).isoformat()


def seoul_time_text(when: str | datetime) -> str:
    """A stored UTC time as the district reads it, in the (English) words of an error."""
    return f"{seoul_text(when, 'en')} Seoul time"


def parse_time(value: str | datetime, field: str = "time") -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{field} is not an ISO-8601 time: {value!r}.", field=field) from None
    if when.tzinfo is None:
        raise InvalidInput(f"{field} must carry a time zone (e.g. +09:00).", field=field)
    return when.astimezone(timezone.utc)


def complex_id(code: str) -> UUID:
    return natural_id("apartment.complex", code)


def roll_id(election_id: UUID | str) -> UUID:
    return natural_id("apartment.roll", election_id)


class Complex(CivicAggregate):
    """An apartment complex (단지): buildings (동) and households (호), with the residents' roll.

    Contacts are stored sealed (see ``service.seal_contact``): the log never holds a phone
    number in clear."""

    @event("Registered")
    def __init__(self, code: str, name: str) -> None:
        self.code = code
        self.name = name
        self.households: dict[str, str] = {}
        self.contacts: dict[str, str] = {}
        self.languages: dict[str, str] = {}  # households whose texts are not in Korean
        self.imports = 0

    @classmethod
    def create_id(cls, code: str, **_: Any) -> UUID:  # noqa: D102 - eventsourcing hook
        return complex_id(code)

    @classmethod
    def register(cls, code: str, name: str) -> Complex:
        code, name = (code or "").strip(), (name or "").strip()
        if not code or len(code) > 40 or not all(ch.isalnum() or ch in "-_." for ch in code):
            raise InvalidInput("A complex code is 1-40 letters, digits, '-', '_' or '.'.", field="code")
        if not name:
            raise InvalidInput("A complex needs a name.", field="name")
        return cls(code=code, name=name)

    @property
    def buildings(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for building in self.households.values():
            counts[building] = counts.get(building, 0) + 1
        return {b: counts[b] for b in sorted(counts)}

    def import_roll(self, households: dict[str, str], contacts: dict[str, str], replace: bool,
                    languages: dict[str, str] | None = None) -> None:
        if not households:
            raise InvalidInput("The roll file holds no household.")
        self._roll_imported(households=households, contacts=contacts, replace=replace, languages=languages or {})

    # ``languages`` (household -> language of its texts, Korean when absent) came later: events
    # recorded before it have none
    @event("RollImported")
    def _roll_imported(self, households: dict[str, str], contacts: dict[str, str], replace: bool,
                       languages: dict[str, str] | None = None) -> None:
        if replace:
            self.households, self.contacts, self.languages = {}, {}, {}
        self.households.update(households)
        self.contacts.update(contacts)
        for household in households:
            self.languages.pop(household, None)
        self.languages.update(languages or {})
        self.imports += 1


class Election(CivicAggregate):
    """One voting event of a complex, holding its contests; one ballot per household per contest."""

    @event("Created")
    def __init__(self, complex_id: str, complex_code: str, title: str, opens_at: str, closes_at: str,
                 registration_deadline: str) -> None:
        self.complex_id = complex_id
        self.complex_code = complex_code
        self.title = title
        self.opens_at = opens_at
        self.closes_at = closes_at
        self.registration_deadline = registration_deadline
        self.contests: dict[str, dict[str, Any]] = {}
        self.status = DRAFT
        self.households = 0
        self.results: dict[str, dict[str, Any]] = {}

    @classmethod
    def schedule(cls, complex_: Complex, title: str, opens_at: datetime, closes_at: datetime,
                 registration_deadline: datetime, now: datetime) -> Election:
        title = (title or "").strip()
        if not title:
            raise InvalidInput("An election needs a title.", field="title")
        if not closes_at > opens_at:
            raise InvalidInput("Voting must close after it opens.", field="closes_at")
        if registration_deadline > opens_at:
            raise InvalidInput("Candidate registration must end before voting opens.",
                               field="registration_deadline")
        if opens_at <= now:
            raise InvalidInput("Voting must open in the future.", field="opens_at")
        return cls(complex_id=str(complex_.id), complex_code=complex_.code, title=title,
                   opens_at=iso(opens_at), closes_at=iso(closes_at),
                   registration_deadline=iso(registration_deadline))

    # -- reading ---------------------------------------------------------------------------
    def contest(self, contest_id: str) -> dict[str, Any]:
        try:
            return self.contests[contest_id]
        except KeyError:
            raise InvalidInput(f"No contest {contest_id!r} in this election.", field="contest") from None

    def contest_spec(self, contest_id: str) -> rules.Contest:
        return rules.Contest.from_json(contest_id, self.contest(contest_id))

    def contests_for(self, building: str) -> list[str]:
        """The contests a household of ``building`` votes in."""
        return [cid for cid, c in self.contests.items() if c["building"] in (None, building)]

    def _require_draft(self, what: str) -> None:
        if self.status != DRAFT:
            raise RuleViolation(f"{what} only before voting opens; the election is {self.status}.")

    # -- administration before voting ------------------------------------------------------
    def add_contest(self, kind: str, title: str, building: str | None, seats: int | None,
                    known_buildings: dict[str, int]) -> str:
        self._require_draft("Contests can be added")
        title = (title or "").strip()
        if not title:
            raise InvalidInput("A contest needs a title.", field="title")
        ruleset = rules.default_rules(kind, seats)
        if kind == "building_representative":
            if not building:
                raise InvalidInput("A building representative is elected by one building: give it.",
                                   field="building")
            if building not in known_buildings:
                raise InvalidInput(f"Building {building!r} is not on the complex's roll.", field="building")
            if any(c["kind"] == kind and c["building"] == building for c in self.contests.values()):
                raise RuleViolation(f"Building {building} already has a representative contest.")
        elif building:
            raise InvalidInput(f"A {kind} contest is complex-wide; no building.", field="building")
        if kind in ("chair", "building_representative", "agenda") and seats not in (None, 1):
            raise InvalidInput(f"A {kind} contest has one seat.", field="seats")
        contest_id = f"c{len(self.contests) + 1}"
        self._contest_added(contest_id=contest_id, kind=kind, title=title, building=building or None,
                            rules=ruleset.to_json())
        return contest_id

    @event("ContestAdded")
    def _contest_added(self, contest_id: str, kind: str, title: str, building: str | None,
                       rules: dict[str, Any]) -> None:
        self.contests[contest_id] = {"kind": kind, "title": title, "building": building, "rules": rules,
                                     "candidates": {}}

    def change_rules(self, contest_id: str, changes: dict[str, Any], note: str, by: str) -> dict[str, Any]:
        self._require_draft("Rules can be changed")
        current = self.contest(contest_id)
        if current["kind"] in ("chair", "building_representative", "agenda") and changes.get("seats", 1) != 1:
            raise InvalidInput(f"A {current['kind']} contest has one seat.", field="seats")
        merged = {**current["rules"], **changes}
        ruleset = rules.RuleSet.from_json(merged)  # validates
        if ruleset.to_json() == current["rules"]:
            raise InvalidInput("These are already the contest's rules.")
        if not (note or "").strip():
            raise InvalidInput("Say why the rules change (e.g. the bylaw article).", field="note")
        self._rules_changed(contest_id=contest_id, rules=ruleset.to_json(), note=note.strip(), by=by)
        return ruleset.to_json()

    @event("RulesChanged")
    def _rules_changed(self, contest_id: str, rules: dict[str, Any], note: str, by: str) -> None:
        self.contests[contest_id]["rules"] = rules

    def register_candidate(self, contest_id: str, name: str, statement: str, now: datetime,
                           household: str | None = None) -> str:
        contest = self.contest(contest_id)
        if contest["kind"] == "agenda":
            raise InvalidInput("An agenda decision has no candidates.", field="contest")
        self._require_draft("Candidates register")
        if now > parse_time(self.registration_deadline):
            raise RuleViolation(f"Candidate registration closed at {self.registration_deadline}.")
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput("A candidate needs a name (at most 100 characters).", field="name")
        live = [c for c in contest["candidates"].values() if not c.get("withdrawn")]
        if any(c["name"] == name for c in live):
            raise RuleViolation(f"{name} is already a candidate in this contest.")
        candidate_id = f"{contest_id}-k{len(contest['candidates']) + 1}"
        self._candidate_registered(contest_id=contest_id, candidate_id=candidate_id, name=name,
                                   statement=(statement or "").strip(), household=household)
        return candidate_id

    @event("CandidateRegistered")
    def _candidate_registered(self, contest_id: str, candidate_id: str, name: str, statement: str,
                              household: str | None) -> None:
        self.contests[contest_id]["candidates"][candidate_id] = {"name": name, "statement": statement,
                                                                 "household": household}

    def withdraw_candidate(self, contest_id: str, candidate_id: str) -> None:
        self._require_draft("Candidates withdraw")
        contest = self.contest(contest_id)
        if candidate_id not in contest["candidates"] or contest["candidates"][candidate_id].get("withdrawn"):
            raise InvalidInput(f"No candidate {candidate_id!r} in contest {contest_id}.", field="candidate")
        self._candidate_withdrawn(contest_id=contest_id, candidate_id=candidate_id)

    @event("CandidateWithdrawn")
    def _candidate_withdrawn(self, contest_id: str, candidate_id: str) -> None:
        self.contests[contest_id]["candidates"][candidate_id]["withdrawn"] = True

    # -- voting ----------------------------------------------------------------------------
    def open(self, complex_: Complex, now: datetime) -> ElectionRoll:
        """Freeze the roll and open voting. Returns the roll aggregate to save with this one."""
        if self.status != DRAFT:
            raise RuleViolation(f"The election is already {self.status}.")
        if now < parse_time(self.opens_at):
            raise RuleViolation(f"Voting opens at {seoul_time_text(self.opens_at)}, not before.")
        if now >= parse_time(self.closes_at):
            raise RuleViolation(f"Voting was to close at {seoul_time_text(self.closes_at)}; schedule a new election.")
        if not self.contests:
            raise RuleViolation("An election without contests cannot open.")
        if not complex_.households:
            raise RuleViolation("The complex's roll is empty; import it first.")
        for cid, c in self.contests.items():
            if c["building"] is not None and c["building"] not in complex_.buildings:
                raise RuleViolation(f"Contest {cid}'s building {c['building']} has left the roll.")
        roll = ElectionRoll(election_id=str(self.id), households=dict(complex_.households))
        self._opened(households=len(complex_.households), at=iso(now))
        return roll

    @event("Opened")
    def _opened(self, households: int, at: str) -> None:
        self.status = OPEN
        self.households = households

    def check_voting(self, now: datetime) -> None:
        """Refuse a ballot outside the voting window."""
        if self.status == DRAFT or now < parse_time(self.opens_at):
            raise RuleViolation(f"Voting has not opened; it opens at {seoul_time_text(self.opens_at)}.", title="Voting not open")
        if self.status == CLOSED or now >= parse_time(self.closes_at):
            raise RuleViolation(f"Voting closed at {seoul_time_text(self.closes_at)}.", title="Voting closed")

    def close(self, now: datetime) -> None:
        if self.status == CLOSED:
            raise RuleViolation("The election is already closed.")
        if self.status != OPEN:
            raise RuleViolation("The election never opened.")
        if now < parse_time(self.closes_at):
            raise RuleViolation(f"Voting closes at {seoul_time_text(self.closes_at)}, not before.")
        self._closed(at=iso(now))

    @event("Closed")
    def _closed(self, at: str) -> None:
        self.status = CLOSED

    def record_results(self, results: dict[str, dict[str, Any]], ballots_up_to: int,
                       lottery: dict[str, Any]) -> None:
        """One event per contest. ``ballots_up_to``: the log position of the ballot box's close
        (every ballot before it counts, none after); ``lottery``: the public inputs of the tie
        draw (seed revealed by the box, ledger root)."""
        if self.status != CLOSED:
            raise RuleViolation("Results are recorded once voting has closed.")
        if self.results:
            raise RuleViolation("The results are already recorded.")
        for contest_id in self.contests:
            self._result_recorded(contest_id=contest_id, result=results[contest_id], ballots_up_to=ballots_up_to,
                                  lottery=lottery)

    @event("ResultRecorded")
    def _result_recorded(self, contest_id: str, result: dict[str, Any], ballots_up_to: int,
                         lottery: dict[str, Any]) -> None:
        self.results[contest_id] = result
        self.ballots_up_to = ballots_up_to
        self.lottery = lottery


class ElectionRoll(CivicAggregate):
    """The roll as it stood when voting opened: household → building. Kept apart from the
    election so that checking a ballot never loads thousands of households."""

    @event("Frozen")
    def __init__(self, election_id: str, households: dict[str, str]) -> None:
        self.election_id = election_id
        self.households = households

    @classmethod
    def create_id(cls, election_id: str, **_: Any) -> UUID:  # noqa: D102 - eventsourcing hook
        return roll_id(election_id)

