"""The participatory budget office in the staff console: cycles, settings, proposals and their
screening, the voter roll (CSV upload with a preview), voting codes, phases, paper ballots, the
tally with both winner rules side by side, overrides with reasons, validation and Pabulib files.

Every form is a plain post (303 after success; 400 with an error summary when refused, nothing
changed). The handlers call the same service functions as the JSON API."""

from __future__ import annotations

import csv
import io
import re
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from core import (DONG_NAMES_EN, DONGS, SEOUL, WHOLE_DISTRICT, ActorDep, Engine, EngineDep, InvalidInput, NotFound,
                  RuleViolation, StaffLink, form_values, staff_page, staff_template)
from core import gettext as _
from core.voting import VotingKit, parse_roll_csv
from plugins.budget_vote import pabulib_exchange, rules, service
from plugins.budget_vote.domain import NEXT_PHASE, Cycle
from plugins.budget_vote.permissions import PERMISSIONS
from plugins.budget_vote.views import cycle_summaries, open_data_csv
from plugins.budget_vote.web import money, support_heading

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
OFFICE = "/staff/budget"
BOM = "\ufeff"
MAX_UPLOAD = 5 * 1024 * 1024  # a roll of 100,000 residents is about 4 MB
PREVIEW_ROWS = 20
REFUSED = (InvalidInput, RuleViolation, NotFound)


# -- words -------------------------------------------------------------------------------------
def phase_name(phase: str) -> str:
    return {"proposal": _("Proposals"), "screening": _("Screening"), "voting": _("Voting"),
            "tallying": _("Counting"), "published": _("Published")}.get(phase, phase)


def next_step_label(phase: str) -> str:
    return {"proposal": _("Close proposals and start screening"), "screening": _("Open voting"),
            "voting": _("Close voting")}.get(phase, "")


def rule_name(name: str) -> str:
    return {"greedy": _("Greedy (most votes first)"), "equal-shares": _("Method of Equal Shares")}.get(name, name)


def ballot_kind_name(kind: str) -> str:
    return {"approval": _("Approval: choose projects"),
            "knapsack": _("Knapsack: chosen projects within a cost limit"),
            "cumulative": _("Cumulative: points shared out between projects (imported)"),
            "scoring": _("Scoring: a score for each project (imported)"),
            "ordinal": _("Ordinal: a ranking of projects (imported)")}.get(kind, kind)


def _refusals() -> list[tuple[re.Pattern[str], Any]]:
    """The refusals an official meets most, in the reader's language (matched on the service's
    English words; any other refusal is shown as the service wrote it)."""
    return [
        (r"Proposals not screened yet: (?P<ids>.+)\.$",
         lambda m: _("Screen every proposal first. Not screened yet: %(ids)s.") % m),
        (r"There are no proposals to screen", lambda m: _("Add at least one proposal before screening.")),
        (r"No proposal was found feasible", lambda m: _("No proposal is feasible: there is nothing to vote on.")),
        (r"The ballot asks for at least (?P<n>\d+) projects but only (?P<m>\d+)",
         lambda m: _("The ballot asks for at least %(n)s projects but only %(m)s are on it. Change the settings "
                     "first.") % m),
        (r"Import the voter roll before opening voting",
         lambda m: _("Upload the voter roll before opening voting.")),
        (r"already exists", lambda m: _("A cycle with this name already exists. Choose another name.")),
        (r"A ballot credential was already issued",
         lambda m: _("This resident has already voted (by phone or on paper).")),
        (r"No roll entry", lambda m: _("Nobody with this roll number is on the roll.")),
        (r"Choose at most (?P<n>\d+) project", lambda m: _("Choose no more than %(n)s projects.") % m),
        (r"Choose at least (?P<n>\d+) project", lambda m: _("Choose at least %(n)s projects.") % m),
        (r"more than the (budget|per-voter limit) of (?P<limit>[\d,]+) won",
         lambda m: _("The chosen projects cost more than %(limit)s won.") % m),
        (r"Funding (?P<id>\S+) would bring the total to (?P<total>[\d,]+) won",
         lambda m: _("Funding %(id)s would bring the total to %(total)s won, over the budget.") % m),
        (r"Project (?P<id>\S+) is already funded", lambda m: _("Project %(id)s is already funded.") % m),
        (r"Project (?P<id>\S+) is not funded", lambda m: _("Project %(id)s is not funded.") % m),
        (r"is more than the whole budget", lambda m: _("The cost is more than the whole budget.")),
        (r"frozen once voting has opened", lambda m: _("The roll is fixed once voting has opened.")),
        (r"in the (?P<phase>\w+) phase", lambda m: _("This cannot be done in the %(phase)s stage.")
         % {"phase": phase_name(m["phase"])}),
    ]


