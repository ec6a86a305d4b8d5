"""The commands of apartment elections, shared by the HTTP API, the CLI, the demo and the
benchmark. Each one checks before it saves: a refused command changes nothing.

Voting itself (roll entries, one-time codes, ballot credentials, the sealed ballot box, tracking
codes, the tie lottery) goes through the core voting kit (``core.voting.VotingKit``); this module
decides what a ballot holds (``{contest_id: [choices]}`` for the contests of the household's
building), validates it, and computes the results at close with ``rules.py`` via ``replay``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from uuid import UUID


from core import utc_now, seoul_time
from core import InvalidInput, NotFound, RuleViolation
from core import ERASED
from plugins.apartment_vote import audit, replay, rules
from plugins.apartment_vote.domain import (CLOSED, DRAFT, OPEN, Complex, Election, ElectionRoll, complex_id,
                                           parse_time, roll_id)

PLUGIN = "apartment_vote"
ROLL_COLUMNS = ("household", "building", "contact")
PHONE = re.compile(r"^\+?[0-9]{8,15}$")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
# Ballots enter the sealed box in shuffled batches of this many (smaller: earlier tracking;
# larger: more mixing). The rest enter at close.
BALLOT_BATCH = 50
CODE_MESSAGE = ("[{complex}] {title}: your household's voting code is {code}. "
                "Vote online until {closes} (Seoul time).")


def kit(engine: Any) -> Any:
    """The core voting kit over this engine."""
    from core.voting import VotingKit

    return VotingKit(engine)


# -- personal data ---------------------------------------------------------------------------

def seal_contact(engine: Any, where: UUID, household: str, contact: str) -> dict[str, str]:
    """A household's phone or e-mail sealed for the log (``core.privacy``), one subject per
    household of the complex, so that forgetting a household erases its contact everywhere."""
    return engine.privacy.seal(f"apartment-household:{where}:{household}", "contact", contact, where=where)


def open_contact(engine: Any, where: UUID, value: Any) -> Any:
    return engine.privacy.open(value, where=where)


# -- the roll file ---------------------------------------------------------------------------

def normalise_contact(raw: str) -> str | None:
    text = raw.strip()
    if "@" in text:
        return text.lower() if EMAIL.match(text) else None
    digits = re.sub(r"[\s\-().]", "", text)
    return digits if PHONE.match(digits) else None


def parse_roll(data: str | bytes) -> tuple[dict[str, str], dict[str, str]]:
    """``household,building,contact`` rows → (household → building, household → contact).
    All rows or none: every bad row is listed with its line number."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InvalidInput("The roll file is empty.") from None
    except csv.Error as exc:
        raise InvalidInput(f"The roll file is not valid CSV: {exc}.") from None
    if sorted(header) != sorted(ROLL_COLUMNS):
        raise InvalidInput(f"line 1: the columns must be {', '.join(ROLL_COLUMNS)} (any order); found "
                           f"{', '.join(header) or 'none'}.", errors=[{"line": 1, "message": "bad header"}])
    households: dict[str, str] = {}
    contacts: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.append({"line": line, "message": f"{len(fields)} fields, the header has {len(header)}"})
                continue
            row = {h: f.strip() for h, f in zip(header, fields)}
            household, building = row["household"], row["building"]
            contact = normalise_contact(row["contact"])
            if not household or not building:
                problems.append({"line": line, "message": "household and building are required"})
            elif len(household) > 40 or len(building) > 40:
                problems.append({"line": line, "message": "household or building longer than 40 characters"})
            elif household in households:
                problems.append({"line": line, "message": f"household {household!r} appears twice"})
            elif contact is None:
                problems.append({"line": line, "message": "contact is neither a phone number nor an e-mail address"})
            else:
                households[household] = building
                contacts[household] = contact
    except csv.Error as exc:
        problems.append({"line": reader.line_num, "message": f"not valid CSV: {exc}"})
    if problems:
        listed = "; ".join(f"line {p['line']}: {p['message']}" for p in problems[:20])
        raise InvalidInput(f"{len(problems)} bad row(s), nothing imported: {listed}", errors=problems)
    if not households:
        raise InvalidInput("The roll file has no household.")
    return households, contacts


