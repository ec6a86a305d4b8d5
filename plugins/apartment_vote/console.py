"""The apartment office in the staff console (``/staff/apartment``): complexes and their household
roll (a CSV file read into a preview with every bad row, imported only when confirmed), elections
with contests, candidates (checked against the roll) and each contest's rules (the Art. 11
defaults shown as such), opening, voting codes, live turnout (counts of households only, never a
choice), closing, results and certificates.

Every page calls the same service functions as the JSON API (``service``); results are put in
words by the households' pages' helpers (``web``)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from core import (SEOUL, ActorDep, EngineDep, InvalidInput, NotFound, RuleViolation, StaffLink, form_values,
                  seoul_text, staff_page, staff_template, utc_now)
from core import gettext as _
from plugins.apartment_vote import rules, service, views
from plugins.apartment_vote.domain import DRAFT, OPEN, parse_time
from plugins.apartment_vote.roll import decode_roll
from plugins.apartment_vote.permissions import ADMIN
from plugins.apartment_vote.web import (constituency_words, contest_names, fraction, household_number, kind_name,
                                        outcome, pct, rule_source, rules_in_words, threshold_words, vote_rows)

BASE = "/staff/apartment"
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
MAX_ROLL_BYTES = 5 * 1024 * 1024  # some 100,000 households
KINDS = ("building_representative", "chair", "auditor", "agenda")


def staff_links() -> list[StaffLink]:
    return [StaffLink(BASE, _("Apartment elections"), ADMIN,
                      _("Complexes and their household rolls, elections, codes, turnout, results and certificates."))]


def one(value: Any) -> str:
    values = form_values(value)
    return str(values[-1]).strip() if values else ""


def election_path(election_id: Any) -> str:
    return f"{BASE}/elections/{election_id}"


# -- the roll file between its preview and its import ---------------------------------------------
class RollPreviews:
    """Roll files read but not yet imported, per staff member, for an hour; newest few only."""

    LIMIT, SECONDS = 32, 3600

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def keep(self, actor: str, code: str, text: str, replace: bool) -> str:
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.kept[token] = {"actor": actor, "code": code, "text": text, "replace": replace,
                                "at": time.monotonic()}
            while len(self.kept) > self.LIMIT:
                self.kept.popitem(last=False)
        return token

    def take(self, token: str, actor: str, code: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.kept.get(token)
            if (found is None or found["actor"] != actor or found["code"] != code
                    or time.monotonic() - found["at"] > self.SECONDS):
                return None
            return self.kept.pop(token)


def previews(engine: Any) -> RollPreviews:
    return engine.kept("apartment_vote.roll_previews", RollPreviews)


def roll_problem(problem: dict[str, Any]) -> str:
    """A bad row of a roll file, in the reader's language."""
    kind = problem.get("problem")
    if kind == "fields":
        return _("%(found)s fields; the first line has %(expected)s") % {"found": problem["found"],
                                                                          "expected": problem["expected"]}
    if kind == "twice":
        return _("household %(household)s appears twice") % {"household": problem["household"]}
    if kind == "already":
        return _("household %(household)s is already on the roll") % {"household": problem["household"]}
    words = {"required": _("household and building are required"),
             "too_long": _("household or building is longer than 40 characters"),
             "contact": _("the contact is neither a mobile phone number nor an e-mail address"),
             "language": _("language must be ko or en"), "csv": _("not valid CSV")}
    return words.get(kind, problem.get("message", ""))


def masked(contact: str) -> str:
    """A contact shown with its middle hidden (the preview proves the column was read)."""
    if "@" in contact:
        name, _at, domain = contact.partition("@")
        return f"{name[:1]}***@{domain}"
    return contact[:3] + "-****-" + contact[-4:] if len(contact) >= 8 else "****"


