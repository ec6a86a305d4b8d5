"""The residents' pages of field complaints: report a problem in four short steps (what, where,
a phone number for the result if wanted, then the description and a photo), a confirmation with
the request number, and a public status page per request.

Every form is a plain post answered with a redirect (303). The steps keep their answers in the
encrypted session cookie; nothing is stored until the resident sends the last step, which files
the complaint in one call to ``service.intake`` on the ``portal`` channel, by the anonymous
resident, under the permission an Open311 POST needs (``complaints.open311``, open to anyone).
The status page shows what the Open311 face shows of a request, never the reporter."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any, NamedTuple
from uuid import UUID, uuid4

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from core import (DONG_NAMES_EN, ActorDep, Engine, EngineDep, HomeCard, InvalidInput, NotFound, RuleViolation,
                  client_address, normalise_phone, requires, utc_now)
from core import gettext as _
from plugins.complaints import rules, service
from plugins.complaints.georeport import nearest_dong
from plugins.complaints.media import MAX_BYTES, check_photo

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
CHANNEL = "portal"  # rules.CHANNELS: the district's web portal
PERMISSION = "complaints.open311"  # anyone may report, as through an Open311 app
DRAFT = "complaint_draft"
SENT = "complaint_sent"
BASE = "/complaints"
STEPS = {"what": f"{BASE}/new", "where": f"{BASE}/new/where", "phone": f"{BASE}/new/phone",
         "describe": f"{BASE}/new/describe"}
MAX_ADDRESS = 300
# Bodies up to this size are read, so that a photo that is too large is refused on the form with
# the description kept; a bigger body is refused before it is read (``photo_too_large``).
MAX_BODY = 4 * MAX_BYTES
ACCEPTED_TYPES = "image/jpeg,image/png,image/gif,image/webp"
# Reports sent from one address in a minute, at most: a flood from one machine is cut short,
# while the households behind one apartment block's connection are never in each other's way.
REPORTS_PER_MINUTE = 20


# -- words -------------------------------------------------------------------------------------
def language(request: Request) -> str:
    return str(request.state.get("language", "ko"))


class Name(NamedTuple):
    """A name as shown: in the page's language, with the Korean after it on English pages (the
    templates mark that part ``lang="ko"``)."""

    main: str
    korean: str | None = None

    def __str__(self) -> str:
        return self.main if self.korean is None else f"{self.main} · {self.korean}"


def named(entry: dict[str, Any] | None, code: str, lang: str) -> Name:
    """A field's, item type's or department's name: Korean, and in English with the Korean after."""
    if not entry:
        return Name(code)
    if lang == "ko":
        return Name(entry["name_ko"])
    return Name(entry["name_en"], entry["name_ko"])


def dong_name(dong: str, lang: str) -> Name:
    english = DONG_NAMES_EN.get(dong)
    return Name(dong) if lang == "ko" or english is None else Name(english, dong)


def status_words(status: str) -> tuple[str, str]:
    """A status as a resident reads it: a short name and a sentence."""
    words = {
        rules.RECEIVED: (_("Received"), _("Your report was received.")),
        rules.TRANSFERRED: (_("Sent to the department"),
                            _("The report is with the department responsible. A field officer will look at it.")),
        rules.ACCEPTED: (_("Accepted"), _("The department has accepted the report and will deal with it.")),
        rules.IN_PROGRESS: (_("Being dealt with"), _("A field officer is dealing with the problem.")),
        rules.RESOLVED: (_("Dealt with"), _("The problem has been dealt with. The result is below.")),
        rules.REJECTED: (_("Closed without action"),
                         _("The department closed this report without action. The reason is below.")),
        rules.DUPLICATE: (_("Already reported"),
                          _("Someone reported the same problem earlier. It is dealt with under that report.")),
    }
    return words.get(status, (status, ""))


def phone_shown(digits: str) -> str:
    """``01012345678`` → ``010-1234-5678``."""
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10 and digits.startswith("02"):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return digits


