"""Staff sign-in for the console: a user name and password, then a session cookie (HttpOnly,
SameSite, Secure over https) that holds the account's bearer token. The token carries the
account's generation, so changing the password or disabling the account signs every browser out;
it expires after eight hours like any token. Wrong passwords lock the account after five tries and
are throttled per address (``core.identity``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from litestar.params import FromQuery

from core.errors import TooManyAttempts, Unauthorized
from core.guards import requires
from core.web.cards import StaffLink
from core.web.console import SESSION_TOKEN, allowed_links, signed_in_actor, staff_page, staff_template
from core.web.i18n import gettext as _
from core.web.setup import client_address, local_path, sign_in_rate_limit
from core.web_deps import ActorDep, EngineDep

def N_(message: str) -> str:
    """Marks a text for translation; translated where it is shown."""
    return message


# What each role is called on the pages
ROLE_NAMES = {
    "resident": N_("Resident"), "proposer": N_("Proposer"), "committee_member": N_("Committee member"),
    "call_centre_agent": N_("Call centre agent"), "field_officer": N_("Field officer"),
    "process_admin": N_("Process administrator"), "auditor": N_("Auditor"), "system_admin": N_("System administrator"),
}

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
HOME = "/staff"


def core_links() -> list[StaffLink]:
    """Core's places in the console (``core.system`` registers them)."""
    return [StaffLink("/staff/audit", _("Audit: export and verification"), "audit.verify",
                      _("Download the public log and see whether it verifies now.")),
            StaffLink("/api/staff", _("Staff accounts (JSON)"), "staff.read"),
            StaffLink("/schema", _("API for developers"), "auth.self")]


def back_to(target: str | None) -> str:
    """Where to go after signing in: a console page on this site, else the console home."""
    path = local_path(target)
    return path if path.startswith("/staff") and not path.startswith("/staff/sign-") else HOME


class StaffPages(Controller):
    path = "/staff"
    include_in_schema = False

    @get("/", guards=[staff_page("auth.self")], sync_to_thread=True)
    def console_home(self, request: Request, engine: EngineDep, actor: ActorDep) -> Template:
        return staff_template(request, "staff/home.html", _("Staff console"),
                              roles=sorted(_(ROLE_NAMES.get(r.value, r.value)) for r in actor.roles),
                              links=allowed_links(engine, actor))

    @get("/sign-in", sync_to_thread=True)
    def sign_in_page(self, request: Request, engine: EngineDep, next: FromQuery[str | None] = None) -> Template | Redirect:  # noqa: A002
        if not signed_in_actor(request, engine).anonymous:
            return Redirect(path=back_to(next), status_code=303)
        return Template(template_name="staff/sign_in.html", context={"title": _("Staff sign-in"), "form": {},
                                                                     "next": back_to(next)})

    @post("/sign-in", guards=[requires("auth.sign_in")], middleware=[sign_in_rate_limit()], sync_to_thread=True)
    def sign_in(self, data: Form, request: Request, engine: EngineDep) -> Template | Redirect:
        username = str(data.get("username", "")).strip()
        password = str(data.get("password", ""))
        errors = {}
        if not username:
            errors["username"] = _("Enter your user name.")
        if not password:
            errors["password"] = _("Enter your password.")
        if not errors:
            try:
                token = engine.identity.sign_in(username, password, client=client_address(request))
            except TooManyAttempts:
                errors["password"] = _("Too many wrong passwords. Wait 15 minutes, or ask an administrator to "
                                       "set a new password.")
            except Unauthorized:
                errors["password"] = _("The user name or the password is wrong.")
            else:
                # a fresh session: nothing of a resident's or an earlier visit carries over
                request.set_session({SESSION_TOKEN: token.token})
                return Redirect(path=back_to(data.get("next")), status_code=303)
        return Template(template_name="staff/sign_in.html", status_code=400, context={
            "title": _("Staff sign-in"), "form": {"username": username}, "errors": errors,
            "next": back_to(data.get("next"))})

    @post("/sign-out", guards=[requires("auth.sign_in")], sync_to_thread=False)
    def sign_out(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect(path="/staff/sign-in", status_code=303)