# -- times entered in Seoul ----------------------------------------------------------------------
def seoul_fields(when: str) -> tuple[str, str]:
    local = parse_time(when).astimezone(SEOUL)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def read_time(data: dict[str, Any], name: str, errors: dict[str, str]) -> datetime | None:
    """A date field and a time field (Seoul) as one aware time; an error under the date's id."""
    day, clock = one(data.get(f"{name}_date")), one(data.get(f"{name}_time"))
    try:
        parsed = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S" if clock.count(":") == 2 else "%Y-%m-%d %H:%M")
    except ValueError:
        errors[f"{name}_date"] = {
            "deadline": _("Enter when candidate registration ends: a date like 2027-03-15 and a time like 09:00."),
            "opens": _("Enter when voting opens: a date like 2027-03-15 and a time like 09:00."),
            "closes": _("Enter when voting closes: a date like 2027-03-15 and a time like 09:00.")}[name]
        return None
    return parsed.replace(tzinfo=SEOUL)


# -- what the election page shows of each contest --------------------------------------------------
def contest_rows(engine: Any, election: Any) -> list[dict[str, Any]]:
    described = service.describe(election)["contests"]
    rows = []
    for cid, contest in described.items():
        kept = election.contests[cid]
        default = rules.default_rules(contest["kind"], contest["rules"]["seats"]).to_json()
        default_contest = {**contest, "rules": default}
        candidates = [{"candidate_id": k["candidate_id"], "name": k["name"], "statement": k["statement"],
                       "household": kept["candidates"][k["candidate_id"]].get("household")}
                      for k in contest["candidates"]]
        rows.append({"contest_id": cid, "title": contest["title"], "kind": contest["kind"],
                     "kind_name": kind_name(contest["kind"]), "who": constituency_words(contest["building"]),
                     "rules": rule_lines(contest), "default_rules": rule_lines(default_contest), "source": rule_source(contest["rules"]["source"]),
                     "seats": contest["rules"]["seats"], "default": contest["rules"] == default,
                     "candidates": candidates, "takes_candidates": contest["kind"] != "agenda"})
    return rows


def rule_lines(contest: dict[str, Any]) -> list[str]:
    """How a contest is decided, whatever candidates register: the households' pages' sentences
    (``web.rules_in_words``) for each ballot the contest can have."""
    if contest["kind"] == "agenda":
        return rules_in_words(contest)
    seats = contest["rules"]["seats"]
    many = rules_in_words({**contest, "ballot": {"form": "choose", "max_choices": seats, "options": []}})
    few = rules_in_words({**contest, "ballot": {"form": "approve", "max_choices": seats,
                                                 "options": ["a"] if seats == 1 else ["a", "b"]}})
    prefix = _("Two or more candidates:") if seats == 1 else _("More candidates than seats:")
    return [f"{prefix} {many[0]}", few[0], many[1]]


# the rule settings an election committee picks from (bylaws rarely need others; the JSON API and
# the CLI take any): value -> (num, den, strict)
TURNOUTS = {"1-2-more": (1, 2, True), "1-2-least": (1, 2, False), "1-3-least": (1, 3, False),
            "1-10-least": (1, 10, False), "0-1-least": (0, 1, False)}
APPROVALS = {"1-2": (1, 2), "2-3": (2, 3)}


def turnout_key(rule: dict[str, Any]) -> str:
    return f"{rule['turnout_num']}-{rule['turnout_den']}-{'more' if rule['turnout_strict'] else 'least'}"


def turnout_words(key: str) -> str:
    num, den, strict = TURNOUTS[key]
    if num == 0:
        return _("No turnout quorum")
    return _("%(share)s of the households vote") % {"share": threshold_words(num, den, strict)}


def approval_words(key: str) -> str:
    num, den = APPROVALS[key]
    return _("%(share)s in favour") % {"share": threshold_words(num, den, True)}


def phase_of(election: Any) -> str:
    if election.status == DRAFT:
        return "draft"
    if election.status == OPEN:
        return "open"
    return "results" if election.results else "counting"


