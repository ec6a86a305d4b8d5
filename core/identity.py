"""Staff accounts, sign-in and bearer tokens: ``engine.identity``.

Staff accounts are event-sourced (``core.staff.StaffAccount``); passwords follow
``core.passwords``; tokens are ``core.tokens``; every command is authorised through
``core.permissions.authorize``. After ``MAX_FAILURES`` wrong passwords in a row an account is
locked for ``LOCK_FOR``, and failed sign-ins are also throttled per client address.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from core import clock
from core.actors import ANONYMOUS, Actor, Role, _roles, parse_role
from core.domain import topic_of
from core.errors import Forbidden, InvalidInput, NotFound, RuleViolation, TooManyAttempts, Unauthorized
from core.passwords import (LOCK_FOR, MAX_PASSWORD, TOKEN_LIFETIME, check_password_rules, hash_password,
                            normalise_username, verify_password)
from core.permissions import PermissionRegistry, authorize
from core.privacy import ERASED
from core.staff import StaffAccount
from core.throttle import ClientThrottle
from core.tokens import Token, sign_claims, verified_claims

if TYPE_CHECKING:
    from core.instance import InstanceSecrets
    from core.privacy import PersonalData
    from core.store import EventStore


WRONG_CREDENTIALS = "Wrong user name or password."


class Identity:
    """Staff accounts, sign-in and tokens over the event store (``engine.identity``)."""

    def __init__(self, store: EventStore, privacy: PersonalData, secrets: InstanceSecrets,
                 permissions: PermissionRegistry) -> None:
        self.store = store
        self.privacy = privacy
        self.secrets = secrets
        self.permissions = permissions
        self.throttle = ClientThrottle()

    # keys from the instance secrets, read when first needed (the permission table needs none)
    @cached_property
    def _token_key(self) -> bytes:
        return self.secrets.key("tokens")

    @cached_property
    def _account_key(self) -> bytes:
        return self.secrets.key("staff-account-id")

    # -- accounts ------------------------------------------------------------------------
    def account_id(self, username: str) -> uuid.UUID:
        """The account id for a user name: a keyed hash, so the log does not reveal names."""
        digest = hmac.new(self._account_key, normalise_username(username).encode(), hashlib.sha256).digest()
        return uuid.UUID(bytes=digest[:16], version=5)

    def add_staff(self, actor: Actor, username: str, name: str, password: str,
                  roles: Iterable[str | Role]) -> StaffAccount:
        authorize(self.permissions, actor, "staff.manage")
        username = normalise_username(username)
        name = " ".join(str(name or "").split())
        if not name:
            raise InvalidInput("A staff account needs the person's name.", field="name")
        role_set = sorted(r.value for r in _roles(roles))
        check_password_rules(password, username)
        account_id = self.account_id(username)
        if self.store.exists(account_id):
            raise RuleViolation(f"The user name {username!r} is taken.")
        privacy = self.privacy
        subject = str(account_id)
        account = StaffAccount(
            id=account_id,
            username=privacy.seal(subject, "username", username, where=account_id),
            name=privacy.seal(subject, "name", name, where=account_id),
            password_hash=privacy.seal(subject, "password_hash", hash_password(password), where=account_id),
            roles=role_set,
            by=actor.id,
        )
        return self.store.create(account, what="staff account")

    def get(self, account_id: uuid.UUID | str) -> StaffAccount:
        try:
            key = uuid.UUID(str(account_id))
        except ValueError:
            raise NotFound(f"No staff account with id {account_id}.") from None
        return self.store.get(key, StaffAccount, what="staff account")

    def find(self, username: str) -> StaffAccount:
        return self.store.get(self.account_id(username), StaffAccount, what="staff account")

    def describe(self, account: StaffAccount) -> dict[str, Any]:
        privacy = self.privacy
        return {
            "id": str(account.id),
            "username": privacy.open(account.username, where=account.id),
            "name": privacy.open(account.name, where=account.id),
            "roles": list(account.roles),
            "disabled": account.disabled,
            "locked": account.locked(clock.now()),
        }

    def list_staff(self, actor: Actor) -> list[dict[str, Any]]:
        authorize(self.permissions, actor, "staff.read")
        ids = [n.originator_id for n in self.store.notifications(topics=(topic_of(StaffAccount.Created),))]
        rows = [self.describe(self.store.get(i, StaffAccount)) for i in ids]
        return sorted(rows, key=lambda r: str(r["username"]))

    def _change(self, actor: Actor, account_id: uuid.UUID | str, change: Any) -> StaffAccount:
        authorize(self.permissions, actor, "staff.manage")
        account = self.get(account_id)

        def apply(a: StaffAccount) -> StaffAccount:
            change(a)
            return a

        return self.store.update(account.id, apply, cls=StaffAccount, what="staff account")

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
        username = self.privacy.open(account.username, where=account.id)
        check_password_rules(password, "" if username is None else str(username))
        return self.privacy.seal(account.subject, "password_hash", hash_password(password), where=account.id)

    def set_password(self, actor: Actor, account_id: uuid.UUID | str, password: str) -> StaffAccount:
        """An administrator sets someone's password (also unlocks it); their tokens stop working."""
        authorize(self.permissions, actor, "staff.manage")
        account = self.get(account_id)
        sealed = self._sealed_hash(account, password)
        return self._change(actor, account.id, lambda a: a.change_password(sealed, by=actor.id))

    def change_own_password(self, actor: Actor, current: str, new: str) -> StaffAccount:
        authorize(self.permissions, actor, "auth.self")
        if actor.kind != "staff":
            raise RuleViolation("Only staff accounts have passwords.")
        account = self.get(actor.id)
        if not self._verify(account, current):
            raise Forbidden("The current password is wrong.")
        sealed = self._sealed_hash(account, new)
        return self.store.update(account.id, lambda a: (a.change_password(sealed, by=actor.id), a)[1],
                                  cls=StaffAccount, what="staff account")

    # -- signing in ----------------------------------------------------------------------
    def _verify(self, account: StaffAccount | None, password: str) -> bool:
        stored = None if account is None else self.privacy.open(account.password_hash, where=account.id)
        return verify_password(None if stored is ERASED else stored, password)

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
                f"Too many wrong passwords; this account is locked until {clock.seoul_time(account.locked_until):%H:%M} "  # type: ignore[arg-type]
                "(Seoul time) or until an administrator sets a new password.")
        if not self._verify(account, password) or account is None or account.disabled:
            self.throttle.failed(client)
            if account is not None and not account.disabled:
                updated = self.store.update(account.id, lambda a: (a.sign_in_failed(now), a)[1],
                                             cls=StaffAccount, what="staff account")
                if updated.locked(now):
                    raise TooManyAttempts(f"Too many wrong passwords; this account is locked for "
                                          f"{int(LOCK_FOR.total_seconds() // 60)} minutes.")
            raise Unauthorized(WRONG_CREDENTIALS)
        if account.failures:
            account = self.store.update(account.id, lambda a: (a.sign_in_succeeded(), a)[1],
                                         cls=StaffAccount, what="staff account")
        return self.issue_token(account, lifetime=lifetime)

    def issue_token(self, account: StaffAccount, *, lifetime: timedelta = TOKEN_LIFETIME) -> Token:
        expires = clock.now() + lifetime
        token = sign_claims(self._token_key, {"a": str(account.id), "g": account.generation,
                                              "e": int(expires.timestamp())})
        return Token(token, expires.replace(microsecond=0), self.actor_for(account))

    def actor_for(self, account: StaffAccount) -> Actor:
        name = self.privacy.open(account.name, where=account.id)
        return Actor(id=str(account.id), name=str(name), roles=account.roles, kind="staff")

    def authenticate(self, token: str | None) -> Actor:
        """The actor a bearer token stands for; ``ANONYMOUS`` without a token; ``Unauthorized``
        for a token that is malformed, forged, expired, or revoked (password changed, account
        disabled or erased)."""
        if token is None or not token.strip():
            return ANONYMOUS
        invalid = Unauthorized("The sign-in token is invalid or has expired; sign in again.")
        claims = verified_claims(self._token_key, token)
        if claims is None or not isinstance(claims.get("e"), int) or clock.now().timestamp() >= claims["e"]:
            raise invalid
        try:
            account = self.get(claims["a"])
        except NotFound:
            raise invalid from None
        if account.disabled or account.generation != claims["g"]:
            raise invalid
        if self.privacy.forgotten(account.subject):
            raise invalid
        return self.actor_for(account)