def roll_csv(households: dict[str, str], contacts: dict[str, str]) -> str:
    """The kit's roll file for an election: one entry per household, its building as the group."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["entry_id", "group", "contact"])
    for household in sorted(households):
        writer.writerow([household, households[household], contacts[household]])
    return out.getvalue()


# -- the complex -----------------------------------------------------------------------------

def get_complex(engine: Any, code: str) -> Complex:
    return engine.get(complex_id(code), Complex, what="complex")


def complex_summary(complex_: Complex) -> dict[str, Any]:
    return {"id": str(complex_.id), "code": complex_.code, "name": complex_.name,
            "households": len(complex_.households), "buildings": complex_.buildings}


def register_complex(engine: Any, code: str, name: str) -> dict[str, Any]:
    complex_ = Complex.register(code, name)
    engine.create(complex_, what="complex")
    return complex_summary(complex_)


def import_roll(engine: Any, code: str, data: str | bytes, *, replace: bool = False) -> dict[str, Any]:
    households, contacts = parse_roll(data)
    where = complex_id(code)

    def change(complex_: Complex) -> dict[str, Any]:
        if not replace:
            again = sorted(set(households) & set(complex_.households))
            if again:
                raise InvalidInput(f"Already on the roll: {', '.join(again[:10])}; use replace to load a new roll.")
        with engine.privacy.batch():  # keys durable before the events that hold the envelopes
            sealed = {h: seal_contact(engine, where, h, c) for h, c in contacts.items()}
        complex_.import_roll(households, sealed, replace)
        return {**complex_summary(complex_), "imported": len(households)}

    return engine.update(where, change, cls=Complex, what="complex")


# -- elections -------------------------------------------------------------------------------

def get_election(engine: Any, election_id: UUID | str) -> Election:
    return engine.get(_uuid(election_id), Election, what="election")


def _uuid(value: UUID | str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"No election with id {value!r}.") from None


def schedule_election(engine: Any, code: str, title: str, opens_at: str | datetime, closes_at: str | datetime,
                      registration_deadline: str | datetime) -> dict[str, Any]:
    complex_ = get_complex(engine, code)
    election = Election.schedule(complex_, title, parse_time(opens_at, "opens_at"), parse_time(closes_at, "closes_at"),
                                 parse_time(registration_deadline, "registration_deadline"), utc_now())
    box_and_roll = kit(engine).prepare(election.id, allow_revote=True, batch_size=BALLOT_BATCH)
    engine.save(election, *box_and_roll)
    return describe(election)


def add_contest(engine: Any, election_id: UUID | str, kind: str, title: str, building: str | None = None,
                seats: int | None = None) -> dict[str, Any]:
    election = get_election(engine, election_id)
    buildings = engine.get(UUID(election.complex_id), Complex).buildings
    contest_id = engine.update(election.id, lambda e: e.add_contest(kind, title, building, seats, buildings),
                               cls=Election, what="election")
    return describe(get_election(engine, election.id))["contests"][contest_id]


def change_rules(engine: Any, election_id: UUID | str, contest_id: str, changes: dict[str, Any],
                 note: str, by: str = "local operator") -> dict[str, Any]:
    """Change a contest's rule settings before voting opens; the event keeps the note and who."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("Give the rule settings to change.", field="rules")
    return engine.update(_uuid(election_id), lambda e: e.change_rules(contest_id, changes, note, by),
                         cls=Election, what="election")


def register_candidate(engine: Any, election_id: UUID | str, contest_id: str, name: str,
                       statement: str = "", household: str | None = None) -> dict[str, Any]:
    candidate_id = engine.update(
        _uuid(election_id), lambda e: e.register_candidate(contest_id, name, statement, utc_now(), household),
        cls=Election, what="election")
    return {"candidate_id": candidate_id, "contest_id": contest_id, "name": name.strip()}


