"""The officers' console of field complaints: the queue by department and dong (overdue first),
each complaint with its history, photos and the next actions, the result text checked before it
is sent, and the monthly and yearly reports with charts and CSV downloads for Excel.

Every handler calls the same service functions as the JSON API; a refused action is shown on its
form and changes nothing. The reporter's name and phone appear only to roles holding
``complaints.personal_data``, never in a URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from core import (Actor, ActorDep, Engine, EngineDep, InvalidInput, NotFound, RuleViolation, StaffLink,
                  bar_chart_svg, seoul_time, staff_page, staff_template, utc_now)
from core import gettext as _
from plugins.complaints import reports, rules, service
from plugins.complaints.domain import Complaint, Inspection, inspection_id
from plugins.complaints.media import MAX_BYTES, check_photo
from plugins.complaints.texts import result_text
from plugins.complaints.web import (ACCEPTED_TYPES, MAX_BODY, dong_name, language, named, phone_shown,
                                    uploaded_bytes)

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
BASE = "/staff/complaints"
HANDLE = "complaints.handle"
INSPECT = "complaints.inspect"
PERSONAL = "complaints.personal_data"
PHOTOS = "complaints.intake"  # who may attach a photo (as through the JSON API)
QUEUE_LIMIT = 300
# The actions of the pages, and the service action each one is (a complaint is transferred to its
# first officer at intake, so moving it on to another department or officer is a reassignment).
ACTIONS = {"accept": "accept", "start": "start", "resolve": "resolve", "transfer": "reassign",
           "reject": "reject", "duplicate": "duplicate"}
# The actions with a form page of their own (the others are one button on the complaint page).
FORM_ACTIONS = ("resolve", "transfer", "reject", "duplicate")
MAX_NOTE = 2000


# -- words ---------------------------------------------------------------------------------------
def status_name(status: str) -> str:
    """A status as the officers call it."""
    return {
        rules.RECEIVED: _("Received"), rules.TRANSFERRED: _("With the officer"), rules.ACCEPTED: _("Accepted"),
        rules.IN_PROGRESS: _("In progress"), rules.RESOLVED: _("Resolved"), rules.REJECTED: _("Rejected"),
        rules.DUPLICATE: _("Duplicate"),
    }.get(status, status)


def channel_name(channel: str) -> str:
    """How the complaint came in (``rules.CHANNELS``)."""
    return {
        "call_centre": _("120 Dasan Call Centre"), "sns": _("Social media"), "portal": _("The district's website"),
        "officer": _("Reported by an officer"), "open311": _("An Open311 app"),
    }.get(channel, channel)


ROUTING_NOTE = "routed by item type and dong"  # what service.build_complaint records


def note_shown(note: str | None) -> str | None:
    """A history note; the routing's own note in the reader's language."""
    return _("Routed automatically by item type and dong") if note == ROUTING_NOTE else note


def action_words(action: str) -> dict[str, str]:
    """The title of an action's page, its button, and what the page's result reads."""
    return {
        "accept": {"button": _("Accept"), "done": _("You accepted the complaint.")},
        "start": {"button": _("Start work"), "done": _("You started work on the complaint.")},
        "resolve": {"title": _("Resolve the complaint"), "button": _("Check the result text"),
                    "done": _("The complaint is resolved.")},
        "transfer": {"title": _("Transfer to another department or officer"), "button": _("Transfer"),
                     "done": _("The complaint was transferred.")},
        "reject": {"title": _("Reject the complaint"), "button": _("Reject"),
                   "done": _("The complaint was rejected.")},
        "duplicate": {"title": _("Mark as a duplicate"), "button": _("Mark as a duplicate"),
                      "done": _("The complaint was marked as a duplicate.")},
        "photo": {"done": _("The photo was added.")},
    }[action]


def status_filters() -> list[tuple[str, str]]:
    return [("open", _("Open (not closed)")), ("all", _("All"))] + [(s, status_name(s)) for s in rules.STATUSES]


def may_see_personal_data(engine: Engine, actor: Actor) -> bool:
    return engine.permissions.get(PERSONAL).allows(actor)


def allowed_actions(status: str) -> list[str]:
    """The page actions the complaint's status allows now (the rules' transitions)."""
    return [a for a, name in ACTIONS.items() if status in rules.TRANSITIONS[name][0]]


def not_found(what: str) -> Template:
    return Template(template_name="error.html", status_code=404, context={
        "status": 404, "title": what, "detail": _("Check the number, or the link you followed, and try again.")})


# -- the queue -------------------------------------------------------------------------------------
def queue_rows(engine: Engine, tax: dict[str, Any], lang: str, *, department: str, dong: str,
               status: str) -> list[dict[str, Any]]:
    """The complaints chosen by the filters: overdue first, then the nearest deadline first."""
    now = utc_now()
    rows = []
    for e in service.index(engine)["complaints"].values():
        if department and e["department"] != department or dong and e["dong"] != dong:
            continue
        if status == "open" and e["status"] in rules.CLOSED or status not in ("open", "all") and e["status"] != status:
            continue
        rows.append({
            "id": e["id"], "status": e["status"], "status_name": status_name(e["status"]),
            "closed": e["status"] in rules.CLOSED, "overdue": rules.is_overdue(e, now),
            "item": named(tax["items"].get(e["item"]), e["item"], lang),
            "department": named(tax["departments"].get(e["department"]), e["department"], lang),
            "dong": dong_name(e["dong"], lang), "address": e["address"], "officer": e["officer"],
            "received_at": e["received_at"], "deadline": e["deadline"],
        })
    rows.sort(key=lambda r: (not r["overdue"], r["closed"], r["deadline"], r["received_at"]))
    return rows


# -- one complaint ---------------------------------------------------------------------------------
def complaint_view(engine: Engine, actor: Actor, complaint: Complaint, lang: str) -> dict[str, Any]:
    tax = service.taxonomy(engine)
    described = service.describe(engine, complaint, reveal=may_see_personal_data(engine, actor))
    reporter = described.get("reporter")
    return {
        "id": str(complaint.id), "status": complaint.status, "status_name": status_name(complaint.status),
        "closed": complaint.status in rules.CLOSED, "overdue": described["overdue"],
        "item": named(tax["items"].get(complaint.item), complaint.item, lang),
        "field": named(tax["fields"].get(complaint.field), complaint.field, lang),
        "department": named(tax["departments"].get(complaint.department), complaint.department, lang),
        "dong": dong_name(complaint.dong, lang), "address": complaint.address, "officer": complaint.officer,
        "channel": channel_name(complaint.channel), "description": complaint.description,
        "photos": [p["sha256"] for p in complaint.photos], "received_at": complaint.received_at,
        "deadline": complaint.deadline, "closed_at": complaint.closed_at, "duplicate_of": complaint.duplicate_of,
        "history": [{"status_name": status_name(step["status"]), "at": step["at"], "note": note_shown(step.get("note")),
                     "officer": step.get("officer"), "by_you": step.get("by") == actor.id}
                    for step in reversed(complaint.history)],
        "personal": "reporter" in described,
        "anonymous": complaint.reporter is None,
        "reporter": None if reporter is None else {
            "erased": reporter["erased"], "name": None if reporter["erased"] else reporter["name"],
            "phone": None if reporter["erased"] or not reporter["phone"] else phone_shown(reporter["phone"])},
        "actions": allowed_actions(complaint.status),
    }


def texted(engine: Engine, complaint: Complaint) -> dict[str, Any]:
    """Whether a result text can go to the reporter, and to which phone (shown only to those who
    may see personal data)."""
    described = service.describe(engine, complaint, reveal=True)
    reporter = described["reporter"]
    phone = None if reporter is None or reporter["erased"] else reporter["phone"]
    return {"sends": bool(phone), "phone": phone_shown(phone) if phone else None}


def preview_text(engine: Engine, complaint: Complaint, note: str) -> str:
    """The result text exactly as the resolution will send it (``texts.result_text``)."""
    item = service.taxonomy(engine)["items"].get(complaint.item, {})
    return result_text(item.get("name_ko", complaint.item), complaint.dong, complaint.received_at, note or None)


def duplicate_candidates(engine: Engine, complaint: Complaint, tax: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Other reports of the same item type in the same dong: the likely earlier reports."""
    found = [e for e in service.index(engine)["complaints"].values()
             if e["id"] != str(complaint.id) and e["item"] == complaint.item and e["dong"] == complaint.dong
             and e["status"] != rules.DUPLICATE]
    found.sort(key=lambda e: e["received_at"])
    return [{"id": e["id"], "address": e["address"], "received_at": e["received_at"],
             "status_name": status_name(e["status"])} for e in found[:5]]