def refusal(exc: Exception) -> str:
    """A service's refusal as a message on the form."""
    detail = str(getattr(exc, "detail", exc))
    for pattern, words in _refusals():
        found = re.search(pattern, detail)
        if found:
            return words(found.groupdict())
    return detail


def may(engine: Engine, actor: Any) -> dict[str, bool]:
    return {name: engine.permissions.get(name).allows(actor) for name in PERMISSIONS}


def whole_won(value: Any) -> int | None:
    """A number of won as typed (commas, spaces and '원' allowed); None when not a whole number."""
    text = str(value or "").replace(",", "").replace(" ", "").replace("원", "").replace("₩", "").strip()
    return int(text) if text.isdigit() else None


def whole_number(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def seoul_to_utc(value: str) -> str | None:
    """A ``datetime-local`` value (Seoul time) as a stored UTC time; '' -> None."""
    value = value.strip()
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=SEOUL).astimezone(UTC).isoformat()


def read_upload(value: Any) -> bytes | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return value.file.read(MAX_UPLOAD + 1)


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, encoding read): UTF-8 with or without the BOM Excel writes, else CP949 (the
    default of Korean Excel, a superset of EUC-KR)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949"), "CP949 (EUC-KR)"
    except UnicodeDecodeError:
        raise InvalidInput("The file is neither UTF-8 nor CP949 (EUC-KR) text.") from None