def withdraw_candidate(engine: Any, election_id: UUID | str, contest_id: str, candidate_id: str) -> None:
    engine.update(_uuid(election_id), lambda e: e.withdraw_candidate(contest_id, candidate_id),
                  cls=Election, what="election")


def describe(election: Election) -> dict[str, Any]:
    """The public description of an election (no personal data)."""
    contests = {}
    for cid, c in election.contests.items():
        spec = election.contest_spec(cid)
        contests[cid] = {"contest_id": cid, "kind": c["kind"], "title": c["title"], "building": c["building"],
                         "rules": c["rules"], "ballot": rules.ballot_form(spec),
                         "candidates": [{"candidate_id": k, "name": v["name"], "statement": v["statement"]}
                                        for k, v in c["candidates"].items() if not v.get("withdrawn")]}
    return {"id": str(election.id), "complex": election.complex_code, "title": election.title,
            "status": election.status, "opens_at": election.opens_at, "closes_at": election.closes_at,
            "registration_deadline": election.registration_deadline, "households": election.households,
            "contests": contests}


def open_election(engine: Any, election_id: UUID | str) -> dict[str, Any]:
    """Freeze the roll, hand it to the ballot box and open voting. Safe to repeat after a failure
    half way: each step is skipped once done."""
    election = get_election(engine, election_id)
    complex_ = engine.get(UUID(election.complex_id), Complex)
    frozen = election.open(complex_, utc_now())  # checks; saved below, last
    voting = kit(engine)
    if not voting.roll(election.id).entries:
        contacts = {h: open_contact(engine, complex_.id, c) for h, c in complex_.contacts.items()}
        missing = [h for h in complex_.households if not isinstance(contacts.get(h), str) or contacts[h] is ERASED]
        if missing:
            raise RuleViolation(f"{len(missing)} household(s) have no contact on the roll (e.g. {missing[0]}): "
                                "import the roll again with their contacts.")
        voting.import_roll(election.id, roll_csv(complex_.households, contacts))
    if voting.box(election.id).status == "prepared":
        voting.open(election.id)
    # refused when another administrator changed or opened it meanwhile
    engine.save_or_refuse(election, frozen, refusal="The election changed while opening; look at it and try again.",
                          title="Busy")
    _OPEN_ELECTIONS.pop((str(engine.db), str(election.id)), None)
    return describe(election)


def issue_codes(engine: Any, election_id: UUID | str, households: list[str] | None = None,
                reissue: bool = False) -> dict[str, Any]:
    """Send each household (or those named) a one-time voting code through the notification hook."""
    election = get_election(engine, election_id)
    if election.status != OPEN:
        raise RuleViolation(f"Codes are sent while voting is open; the election is {election.status}.")
    name = engine.get(UUID(election.complex_id), Complex).name
    closes = seoul_time(parse_time(election.closes_at)).strftime("%Y-%m-%d %H:%M")
    message = CODE_MESSAGE.format(complex=name, title=election.title, code="{code}", closes=closes)
    voting = kit(engine)
    if reissue:
        if not households:
            raise InvalidInput("Name the household whose code is to be replaced.", field="households")
        sent = sum(voting.reissue_code(election.id, h, message, plugin=PLUGIN) for h in households)
    else:
        sent = voting.issue_codes(election.id, message, households, plugin=PLUGIN)
    return {"election": str(election.id), "codes_sent": sent}


# Once open, an election's contests, candidates, rules and window cannot change (every change is
# refused outside the draft), so voters' requests read it from memory instead of replaying its
# events each time. Its status may go stale; the window is checked on the clock and the ballot
# box refuses ballots once it closes.
_OPEN_ELECTIONS: dict[tuple[str, str], tuple[Election, dict[str, Any]]] = {}
_OPEN_ELECTIONS_MAX = 64


