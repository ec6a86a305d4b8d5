"""HTTP routes for signing in, staff administration and erasure (listed in ``core.http.CORE_ROUTES``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs
from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from core.engine import Engine
from core.identity import ActorDep, Role, requires

# the same as core.http.EngineDep (core.http imports this module, so it cannot be imported here)
EngineDep = NamedDependency[Engine]


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


@post("/api/auth/token", guards=[requires("auth.sign_in")], sync_to_thread=True, tags=["auth"], status_code=200,
      summary="Sign in with a user name and password; returns a bearer token")
def sign_in(data: JSONBody[SignIn], engine: EngineDep, request: Request) -> dict[str, Any]:
    client = request.client.host if request.client else None
    return engine.identity.sign_in(data.username, data.password, client=client).public()


@get("/api/auth/me", guards=[requires("auth.self")], sync_to_thread=False, tags=["auth"],
     summary="The signed-in actor")
def me(actor: ActorDep) -> dict[str, Any]:
    return actor.public()


@post("/api/auth/password", guards=[requires("auth.self")], sync_to_thread=True, tags=["auth"],
      status_code=200, summary="Change one's own password (other tokens stop working)")
def change_own_password(data: JSONBody[OwnPassword], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    account = engine.identity.change_own_password(actor, data.current_password, data.new_password)
    return engine.identity.issue_token(account).public()


@get("/api/staff", guards=[requires("staff.read")], sync_to_thread=True, tags=["staff"],
     summary="Staff accounts with their roles")
def staff_list(engine: EngineDep, actor: ActorDep) -> list[dict[str, Any]]:
    return engine.identity.list_staff(actor)


@post("/api/staff", guards=[requires("staff.manage")], sync_to_thread=True, tags=["staff"],
      summary="Create a staff account")
def staff_add(data: JSONBody[NewStaff], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    account = engine.identity.add_staff(actor, data.username, data.name, data.password, data.roles)
    return engine.identity.describe(account)


@post("/api/staff/{account_id:uuid}/roles", guards=[requires("staff.manage")], sync_to_thread=True,
      tags=["staff"], status_code=200, summary="Grant a role")
def staff_grant(account_id: FromPath[UUID], data: JSONBody[RoleGrant], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.grant(actor, account_id, data.role))


@delete("/api/staff/{account_id:uuid}/roles/{role:str}", guards=[requires("staff.manage")],
        sync_to_thread=True, tags=["staff"], status_code=200, summary="Revoke a role")
def staff_revoke(account_id: FromPath[UUID], role: FromPath[str], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.revoke(actor, account_id, role))


@post("/api/staff/{account_id:uuid}/disable", guards=[requires("staff.manage")], sync_to_thread=True,
      tags=["staff"], status_code=200, summary="Disable an account (its tokens stop working)")
def staff_disable(account_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.disable(actor, account_id))


@post("/api/staff/{account_id:uuid}/enable", guards=[requires("staff.manage")], sync_to_thread=True,
      tags=["staff"], status_code=200, summary="Enable a disabled account")
def staff_enable(account_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.enable(actor, account_id))


@post("/api/staff/{account_id:uuid}/password", guards=[requires("staff.manage")], sync_to_thread=True,
      tags=["staff"], status_code=200, summary="Set an account's password (also unlocks it)")
def staff_password(account_id: FromPath[UUID], data: JSONBody[NewPassword], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return engine.identity.describe(engine.identity.set_password(actor, account_id, data.password))


@post("/api/privacy/forget", guards=[requires("privacy.forget")], sync_to_thread=True, tags=["privacy"],
      status_code=200, summary="Erase a subject's personal data (destroys its key)")
def privacy_forget(data: JSONBody[ForgetSubject], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    newly = engine.privacy.forget(data.subject, actor=actor)
    return {"subject": data.subject, "forgotten": True, "already": not newly}


IDENTITY_ROUTES = [sign_in, me, change_own_password, staff_list, staff_add, staff_grant, staff_revoke,
                   staff_disable, staff_enable, staff_password, privacy_forget]