def form_errors(action: str, form: dict[str, str], tax: dict[str, Any]) -> dict[str, str]:
    """The page's own checks, in the officer's words, before the service is asked."""
    errors: dict[str, str] = {}  # in the order of the form's fields, as the error summary lists them
    if action == "transfer":
        if form["department"] not in tax["departments"]:
            errors["department"] = _("Choose the department.")
        if len(form["officer"]) > 80:
            errors["officer"] = _("The officer's name must be %(n)s characters or fewer.") % {"n": 80}
    if action == "duplicate" and not form["original"]:
        errors["original"] = _("Enter the number of the earlier report of the same problem.")
    if len(form["note"]) > MAX_NOTE:
        errors["note"] = _("The text must be %(n)s characters or fewer.") % {"n": f"{MAX_NOTE:,}"}
    elif action == "resolve" and not form["note"]:
        errors["note"] = _("Write the result: what was done. The reporter reads it in the text message.")
    elif action == "reject" and not form["note"]:
        errors["note"] = _("Write why the complaint is rejected.")
    elif action == "transfer" and not form["note"]:
        errors["note"] = _("Write why the complaint goes there.")
    return errors


def service_error(action: str, exc: Exception) -> tuple[str, str]:
    """(field, message) for a refusal of the service."""
    if isinstance(exc, NotFound):
        return "original", _("There is no complaint with this number. Check it and try again.")
    if isinstance(exc, RuleViolation):
        if exc.extra.get("current_status"):
            field = {"duplicate": "original"}.get(action, "note" if action in FORM_ACTIONS else "actions")
            return field, _("This cannot be done now: the complaint is %(status)s. Someone may have acted on it "
                            "in the meantime.") % {"status": status_name(exc.extra["current_status"])}
        if action == "transfer" and "already with" in exc.detail:
            return "officer", _("The complaint is already with this officer. Choose another department or officer.")
        if action == "duplicate":
            return "original", _("A complaint cannot be a duplicate of itself. Enter the number of another report.")
    field = str(getattr(exc, "extra", {}).get("field") or "")
    fields = {"resolve": ("note",), "reject": ("note",), "transfer": ("department", "officer", "note"),
              "duplicate": ("original", "note")}.get(action, ("actions",))
    return (field if field in fields else fields[0]), str(getattr(exc, "detail", exc))