def csv_download(text: str, filename: str) -> Response[bytes]:
    """A CSV download Excel opens with Korean intact: UTF-8 with a BOM."""
    return Response((BOM + text).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


# -- the roll preview ------------------------------------------------------------------------------
def preview_roll(text: str, existing: list[str]) -> dict[str, Any]:
    """What the upload would add: the good rows, the bad ones by row number, and the good rows
    again as CSV (what is imported on confirmation). Nothing is stored here."""
    problems: list[dict[str, Any]] = []
    try:
        rows = parse_roll_csv(text, existing=existing)
        lines = [r.line for r in rows]
    except InvalidInput as exc:
        problems = list(exc.extra.get("errors") or [{"line": 1, "message": exc.detail}])
        if any(p["line"] == 1 for p in problems):
            return {"rows": [], "lines": [], "problems": problems, "csv": "", "header_bad": True}
        bad = {p["line"] for p in problems}
        reader = csv.reader(io.StringIO(text))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        lines = []  # each good row's number in the uploaded file
        for fields in reader:
            if reader.line_num not in bad:
                writer.writerow(fields)
                if reader.line_num > 1 and any(f.strip() for f in fields):
                    lines.append(reader.line_num)
        try:
            rows = parse_roll_csv(out.getvalue(), existing=existing)
        except InvalidInput as again:  # pragma: no cover - the good rows parse alone
            return {"rows": [], "lines": [], "problems": problems + [{"line": 1, "message": again.detail}], "csv": "",
                    "header_bad": True}
    keep = io.StringIO()
    writer = csv.writer(keep, lineterminator="\n")
    writer.writerow(["entry_id", "contact", "channel", "group", "name", "language"])
    for r in rows:
        writer.writerow([r.entry_id, r.contact, r.channel, r.group, r.name, r.language])
    return {"rows": rows, "lines": lines, "problems": problems, "csv": keep.getvalue() if rows else "",
            "header_bad": False}


def _row_problems() -> list[tuple[str, Any]]:
    return [
        (r"^entry_id is empty", lambda m: _("The entry id is empty.")),
        (r"^entry_id '(?P<id>.*)' repeats line (?P<line>\d+)",
         lambda m: _("Entry id %(id)s repeats row %(line)s.") % m),
        (r"^entry_id '(?P<id>.*)' is already on the roll", lambda m: _("Entry id %(id)s is already on the roll.") % m),
        (r"^contact is neither a phone number", lambda m: _("The contact is neither a mobile number nor an e-mail "
                                                           "address.")),
        (r"^contact is not a valid e-mail", lambda m: _("The e-mail address is not valid.")),
        (r"^(?P<n>\d+) fields, the header has (?P<m>\d+)",
         lambda m: _("The row has %(n)s columns; the header row has %(m)s.") % m),
        (r"^language must be one of", lambda m: _("The language must be ko or en.")),
        (r"^a field is longer than (?P<n>\d+)", lambda m: _("A column is longer than %(n)s characters.") % m),
        (r"column\(s\)", lambda m: _("The first row must name the columns: entry_id and contact, and if you use "
                                      "them channel, group, name and language.")),
        (r"^no header row", lambda m: _("The file is empty.")),
    ]


def row_problem(message: str) -> str:
    """A roll row's problem in the reader's language (the kit's own words when not known)."""
    for pattern, words in _row_problems():
        found = re.search(pattern, message)
        if found:
            return words(found.groupdict())
    return message



def dong_choices(language: str) -> list[tuple[str, str]]:
    """Jung-gu's dongs and the whole district, named in the reader's language."""
    english = language == "en"
    return [(d, f"{DONG_NAMES_EN[d]} ({d})" if english else d) for d in DONGS] + \
        [(WHOLE_DISTRICT, f"Whole district ({WHOLE_DISTRICT})" if english else WHOLE_DISTRICT)]

class RollPreviews:
    """Previewed rolls waiting for the official's confirmation, kept in the server's memory (the
    phone numbers do not travel back through the browser). Keyed by a random token and bound to
    the cycle and the official; the newest few only; a restart forgets them (upload again)."""

    LIMIT = 20

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: OrderedDict[str, tuple[str, str, str]] = OrderedDict()

    def keep(self, cycle_id: str, actor_id: str, text: str) -> str:
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.kept[token] = (cycle_id, actor_id, text)
            while len(self.kept) > self.LIMIT:
                self.kept.popitem(last=False)
        return token

    def take(self, token: str, cycle_id: str, actor_id: str) -> str | None:
        with self.lock:
            found = self.kept.get(token)
            if found is None or found[:2] != (cycle_id, actor_id):
                return None
            del self.kept[token]
            return found[2]


def roll_previews(engine: Engine) -> RollPreviews:
    return engine.kept("budget_vote.roll-previews", RollPreviews)


def masked(contact: str) -> str:
    """A contact as the preview shows it: enough to recognise, not the whole number."""
    if "@" in contact:
        name, _, domain = contact.partition("@")
        return f"{name[:2]}***@{domain}"
    return contact[:3] + "*" * max(len(contact) - 7, 0) + contact[-4:] if len(contact) > 7 else contact


class BudgetOffice(Controller):
    path = OFFICE
    include_in_schema = False

    # -- cycles -------------------------------------------------------------------------------------
    @get("/", guards=[staff_page("budget.manage")], sync_to_thread=True, name="budget-office")
    def cycles(self, request: Request, engine: EngineDep, actor: ActorDep) -> Template:
        summaries = sorted(cycle_summaries(engine).items(), key=lambda kv: kv[1]["name"])
        return staff_template(request, "budget_vote/console/cycles.html", _("Participatory budget office"),
                              cycles=summaries, phase_name=phase_name, may=may(engine, actor))

    @get("/screening", guards=[staff_page("budget.screen")], sync_to_thread=True)
    def screening_cycles(self, request: Request, engine: EngineDep) -> Template:
        summaries = sorted(((cid, c) for cid, c in cycle_summaries(engine).items() if c["phase"] == "screening"),
                           key=lambda kv: kv[1]["name"])
        return staff_template(request, "budget_vote/console/screening.html", _("Screen budget proposals"),
                              cycles=summaries)

    @get("/new", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def new_cycle_page(self, request: Request) -> Template:
        return self._new(request, {"scope": "", "last_vote_counts": "yes"}, {})

    def _new(self, request: Request, form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Template:
        return staff_template(request, "budget_vote/console/new.html", _("Create a budget cycle"), status_code=status,
                              form=form, errors=errors)

    @post("/new", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def create_cycle(self, request: Request, data: Form, engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        form = {k: str(data.get(k, "")).strip() for k in ("name", "budget", "scope", "voting_opens", "voting_closes",
                                                          "last_vote_counts")}
        errors: dict[str, str] = {}
        if not form["name"]:
            errors["name"] = _("Enter the cycle's name.")
        budget = whole_won(form["budget"])
        if not budget:
            errors["budget"] = _("Enter the budget as a whole number of won, for example 300000000.")
        if not form["scope"]:
            errors["scope"] = _("Enter where the cycle applies, for example 중구 전체 or a dong's name.")
        times: dict[str, str | None] = {}
        for key in ("voting_opens", "voting_closes"):
            try:
                times[key] = seoul_to_utc(form[key])
            except ValueError:
                errors[key] = _("Enter a date and time, or leave it empty.")
        if errors:
            return self._new(request, form, errors, 400)
        try:
            cycle = service.open_cycle(engine, name=form["name"], budget=budget, scope=form["scope"],
                                       voting_opens=times["voting_opens"], voting_closes=times["voting_closes"],
                                       last_vote_counts=form["last_vote_counts"] != "no", by=actor.id)
        except REFUSED as exc:
            return self._new(request, form, {"name": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/settings?new=1", status_code=303)

    @get("/{cycle_id:str}", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def cycle_page(self, request: Request, cycle_id: FromPath[str], engine: EngineDep, actor: ActorDep,
                   moved: FromQuery[str | None] = None) -> Template:
        return self._cycle(request, engine, actor, service.get_cycle(engine, cycle_id), {}, moved=moved)

    def _cycle(self, request: Request, engine: Engine, actor: Any, cycle: Cycle, errors: dict[str, str],
               status: int = 200, moved: str | None = None) -> Template:
        kit = VotingKit(engine)
        roll = len(kit.roll(cycle.id).entries)
        proposals = [p for p in cycle.proposals.values() if not p.get("withdrawn")]
        return staff_template(
            request, "budget_vote/console/cycle.html", cycle.name, status_code=status, cycle=cycle, errors=errors,
            phase_name=phase_name, next_phase=NEXT_PHASE.get(cycle.phase), next_label=next_step_label(cycle.phase),
            rule_name=rule_name, ballot_kind_name=ballot_kind_name, roll=roll, may=may(engine, actor),
            moved=phase_name(moved) if moved and moved != "settings" else None,
            saved=moved == "settings", proposals=len(proposals),
            screened=sum(1 for p in proposals if p["screened"]), on_ballot=len(cycle.ballot_costs),
            phases=["proposal", "screening", "voting", "tallying", "published"])

    @post("/{cycle_id:str}/phase", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def advance(self, request: Request, cycle_id: FromPath[str], data: Form, engine: EngineDep,
                actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        to = str(data.get("to", ""))
        try:
            service.advance(engine, cycle.id, to, by=actor.id)
        except REFUSED as exc:
            return self._cycle(request, engine, actor, service.get_cycle(engine, cycle.id), {"phase": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}?moved={to}", status_code=303)

    # -- settings -----------------------------------------------------------------------------------
    @get("/{cycle_id:str}/settings", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def settings_page(self, request: Request, cycle_id: FromPath[str], engine: EngineDep,
                      new: FromQuery[str | None] = None) -> Template:
        cycle = service.get_cycle(engine, cycle_id)
        style, rule = cycle.ballot_style, cycle.rule
        form = {"kind": style["kind"], "min_projects": str(style["min_projects"]),
                "max_projects": "" if style["max_projects"] is None else str(style["max_projects"]),
                "cost_limit": "" if style["cost_limit"] is None else str(style["cost_limit"]),
                "rule": rule["name"], "satisfaction": rule["satisfaction"], "completion": rule["completion"]}
        return self._settings(request, cycle, form, {}, created=bool(new))

    def _settings(self, request: Request, cycle: Cycle, form: dict[str, Any], errors: dict[str, str],
                  status: int = 200, created: bool = False) -> Template:
        return staff_template(request, "budget_vote/console/settings.html", _("Ballot and winner rule"),
                              status_code=status, cycle=cycle, form=form, errors=errors, created=created,
                              open=cycle.phase in ("proposal", "screening"), rule_name=rule_name,
                              ballot_kind_name=ballot_kind_name, kinds=rules.CHOOSING_KINDS, rules_=rules.RULE_NAMES,
                              completions=rules.COMPLETIONS)

    @post("/{cycle_id:str}/settings", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def change_settings(self, request: Request, cycle_id: FromPath[str], data: Form, engine: EngineDep,
                        actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        form = {k: str(data.get(k, "")).strip() for k in ("kind", "min_projects", "max_projects", "cost_limit", "rule",
                                                          "satisfaction", "completion")}
        errors: dict[str, str] = {}
        minimum = whole_number(form["min_projects"])
        if minimum is None:
            errors["min_projects"] = _("Enter the least number of projects a ballot must choose (0 or more).")
        maximum = whole_number(form["max_projects"]) if form["max_projects"] else None
        if form["max_projects"] and not maximum:
            errors["max_projects"] = _("Enter the most projects a ballot may choose, or leave it empty for no limit.")
        limit = whole_won(form["cost_limit"]) if form["cost_limit"] else None
        if form["cost_limit"] and not limit:
            errors["cost_limit"] = _("Enter the cost limit as a whole number of won, or leave it empty.")
        if form["kind"] != "knapsack" and form["cost_limit"]:
            errors["cost_limit"] = _("A cost limit is only for knapsack ballots. Leave it empty for approval ballots.")
        if errors:
            return self._settings(request, cycle, form, errors, 400)
        style = {"kind": form["kind"], "min_projects": minimum, "max_projects": maximum, "cost_limit": limit}
        rule = {**cycle.rule, "name": form["rule"], "satisfaction": form["satisfaction"] or cycle.rule["satisfaction"],
                "completion": form["completion"] or cycle.rule["completion"]}
        try:
            service.configure(engine, cycle.id, ballot_style=style, rule=rule, by=actor.id)
        except REFUSED as exc:
            return self._settings(request, cycle, form, {"kind": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}?moved=settings", status_code=303)

    # -- proposals ----------------------------------------------------------------------------------
    @get("/{cycle_id:str}/proposals", guards=[staff_page("budget.screen")], sync_to_thread=True)
    def proposals_page(self, request: Request, cycle_id: FromPath[str], engine: EngineDep, actor: ActorDep,
                       added: FromQuery[str | None] = None, screened: FromQuery[str | None] = None) -> Template:
        cycle = service.get_cycle(engine, cycle_id)
        return self._proposals(request, engine, actor, cycle, {"proposer_role": "resident"}, {}, added=added,
                               screened=screened)

    def _proposals(self, request: Request, engine: Engine, actor: Any, cycle: Cycle, form: dict[str, Any],
                   errors: dict[str, str], status: int = 200, added: str | None = None,
                   screened: str | None = None) -> Template:
        return staff_template(request, "budget_vote/console/proposals.html", _("Proposals and screening"),
                              status_code=status, cycle=cycle, form=form, errors=errors, may=may(engine, actor),
                              added=added, screened=screened, phase_name=phase_name, dongs=dong_choices(request.state.get("language", "ko")))

    @post("/{cycle_id:str}/proposals", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def add_proposal(self, request: Request, cycle_id: FromPath[str], data: Form, engine: EngineDep,
                     actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        form = {k: str(data.get(k, "")).strip() for k in ("title", "description", "dong", "category", "proposer",
                                                          "proposer_role")}
        errors: dict[str, str] = {}
        for key, message in (("title", _("Enter the project's title.")), ("dong", _("Choose the dong.")),
                             ("category", _("Enter the category, for example 안전 or 환경.")),
                             ("proposer", _("Enter the proposer's name."))):
            if not form[key]:
                errors[key] = message
        if errors:
            return self._proposals(request, engine, actor, cycle, form, errors, 400)
        try:
            pid = service.submit_proposal(engine, cycle.id, title=form["title"], description=form["description"],
                                          dong=form["dong"], category=form["category"], proposer=form["proposer"],
                                          proposer_role=form["proposer_role"] or "resident")
        except REFUSED as exc:
            field = exc.extra.get("field") if exc.extra.get("field") in form else "title"
            return self._proposals(request, engine, actor, cycle, form, {field: refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/proposals?added={pid}", status_code=303)

    @get("/{cycle_id:str}/proposals/{project_id:str}", guards=[staff_page("budget.screen")], sync_to_thread=True)
    def screening_page(self, request: Request, cycle_id: FromPath[str], project_id: FromPath[str],
                       engine: EngineDep) -> Template:
        cycle = service.get_cycle(engine, cycle_id)
        proposal = self._proposal(cycle, project_id)
        form = {"feasible": {True: "yes", False: "no"}.get(proposal["feasible"], ""),
                "cost": "" if proposal["cost"] is None else str(proposal["cost"]), "reason": proposal["reason"] or ""}
        return self._screen(request, cycle, project_id, form, {})

    @staticmethod
    def _proposal(cycle: Cycle, project_id: str) -> dict[str, Any]:
        if project_id not in cycle.proposals:
            raise NotFound(f"No proposal {project_id} in this cycle.")
        return cycle.proposals[project_id]

    def _screen(self, request: Request, cycle: Cycle, project_id: str, form: dict[str, Any], errors: dict[str, str],
                status: int = 200) -> Template:
        return staff_template(request, "budget_vote/console/screen.html", _("Screen a proposal"), status_code=status,
                              cycle=cycle, project_id=project_id, proposal=self._proposal(cycle, project_id),
                              form=form, errors=errors, phase_name=phase_name)

    @post("/{cycle_id:str}/proposals/{project_id:str}", guards=[staff_page("budget.screen")], sync_to_thread=True)
    def screen(self, request: Request, cycle_id: FromPath[str], project_id: FromPath[str], data: Form,
               engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        self._proposal(cycle, project_id)
        form = {k: str(data.get(k, "")).strip() for k in ("feasible", "cost", "reason")}
        errors: dict[str, str] = {}
        if form["feasible"] not in ("yes", "no"):
            errors["feasible"] = _("Choose whether the project is feasible.")
        cost = whole_won(form["cost"]) if form["cost"] else None
        if form["feasible"] == "yes" and not cost:
            errors["cost"] = _("Enter the project's cost as a whole number of won.")
        elif form["cost"] and not cost:
            errors["cost"] = _("Enter the cost as a whole number of won, or leave it empty.")
        if not form["reason"]:
            errors["reason"] = _("Write the reason for the decision; residents and auditors read it.")
        if errors:
            return self._screen(request, cycle, project_id, form, errors, 400)
        try:
            service.screen(engine, cycle.id, project_id, feasible=form["feasible"] == "yes", cost=cost,
                           reason=form["reason"], by=actor.id)
        except REFUSED as exc:
            return self._screen(request, cycle, project_id, form, {"feasible": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/proposals?screened={project_id}", status_code=303)

    # -- the voter roll and codes -----------------------------------------------------------------
    @get("/{cycle_id:str}/roll", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def roll_page(self, request: Request, cycle_id: FromPath[str], engine: EngineDep,
                  added: FromQuery[int | None] = None, sent: FromQuery[int | None] = None) -> Template:
        return self._roll(request, engine, service.get_cycle(engine, cycle_id), {}, added=added, sent=sent)

    def _roll(self, request: Request, engine: Engine, cycle: Cycle, errors: dict[str, str], status: int = 200,
              added: int | None = None, sent: int | None = None) -> Template:
        entries = VotingKit(engine).roll(cycle.id).entries
        groups: dict[str, int] = {}
        for group in entries.values():
            groups[group or "-"] = groups.get(group or "-", 0) + 1
        return staff_template(request, "budget_vote/console/roll.html", _("Voter roll and voting codes"),
                              status_code=status, cycle=cycle, errors=errors, entries=len(entries),
                              groups=sorted(groups.items()), added=added, sent=sent,
                              can_import=cycle.phase in ("proposal", "screening"), phase_name=phase_name)

    @get("/roll-template.csv", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def roll_template(self) -> Response[bytes]:
        return csv_download("entry_id,contact,group,name,language\n101-1203,010-1234-5678,명동,홍길동,ko\n",
                            "voter-roll.csv")

    @post("/{cycle_id:str}/roll/preview", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def roll_preview(self, request: Request, cycle_id: FromPath[str], data: Multipart, engine: EngineDep,
                     actor: ActorDep) -> Template:
        cycle = service.get_cycle(engine, cycle_id)
        raw = read_upload(data.get("file"))
        if raw is None:
            return self._roll(request, engine, cycle, {"file": _("Choose the roll's CSV file.")}, 400)
        if len(raw) > MAX_UPLOAD:
            return self._roll(request, engine, cycle, {"file": _("The file is larger than 5 MB.")}, 400)
        try:
            text, encoding = decode_csv(raw)
        except InvalidInput:
            return self._roll(request, engine, cycle, {"file": _(
                "The file could not be read as text. Save it from Excel as 'CSV UTF-8' and try again.")}, 400)
        preview = preview_roll(text, list(VotingKit(engine).roll(cycle.id).entries))
        shown = list(zip(preview["lines"], preview["rows"]))[:PREVIEW_ROWS]
        token = roll_previews(engine).keep(str(cycle.id), actor.id, preview["csv"]) if preview["csv"] else ""
        return staff_template(request, "budget_vote/console/roll_preview.html", _("Check the roll before importing"),
                              cycle=cycle, encoding=encoding, preview=preview, shown=shown, masked=masked,
                              row_problem=row_problem, filename=getattr(data.get("file"), "filename", ""),
                              token=token)

    @post("/{cycle_id:str}/roll", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def roll_import(self, request: Request, cycle_id: FromPath[str], data: Form, engine: EngineDep,
                    actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        text = roll_previews(engine).take(str(data.get("preview", "")), str(cycle.id), actor.id)
        if not text:
            return self._roll(request, engine, cycle, {"file": _(
                "This preview is no longer available (it was imported already, or the server restarted). "
                "Upload the file again.")}, 400)
        try:
            done = service.import_roll(engine, cycle.id, text)
        except REFUSED as exc:
            return self._roll(request, engine, cycle, {"file": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/roll?added={done['added']}", status_code=303)

    @post("/{cycle_id:str}/codes", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def send_codes(self, request: Request, cycle_id: FromPath[str], engine: EngineDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        try:
            sent = service.issue_codes(engine, cycle.id)
        except REFUSED as exc:
            return self._roll(request, engine, cycle, {"codes": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/roll?sent={sent}", status_code=303)

    # -- paper ballots --------------------------------------------------------------------------------
    @get("/{cycle_id:str}/paper", guards=[staff_page("budget.paper_ballots")], sync_to_thread=True)
    def paper_page(self, request: Request, cycle_id: FromPath[str], engine: EngineDep,
                   entered: FromQuery[str | None] = None) -> Template:
        return self._paper(request, service.get_cycle(engine, cycle_id), {}, [], {}, entered=entered)

    def _paper(self, request: Request, cycle: Cycle, form: dict[str, Any], chosen: list[str], errors: dict[str, str],
               status: int = 200, entered: str | None = None) -> Template:
        projects = [{"project_id": pid, "title": cycle.proposals[pid]["title"], "cost": cost}
                    for pid, cost in sorted(cycle.ballot_costs.items(), key=lambda kv: rules.natural_order(kv[0]))]
        return staff_template(request, "budget_vote/console/paper.html", _("Enter a paper ballot"), status_code=status,
                              cycle=cycle, form=form, chosen=set(chosen), errors=errors, projects=projects,
                              entered=entered, phase_name=phase_name)

    @post("/{cycle_id:str}/paper", guards=[staff_page("budget.paper_ballots")], sync_to_thread=True)
    def enter_paper(self, request: Request, cycle_id: FromPath[str], data: Form, engine: EngineDep,
                    actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        entry_id = str(data.get("entry_id", "")).strip()
        choice = form_values(data.get("project"))
        form = {"entry_id": entry_id}
        if not entry_id:
            return self._paper(request, cycle, form, choice, {"entry_id": _(
                "Enter the resident's roll number (entry id), as checked on their identity card.")}, 400)
        try:
            receipt = service.enter_paper_ballot(engine, cycle.id, entry_id=entry_id, choice=choice, by=actor.id)
        except REFUSED as exc:
            field = "project" if isinstance(exc, InvalidInput) and exc.extra.get("rule") else "entry_id"
            return self._paper(request, cycle, form, choice, {field: refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/paper?entered={receipt['tracking_code']}", status_code=303)

    # -- the result --------------------------------------------------------------------------------
    @get("/{cycle_id:str}/result", guards=[staff_page("budget.view_embargoed")], sync_to_thread=True)
    def result_page(self, request: Request, cycle_id: FromPath[str], engine: EngineDep, actor: ActorDep,
                    done: FromQuery[str | None] = None) -> Template:
        return self._result(request, engine, actor, service.get_cycle(engine, cycle_id), {}, {}, done=done)

    def _result(self, request: Request, engine: Engine, actor: Any, cycle: Cycle, form: dict[str, Any],
                errors: dict[str, str], status: int = 200, done: str | None = None) -> Template:
        compared = service.compare_rules(engine, cycle.id) if cycle.result else []
        projects = [{"project_id": pid, "title": cycle.proposals[pid]["title"], "cost": cost,
                     "votes": (cycle.result or {}).get("votes", {}).get(pid, 0)}
                    for pid, cost in cycle.ballot_costs.items()]
        projects.sort(key=lambda p: (-p["votes"], rules.natural_order(p["project_id"])))
        final = set(cycle.winners)
        return staff_template(
            request, "budget_vote/console/result.html", _("Counting and result"), status_code=status, cycle=cycle, form=form,
            errors=errors, compared=compared, projects=projects, final=final, may=may(engine, actor), done=done,
            funded_total=sum(cycle.ballot_costs[p] for p in final), rule_name=rule_name, phase_name=phase_name,
            support_heading=support_heading(cycle.style.kind), money=money(cycle),
            sets=[set(c["winners"]) for c in compared])

    @post("/{cycle_id:str}/tally", guards=[staff_page("budget.tally")], sync_to_thread=True)
    def tally(self, request: Request, cycle_id: FromPath[str], engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        try:
            service.tally(engine, cycle.id, by=actor.id)
        except REFUSED as exc:
            return self._result(request, engine, actor, cycle, {}, {"tally": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/result?done=tally", status_code=303)

    @post("/{cycle_id:str}/overrides", guards=[staff_page("budget.override")], sync_to_thread=True)
    def override(self, request: Request, cycle_id: FromPath[str], data: Form, engine: EngineDep,
                 actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        form = {k: str(data.get(k, "")).strip() for k in ("action", "project_id", "reason")}
        errors: dict[str, str] = {}
        if form["action"] not in ("fund", "unfund"):
            errors["action"] = _("Choose whether to fund or unfund the project.")
        if form["project_id"] not in cycle.ballot_costs:
            errors["project_id"] = _("Choose a project on the ballot.")
        if len(form["reason"]) < 10:
            errors["reason"] = _("Write the reason for the change (at least 10 characters); it is published with the result.")
        if not errors:
            try:
                service.override(engine, cycle.id, action=form["action"], project_id=form["project_id"],
                                 reason=form["reason"], by=actor.id)
            except REFUSED as exc:
                errors["action"] = refusal(exc)
        if errors:
            return self._result(request, engine, actor, cycle, form, errors, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/result?done=override", status_code=303)

    @post("/{cycle_id:str}/validation", guards=[staff_page("budget.validate")], sync_to_thread=True)
    def validate(self, request: Request, cycle_id: FromPath[str], engine: EngineDep,
                 actor: ActorDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        try:
            service.validate(engine, cycle.id, by=actor.id)
        except REFUSED as exc:
            return self._result(request, engine, actor, cycle, {}, {"validate": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/result?done=published", status_code=303)

    @get("/{cycle_id:str}/result.csv", guards=[staff_page("budget.view_embargoed")], sync_to_thread=True)
    def result_csv(self, cycle_id: FromPath[str], engine: EngineDep) -> Response[bytes]:
        cycle = service.get_cycle(engine, cycle_id)
        return csv_download(open_data_csv(cycle), f"budget-result-{cycle.id}.csv")

    # -- Pabulib files -------------------------------------------------------------------------------
    @get("/{cycle_id:str}/ballots.pb", guards=[staff_page("budget.view_embargoed")], sync_to_thread=True)
    def export_pb(self, cycle_id: FromPath[str], engine: EngineDep) -> Response[str]:
        cycle = service.get_cycle(engine, cycle_id)
        return Response(pabulib_exchange.export_pb(engine, cycle.id), media_type="text/plain; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="budget-{cycle.id}.pb"'})

    @get("/import", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def import_page(self, request: Request) -> Template:
        return self._import(request, {}, {})

    def _import(self, request: Request, form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Template:
        return staff_template(request, "budget_vote/console/import.html", _("Import a Pabulib file"),
                              status_code=status, form=form, errors=errors)

    @post("/import", guards=[staff_page("budget.manage")], sync_to_thread=True)
    def import_pb(self, request: Request, data: Multipart, engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        form = {"name": str(data.get("name", "")).strip()}
        raw = read_upload(data.get("file"))
        if raw is None:
            return self._import(request, form, {"file": _("Choose a Pabulib (.pb) file.")}, 400)
        if len(raw) > MAX_UPLOAD:
            return self._import(request, form, {"file": _("The file is larger than 5 MB.")}, 400)
        try:
            text, _encoding = decode_csv(raw)
            cycle = pabulib_exchange.import_pb(engine, text, name=form["name"] or None, by=actor.id)
        except REFUSED as exc:
            return self._import(request, form, {"file": refusal(exc)}, 400)
        return Redirect(path=f"{OFFICE}/{cycle.id}/result", status_code=303)


def staff_links(engine: Engine) -> list[StaffLink]:
    return [StaffLink(href=OFFICE, text=_("Participatory budget office"), permission="budget.manage",
                      description=_("Cycles, proposals, the voter roll, phases, the tally and publication.")),
            StaffLink(href=f"{OFFICE}/screening", text=_("Screen budget proposals"), permission="budget.screen",
                      description=_("Feasibility, cost and reason for each proposal."))]
