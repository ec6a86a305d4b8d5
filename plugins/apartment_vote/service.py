"""The commands of apartment elections, shared by the HTTP API, the CLI, the demo and the
benchmark. Each one checks before it saves: a refused command changes nothing.

Voting itself (roll entries, one-time codes, ballot credentials, the sealed ballot box, tracking
codes, the tie lottery) goes through the core voting kit (``core.voting.VotingKit``); this module
decides what a ballot holds (``{contest_id: [choices]}`` for the contests of the household's
building), validates it, and at close folds the election from the log (``fold``) and tallies it
(``rules``), exactly as the auditor's re-tally does.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from uuid import UUID

from core import ERASED, InvalidInput, NotFound, RuleViolation, seoul_text, utc_now
from core.voting import VotingKit
from core.voting import draw as lottery_draw
from plugins.apartment_vote import fold, rules, views
from plugins.apartment_vote.domain import (CLOSED, DRAFT, OPEN, PLUGIN, Complex, Election, ElectionRoll, complex_id,
                                           parse_time, roll_id, seoul_time_text)
from plugins.apartment_vote.roll import kit_roll_csv, parse_roll

# Ballots enter the sealed box in shuffled batches of this many (smaller: earlier tracking;
# larger: more mixing). The rest enter at close.
BALLOT_BATCH = 50
# The district's wording, per language of the roll entry. The link opens the election's sign-in
# page with the code filled in (after '#', so the code never reaches a server log); the code
# stays the message's last word.
CODE_MESSAGES = {
    "ko": "[중구 공동주택 온라인투표] {complex} {title}: {closes}까지 투표하실 수 있습니다. {url}#{code} "
          "세대 인증번호: {code}",
    "en": "[Jung-gu apartment vote] {complex} {title}: vote online until {closes} (Seoul time). {url}#{code} "
          "Household voting code: {code}",
}
SHORT_LINK = "/a/"  # + the election's short code: the link in the text message
# Elections open for voting, kept per engine (see ``open_election_for_voting``).
OPEN_ELECTIONS = "apartment_vote.open_elections"
OPEN_ELECTIONS_MAX = 64


def kit(engine: Any) -> VotingKit:
    """The core voting kit over this engine."""
    return VotingKit(engine)


# -- personal data ---------------------------------------------------------------------------

def seal_contact(engine: Any, where: UUID, household: str, contact: str) -> dict[str, str]:
    """A household's phone or e-mail sealed for the log (``core.privacy``), one subject per
    household of the complex, so that forgetting a household erases its contact everywhere."""
    return engine.privacy.seal(f"apartment-household:{where}:{household}", "contact", contact, where=where)


def open_contact(engine: Any, where: UUID, value: Any) -> Any:
    return engine.privacy.open(value, where=where)


# -- the complex -----------------------------------------------------------------------------

def get_complex(engine: Any, code: str) -> Complex:
    return engine.get(complex_id(code), Complex, what="complex", missing=f"No complex with the code {code!r}.")


def complex_summary(complex_: Complex) -> dict[str, Any]:
    return {"id": str(complex_.id), "code": complex_.code, "name": complex_.name,
            "households": len(complex_.households), "buildings": complex_.buildings}


def register_complex(engine: Any, code: str, name: str) -> dict[str, Any]:
    complex_ = Complex.register(code, name)
    engine.create(complex_, what="complex")
    return complex_summary(complex_)


def import_roll(engine: Any, code: str, data: str | bytes, *, replace: bool = False) -> dict[str, Any]:
    households, contacts, languages = parse_roll(data)
    where = complex_id(code)

    def change(complex_: Complex) -> dict[str, Any]:
        if not replace:
            again = sorted(set(households) & set(complex_.households))
            if again:
                raise InvalidInput(f"Already on the roll: {', '.join(again[:10])}; use replace to load a new roll.")
        with engine.privacy.batch():  # keys durable before the events that hold the envelopes
            sealed = {h: seal_contact(engine, where, h, c) for h, c in contacts.items()}
        complex_.import_roll(households, sealed, replace, languages)
        return {**complex_summary(complex_), "imported": len(households)}

    return engine.update(where, change, cls=Complex, what="complex", missing=f"No complex with the code {code!r}.")


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
        voting.import_roll(election.id, kit_roll_csv(complex_.households, contacts, complex_.languages))
    if voting.box(election.id).status == "prepared":
        voting.open(election.id)
    # refused when another administrator changed or opened it meanwhile
    engine.save_or_refuse(election, frozen, refusal="The election changed while opening; look at it and try again.",
                          title="Busy")
    _open_elections(engine).pop(str(election.id), None)
    return describe(election)


def issue_codes(engine: Any, election_id: UUID | str, households: list[str] | None = None,
                reissue: bool = False) -> dict[str, Any]:
    """Send each household (or those named) a one-time voting code through the notification hook."""
    election = get_election(engine, election_id)
    if election.status != OPEN:
        raise RuleViolation(f"Codes are sent while voting is open; the election is {election.status}.")
    message = code_messages(engine, election)
    voting = kit(engine)
    if reissue:
        if not households:
            raise InvalidInput("Name the household whose code is to be replaced.", field="households")
        sent = sum(voting.reissue_code(election.id, h, message, plugin=PLUGIN) for h in households)
    else:
        sent = voting.issue_codes(election.id, message, households, plugin=PLUGIN)
    return {"election": str(election.id), "codes_sent": sent}


def short_code(election_id: UUID | str) -> str:
    """The election's code in the text message's short link (``/a/<code>``)."""
    return base64.b32encode(_uuid(election_id).bytes[:5]).decode().lower()


def short_url(engine: Any, election_id: UUID | str) -> str:
    return f"{engine.public_url}{SHORT_LINK}{short_code(election_id)}"


def find_by_short_code(engine: Any, code: str) -> Election:
    """The election of a text message's short link."""
    wanted = code.strip().lower()
    for eid in list(views.elections(engine)):
        if short_code(eid) == wanted:
            return get_election(engine, eid)
    raise NotFound(f"No apartment election at this link ({code}).")