def open_election_for_voting(engine: Any, election_id: UUID | str) -> tuple[Election, dict[str, Any]]:
    """The election and its ballot forms, for checking voters' requests."""
    key = (str(engine.db), str(election_id))
    cached = _OPEN_ELECTIONS.get(key)
    if cached is not None:
        return cached
    election = get_election(engine, election_id)
    found = (election, describe(election)["contests"])
    if election.status == OPEN:
        if len(_OPEN_ELECTIONS) >= _OPEN_ELECTIONS_MAX:
            _OPEN_ELECTIONS.clear()
        _OPEN_ELECTIONS[key] = found
    return found


def authenticate(engine: Any, election_id: UUID | str, household: str, code: str, client: str) -> dict[str, Any]:
    """Trade a household's code for a ballot credential, and say what it votes on."""
    election, forms = open_election_for_voting(engine, election_id)
    election.check_voting(utc_now())
    credential = kit(engine).authenticate(election.id, household, code, client=client)
    building = credential.group
    return {"credential": credential.token, "building": building,
            "contests": [forms[cid] for cid in election.contests_for(building)]}


def ballot_validator(election: Election):
    """The check the ballot box applies before sealing: ``{contest_id: [choices]}`` for contests
    of the household's building, each valid for its contest."""

    def validate(content: Any, building: str) -> dict[str, list[str]]:
        if not isinstance(content, dict) or not content:
            raise InvalidInput("A ballot maps each contest voted in to the choices, e.g. {\"c1\": [\"c1-k2\"]}.")
        allowed = election.contests_for(building)
        checked: dict[str, list[str]] = {}
        for contest_id, choices in content.items():
            if contest_id not in election.contests:
                raise InvalidInput(f"No contest {contest_id!r} in this election.", contest=contest_id)
            if contest_id not in allowed:
                raise InvalidInput(f"Households of building {building} do not vote in {contest_id}.",
                                   contest=contest_id)
            if not isinstance(choices, list):
                raise InvalidInput("Each contest's choices are a list.", contest=contest_id)
            checked[contest_id] = rules.validate_ballot(election.contest_spec(contest_id), choices)
        return checked

    return validate


def check_ballot_for(engine: Any, election_id: UUID | str, household: str, choices: Any) -> None:
    """Validate a household's ballot before it authenticates (its code is spent only once)."""
    election, _ = open_election_for_voting(engine, election_id)
    election.check_voting(utc_now())
    roll = engine.get(roll_id(election.id), ElectionRoll, what="election roll")
    if household not in roll.households:
        raise InvalidInput(f"Household {household!r} is not on this election's roll.", field="household")
    ballot_validator(election)(choices, roll.households[household])


def cast(engine: Any, election_id: UUID | str, credential: str, choices: dict[str, list[str]]) -> dict[str, Any]:
    """Seal and deposit a household's ballot. Voting again replaces the whole earlier ballot."""
    election, _ = open_election_for_voting(engine, election_id)
    election.check_voting(utc_now())
    receipt = kit(engine).cast(election.id, credential, choices, validate=ballot_validator(election))
    return {"tracking_code": receipt.tracking_code, "contests": sorted(choices),
            "note": "Keep the tracking code: after the close it shows how your ballot was counted. "
                    "Voting again replaces this whole ballot."}


def track(engine: Any, election_id: UUID | str, tracking_code: str) -> dict[str, Any]:
    ballot = kit(engine).track(_uuid(election_id), tracking_code)
    return {"tracking_code": ballot.tracking_code, "state": ballot.state, "content": ballot.content,
            "building": ballot.group, "position": ballot.position}


# -- close and results -----------------------------------------------------------------------

def election_records(engine: Any) -> list[Any]:
    """This plugin's election records (ballots excluded: they come from the box)."""
    from core import LogRecord

    return [LogRecord(position=n.id, originator_id=str(n.originator_id), originator_version=n.originator_version,
                      topic=n.topic, payload=engine.decode_payload(n))
            for n in engine.notifications(1, topics=replay.TOPICS)]