# -- reports ---------------------------------------------------------------------------------------
def this_month() -> str:
    return seoul_time(utc_now()).strftime("%Y-%m")


def previous_month(month: str) -> str:
    year, number = service.parse_month(month)
    first = seoul_time(rules.month_bounds(year, number)[0]) - timedelta(days=1)
    return first.strftime("%Y-%m")


def monthly_chart(rows: list[dict[str, Any]], month: str, lang: str) -> str:
    names = [r["name_ko"] if lang == "ko" else r["name_en"] for r in rows]
    series = {key: [r[key] for r in rows] for key in ("received", "resolved", "open", "overdue")}
    legend = {"received": _("Received"), "resolved": _("Resolved"), "open": _("Open at the end"),
              "overdue": _("Overdue at the end")}
    return bar_chart_svg(_("Complaints by department, %(month)s") % {"month": month}, names, series,
                         bar_title=lambda s, c, v: f"{c} {legend[s]}: {v:,}", bar_label=lambda _i, v: f"{v:,}",
                         legend=legend)


def yearly_chart(rows: list[dict[str, Any]], tax: dict[str, Any], lang: str) -> str:
    fields = [c for c in (rows[0] if rows else {}) if c not in ("year", "total")]
    labels = [str(named(tax["fields"].get(f), f, lang).main) for f in fields]
    series = {str(row["year"]): [row[f] for f in fields] for row in rows}
    return bar_chart_svg(_("Complaints by field and year"), labels, series,
                         bar_title=lambda year, label, value: f"{year} {label}: {value:,}",
                         bar_label=lambda _i, value: f"{value:,}",
                         legend={str(row["year"]): _("%(year)s (total %(total)s)") % {
                             "year": row["year"], "total": f"{row['total']:,}"} for row in rows})


