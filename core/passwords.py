"""Staff passwords: the policy, user names, and the argon2 hasher (tests swap in cheap
parameters with ``use_password_hasher``)."""

from __future__ import annotations

import re
from datetime import timedelta

import argon2

from core.errors import InvalidInput

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



def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash (unknown or erased account)
    a dummy hash is verified instead, so both paths cost the same, and the answer is no."""
    global _DUMMY_HASH
    if stored is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash("not a password of anyone")
        stored = _DUMMY_HASH
        known = False
    else:
        known = True
    try:
        ok = _hasher.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        ok = False
    return ok and known
