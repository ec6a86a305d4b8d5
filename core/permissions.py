"""Who may do what: permissions (``"plugin.action"``) mapped to roles, collected from core's and
every plugin's ``civic_register_permissions``, and the one check every command goes through::

    authorize(engine, actor, "complaints.intake")

It raises ``Unauthorized`` (401) when a signed-in actor is needed and there is none, ``Forbidden``
(403) when the actor holds none of the permission's roles, and refuses an unregistered permission
name loudly (a programming error)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from core.actors import ANYONE, AUDIENCES, SIGNED_IN, Actor, Role
from core.errors import Forbidden, Unauthorized

log = logging.getLogger("civic.identity")


class UnknownPermission(LookupError):
    """A command asked for a permission nobody registered: a programming error, never a 403."""


PERMISSION_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@attrs.frozen
class Permission:
    name: str
    audience: frozenset[str]  # role values, or ANYONE / SIGNED_IN
    source: str

    def allows(self, actor: Actor) -> bool:
        if ANYONE in self.audience:
            return True
        if actor.anonymous:
            return False
        if SIGNED_IN in self.audience:
            return True
        return any(r.value in self.audience for r in actor.roles)

    def allows_role(self, role: Role) -> bool:
        """Whether a signed-in actor holding only ``role`` passes."""
        return bool(self.audience & {ANYONE, SIGNED_IN, role.value})


class PermissionRegistry:
    """Core's permissions plus every plugin's ``civic_register_permissions()``."""

    def __init__(self, declared: Iterable[tuple[str, Mapping[str, Iterable[str]]]]) -> None:
        self.permissions: dict[str, Permission] = {}
        for source, mapping in declared:
            for name, audience in (mapping or {}).items():
                self._add(source, name, audience)

    def _add(self, source: str, name: str, audience: Iterable[str]) -> None:
        if not isinstance(name, str) or not PERMISSION_NAME.match(name):
            raise ValueError(f"{source}: permission name {name!r} must look like 'plugin.action'")
        if name in self.permissions:
            raise ValueError(f"{source}: permission {name!r} is already registered by "
                             f"{self.permissions[name].source}")
        if isinstance(audience, str):
            raise ValueError(f"{source}: permission {name!r} needs a list of roles, not one string")
        values = frozenset(a.value if isinstance(a, Role) else str(a) for a in audience)
        known = {r.value for r in Role} | set(AUDIENCES)
        unknown = values - known
        if unknown:
            raise ValueError(f"{source}: permission {name!r} names unknown role(s) {sorted(unknown)}; "
                             f"known: {sorted(known)}")
        if not values:
            raise ValueError(f"{source}: permission {name!r} is granted to nobody")
        self.permissions[name] = Permission(name, values, source)

    @classmethod
    def from_plugins(cls, pm: Any) -> PermissionRegistry:
        """Every registered plugin's permissions, core's internal plugins first."""
        declared: list[tuple[str, Mapping[str, Iterable[str]]]] = []
        for impl in pm.hook.civic_register_permissions.get_hookimpls():
            declared.append((impl.plugin_name, impl.function() or {}))
        return cls(declared)

    def __contains__(self, name: object) -> bool:
        return name in self.permissions

    def __iter__(self):  # noqa: ANN204
        return iter(sorted(self.permissions))

    def get(self, name: str) -> Permission:
        try:
            return self.permissions[name]
        except KeyError:
            raise UnknownPermission(f"no permission named {name!r} is registered") from None

    def table(self) -> dict[str, list[str]]:
        """Permission name → sorted audience, e.g. for ``civic permissions`` and the docs."""
        return {name: sorted(p.audience) for name, p in sorted(self.permissions.items())}


def authorize(permissions: Any, actor: Actor, permission: str) -> Actor:
    """THE check every command goes through. Returns the actor when allowed. ``permissions`` is
    the registry, or anything holding it as ``.permissions`` (the engine)."""
    registry = permissions if isinstance(permissions, PermissionRegistry) else permissions.permissions
    rule = registry.get(permission)
    if rule.allows(actor):
        return actor
    log.info("refused %s to %s", permission, actor.id)
    if actor.anonymous:
        raise Unauthorized(f"Sign in to do this ({permission}).", permission=permission)
    raise Forbidden(f"Your roles do not allow {permission}.", permission=permission)