def month_or_error(month: str | None) -> tuple[str, dict[str, str]]:
    month = (month or "").strip() or this_month()
    try:
        year, number = service.parse_month(month)
    except InvalidInput:
        return this_month(), {"month": _("Enter the month as year and month, for example %(example)s.")
                              % {"example": this_month()}}
    return f"{year:04d}-{number:02d}", {}


def inspection_of(engine: Engine, kind: str, period: str) -> Inspection | None:
    """The published inspection of a period, or None."""
    try:
        return engine.get(inspection_id(kind, period), Inspection, what="inspection")
    except NotFound:
        return None


def too_large_text() -> str:
    return _("The photo is larger than %(n)s MB. Choose a smaller photo.") % {"n": MAX_BYTES // (1024 * 1024)}


def photo_problem(content: bytes) -> str | None:
    """Why this file cannot be attached (None when it can)."""
    if not content:
        return _("The file you chose is empty. Choose another photo.")
    if len(content) > MAX_BYTES:
        return too_large_text()
    try:
        check_photo(content)
    except InvalidInput:
        return _("The file you chose is not a JPEG, PNG, GIF or WebP picture. Choose another.")
    return None


def photo_too_large(request: Request, exc: Exception) -> Response[Any]:
    """A body too big to read at all: back to the complaint, which says why."""
    return Redirect(path=f"{BASE}/{request.path_params.get('complaint_id', '')}?photo=too-large", status_code=303)


def csv_download(content: bytes, filename: str) -> Response[bytes]:
    return Response(content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class ComplaintConsole(Controller):
    path = BASE
    include_in_schema = False

    # -- the queue --------------------------------------------------------------------------------
    @get("/", guards=[staff_page(HANDLE)], sync_to_thread=True, name="staff-complaints")
    def inbox(self, request: Request, engine: EngineDep, department: FromQuery[str] = "", dong: FromQuery[str] = "",
              status: FromQuery[str] = "open") -> Template:
        lang = language(request)
        tax = service.taxonomy(engine)
        errors: dict[str, str] = {}
        if department and department not in tax["departments"]:
            errors["department"], department = _("Choose a department from the list."), ""
        if dong and dong not in tax["dongs"]:
            errors["dong"], dong = _("Choose a dong from the list."), ""
        if status not in dict(status_filters()):
            errors["status"], status = _("Choose a status from the list."), "open"
        rows = queue_rows(engine, tax, lang, department=department, dong=dong, status=status)
        return staff_template(
            request, "complaints/console/queue.html", _("Complaints inbox"), status_code=400 if errors else 200,
            errors=errors, rows=rows[:QUEUE_LIMIT], total=len(rows), overdue=sum(r["overdue"] for r in rows),
            limit=QUEUE_LIMIT, chosen={"department": department, "dong": dong, "status": status},
            departments=[(code, str(named(d, code, lang))) for code, d in tax["departments"].items()],
            dongs=[(d, str(dong_name(d, lang))) for d in tax["dongs"]], statuses=status_filters())

    # -- reports (before the complaint routes, whose first segment is any text) ---------------------
    @get("/reports", guards=[staff_page(INSPECT)], sync_to_thread=True, name="staff-complaint-reports")
    def reports_page(self, request: Request, engine: EngineDep, month: FromQuery[str | None] = None,
                     published: FromQuery[str | None] = None) -> Template:
        chosen, errors = month_or_error(month)
        return self._reports(request, engine, chosen, (month or chosen) if errors else chosen, errors,
                             published=published)

    def _reports(self, request: Request, engine: Engine, chosen: str, month_input: str, errors: dict[str, str],
                 *, published: str | None = None) -> Template:
        lang = language(request)
        tax = service.taxonomy(engine)
        year, number = service.parse_month(chosen)
        monthly = service.monthly_report(engine, year, number)
        yearly = service.yearly_report(engine)
        for row in monthly:
            row["name"] = named(tax["departments"].get(row["department"]), row["department"], lang)
        fields = [(c, named(tax["fields"].get(c), c, lang)) for c in (yearly[0] if yearly else {})
                  if c not in ("year", "total")]
        now = utc_now()
        years = [{"year": row["year"], "over": rules.month_bounds(row["year"], 12)[1] <= now,
                  "inspection": inspection_of(engine, "yearly", str(row["year"]))} for row in yearly]
        return staff_template(
            request, "complaints/console/reports.html", _("Complaint reports"), status_code=400 if errors else 200,
            errors=errors, month=chosen, month_input=month_input, previous=previous_month(chosen),
            monthly=monthly, yearly=yearly, fields=fields, years=years,
            month_over=rules.month_bounds(year, number)[1] <= now,
            month_inspection=inspection_of(engine, "monthly", chosen),
            published=published if published in ("monthly", "yearly") else None,
            totals={key: sum(r[key] for r in monthly) for key in
                    ("received", "resolved", "rejected", "open", "overdue", "closed_late")})

    @post("/reports/publish", guards=[staff_page(INSPECT)], sync_to_thread=True)
    def publish(self, data: Form, request: Request, engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        """Record a finished month's inspection, or a finished year's figures (the service refuses
        a period not over yet or published before; nothing changes then)."""
        kind = str(data.get("kind") or "")
        period = str(data.get("period") or "").strip()
        month = str(data.get("month") or "").strip()
        chosen, _errors = month_or_error(month or (period if kind == "monthly" else None))
        try:
            service.publish_inspection(engine, kind, period, by=actor.id)
        except (InvalidInput, RuleViolation) as exc:
            if isinstance(exc, RuleViolation) and "not over" in exc.detail:
                message = _("This period is not over yet. Publish it once it has ended.")
            elif isinstance(exc, RuleViolation):
                message = _("This period's inspection is already published.")
            else:
                message = _("Choose a month or a year to publish.")
            return self._reports(request, engine, chosen, chosen, {"publish": message})
        return Redirect(path=f"{BASE}/reports?month={chosen}&published={kind}", status_code=303)

    @get("/reports/monthly.svg", guards=[staff_page(INSPECT)], sync_to_thread=True)
    def monthly_svg(self, request: Request, engine: EngineDep, month: FromQuery[str | None] = None) -> Response[str]:
        chosen, _errors = month_or_error(month)
        year, number = service.parse_month(chosen)
        rows = service.monthly_report(engine, year, number)
        return Response(monthly_chart(rows, chosen, language(request)), media_type="image/svg+xml")

    @get("/reports/yearly.svg", guards=[staff_page(INSPECT)], sync_to_thread=True)
    def yearly_svg(self, request: Request, engine: EngineDep) -> Response[str]:
        rows = service.yearly_report(engine)
        return Response(yearly_chart(rows, service.taxonomy(engine), language(request)), media_type="image/svg+xml")

    @get("/reports/monthly.csv", guards=[staff_page(INSPECT)], sync_to_thread=True)
    def monthly_csv(self, engine: EngineDep, month: FromQuery[str | None] = None) -> Response[bytes]:
        chosen, _errors = month_or_error(month)
        year, number = service.parse_month(chosen)
        rows = service.monthly_report(engine, year, number)
        return csv_download(reports.excel_csv(rows, reports.MONTHLY_HEADERS_KO), f"complaints-{chosen}.csv")

    @get("/reports/yearly.csv", guards=[staff_page(INSPECT)], sync_to_thread=True)
    def yearly_csv(self, engine: EngineDep) -> Response[bytes]:
        rows = service.yearly_report(engine)
        return csv_download(reports.excel_csv(rows, reports.yearly_headers(rows)), "complaints-by-field.csv")

    # -- one complaint ------------------------------------------------------------------------------
    @get("/{complaint_id:str}", guards=[staff_page(HANDLE)], sync_to_thread=True)
    def complaint(self, complaint_id: FromPath[str], request: Request, engine: EngineDep, actor: ActorDep,
                  done: FromQuery[str | None] = None, photo: FromQuery[str | None] = None) -> Template:
        try:
            complaint = service.get_complaint(engine, complaint_id)
        except NotFound:
            return not_found(_("There is no complaint with this number"))
        errors = {"photo": too_large_text()} if photo == "too-large" else {}
        return self._complaint_page(request, engine, actor, complaint, errors,
                                    done=done if done in (*ACTIONS, "photo") else None)

    def _complaint_page(self, request: Request, engine: Engine, actor: Actor, complaint: Complaint,
                        errors: dict[str, str], *, done: str | None = None, status: int = 200) -> Template:
        view = complaint_view(engine, actor, complaint, language(request))
        return staff_template(
            request, "complaints/console/complaint.html", _("Complaint: %(item)s") % {"item": str(view["item"])},
            status_code=status, errors=errors, c=view, done=action_words(done)["done"] if done else None,
            words={a: action_words(a) for a in ACTIONS}, accepted_types=ACCEPTED_TYPES,
            max_mb=MAX_BYTES // (1024 * 1024),
            may_add_photo=view["status"] not in rules.CLOSED and engine.permissions.get(PHOTOS).allows(actor))

    @post("/{complaint_id:str}/photos", guards=[staff_page(PHOTOS)], sync_to_thread=True,
          request_max_body_size=MAX_BODY, exception_handlers={413: photo_too_large})
    def add_photo(self, complaint_id: FromPath[str], data: Multipart, request: Request, engine: EngineDep,
                  actor: ActorDep) -> Template | Redirect:
        """Attach a photo (of the place, or of the work done) while the complaint is open."""
        try:
            complaint = service.get_complaint(engine, complaint_id)
        except NotFound:
            return not_found(_("There is no complaint with this number"))
        content = uploaded_bytes(data.get("photo"))
        problem = _("Choose a photo to add.") if content is None else photo_problem(content)
        if problem is None:
            try:
                service.add_photo(engine, complaint.id, content or b"")
            except (InvalidInput, RuleViolation) as exc:
                problem = (_("This photo is already attached.") if "already attached" in exc.detail
                           else _("Photos can be added only while the complaint is open.")
                           if isinstance(exc, RuleViolation) else exc.detail)
        if problem is not None:
            complaint = service.get_complaint(engine, complaint.id)
            return self._complaint_page(request, engine, actor, complaint, {"photo": problem}, status=400)
        return Redirect(path=f"{BASE}/{complaint.id}?done=photo", status_code=303)

    @get("/{complaint_id:str}/{action:str}", guards=[staff_page(HANDLE)], sync_to_thread=True)
    def action_page(self, complaint_id: FromPath[str], action: FromPath[str], request: Request,
                    engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        try:
            complaint = service.get_complaint(engine, complaint_id)
        except NotFound:
            return not_found(_("There is no complaint with this number"))
        if action not in FORM_ACTIONS:
            return not_found(_("There is no such page"))
        if action not in allowed_actions(complaint.status):
            return Redirect(path=f"{BASE}/{complaint.id}", status_code=303)
        form = {"note": "", "department": complaint.department, "officer": "", "original": ""}
        return self._action_form(request, engine, actor, complaint, action, form, {})

    def _action_form(self, request: Request, engine: Engine, actor: Actor, complaint: Complaint, action: str,
                     form: dict[str, str], errors: dict[str, str], status: int = 200) -> Template:
        lang = language(request)
        tax = service.taxonomy(engine)
        view = complaint_view(engine, actor, complaint, lang)
        context: dict[str, Any] = {"c": view, "action": action, "form": form, "errors": errors,
                                   "words": action_words(action), "max_note": MAX_NOTE}
        if action == "transfer":
            context["departments"] = [(code, str(named(d, code, lang))) for code, d in tax["departments"].items()]
            context["default_officers"] = [(str(named(d, code, lang)),
                                            rules.department_officer(tax, code, complaint.dong))
                                           for code, d in tax["departments"].items()]
        if action == "duplicate":
            context["candidates"] = duplicate_candidates(engine, complaint, tax, lang)
        if action == "resolve":
            context["text"] = texted(engine, complaint)
            context["personal"] = may_see_personal_data(engine, actor)
        return staff_template(request, "complaints/console/action.html", action_words(action)["title"],
                              status_code=status, **context)

    @post("/{complaint_id:str}/{action:str}", guards=[staff_page(HANDLE)], sync_to_thread=True)
    def act(self, complaint_id: FromPath[str], action: FromPath[str], data: Form, request: Request,
            engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        try:
            complaint = service.get_complaint(engine, complaint_id)
        except NotFound:
            return not_found(_("There is no complaint with this number"))
        if action not in ACTIONS:
            return not_found(_("There is no such page"))
        tax = service.taxonomy(engine)
        form = {k: str(data.get(k) or "").strip() for k in ("note", "department", "officer", "original", "step")}
        if action not in FORM_ACTIONS:
            form["note"] = ""
        errors = form_errors(action, form, tax)
        if errors:
            return self._action_form(request, engine, actor, complaint, action, form, errors, 400)
        if action == "resolve" and form["step"] != "send":
            if form["step"] == "change":
                return self._action_form(request, engine, actor, complaint, action, form, {})
            return self._check_result(request, engine, actor, complaint, form["note"])
        officer = None
        if action == "transfer":
            officer = form["officer"] or rules.department_officer(tax, form["department"], complaint.dong)
        try:
            service.act(engine, complaint.id, ACTIONS[action], note=form["note"] or None, officer=officer,
                        department=form["department"] if action == "transfer" else None,
                        original=form["original"] or None, by=actor.id)
        except (InvalidInput, RuleViolation, NotFound) as exc:
            field, message = service_error(action, exc)
            complaint = service.get_complaint(engine, complaint.id)
            if action in FORM_ACTIONS:
                return self._action_form(request, engine, actor, complaint, action, form, {field: message}, 400)
            return self._complaint_page(request, engine, actor, complaint, {field: message}, status=400)
        return Redirect(path=f"{BASE}/{complaint.id}?done={action}", status_code=303)

    def _check_result(self, request: Request, engine: Engine, actor: Actor, complaint: Complaint,
                      note: str) -> Template:
        view = complaint_view(engine, actor, complaint, language(request))
        return staff_template(
            request, "complaints/console/resolve_check.html", _("Check the result text before it is sent"),
            c=view, note=note, preview=preview_text(engine, complaint, note), text=texted(engine, complaint),
            personal=may_see_personal_data(engine, actor))


def staff_links() -> list[StaffLink]:
    return [
        StaffLink(href=BASE, text=_("Complaints inbox"), permission=HANDLE,
                  description=_("Field complaints by department and dong, overdue first: accept, transfer, "
                                "resolve with a result text, reject.")),
        StaffLink(href=f"{BASE}/reports", text=_("Complaint reports"), permission=INSPECT,
                  description=_("Monthly inspection per department and the yearly figures by field, with charts "
                                "and CSV files for Excel.")),
    ]
