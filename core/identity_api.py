"""HTTP routes for signing in (``/api/auth``), staff administration (``/api/staff``) and erasure
(``/api/privacy``), registered by core's internal plugin."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs
from litestar import Request, Router, delete, get, post
from litestar.params import FromPath, JSONBody

from core.actors import Role
from core.guards import requires
from core.web_deps import ActorDep, EngineDep


@attrs.frozen
class SignIn:
    username: str
    password: str = attrs.field(repr=False)


@attrs.frozen
class NewStaff:
    username: str
    name: str
    password: str = attrs.field(repr=False)
    roles: list[Role] = attrs.field(factory=list)


@attrs.frozen
class RoleGrant:
    role: Role


@attrs.frozen
class NewPassword:
    password: str = attrs.field(repr=False)


@attrs.frozen
class OwnPassword:
    current_password: str = attrs.field(repr=False)
    new_password: str = attrs.field(repr=False)


@attrs.frozen
class ForgetSubject:
    subject: str


@post("/token", guards=[requires("auth.sign_in")], sync_to_thread=True, status_code=200,
      summary="Sign in with a user name and password; returns a bearer token")
def sign_in(data: JSONBody[SignIn], engine: EngineDep, request: Request) -> dict[str, Any]:
    client = request.client.host if request.client else None
    return engine.identity.sign_in(data.username, data.password, client=client).public()


@get("/me", guards=[requires("auth.self")], sync_to_thread=False,
     summary="The signed-in actor")
def me(actor: ActorDep) -> dict[str, Any]:
    return actor.public()


@post("/password", guards=[requires("auth.self")], sync_to_thread=True,
      status_code=200, summary="Change one's own password (other tokens stop working)")
def change_own_password(data: JSONBody[OwnPassword], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    account = engine.identity.change_own_password(actor, data.current_password, data.new_password)
    return engine.identity.issue_token(account).public()


# The operation id the published OpenAPI document gives (Litestar once derived it from its thread
# wrapper's name); kept so that generated clients keep working.
@get("/", guards=[requires("staff.read")], sync_to_thread=True, operation_id="ApiStaffAsynccallable",
     summary="Staff accounts with their roles")
def staff_list(engine: EngineDep, actor: ActorDep) -> list[dict[str, Any]]:
    return engine.identity.list_staff(actor)


@post("/", guards=[requires("staff.manage")], sync_to_thread=True,
      summary="Create a staff account")
def staff_add(data: JSONBody[NewStaff], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    account = engine.identity.add_staff(actor, data.username, data.name, data.password, data.roles)
    return engine.identity.describe(account)


@post("/{account_id:uuid}/roles", guards=[requires("staff.manage")], sync_to_thread=True,
     status_code=200, summary="Grant a role")
def staff_grant(account_id: FromPath[UUID], data: JSONBody[RoleGrant], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.grant(actor, account_id, data.role))


@delete("/{account_id:uuid}/roles/{role:str}", guards=[requires("staff.manage")],
        sync_to_thread=True, status_code=200, summary="Revoke a role")
def staff_revoke(account_id: FromPath[UUID], role: FromPath[str], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.revoke(actor, account_id, role))


@post("/{account_id:uuid}/disable", guards=[requires("staff.manage")], sync_to_thread=True,
     status_code=200, summary="Disable an account (its tokens stop working)")
def staff_disable(account_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.disable(actor, account_id))


@post("/{account_id:uuid}/enable", guards=[requires("staff.manage")], sync_to_thread=True,
     status_code=200, summary="Enable a disabled account")
def staff_enable(account_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.enable(actor, account_id))


@post("/{account_id:uuid}/password", guards=[requires("staff.manage")], sync_to_thread=True,
     status_code=200, summary="Set an account's password (also unlocks it)")
def staff_password(account_id: FromPath[UUID], data: JSONBody[NewPassword], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.set_password(actor, account_id, data.password))


@post("/forget", guards=[requires("privacy.forget")], sync_to_thread=True,
      status_code=200, summary="Erase a subject's personal data (destroys its key)")
def privacy_forget(data: JSONBody[ForgetSubject], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    newly = engine.privacy.forget(data.subject, actor=actor)
    return {"subject": data.subject, "forgotten": True, "already": not newly}


identity_router = Router(path="/api", route_handlers=[
    Router(path="/auth", route_handlers=[sign_in, me, change_own_password], tags=["auth"]),
    Router(path="/staff", route_handlers=[staff_list, staff_add, staff_grant, staff_revoke, staff_disable,
                                          staff_enable, staff_password], tags=["staff"]),
    Router(path="/privacy", route_handlers=[privacy_forget], tags=["privacy"]),
])
