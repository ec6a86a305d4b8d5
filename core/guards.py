"""Litestar guards and dependencies: who is calling, and may they.

A handler states what it needs in one line; the guard authenticates the bearer token, authorises,
and hands the handler an ``actor``::

    @post("/api/complaints", guards=[requires("complaints.intake")], sync_to_thread=True)
    def take_in(data: Intake, engine: EngineDep, actor: ActorDep) -> dict: ...
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from core.actors import ANONYMOUS, Actor
from core.errors import Unauthorized
from core.permissions import PERMISSION_NAME, authorize


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header value (None when absent)."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    return value.strip()


ACTOR_SCOPE_KEY = "civic.actor"


async def _actor_of(connection: Any) -> Actor:
    actor = connection.scope.get(ACTOR_SCOPE_KEY)
    if actor is None:
        token = bearer_token(connection.headers.get("authorization"))
        if token is None:
            # no token: anonymous, without a trip to a thread (a resident's ballot, public reads)
            actor = ANONYMOUS
        else:
            from anyio import to_thread

            actor = await to_thread.run_sync(connection.app.state["engine"].identity.authenticate, token)
        connection.scope[ACTOR_SCOPE_KEY] = actor
    return actor


class requires:  # noqa: N801 - reads as a phrase: guards=[requires("x.y")]
    """A Litestar guard: ``guards=[requires("complaints.intake")]``. Authenticates the bearer
    token, authorises, and leaves the actor for the handler's ``actor: Actor`` parameter. The
    app refuses to start when a guard names an unregistered permission."""

    def __init__(self, permission: str) -> None:
        if not PERMISSION_NAME.match(permission):
            raise ValueError(f"permission name {permission!r} must look like 'plugin.action'")
        self.permission = permission

    async def __call__(self, connection: Any, _handler: Any) -> None:
        actor = await _actor_of(connection)
        authorize(connection.app.state["engine"].permissions, actor, self.permission)

    def __repr__(self) -> str:
        return f"requires({self.permission!r})"


async def provide_actor(request: Request) -> Actor:
    """Litestar dependency ``actor``: the authenticated actor (anonymous without a token)."""
    return await _actor_of(request)


def required_permissions(handler: Any) -> list[str]:
    """The permissions a route handler's guards require (for start-up checks and tests)."""
    guards = handler.resolve_guards() if hasattr(handler, "resolve_guards") else handler.guards or ()
    return [g.permission for g in guards if isinstance(g, requires)]

