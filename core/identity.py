"""Who may do what: roles, actors, permissions, staff accounts, bearer tokens.

Every HTTP and CLI command is authorised by one function, ``authorize(engine, actor, permission)``:
it raises ``Unauthorized`` (401) when a signed-in actor is needed and there is none, ``Forbidden``
(403) when the actor holds none of the permission's roles, and refuses an unregistered permission
name loudly (a programming error). Plugins declare their permissions through the
``civic_register_permissions`` hook::

    @hookimpl
    def civic_register_permissions():
        return {"complaints.intake": ["call_centre_agent", "system_admin"],
                "complaints.report": [ANYONE]}

and a Litestar handler states what it needs in one line (``core.identity.requires``); the guard
authenticates the bearer token, authorises, and hands the handler an ``actor: Actor``::

    @post("/api/complaints", guards=[requires("complaints.intake")], sync_to_thread=True)
    def take_in(data: Intake, engine: Engine, actor: Actor) -> dict: ...

Staff accounts are event-sourced (``StaffAccount``). The log holds no password and no crackable
hash: the argon2 hash, the user name and the display name are sealed in the account's
personal-data envelopes (``core.privacy``), and the account id is a keyed hash of the user name.
Tokens are HMAC-signed (key from the instance secrets) and need no storage; they carry the
account's *generation*, which a password change or disabling bumps, so old tokens stop working.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any

import argon2
import attrs
from litestar import Request
from litestar.di import NamedDependency

from core import clock
from core.domain import CivicAggregate, event
from core.errors import Forbidden, InvalidInput, NotFound, RuleViolation, TooManyAttempts, Unauthorized
from core.privacy import ERASED

if TYPE_CHECKING:
    from core.engine import Engine


log = logging.getLogger("civic.identity")


# -- roles and actors ------------------------------------------------------------------------
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


# -- permissions ------------------------------------------------------------------------------
class UnknownPermission(LookupError):
    """A command asked for a permission nobody registered: a programming error, never a 403."""


PERMISSION_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

CORE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "auth.sign_in": (ANYONE,),
    "auth.self": (SIGNED_IN,),  # see oneself, change one's own password
    "staff.read": (Role.SYSTEM_ADMIN.value, Role.AUDITOR.value),
    "staff.manage": (Role.SYSTEM_ADMIN.value,),
    "privacy.find": (Role.SYSTEM_ADMIN.value,),
    "privacy.forget": (Role.SYSTEM_ADMIN.value,),
}


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
        declared: list[tuple[str, Mapping[str, Iterable[str]]]] = [("core", CORE_PERMISSIONS)]
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


def authorize(engine: Engine, actor: Actor, permission: str) -> Actor:
    """THE check every command goes through. Returns the actor when allowed."""
    rule = engine.identity.permissions.get(permission)
    if rule.allows(actor):
        return actor
    log.info("refused %s to %s", permission, actor.id)
    if actor.anonymous:
        raise Unauthorized(f"Sign in to do this ({permission}).", permission=permission)
    raise Forbidden(f"Your roles do not allow {permission}.", permission=permission)


# -- passwords --------------------------------------------------------------------------------
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
TOKEN_LIFETIME = timedelta(hours=8)
# per client address, across all accounts: slows guessing many user names from one place
CLIENT_FAILURES = 20
CLIENT_WINDOW_S = 15 * 60

_hasher = argon2.PasswordHasher()
# Verified against when the user name is unknown, so both paths cost the same.
_DUMMY_HASH: str | None = None


def use_password_hasher(hasher: argon2.PasswordHasher) -> argon2.PasswordHasher:
    """Swap the argon2 parameters (tests use cheap ones). Returns the previous hasher."""
    global _hasher, _DUMMY_HASH
    previous, _hasher, _DUMMY_HASH = _hasher, hasher, None
    return previous


def check_password_rules(password: str, username: str = "") -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.", field="password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"A password may have at most {MAX_PASSWORD} characters.", field="password")
    if username and password.strip().casefold() == username.casefold():
        raise InvalidInput("The password may not be the user name.", field="password")


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def normalise_username(username: str) -> str:
    name = str(username or "").strip().casefold()
    if not USERNAME.match(name):
        raise InvalidInput("A user name has 3-64 characters: letters, digits, '.', '_' or '-'.", field="username")
    return name


# -- staff accounts ---------------------------------------------------------------------------
class StaffAccount(CivicAggregate):
    """A person who signs in with a password. ``username``, ``name`` and ``password_hash`` are
    personal-data envelopes whose subject is the account id."""

    @event("Created")
    def __init__(self, id: uuid.UUID, username: dict, name: dict, password_hash: dict,  # noqa: A002
                 roles: list[str], by: str) -> None:
        self.username = username
        self.name = name
        self.password_hash = password_hash
        self.roles = sorted(set(roles))
        self.disabled = False
        self.generation = 0
        self.failures = 0
        self.locked_until: datetime | None = None

    @property
    def subject(self) -> str:
        return str(self.id)

    # commands (checks first, then the event)
    def grant(self, role: Role, by: str) -> None:
        if role.value in self.roles:
            raise RuleViolation(f"The account already holds {role.value}.")
        self._role_granted(role=role.value, by=by)

    @event("RoleGranted")
    def _role_granted(self, role: str, by: str) -> None:
        self.roles = sorted({*self.roles, role})

    def revoke(self, role: Role, by: str) -> None:
        if role.value not in self.roles:
            raise RuleViolation(f"The account does not hold {role.value}.")
        self._role_revoked(role=role.value, by=by)

    @event("RoleRevoked")
    def _role_revoked(self, role: str, by: str) -> None:
        self.roles = [r for r in self.roles if r != role]

    @event("PasswordChanged")
    def change_password(self, password_hash: dict, by: str) -> None:
        self.password_hash = password_hash
        self.generation += 1
        self.failures = 0
        self.locked_until = None

    def disable(self, by: str) -> None:
        if self.disabled:
            raise RuleViolation("The account is already disabled.")
        self._disabled(by=by)

    @event("Disabled")
    def _disabled(self, by: str) -> None:
        self.disabled = True
        self.generation += 1

    def enable(self, by: str) -> None:
        if not self.disabled:
            raise RuleViolation("The account is not disabled.")
        self._enabled(by=by)

    @event("Enabled")
    def _enabled(self, by: str) -> None:
        self.disabled = False
        self.failures = 0
        self.locked_until = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def sign_in_failed(self, now: datetime) -> None:
        failures = 0 if (self.locked_until is not None and now >= self.locked_until) else self.failures
        failures += 1
        self._sign_in_failed(failures=failures, locked_until=now + LOCK_FOR if failures >= MAX_FAILURES else None)

    @event("SignInFailed")
    def _sign_in_failed(self, failures: int, locked_until: datetime | None) -> None:
        self.failures = failures
        self.locked_until = locked_until

    @event("SignInSucceeded")
    def sign_in_succeeded(self) -> None:
        self.failures = 0
        self.locked_until = None


@attrs.frozen
class Token:
    token: str
    expires_at: datetime
    actor: Actor

    def public(self) -> dict[str, Any]:
        return {"token": self.token, "token_type": "Bearer", "expires_at": self.expires_at.isoformat(),
                "actor": self.actor.public()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ClientThrottle:
    """Failed sign-ins per client address in a sliding window (in memory: it only slows a
    guesser; the per-account lock is the event-sourced part)."""

    def __init__(self, limit: int = CLIENT_FAILURES, window_s: float = CLIENT_WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        q = self._failures.setdefault(client, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def check(self, client: str | None) -> None:
        if not client:
            return
        with self._lock:
            if len(self._recent(client, time.monotonic())) >= self.limit:
                raise TooManyAttempts("Too many failed sign-ins from this address; try again later.")

    def failed(self, client: str | None) -> None:
        if client:
            with self._lock:
                self._recent(client, time.monotonic()).append(time.monotonic())


WRONG_CREDENTIALS = "Wrong user name or password."


class Identity:
    """The identity service of one engine: ``engine.identity``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.permissions = PermissionRegistry.from_plugins(engine.pm)
        self.throttle = ClientThrottle()

    # keys from the instance secrets, read when first needed (the permission table needs none)
    @cached_property
    def _token_key(self) -> bytes:
        return self.engine.secrets.key("tokens")

    @cached_property
    def _account_key(self) -> bytes:
        return self.engine.secrets.key("staff-account-id")

    # -- accounts ------------------------------------------------------------------------
    def account_id(self, username: str) -> uuid.UUID:
        """The account id for a user name: a keyed hash, so the log does not reveal names."""
        digest = hmac.new(self._account_key, normalise_username(username).encode(), hashlib.sha256).digest()
        return uuid.UUID(bytes=digest[:16], version=5)

    def add_staff(self, actor: Actor, username: str, name: str, password: str,
                  roles: Iterable[str | Role]) -> StaffAccount:
        authorize(self.engine, actor, "staff.manage")
        username = normalise_username(username)
        name = " ".join(str(name or "").split())
        if not name:
            raise InvalidInput("A staff account needs the person's name.", field="name")
        role_set = sorted(r.value for r in _roles(roles))
        check_password_rules(password, username)
        account_id = self.account_id(username)
        if self.engine.exists(account_id):
            raise RuleViolation(f"The user name {username!r} is taken.")
        privacy = self.engine.privacy
        subject = str(account_id)
        account = StaffAccount(
            id=account_id,
            username=privacy.seal(subject, "username", username, where=account_id),
            name=privacy.seal(subject, "name", name, where=account_id),
            password_hash=privacy.seal(subject, "password_hash", _hasher.hash(password), where=account_id),
            roles=role_set,
            by=actor.id,
        )
        return self.engine.create(account, what="staff account")

    def get(self, account_id: uuid.UUID | str) -> StaffAccount:
        try:
            key = uuid.UUID(str(account_id))
        except ValueError:
            raise NotFound(f"No staff account with id {account_id}.") from None
        return self.engine.get(key, StaffAccount, what="staff account")

    def find(self, username: str) -> StaffAccount:
        return self.engine.get(self.account_id(username), StaffAccount, what="staff account")

    def describe(self, account: StaffAccount) -> dict[str, Any]:
        privacy = self.engine.privacy
        return {
            "id": str(account.id),
            "username": privacy.open(account.username, where=account.id),
            "name": privacy.open(account.name, where=account.id),
            "roles": list(account.roles),
            "disabled": account.disabled,
            "locked": account.locked(clock.now()),
        }

    def list_staff(self, actor: Actor) -> list[dict[str, Any]]:
        authorize(self.engine, actor, "staff.read")
        from eventsourcing.utils import get_topic

        topic = get_topic(StaffAccount.Created)
        ids = [n.originator_id for n in self.engine.notifications(topics=(topic,))]
        rows = [self.describe(self.engine.get(i, StaffAccount)) for i in ids]
        return sorted(rows, key=lambda r: str(r["username"]))

    def _change(self, actor: Actor, account_id: uuid.UUID | str, change: Any) -> StaffAccount:
        authorize(self.engine, actor, "staff.manage")
        account = self.get(account_id)

        def apply(a: StaffAccount) -> StaffAccount:
            change(a)
            return a

        return self.engine.update(account.id, apply, cls=StaffAccount, what="staff account")

    def grant(self, actor: Actor, account_id: uuid.UUID | str, role: str | Role) -> StaffAccount:
        r = parse_role(role)
        return self._change(actor, account_id, lambda a: a.grant(r, by=actor.id))

    def revoke(self, actor: Actor, account_id: uuid.UUID | str, role: str | Role) -> StaffAccount:
        r = parse_role(role)
        if actor.id == str(account_id) and r is Role.SYSTEM_ADMIN:
            raise RuleViolation("You cannot take system_admin from yourself; ask another administrator.")
        return self._change(actor, account_id, lambda a: a.revoke(r, by=actor.id))

    def disable(self, actor: Actor, account_id: uuid.UUID | str) -> StaffAccount:
        if actor.id == str(account_id):
            raise RuleViolation("You cannot disable your own account.")
        return self._change(actor, account_id, lambda a: a.disable(by=actor.id))

    def enable(self, actor: Actor, account_id: uuid.UUID | str) -> StaffAccount:
        return self._change(actor, account_id, lambda a: a.enable(by=actor.id))

    def _sealed_hash(self, account: StaffAccount, password: str) -> dict:
        username = self.engine.privacy.open(account.username, where=account.id)
        check_password_rules(password, "" if username is None else str(username))
        return self.engine.privacy.seal(account.subject, "password_hash", _hasher.hash(password), where=account.id)

    def set_password(self, actor: Actor, account_id: uuid.UUID | str, password: str) -> StaffAccount:
        """An administrator sets someone's password (also unlocks it); their tokens stop working."""
        authorize(self.engine, actor, "staff.manage")
        account = self.get(account_id)
        sealed = self._sealed_hash(account, password)
        return self._change(actor, account.id, lambda a: a.change_password(sealed, by=actor.id))

    def change_own_password(self, actor: Actor, current: str, new: str) -> StaffAccount:
        authorize(self.engine, actor, "auth.self")
        if actor.kind != "staff":
            raise RuleViolation("Only staff accounts have passwords.")
        account = self.get(actor.id)
        if not self._verify(account, current):
            raise Forbidden("The current password is wrong.")
        sealed = self._sealed_hash(account, new)
        return self.engine.update(account.id, lambda a: (a.change_password(sealed, by=actor.id), a)[1],
                                  cls=StaffAccount, what="staff account")

    # -- signing in ----------------------------------------------------------------------
    def _verify(self, account: StaffAccount | None, password: str) -> bool:
        global _DUMMY_HASH
        stored = None
        if account is not None:
            stored = self.engine.privacy.open(account.password_hash, where=account.id)
        if stored is None or stored is ERASED:  # unknown or erased account: same cost, no success
            if _DUMMY_HASH is None:
                _DUMMY_HASH = _hasher.hash("not a password of anyone")
            stored, account = _DUMMY_HASH, None
        try:
            ok = _hasher.verify(stored, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            ok = False
        return ok and account is not None

    def sign_in(self, username: str, password: str, *, client: str | None = None,
                lifetime: timedelta = TOKEN_LIFETIME) -> Token:
        """Check a password and issue a bearer token. After ``MAX_FAILURES`` wrong passwords in a
        row the account is locked for ``LOCK_FOR``; the error never says which part was wrong."""
        self.throttle.check(client)
        if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD:
            self.throttle.failed(client)
            raise Unauthorized(WRONG_CREDENTIALS)
        try:
            account: StaffAccount | None = self.find(username)
        except (NotFound, InvalidInput):
            account = None
        now = clock.now()
        if account is not None and account.locked(now):
            raise TooManyAttempts(
                f"Too many wrong passwords; this account is locked until {clock.local(account.locked_until):%H:%M} "  # type: ignore[arg-type]
                "(Seoul time) or until an administrator sets a new password.")
        if not self._verify(account, password) or account is None or account.disabled:
            self.throttle.failed(client)
            if account is not None and not account.disabled:
                updated = self.engine.update(account.id, lambda a: (a.sign_in_failed(now), a)[1],
                                             cls=StaffAccount, what="staff account")
                if updated.locked(now):
                    raise TooManyAttempts(f"Too many wrong passwords; this account is locked for "
                                          f"{int(LOCK_FOR.total_seconds() // 60)} minutes.")
            raise Unauthorized(WRONG_CREDENTIALS)
        if account.failures:
            account = self.engine.update(account.id, lambda a: (a.sign_in_succeeded(), a)[1],
                                         cls=StaffAccount, what="staff account")
        return self.issue_token(account, lifetime=lifetime)

    def issue_token(self, account: StaffAccount, *, lifetime: timedelta = TOKEN_LIFETIME) -> Token:
        expires = clock.now() + lifetime
        body = json.dumps({"a": str(account.id), "g": account.generation, "e": int(expires.timestamp())},
                          separators=(",", ":")).encode()
        mac = hmac.new(self._token_key, body, hashlib.sha256).digest()
        return Token(f"civic1.{_b64(body)}.{_b64(mac)}", expires.replace(microsecond=0), self.actor_for(account))

    def actor_for(self, account: StaffAccount) -> Actor:
        name = self.engine.privacy.open(account.name, where=account.id)
        return Actor(id=str(account.id), name=str(name), roles=account.roles, kind="staff")

    def authenticate(self, token: str | None) -> Actor:
        """The actor a bearer token stands for; ``ANONYMOUS`` without a token; ``Unauthorized``
        for a token that is malformed, forged, expired, or revoked (password changed, account
        disabled or erased)."""
        if token is None or not token.strip():
            return ANONYMOUS
        invalid = Unauthorized("The sign-in token is invalid or has expired; sign in again.")
        try:
            prefix, body_text, mac_text = token.strip().split(".")
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError:
            raise invalid from None
        expected = hmac.new(self._token_key, body, hashlib.sha256).digest()
        if prefix != "civic1" or not hmac.compare_digest(mac, expected):
            raise invalid
        claims = json.loads(body)
        if clock.now().timestamp() >= claims["e"]:
            raise invalid
        try:
            account = self.get(claims["a"])
        except NotFound:
            raise invalid from None
        if account.disabled or account.generation != claims["g"]:
            raise invalid
        if self.engine.privacy.forgotten(account.subject):
            raise invalid
        return self.actor_for(account)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header value (None when absent)."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    return value.strip()


# -- Litestar: guard and dependency ----------------------------------------------------------
ACTOR_SCOPE_KEY = "civic.actor"


async def _actor_of(connection: Any) -> Actor:
    actor = connection.scope.get(ACTOR_SCOPE_KEY)
    if actor is None:
        from anyio import to_thread

        engine = connection.app.state["engine"]
        token = bearer_token(connection.headers.get("authorization"))
        actor = await to_thread.run_sync(engine.identity.authenticate, token)
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
        authorize(connection.app.state["engine"], actor, self.permission)

    def __repr__(self) -> str:
        return f"requires({self.permission!r})"


# Handlers declare ``actor: ActorDep`` (or ``actor: Actor``) to receive the authenticated actor.
ActorDep = NamedDependency[Actor]


async def provide_actor(request: Request) -> Actor:
    """Litestar dependency ``actor``: the authenticated actor (anonymous without a token)."""
    return await _actor_of(request)


def required_permissions(handler: Any) -> list[str]:
    """The permissions a route handler's guards require (for start-up checks and tests)."""
    guards = handler.resolve_guards() if hasattr(handler, "resolve_guards") else handler.guards or ()
    return [g.permission for g in guards if isinstance(g, requires)]


__all__ = [
    "ANONYMOUS",
    "ANYONE",
    "ROLES",
    "ActorDep",
    "SIGNED_IN",
    "Actor",
    "Identity",
    "Permission",
    "PermissionRegistry",
    "Role",
    "StaffAccount",
    "Token",
    "UnknownPermission",
    "authorize",
    "bearer_token",
    "local_operator",
    "provide_actor",
    "required_permissions",
    "requires",
    "use_password_hasher",
]