def lottery_root(engine: Any, cutoff: int, tally_input: list[tuple[str, Any]]) -> tuple[bytes, str]:
    """The public value the tie lottery mixes with the box's committed seed, and its source: the
    ledger root over the log up to the box's close when the ledger is there, otherwise a hash of
    the counted ballots. Neither is known before voting ends."""
    ledger = getattr(engine, "ledger", None)
    if ledger is not None:
        return bytes(ledger.root(ledger.index_of(cutoff) + 1)), "ledger"
    return audit.ballots_root(tally_input), "ballots"


def close_election(engine: Any, election_id: UUID | str) -> dict[str, Any]:
    """Close voting at or after its closing time, open the box and record every contest's result.
    Closing twice is harmless: the second time returns the recorded results."""
    election = get_election(engine, election_id)
    if election.status == CLOSED and election.results:
        return results(engine, election.id)
    if election.status == DRAFT:
        raise RuleViolation("The election never opened.")
    now = utc_now()
    if now < parse_time(election.closes_at):
        raise RuleViolation(f"Voting closes at {election.closes_at}, not before.")
    from core.voting import draw as lottery_draw

    voting = kit(engine)
    report = voting.close(election.id)
    tally_input = voting.tally_input(election.id)
    root, root_source = lottery_root(engine, report.cutoff, tally_input)
    revealed: dict[str, bytes] = {}

    def draw(tied, context):
        if "seed" not in revealed:
            revealed["seed"] = voting.reveal_seed(election.id)
        return lottery_draw(revealed["seed"], root, tied, context)

    view = replay.fold(election_records(engine))[str(election.id)]
    computed = replay.compute_results(view, tally_input, draw)
    lottery = {"root": root.hex(), "root_source": root_source,
               "seed": revealed["seed"].hex() if revealed else None}

    def change(e: Election) -> None:
        if e.status == OPEN:
            e.close(now)
        e.record_results(computed, ballots_up_to=report.cutoff, lottery=lottery)

    engine.update(election.id, change, cls=Election, what="election")
    ledger = getattr(engine, "ledger", None)
    if ledger is not None and hasattr(ledger, "checkpoint"):
        ledger.checkpoint()
    return results(engine, election.id)


def results(engine: Any, election_id: UUID | str) -> dict[str, Any]:
    election = get_election(engine, election_id)
    out = {"election": str(election.id), "title": election.title, "complex": election.complex_code,
           "status": election.status, "closes_at": election.closes_at}
    if not election.results:
        out["results"] = None
        out["note"] = "Results are computed when voting closes."
        return out
    out["results"] = election.results
    return out


def due(engine: Any, now: datetime) -> list[tuple[str, str]]:
    """(action, election id) for elections whose opening or closing time has passed."""
    state = engine.read_models.get("apartment.elections").state
    actions = []
    for eid, e in sorted(state.items()):
        if e["status"] == DRAFT and e["contests"] and parse_time(e["opens_at"]) <= now < parse_time(e["closes_at"]):
            actions.append(("open", eid))
        elif e["status"] == OPEN and parse_time(e["closes_at"]) <= now:
            actions.append(("close", eid))
        elif e["status"] == CLOSED and not e["results_recorded"]:
            actions.append(("close", eid))
    return actions


def tick(engine: Any) -> list[str]:
    """Move pending ballots into their boxes; open and close elections whose time has come
    (idempotent)."""
    done = list(kit(engine).tick())
    for action, eid in due(engine, utc_now()):
        try:
            if action == "open":
                open_election(engine, eid)
                sent = issue_codes(engine, eid)["codes_sent"]  # households get their codes as voting opens
                done.append(f"apartment: voting opened for election {eid}; {sent} codes sent")
            else:
                close_election(engine, eid)
                done.append(f"apartment: voting closed and results recorded for election {eid}")
        except (RuleViolation, InvalidInput) as exc:
            done.append(f"apartment: could not {action} election {eid}: {exc.detail}")
    return done