# -- the draft: the answers of the steps so far, in the session cookie --------------------------
def draft_of(request: Request) -> dict[str, Any]:
    return dict((request.session or {}).get(DRAFT, {}))


def save_draft(request: Request, draft: dict[str, Any]) -> None:
    session = dict(request.session or {})
    session[DRAFT] = draft
    request.set_session(session)


def first_missing_step(draft: dict[str, Any]) -> str:
    """The step to go to: the first one not answered yet, else the last one."""
    if not draft.get("item"):
        return "what"
    if not draft.get("dong") or not draft.get("address"):
        return "where"
    if "phone" not in draft:
        return "phone"
    return "describe"


def go_to(step: str) -> Redirect:
    return Redirect(path=STEPS[step], status_code=303)


def wrong_step(draft: dict[str, Any], step: str) -> Redirect | None:
    """A redirect to an earlier unanswered step when ``step`` cannot be shown yet."""
    order = list(STEPS)
    missing = first_missing_step(draft)
    return go_to(missing) if order.index(missing) < order.index(step) else None


# -- checks, in the resident's words -------------------------------------------------------------
def check_where(tax: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(answers, errors) of the location step."""
    form = {k: str(data.get(k) or "").strip() for k in ("dong", "address", "lat", "long")}
    errors: dict[str, str] = {}
    if form["dong"] not in tax["dongs"]:
        errors["dong"] = _("Choose the dong where the problem is.")
    if not form["address"]:
        errors["address"] = _("Enter the street address, or a building or landmark near the problem.")
    elif len(form["address"]) > MAX_ADDRESS:
        errors["address"] = _("The address must be %(n)s characters or fewer.") % {"n": MAX_ADDRESS}
    lat, long = form["lat"], form["long"]
    if lat or long:
        numbers: dict[str, float] = {}
        for key, example in (("lat", "37.5609"), ("long", "126.9860")):
            try:
                numbers[key] = float(form[key].replace(",", "."))
            except ValueError:
                numbers[key] = float("nan")
                if form[key]:
                    errors[key] = (_("Enter the latitude as a number, for example %(example)s.") if key == "lat"
                                   else _("Enter the longitude as a number, for example %(example)s.")) \
                        % {"example": example}
        if not lat or not long:
            errors["lat" if not lat else "long"] = _("Enter both the latitude and the longitude, or leave both empty.")
        elif "lat" not in errors and "long" not in errors:
            if nearest_dong(numbers["lat"], numbers["long"]) is None:
                errors["lat"] = _("These coordinates are not in Jung-gu. Check them, or leave both empty.")
            else:
                form["lat"], form["long"] = repr(numbers["lat"]), repr(numbers["long"])
    return form, errors


def photo_problem(content: bytes) -> str | None:
    """Why this file cannot be the report's photo (None when it can)."""
    if not content:
        return _("The file you chose is empty. Choose another photo, or send the report without one.")
    if len(content) > MAX_BYTES:
        return too_large_text()
    try:
        check_photo(content)
    except InvalidInput:
        return _("The file you chose is not a photo this service can take. Choose a JPEG, PNG, GIF or WebP "
                 "picture, or send the report without one.")
    return None


def too_large_text() -> str:
    return _("The photo is larger than %(n)s MB. Choose a smaller photo, or send the report without one.") \
        % {"n": MAX_BYTES // (1024 * 1024)}


def uploaded_bytes(value: Any) -> bytes | None:
    """The chosen file's bytes (at most one byte over the limit); None when no file was chosen."""
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return value.file.read(MAX_BYTES + 1)


# -- sending twice (a double tap on "Send") files one report --------------------------------------
class Submissions:
    """The reports filed from each draft, so that the same draft sent twice (a double tap, a
    reload after a lost answer) files one report. Per process, newest few thousand."""

    LIMIT = 5000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.filed: OrderedDict[str, str] = OrderedDict()

    def remember(self, draft_id: str, complaint_id: str) -> None:
        self.filed[draft_id] = complaint_id
        while len(self.filed) > self.LIMIT:
            self.filed.popitem(last=False)


# -- what the pages show -------------------------------------------------------------------------
def category_groups(tax: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The active item types grouped by field, in the taxonomy's order, for the select."""
    groups = []
    for field_code, field in tax["fields"].items():
        items = [(code, str(named(item, code, lang))) for code, item in tax["items"].items()
                 if item["field"] == field_code and item["active"]]
        if items:
            groups.append({"label": str(named(field, field_code, lang)), "items": items})
    return groups


def public_view(engine: Engine, complaint_id: UUID, lang: str) -> dict[str, Any]:
    """What anyone may read of a request: what, where, which department, when, the status and the
    result. Never the reporter (their name and phone stay sealed)."""
    complaint = service.get_complaint(engine, complaint_id)
    tax = service.taxonomy(engine)
    status, explanation = status_words(complaint.status)
    history = []
    for step in complaint.history:
        name = status_words(step["status"])[0]
        if not history or history[-1]["name"] != name:
            history.append({"name": name, "at": step["at"]})
    last = complaint.history[-1] if complaint.history else {}
    result = last.get("note") if complaint.status in (rules.RESOLVED, rules.REJECTED) else None
    return {
        "id": str(complaint.id),
        "status": complaint.status,
        "status_name": status,
        "explanation": explanation,
        "closed": complaint.status in rules.CLOSED,
        "overdue": rules.is_overdue({"status": complaint.status, "deadline": complaint.deadline}, utc_now()),
        "item": named(tax["items"].get(complaint.item), complaint.item, lang),
        "department": named(tax["departments"].get(complaint.department), complaint.department, lang),
        "dong": dong_name(complaint.dong, lang),
        "address": complaint.address,
        "description": complaint.description,
        "photos": [p["sha256"] for p in complaint.photos],
        "received_at": complaint.received_at,
        "deadline": complaint.deadline,
        "closed_at": complaint.closed_at,
        "updated_at": last.get("at", complaint.received_at),
        "result": result,
        "duplicate_of": complaint.duplicate_of,
        "history": history,
    }


def report_rate_limit() -> Any:
    return RateLimitConfig(rate_limit=("minute", REPORTS_PER_MINUTE), identifier_for_request=client_address,
                           store="civic-complaint-report-limits", set_rate_limit_headers=False).middleware


def photo_too_large(request: Request, exc: Exception) -> Response[Any]:
    """A body too big to read at all: back to the last step, which says why."""
    return Redirect(path=f"{STEPS['describe']}?photo=too-large", status_code=303)


class ComplaintPages(Controller):
    path = BASE
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def start(self) -> Template:
        return Template(template_name="complaints/start.html", context={"title": _("Report a problem in the street")})

    # -- step 1: what -----------------------------------------------------------------------------
    @get("/new", sync_to_thread=True)
    def what_page(self, request: Request, engine: EngineDep) -> Template:
        return self._what(request, engine, draft_of(request).get("item", ""), {})

    def _what(self, request: Request, engine: Engine, selected: str, errors: dict[str, str],
              status: int = 200) -> Template:
        lang = language(request)
        return Template(template_name="complaints/what.html", status_code=status, context={
            "title": _("What is the problem?"), "errors": errors, "selected": selected,
            "groups": category_groups(service.taxonomy(engine), lang)})

    @post("/new", guards=[requires(PERMISSION)], sync_to_thread=True)
    def what(self, data: Form, request: Request, engine: EngineDep) -> Template | Redirect:
        item = str(data.get("item") or "").strip()
        found = service.taxonomy(engine)["items"].get(item)
        if found is None or not found["active"]:
            return self._what(request, engine, "", {"item": _("Choose the kind of problem from the list.")}, 400)
        draft = draft_of(request)
        draft["item"] = item
        draft.setdefault("id", uuid4().hex)
        save_draft(request, draft)
        return go_to(first_missing_step(draft))

    # -- step 2: where ----------------------------------------------------------------------------
    @get("/new/where", sync_to_thread=True)
    def where_page(self, request: Request, engine: EngineDep) -> Template | Redirect:
        draft = draft_of(request)
        return wrong_step(draft, "where") or self._where(request, engine, draft, {})

    def _where(self, request: Request, engine: Engine, form: dict[str, Any], errors: dict[str, str],
               status: int = 200) -> Template:
        lang = language(request)
        dongs = [(d, str(dong_name(d, lang))) for d in service.taxonomy(engine)["dongs"]]
        return Template(template_name="complaints/where.html", status_code=status, context={
            "title": _("Where is the problem?"), "errors": errors, "form": form, "dongs": dongs,
            "coordinates_open": bool(form.get("lat") or form.get("long") or "lat" in errors or "long" in errors)})

    @post("/new/where", guards=[requires(PERMISSION)], sync_to_thread=True)
    def where(self, data: Form, request: Request, engine: EngineDep) -> Template | Redirect:
        draft = draft_of(request)
        if (redirect := wrong_step(draft, "where")) is not None:
            return redirect
        form, errors = check_where(service.taxonomy(engine), data)
        if errors:
            return self._where(request, engine, form, errors, 400)
        draft.update(form)
        save_draft(request, draft)
        return go_to(first_missing_step(draft))

    # -- step 3: a phone number for the result (optional) ------------------------------------------
    @get("/new/phone", sync_to_thread=False)
    def phone_page(self, request: Request) -> Template | Redirect:
        draft = draft_of(request)
        return wrong_step(draft, "phone") or self._phone(phone_shown(draft.get("phone") or ""), {})

    def _phone(self, phone: str, errors: dict[str, str], status: int = 200) -> Template:
        return Template(template_name="complaints/phone.html", status_code=status, context={
            "title": _("Do you want the result by text message?"), "errors": errors, "phone": phone})

    @post("/new/phone", guards=[requires(PERMISSION)], sync_to_thread=False)
    def phone(self, data: Form, request: Request) -> Template | Redirect:
        draft = draft_of(request)
        if (redirect := wrong_step(draft, "phone")) is not None:
            return redirect
        phone = str(data.get("phone") or "").strip()
        digits = ""
        if phone:
            try:
                digits = normalise_phone(phone)
            except InvalidInput:
                return self._phone(phone, {"phone": _("Enter a mobile phone number like 010-1234-5678, or leave "
                                                      "it empty if you do not want a text message.")}, 400)
        draft["phone"] = digits
        save_draft(request, draft)
        return go_to(first_missing_step(draft))

    # -- step 4: describe, add a photo, check and send ---------------------------------------------
    @get("/new/describe", sync_to_thread=True)
    def describe_page(self, request: Request, engine: EngineDep, photo: FromQuery[str | None] = None) -> Template | Redirect:
        draft = draft_of(request)
        if (redirect := wrong_step(draft, "describe")) is not None:
            return redirect
        errors = {"photo": too_large_text()} if photo == "too-large" else {}
        return self._describe(request, engine, draft, "", errors, photo_again=False,
                              description_lost=photo == "too-large")

    def _describe(self, request: Request, engine: Engine, draft: dict[str, Any], description: str,
                  errors: dict[str, str], *, photo_again: bool, description_lost: bool = False,
                  status: int = 200) -> Template:
        lang = language(request)
        tax = service.taxonomy(engine)
        return Template(template_name="complaints/describe.html", status_code=status, context={
            "title": _("Describe the problem"), "errors": errors, "description": description,
            "photo_again": photo_again, "description_lost": description_lost,
            "max_description": service.MAX_DESCRIPTION, "max_mb": MAX_BYTES // (1024 * 1024),
            "accepted_types": ACCEPTED_TYPES,
            "item": named(tax["items"].get(draft["item"]), draft["item"], lang),
            "dong": dong_name(draft["dong"], lang), "address": draft["address"],
            "lat": draft.get("lat"), "long": draft.get("long"), "phone": phone_shown(draft.get("phone") or "")})

    @post("/new/describe", guards=[requires(PERMISSION)], sync_to_thread=True, request_max_body_size=MAX_BODY,
          middleware=[report_rate_limit()], exception_handlers={413: photo_too_large})
    def send(self, data: Multipart, request: Request, engine: EngineDep, actor: ActorDep) -> Template | Redirect:
        draft = draft_of(request)
        if (redirect := wrong_step(draft, "describe")) is not None:
            return redirect
        description = str(data.get("description") or "").strip()
        content = uploaded_bytes(data.get("photo"))
        errors: dict[str, str] = {}
        if not description:
            errors["description"] = _("Describe the problem: what is wrong, and since when.")
        elif len(description) > service.MAX_DESCRIPTION:
            errors["description"] = _("The description must be %(n)s characters or fewer. It has %(count)s.") \
                % {"n": f"{service.MAX_DESCRIPTION:,}", "count": f"{len(description):,}"}
        problem = None if content is None else photo_problem(content)
        if problem is not None:
            errors["photo"] = problem
        if errors:
            return self._describe(request, engine, draft, description, errors,
                                  photo_again=content is not None and problem is None, status=400)
        submissions = engine.kept("complaints.web.submissions", Submissions)
        with submissions.lock:
            filed = submissions.filed.get(draft.get("id", ""))
            if filed is None:
                try:
                    complaint = service.intake(
                        engine, channel=CHANNEL, item=draft["item"], dong=draft["dong"], description=description,
                        address=draft["address"], lat=draft.get("lat") or None, long=draft.get("long") or None,
                        reporter_phone=draft.get("phone") or None, photo_bytes=[content] if content else [],
                        by=actor.id)
                except (InvalidInput, RuleViolation) as exc:
                    # the taxonomy changed since the first step (an item type retired, say)
                    field = exc.extra.get("field") if exc.extra.get("field") in ("item", "dong") else "item"
                    message = (_("This kind of problem can no longer be reported here. Change it.") if field == "item"
                               else _("Check where the problem is, and change it."))
                    return self._describe(request, engine, draft, description, {field: message},
                                          photo_again=content is not None, status=400)
                filed = str(complaint.id)
                if draft.get("id"):
                    submissions.remember(draft["id"], filed)
        session = {k: v for k, v in dict(request.session or {}).items() if k != DRAFT}
        session[SENT] = {"id": filed, "texted": bool(draft.get("phone"))}
        request.set_session(session)
        return Redirect(path=f"{BASE}/sent", status_code=303)

    # -- after sending ------------------------------------------------------------------------------
    @get("/sent", sync_to_thread=True)
    def sent(self, request: Request, engine: EngineDep) -> Template | Redirect:
        sent = (request.session or {}).get(SENT)
        if not sent:
            return go_to("what")
        view = public_view(engine, UUID(sent["id"]), language(request))
        return Template(template_name="complaints/sent.html", context={
            "title": _("Your report has been sent"), "report": view, "texted": sent.get("texted", False),
            "status_url": f"{BASE}/{view['id']}"})

    @get("/{complaint_id:uuid}", sync_to_thread=True)
    def status(self, complaint_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template:
        try:
            view = public_view(engine, complaint_id, language(request))
        except NotFound:
            return Template(template_name="error.html", status_code=404, context={
                "status": 404, "title": _("There is no report with this number"),
                "detail": _("Check the number, or the link you followed, and try again.")})
        return Template(template_name="complaints/status.html", context={
            "title": _("Report: %(item)s") % {"item": str(view["item"])}, "report": view})


def home_cards(engine: Engine) -> list[HomeCard]:
    return [HomeCard(section="services", title=_("Report a problem in the street"),
                     text=_("A pothole, rubbish, illegal parking or a broken street light? Tell the district: "
                            "your report goes straight to the department responsible."),
                     href=BASE, link_text=_("Report a problem"))]