def code_messages(engine: Any, election: Election) -> dict[str, str]:
    """The text a household receives with its code, per language (``{code}`` where it goes)."""
    name = engine.get(UUID(election.complex_id), Complex).name
    url = short_url(engine, election.id)
    messages = {}
    for language, text in CODE_MESSAGES.items():
        closes = seoul_text(election.closes_at, language)
        for key, value in (("{complex}", name), ("{title}", election.title), ("{closes}", closes), ("{url}", url)):
            text = text.replace(key, value.replace("{code}", "(code)"))
        messages[language] = text
    return messages


# Once open, an election's contests, candidates, rules and window cannot change (every change is
# refused outside the draft), so voters' requests read it from memory instead of replaying its
# events each time. Its status may go stale; the window is checked on the clock and the ballot
# box refuses ballots once it closes.
def _open_elections(engine: Any) -> dict[str, tuple[Election, dict[str, Any]]]:
    return engine.kept(OPEN_ELECTIONS, dict)


def open_election_for_voting(engine: Any, election_id: UUID | str) -> tuple[Election, dict[str, Any]]:
    """The election and its ballot forms, for checking voters' requests."""
    kept = _open_elections(engine)
    cached = kept.get(str(election_id))
    if cached is not None:
        return cached
    election = get_election(engine, election_id)
    found = (election, describe(election)["contests"])
    if election.status == OPEN:
        if len(kept) >= OPEN_ELECTIONS_MAX:
            kept.clear()
        kept[str(election_id)] = found
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

def lottery_root(engine: Any, cutoff: int, tally_input: list[tuple[str, Any]]) -> tuple[bytes, str]:
    """The public value the tie lottery mixes with the box's committed seed, and its source: the
    ledger root over the log up to the box's close when the ledger is there, otherwise a hash of
    the counted ballots. Neither is known before voting ends."""
    ledger = getattr(engine, "ledger", None)
    if ledger is not None:
        return bytes(ledger.root(ledger.index_of(cutoff) + 1)), "ledger"
    return rules.ballots_root(tally_input), "ballots"


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
        raise RuleViolation(f"Voting closes at {seoul_time_text(election.closes_at)}, not before.")
    voting = kit(engine)
    report = voting.close(election.id)
    tally_input = voting.tally_input(election.id)
    root, root_source = lottery_root(engine, report.cutoff, tally_input)
    revealed: dict[str, bytes] = {}

    def draw(tied, context):
        if "seed" not in revealed:
            revealed["seed"] = voting.reveal_seed(election.id)
        return lottery_draw(revealed["seed"], root, tied, context)

    # the same fold and tally as the auditor's re-tally
    state = fold.fold(engine.records(topics=fold.EVENTS))[str(election.id)]
    computed = rules.election_results(state["contests"], state["roll"] or {}, tally_input, draw)
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
    actions = []
    for eid, e in sorted(views.elections(engine).items()):
        if e["status"] == DRAFT and e["contests"] and parse_time(e["opens_at"]) <= now < parse_time(e["closes_at"]):
            actions.append(("open", eid))
        elif e["status"] == OPEN and parse_time(e["closes_at"]) <= now:
            actions.append(("close", eid))
        elif e["status"] == CLOSED and not e["results"]:
            actions.append(("close", eid))
    return actions


def next_deadline(engine: Any, after: datetime) -> datetime | None:
    """The earliest opening or closing time after ``after`` of an election (for the scheduler)."""
    times = []
    for e in views.elections(engine).values():
        if e["status"] == DRAFT and e["contests"]:
            times.append(parse_time(e["opens_at"]))
        elif e["status"] == OPEN:
            times.append(parse_time(e["closes_at"]))
    return min((t for t in times if t > after), default=None)


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
