"""What every staff page shares: the signed-in staff member from the session cookie, a guard that
sends a stranger to the sign-in page and answers a role without the permission with the 403 page
(before the handler runs, so nothing changes), and the console's layout.

A plugin's staff page reads::

    @get("/staff/budget", guards=[staff_page("budget.admin")], sync_to_thread=True)
    def office(request: Request, engine: EngineDep, actor: ActorDep) -> Template:
        return staff_template(request, "budget_office.html", _("Budget office"), cycles=...)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.response import Redirect, Template

from core.actors import ANONYMOUS, Actor
from core.errors import Unauthorized
from core.guards import ACTOR_SCOPE_KEY, requires
from core.permissions import authorize
from core.web.cards import StaffLink

SESSION_TOKEN = "staff_token"
SIGN_IN = "/staff/sign-in"


class SignInFirst(Exception):
    """A staff page was asked for without a signed-in session: the answer is the sign-in page,
    which comes back to ``next`` afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sign_in_redirect(_request: Request, exc: SignInFirst) -> Redirect:
    return Redirect(path=f"{SIGN_IN}?next={quote(exc.next_path, safe='/')}", status_code=303)


def signed_in_actor(request: Any, engine: Any) -> Actor:
    """The staff member of this browser's session, or ``ANONYMOUS`` (also once the token expired
    or was revoked: a password change or a disabled account signs every browser out)."""
    session = request.scope.get("session") or {}
    token = session.get(SESSION_TOKEN) if isinstance(session, dict) else None
    if not token:
        return ANONYMOUS
    try:
        return engine.identity.authenticate(token)
    except Unauthorized:
        return ANONYMOUS


class staff_page(requires):  # noqa: N801 - reads as a phrase: guards=[staff_page("budget.admin")]
    """Guard of a console page or form: the session's staff member must hold ``permission``.
    Nobody signed in: to the sign-in page (a GET comes back afterwards). Signed in without the
    permission: 403 page. Either way the handler does not run. The actor is then the handler's
    ``actor: ActorDep``."""

    async def __call__(self, connection: Any, _handler: Any) -> None:
        from anyio import to_thread

        engine = connection.app.state["engine"]
        actor = await to_thread.run_sync(signed_in_actor, connection, engine)
        if actor.anonymous:
            back = connection.url.path if connection.method == "GET" else "/staff"
            raise SignInFirst(back)
        connection.scope[ACTOR_SCOPE_KEY] = actor
        authorize(engine.permissions, actor, self.permission)

    def __repr__(self) -> str:
        return f"staff_page({self.permission!r})"


def staff_template(request: Request, template_name: str, title: str, *, status_code: int = 200,
                   **context: Any) -> Template:
    """A console page: the template gets ``title``, ``staff`` (the signed-in actor, for the
    console bar) and ``context``."""
    return Template(template_name=template_name, status_code=status_code,
                    context={"title": title, "staff": request.scope.get(ACTOR_SCOPE_KEY), **context})


def allowed_links(engine: Any, actor: Actor) -> list[StaffLink]:
    """Every plugin's console links this actor may open, core's first."""
    links: list[StaffLink] = []
    for group in reversed(engine.pm.hook.civic_staff_links(engine=engine)):
        links.extend(group or ())
    return [link for link in links if engine.permissions.get(link.permission).allows(actor)]