class ApartmentOffice(Controller):
    """The election committee's pages (process administrators: ``apartment.admin``)."""

    path = BASE
    guards = [staff_page(ADMIN)]
    include_in_schema = False

    # -- the office: complexes and elections -----------------------------------------------------
    @get("/", sync_to_thread=True)
    def office(self, request: Request, engine: EngineDep) -> Template:
        elections = []
        for eid, e in sorted(views.elections(engine).items(), key=lambda item: item[1]["opens_at"], reverse=True):
            elections.append({"id": eid, "title": e["title"], "complex": e["complex"], "status": e["status"],
                              "opens_at": e["opens_at"], "closes_at": e["closes_at"], "results": bool(e["results"])})
        return staff_template(request, "apartment_vote/console/office.html", _("Apartment elections"),
                              complexes=views.complexes(engine), elections=elections)

    # -- a complex and its roll ---------------------------------------------------------------------
    @get("/complexes/new", sync_to_thread=True)
    def new_complex(self, request: Request) -> Template:
        return self._complex_form(request, {}, {})

    def _complex_form(self, request: Request, form: dict[str, str], errors: dict[str, str],
                      status: int = 200) -> Template:
        return staff_template(request, "apartment_vote/console/complex_new.html", _("Register a complex"),
                              status_code=status, form=form, errors=errors)

    @post("/complexes", sync_to_thread=True)
    def register_complex(self, request: Request, data: Form, engine: EngineDep) -> Template | Redirect:
        form = {"code": one(data.get("code")), "name": one(data.get("name"))}
        errors = {}
        if not form["code"]:
            errors["code"] = _("Enter the complex's code, for example JG-NAMSAN.")
        if not form["name"]:
            errors["name"] = _("Enter the complex's name.")
        if not errors:
            try:
                service.register_complex(engine, form["code"], form["name"])
            except InvalidInput as exc:
                field = exc.extra.get("field", "code")
                errors[field] = _("A complex code is 1 to 40 letters, digits, '-', '_' or '.'.") \
                    if field == "code" else _("Enter the complex's name.")
            except RuleViolation:
                errors["code"] = _("A complex with this code is already registered.")
        if errors:
            return self._complex_form(request, form, errors, 400)
        return Redirect(path=f"{BASE}/complexes/{form['code']}", status_code=303)

    @get("/complexes/{code:str}", sync_to_thread=True)
    def complex_page(self, request: Request, code: FromPath[str], engine: EngineDep,
                     imported: FromQuery[int | None] = None) -> Template:
        complex_ = service.get_complex(engine, code)
        elections = [{"id": eid, "title": e["title"], "status": e["status"], "opens_at": e["opens_at"]}
                     for eid, e in views.elections(engine).items() if e["complex"] == complex_.code]
        return staff_template(request, "apartment_vote/console/complex.html",
                              _("Complex: %(name)s") % {"name": complex_.name}, complex=complex_,
                              buildings=complex_.buildings, elections=elections, imported=imported)

    @get("/complexes/{code:str}/roll", sync_to_thread=True)
    def roll_form(self, request: Request, code: FromPath[str], engine: EngineDep) -> Template:
        return self._roll_form(request, service.get_complex(engine, code), {})

    def _roll_form(self, request: Request, complex_: Any, errors: dict[str, str], status: int = 200,
                   replace: bool = False) -> Template:
        return staff_template(request, "apartment_vote/console/roll_upload.html",
                              _("Upload the household roll"), status_code=status, complex=complex_, errors=errors,
                              replace=replace)

    @post("/complexes/{code:str}/roll", sync_to_thread=True)
    def roll_preview(self, request: Request, code: FromPath[str], data: Multipart, engine: EngineDep,
                     actor: ActorDep) -> Template:
        complex_ = service.get_complex(engine, code)
        replace = one(data.get("replace")) == "yes"
        upload = data.get("roll")
        if isinstance(upload, list):
            upload = upload[0] if upload else None
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._roll_form(request, complex_, {"roll": _("Choose the roll file (CSV).")}, 400, replace)
        content = upload.file.read(MAX_ROLL_BYTES + 1)
        if len(content) > MAX_ROLL_BYTES:
            return self._roll_form(request, complex_, {"roll": _("The file is larger than 5 MB.")}, 400, replace)
        try:
            preview = service.preview_roll(engine, complex_.code, content, replace=replace)
        except InvalidInput as exc:
            errors = exc.extra.get("errors") or [{}]
            message = _("The first line must name the columns household, building and contact (and optionally "
                        "language), or in Korean 세대, 동, 연락처 (and 언어).") if errors[0].get("message") == "bad header" else \
                _("The file is neither UTF-8 nor CP949 text. Save it from the spreadsheet as CSV.") \
                if errors[0].get("message") == "not UTF-8 or CP949 text" else _("The file is empty.")
            return self._roll_form(request, complex_, {"roll": message}, 400, replace)
        text = decode_roll(content)
        token = previews(engine).keep(actor.id, complex_.code, text, replace) if not preview["problems"] \
            and preview["households"] else ""
        sample = [{"line": preview["lines"][h], "household": h, "building": b,
                   "contact": masked(preview["contacts"][h]), "language": preview["languages"].get(h, "ko")}
                  for h, b in list(preview["households"].items())[:20]]
        problems = [{"line": p["line"], "text": roll_problem(p)} for p in preview["problems"]]
        return staff_template(request, "apartment_vote/console/roll_preview.html", _("Check the roll before importing"),
                              complex=complex_, preview=preview, problems=problems, sample=sample, token=token,
                              filename=upload.filename)

    @post("/complexes/{code:str}/roll/confirm", sync_to_thread=True)
    def roll_import(self, request: Request, code: FromPath[str], data: Form, engine: EngineDep,
                    actor: ActorDep) -> Template | Redirect:
        complex_ = service.get_complex(engine, code)
        kept = previews(engine).take(one(data.get("token")), actor.id, complex_.code)
        if kept is None:
            return self._roll_form(request, complex_, {"roll": _("The preview has expired. Upload the file again.")},
                                   400)
        try:
            done = service.import_roll(engine, complex_.code, kept["text"], replace=kept["replace"])
        except InvalidInput:
            return self._roll_form(request, complex_, {"roll": _("The roll changed since the preview. Upload the "
                                                                 "file again.")}, 400)
        return Redirect(path=f"{BASE}/complexes/{complex_.code}?imported={done['imported']}", status_code=303)

    # -- an election -------------------------------------------------------------------------------
    @get("/elections/new", sync_to_thread=True)
    def new_election(self, request: Request, engine: EngineDep, complex: FromQuery[str | None] = None) -> Template:
        return self._election_form(request, engine, {"complex": complex or ""}, {})

    def _election_form(self, request: Request, engine: Any, form: dict[str, str], errors: dict[str, str],
                       status: int = 200) -> Template:
        return staff_template(request, "apartment_vote/console/election_new.html", _("Schedule an election"),
                              status_code=status, form=form, errors=errors,
                              complexes=[c for c in views.complexes(engine) if c["households"]])

    @post("/elections", sync_to_thread=True)
    def schedule(self, request: Request, data: Form, engine: EngineDep) -> Template | Redirect:
        fields = ("complex", "title", "opens_date", "opens_time", "closes_date", "closes_time",
                  "deadline_date", "deadline_time")
        form = {f: one(data.get(f)) for f in fields}
        errors: dict[str, str] = {}
        if not form["complex"]:
            errors["complex"] = _("Choose the complex.")
        if not form["title"]:
            errors["title"] = _("Enter the election's title.")
        opens, closes = read_time(data, "opens", errors), read_time(data, "closes", errors)
        deadline = read_time(data, "deadline", errors)
        if not errors:
            try:
                made = service.schedule_election(engine, form["complex"], form["title"], opens, closes, deadline)
            except NotFound:
                errors["complex"] = _("Choose the complex.")
            except InvalidInput as exc:
                field = exc.extra.get("field")
                messages = {"opens_at": ("opens_date", _("Voting must open in the future.")),
                            "closes_at": ("closes_date", _("Voting must close after it opens.")),
                            "registration_deadline": ("deadline_date", _("Candidate registration must end before "
                                                                         "voting opens.")),
                            "title": ("title", _("Enter the election's title."))}
                where, text = messages.get(field, ("title", exc.detail))
                errors[where] = text
            else:
                return Redirect(path=election_path(made["id"]), status_code=303)
        return self._election_form(request, engine, form, errors, 400)

    def _election(self, request: Request, engine: Any, election_id: str, errors: dict[str, str] | None = None,
                  status: int = 200, sent: int | None = None, reissued: str | None = None,
                  household: str = "") -> Template:
        election = service.get_election(engine, election_id)
        complex_ = service.get_complex(engine, election.complex_code)
        now = utc_now()
        return staff_template(
            request, "apartment_vote/console/election.html", election.title, status_code=status,
            election=election, complex=complex_, contests=contest_rows(engine, election), phase=phase_of(election),
            errors=errors or {}, sent=sent, reissued=reissued, household=household,
            registration_open=election.status == DRAFT and now <= parse_time(election.registration_deadline),
            may_open=election.status == DRAFT and parse_time(election.opens_at) <= now,
            may_close=election.status == OPEN and parse_time(election.closes_at) <= now,
            base=election_path(election.id))

    @get("/elections/{election_id:str}", sync_to_thread=True)
    def election_page(self, request: Request, election_id: FromPath[str], engine: EngineDep,
                      sent: FromQuery[int | None] = None, reissued: FromQuery[str | None] = None) -> Template:
        return self._election(request, engine, election_id, sent=sent, reissued=reissued)

    @get("/elections/{election_id:str}/contests/new", sync_to_thread=True)
    def new_contest(self, request: Request, election_id: FromPath[str], engine: EngineDep) -> Template:
        return self._contest_form(request, engine, election_id, {"kind": "building_representative"}, {})

    def _contest_form(self, request: Request, engine: Any, election_id: str, form: dict[str, str],
                      errors: dict[str, str], status: int = 200) -> Template:
        election = service.get_election(engine, election_id)
        complex_ = service.get_complex(engine, election.complex_code)
        kinds = [(k, kind_name(k), constituency_words("…") if k == "building_representative" else
                  constituency_words(None), rule_source(rules.default_rules(k).source)) for k in KINDS]
        return staff_template(request, "apartment_vote/console/contest_new.html", _("Add a contest"),
                              status_code=status, election=election, buildings=complex_.buildings, form=form,
                              errors=errors, kinds=kinds, base=election_path(election.id),
                              auditor_seats=rules.default_rules("auditor").seats)

    @post("/elections/{election_id:str}/contests", sync_to_thread=True)
    def add_contest(self, request: Request, election_id: FromPath[str], data: Form,
                    engine: EngineDep) -> Template | Redirect:
        form = {f: one(data.get(f)) for f in ("kind", "title", "building", "seats")}
        errors: dict[str, str] = {}
        if form["kind"] not in KINDS:
            errors["kind-building_representative"] = _("Choose what is decided.")
        if not form["title"]:
            errors["title"] = _("Enter the contest's title, for example: Representative of building 101.")
        seats = None
        if form["kind"] == "auditor" and form["seats"]:
            if not form["seats"].isdigit() or not 1 <= int(form["seats"]) <= 20:
                errors["seats"] = _("Enter the number of seats, from 1 to 20.")
            else:
                seats = int(form["seats"])
        building = form["building"] if form["kind"] == "building_representative" else None
        if form["kind"] == "building_representative" and not building:
            errors["building"] = _("Choose the building whose households elect this representative.")
        if not errors:
            try:
                service.add_contest(engine, election_id, form["kind"], form["title"], building, seats)
            except InvalidInput as exc:
                errors[exc.extra.get("field") if exc.extra.get("field") in ("title", "building", "seats") else
                       "title"] = exc.detail
            except RuleViolation as exc:
                if form["kind"] == "building_representative":
                    errors["building"] = _("Building %(building)s already has a representative contest.") % {
                        "building": building}
                else:
                    errors["title"] = exc.detail
            else:
                return Redirect(path=election_path(election_id), status_code=303)
        return self._contest_form(request, engine, election_id, form, errors, 400)

    @get("/elections/{election_id:str}/contests/{contest_id:str}/candidates/new", sync_to_thread=True)
    def new_candidate(self, request: Request, election_id: FromPath[str], contest_id: FromPath[str],
                      engine: EngineDep) -> Template:
        return self._candidate_form(request, engine, election_id, contest_id, {}, {})

    def _candidate_form(self, request: Request, engine: Any, election_id: str, contest_id: str,
                        form: dict[str, str], errors: dict[str, str], status: int = 200) -> Template:
        election = service.get_election(engine, election_id)
        if contest_id not in election.contests:
            raise NotFound(_("There is no such contest in this election."))
        contest = election.contests[contest_id]
        return staff_template(request, "apartment_vote/console/candidate_new.html",
                              _("Add a candidate: %(title)s") % {"title": contest["title"]}, status_code=status,
                              election=election, contest=contest, contest_id=contest_id, form=form, errors=errors,
                              base=election_path(election.id), who=constituency_words(contest["building"]))

    @post("/elections/{election_id:str}/contests/{contest_id:str}/candidates", sync_to_thread=True)
    def add_candidate(self, request: Request, election_id: FromPath[str], contest_id: FromPath[str], data: Form,
                      engine: EngineDep) -> Template | Redirect:
        form = {f: one(data.get(f)) for f in ("name", "household", "statement")}
        errors: dict[str, str] = {}
        if not form["name"]:
            errors["name"] = _("Enter the candidate's name.")
        if not form["household"]:
            errors["household"] = _("Enter the candidate's household as on the roll, for example 101-1203.")
        if not errors:
            election = service.get_election(engine, election_id)
            try:
                service.register_candidate(engine, election.id, contest_id, form["name"], form["statement"],
                                           form["household"])
            except InvalidInput as exc:
                errors.update(self._candidate_problem(engine, election, contest_id, form, exc))
            except RuleViolation as exc:
                errors["name"] = _("%(name)s is already a candidate in this contest.") % {"name": form["name"]} \
                    if "already a candidate" in exc.detail else _("Candidate registration has closed.")
            else:
                return Redirect(path=election_path(election.id), status_code=303)
        return self._candidate_form(request, engine, election_id, contest_id, form, errors, 400)

    @staticmethod
    def _candidate_problem(engine: Any, election: Any, contest_id: str, form: dict[str, str],
                           exc: InvalidInput) -> dict[str, str]:
        field = exc.extra.get("field")
        if field == "household":
            roll = service.get_complex(engine, election.complex_code).households
            building = election.contests[contest_id]["building"]
            if form["household"] not in roll:
                return {"household": _("Household %(household)s is not on this complex's roll. A candidate must "
                                       "live in the complex.") % {"household": form["household"]}}
            return {"household": _("Household %(household)s is in building %(found)s. A representative of "
                                   "building %(building)s must live in building %(building)s.") % {
                "household": form["household"], "found": roll[form["household"]], "building": building}}
        if field == "name":
            return {"name": _("Enter the candidate's name (at most 100 characters).")}
        return {"name": exc.detail}

    # -- a contest's rules -------------------------------------------------------------------------
    @get("/elections/{election_id:str}/contests/{contest_id:str}/rules", sync_to_thread=True)
    def rules_form(self, request: Request, election_id: FromPath[str], contest_id: FromPath[str],
                   engine: EngineDep) -> Template:
        election = service.get_election(engine, election_id)
        rule = self._contest(election, contest_id)["rules"]
        form = {"turnout": turnout_key(rule), "approval": f"{rule['approval_num']}-{rule['approval_den']}",
                "basis": rule["approval_basis"], "seats": str(rule["seats"]), "note": ""}
        return self._rules_form(request, election, contest_id, form, {})

    @staticmethod
    def _contest(election: Any, contest_id: str) -> dict[str, Any]:
        if contest_id not in election.contests:
            raise NotFound(_("There is no such contest in this election."))
        return election.contests[contest_id]

    def _rules_form(self, request: Request, election: Any, contest_id: str, form: dict[str, str],
                    errors: dict[str, str], status: int = 200) -> Template:
        contest = self._contest(election, contest_id)
        default = rules.default_rules(contest["kind"], contest["rules"]["seats"]).to_json()
        return staff_template(
            request, "apartment_vote/console/rules.html", _("Rules: %(title)s") % {"title": contest["title"]},
            status_code=status, election=election, contest=contest, contest_id=contest_id, form=form, errors=errors,
            base=election_path(election.id), kind_name=kind_name(contest["kind"]),
            who=constituency_words(contest["building"]), source=rule_source(default["source"]),
            turnouts=[(k, turnout_words(k), k == turnout_key(default)) for k in TURNOUTS],
            approvals=[(k, approval_words(k), k == f"{default['approval_num']}-{default['approval_den']}")
                       for k in APPROVALS],
            default_basis=default["approval_basis"], takes_seats=contest["kind"] == "auditor")

    @post("/elections/{election_id:str}/contests/{contest_id:str}/rules", sync_to_thread=True)
    def change_rules(self, request: Request, election_id: FromPath[str], contest_id: FromPath[str], data: Form,
                     engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        election = service.get_election(engine, election_id)
        contest = self._contest(election, contest_id)
        form = {f: one(data.get(f)) for f in ("turnout", "approval", "basis", "seats", "note")}
        errors: dict[str, str] = {}
        if form["turnout"] not in TURNOUTS:
            errors["turnout-1-2-more"] = _("Choose how many households must vote.")
        if form["approval"] not in APPROVALS:
            errors["approval-1-2"] = _("Choose the share in favour needed.")
        if form["basis"] not in ("voters", "households"):
            errors["basis-voters"] = _("Choose whose votes the share is counted of.")
        seats = contest["rules"]["seats"]
        if contest["kind"] == "auditor":
            if not form["seats"].isdigit() or not 1 <= int(form["seats"]) <= 20:
                errors["seats"] = _("Enter the number of seats, from 1 to 20.")
            else:
                seats = int(form["seats"])
        if not form["note"]:
            errors["note"] = _("Say why the rules change, for example the article of the bylaws.")
        if not errors:
            num, den, strict = TURNOUTS[form["turnout"]]
            approval_num, approval_den = APPROVALS[form["approval"]]
            changes = {"turnout_num": num, "turnout_den": den, "turnout_strict": strict, "approval_num": approval_num,
                       "approval_den": approval_den, "approval_basis": form["basis"], "seats": seats}
            try:
                service.change_rules(engine, election.id, contest_id, changes, form["note"], by=actor.id)
            except InvalidInput as exc:
                errors["turnout-1-2-more"] = _("These are already the contest's rules.") \
                    if "already the contest's rules" in exc.detail else exc.detail
            except RuleViolation:
                errors["turnout-1-2-more"] = _("Rules can be changed only before voting opens.")
            else:
                return Redirect(path=election_path(election.id), status_code=303)
        return self._rules_form(request, election, contest_id, form, errors, 400)

    # -- voting: open, codes, turnout, close --------------------------------------------------------
    @post("/elections/{election_id:str}/open", sync_to_thread=True)
    def open_voting(self, request: Request, election_id: FromPath[str], engine: EngineDep) -> Template | Redirect:
        election = service.get_election(engine, election_id)
        if election.status != DRAFT:  # opened already (a second click, another tab)
            return Redirect(path=election_path(election.id), status_code=303)
        try:
            service.open_election(engine, election.id)
        except (RuleViolation, InvalidInput) as exc:
            now = utc_now()
            if election.status == DRAFT and now < parse_time(election.opens_at):
                message = _("Voting opens at %(time)s; open it from then.") % {"time": _seoul(election.opens_at)}
            elif not election.contests:
                message = _("Add at least one contest before opening voting.")
            else:
                message = _("Voting could not open: %(reason)s") % {"reason": exc.detail}
            return self._election(request, engine, election_id, {"open": message}, 400)
        return Redirect(path=election_path(election.id), status_code=303)

    @post("/elections/{election_id:str}/codes", sync_to_thread=True)
    def send_codes(self, request: Request, election_id: FromPath[str], engine: EngineDep) -> Template | Redirect:
        election = service.get_election(engine, election_id)
        try:
            sent = service.issue_codes(engine, election.id)["codes_sent"]
        except (RuleViolation, InvalidInput, NotFound):
            return self._election(request, engine, election_id,
                                  {"codes": _("Codes are sent only while voting is open.")}, 400)
        return Redirect(path=f"{election_path(election.id)}?sent={sent}", status_code=303)

    @post("/elections/{election_id:str}/codes/reissue", sync_to_thread=True)
    def reissue_code(self, request: Request, election_id: FromPath[str], data: Form,
                     engine: EngineDep) -> Template | Redirect:
        """A new code for one household (a lost or locked code); its old code stops working."""
        election = service.get_election(engine, election_id)
        typed = one(data.get("household"))
        household = household_number(typed)
        if not household:
            message = _("Enter the household whose code is lost or locked, for example 101-1203.")
        else:
            try:
                service.issue_codes(engine, election.id, [household], reissue=True)
            except NotFound:
                message = _("Household %(household)s is not on this election's roll.") % {"household": household}
            except (RuleViolation, InvalidInput):
                message = _("Household %(household)s has already signed in to vote; its code cannot be replaced.") \
                    % {"household": household} if election.status == OPEN else \
                    _("Codes are sent only while voting is open.")
            else:
                return Redirect(path=f"{election_path(election.id)}?reissued={household}", status_code=303)
        return self._election(request, engine, election_id, {"household": message}, 400, household=typed)

    @post("/elections/{election_id:str}/contests/{contest_id:str}/candidates/{candidate_id:str}/withdraw",
          sync_to_thread=True)
    def withdraw_candidate(self, request: Request, election_id: FromPath[str], contest_id: FromPath[str],
                           candidate_id: FromPath[str], engine: EngineDep) -> Template | Redirect:
        election = service.get_election(engine, election_id)
        try:
            service.withdraw_candidate(engine, election.id, contest_id, candidate_id)
        except (InvalidInput, RuleViolation):
            return self._election(request, engine, election_id, {
                f"contest-{contest_id}": _("Candidates can be withdrawn only before voting opens.")
                if election.status != DRAFT else _("There is no such candidate in this contest.")}, 400)
        return Redirect(path=election_path(election.id), status_code=303)

    @get("/elections/{election_id:str}/turnout", sync_to_thread=True)
    def turnout(self, request: Request, election_id: FromPath[str], engine: EngineDep) -> Template:
        election = service.get_election(engine, election_id)
        rows, total, voted = [], 0, 0
        if election.status != DRAFT:
            counted = service.kit(engine).turnout(election.id)
            for building, counts in counted.by_group.items():
                rows.append({"building": building, "households": counts["entries"],
                             "voted": counts["credentials_issued"],
                             "share": pct(fraction(counts["credentials_issued"], counts["entries"]))})
            total, voted = counted.entries, counted.credentials_issued
        return staff_template(request, "apartment_vote/console/turnout.html", _("Turnout: %(title)s") % {
            "title": election.title}, election=election, rows=rows, total=total, voted=voted,
            share=pct(fraction(voted, total)), now=utc_now(), base=election_path(election.id),
            phase=phase_of(election))

    @post("/elections/{election_id:str}/close", sync_to_thread=True)
    def close_voting(self, request: Request, election_id: FromPath[str], engine: EngineDep) -> Template | Redirect:
        election = service.get_election(engine, election_id)
        try:
            service.close_election(engine, election.id)
        except (RuleViolation, InvalidInput) as exc:
            if election.status == DRAFT:
                message = _("Voting never opened.")
            elif utc_now() < parse_time(election.closes_at):
                message = _("Voting closes at %(time)s; close it from then.") % {"time": _seoul(election.closes_at)}
            else:
                message = _("Voting could not close: %(reason)s") % {"reason": exc.detail}
            return self._election(request, engine, election_id, {"close": message}, 400)
        return Redirect(path=f"{election_path(election.id)}/results", status_code=303)

    @get("/elections/{election_id:str}/results", sync_to_thread=True)
    def results(self, request: Request, election_id: FromPath[str], engine: EngineDep) -> Template:
        election = service.get_election(engine, election_id)
        names = contest_names(election)
        rows = [{"contest_id": cid, "result": result, "kind_name": kind_name(result["kind"]),
                 "who": constituency_words(result["building"]), "outcome": outcome(result, names),
                 "votes": vote_rows(result, names),
                 "buildings": [(b, r["voted"], r["households"], pct(fraction(r["voted"], r["households"])))
                               for b, r in result["by_building"].items()]}
                for cid, result in election.results.items()]
        return staff_template(request, "apartment_vote/console/results.html", _("Results: %(title)s") % {
            "title": election.title}, election=election, rows=rows, base=election_path(election.id),
            phase=phase_of(election))


def _seoul(when: str) -> str:
    return seoul_text(when)
