"""Who may do what in the committee: the one seam between this plugin and ``core.identity``.

Members' own acts (comment, recuse, decide) are authenticated by the member's Ed25519 signature,
checked against the key registered when they joined, so they need no sign-in; the secretary's
acts need the ``process_admin`` role (or ``system_admin``)."""

from __future__ import annotations

from typing import Any

ANYONE = "anyone"

PERMISSIONS: dict[str, list[str]] = {
    # applicants (or officials on their behalf) submit and follow their applications
    "ad_review.apply": [ANYONE],
    # decisions, sessions and the service-level report are public
    "ad_review.read": [ANYONE],
    # members' acts carry the member's signature, which is the credential
    "ad_review.member_act": [ANYONE],
    # the secretary (도시디자인과) manages members, sessions, settings, full-committee minutes
    "ad_review.secretary": ["process_admin", "system_admin"],
}

try:
    from core.identity import Actor, authorize, local_operator, provide_actor, requires
except ImportError:  # core.identity not present: nobody signs in; only the local operator manages
    import getpass

    import attrs
    from litestar import Request
    from litestar.connection import ASGIConnection

    from core.errors import Forbidden, Unauthorized

    @attrs.frozen
    class Actor:  # type: ignore[no-redef]
        id: str
        name: str
        roles: frozenset[str] = frozenset()
        kind: str = "staff"

        @property
        def anonymous(self) -> bool:
            return self.kind == "anonymous"

    ANONYMOUS = Actor(id="anonymous", name="anonymous", kind="anonymous")

    def local_operator() -> Actor:  # type: ignore[misc]
        user = getpass.getuser()
        return Actor(id=f"operator:{user}", name=f"local operator {user}",
                     roles=frozenset({"system_admin"}), kind="operator")

    def authorize(engine: Any, actor: Actor, permission: str) -> Actor:  # type: ignore[misc]
        audience = PERMISSIONS[permission]
        if ANYONE in audience or set(actor.roles) & set(audience):
            return actor
        if actor.anonymous:
            raise Unauthorized(f"Sign in to do this ({permission}).", permission=permission)
        raise Forbidden(f"Your roles do not allow {permission}.", permission=permission)

    class requires:  # type: ignore[no-redef]  # noqa: N801
        def __init__(self, permission: str) -> None:
            self.permission = permission

        async def __call__(self, connection: ASGIConnection, _handler: Any) -> None:
            authorize(None, ANONYMOUS, self.permission)

    async def provide_actor(request: Request) -> Actor:  # type: ignore[misc]
        return ANONYMOUS


def cli_actor(engine: Any, token: str | None) -> Actor:
    """Who runs a CLI command: the staff account of ``token`` or the local operator."""
    try:
        from core.cli import command_actor
    except ImportError:
        return local_operator()
    return command_actor(engine, token)


__all__ = ["ANYONE", "PERMISSIONS", "Actor", "authorize", "cli_actor", "local_operator", "provide_actor",
           "requires"]
