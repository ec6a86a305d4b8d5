"""Who acts: the closed set of roles, the actor value every command receives, and the local
operator of an instance."""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from enum import Enum
from typing import Any

import attrs

from core.errors import InvalidInput


class Role(str, Enum):
    """The closed set of roles. A staff account holds any number of them."""

    RESIDENT = "resident"
    PROPOSER = "proposer"
    COMMITTEE_MEMBER = "committee_member"
    CALL_CENTRE_AGENT = "call_centre_agent"
    FIELD_OFFICER = "field_officer"
    PROCESS_ADMIN = "process_admin"
    AUDITOR = "auditor"
    SYSTEM_ADMIN = "system_admin"

    def __str__(self) -> str:
        return self.value


ROLES: tuple[Role, ...] = tuple(Role)
# Audiences that are not roles, usable in a permission's list:
ANYONE = "anyone"  # no sign-in needed (public commands); the actor may be anonymous
SIGNED_IN = "signed_in"  # any signed-in actor, whatever its roles
AUDIENCES = (ANYONE, SIGNED_IN)


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip())
    except ValueError:
        raise InvalidInput(f"Unknown role {value!r}; roles are: {', '.join(r.value for r in Role)}.",
                           field="role") from None


def _roles(value: Iterable[str | Role]) -> frozenset[Role]:
    return frozenset(parse_role(r) for r in value)


@attrs.frozen
class Actor:
    """Who is acting. ``id`` is what events record as ``by`` (an account id, ``anonymous``, or
    ``operator:<os user>``); ``name`` is for display only and never belongs in an event."""

    id: str
    name: str
    roles: frozenset[Role] = attrs.field(converter=_roles, factory=frozenset)
    kind: str = "staff"  # "staff" | "operator" | "anonymous"

    @property
    def anonymous(self) -> bool:
        return self.kind == "anonymous"

    def has(self, role: str | Role) -> bool:
        return parse_role(role) in self.roles

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "roles": sorted(r.value for r in self.roles)}


ANONYMOUS = Actor(id="anonymous", name="anonymous", kind="anonymous")


def local_operator() -> Actor:
    """The person running the CLI on the instance's machine. Whoever can read the instance
    secrets already controls every key, so they act as ``system_admin``."""
    user = getpass.getuser()
    return Actor(id=f"operator:{user}", name=f"local operator {user}", roles={Role.SYSTEM_ADMIN}, kind="operator")

