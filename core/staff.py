"""The staff account aggregate: a person who signs in with a password.

The log holds no password and no crackable hash: the argon2 hash, the user name and the display
name are sealed in the account's personal-data envelopes (``core.privacy``), and the account id is
a keyed hash of the user name."""

from __future__ import annotations

import uuid
from datetime import datetime

from core.actors import Role
from core.domain import CivicAggregate, event
from core.errors import RuleViolation
from core.passwords import LOCK_FOR, MAX_FAILURES


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

