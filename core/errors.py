"""Errors a command may raise. Each maps to an HTTP status and a problem+json body, and to a
non-zero CLI exit. Raising one before ``engine.save`` guarantees the command changed nothing."""

from __future__ import annotations

from typing import Any


class CivicError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if title is not None:
            self.title = title
        self.extra = extra


class InvalidInput(CivicError):
    """The request is malformed or breaks a rule of the process."""

    status = 422
    title = "Invalid input"


class RuleViolation(CivicError):
    """The request is well-formed but the process's rules refuse it now (wrong phase, closed...)."""

    status = 409
    title = "Refused by the rules of the process"


class NotFound(CivicError):
    status = 404
    title = "Not found"


class Unauthorized(CivicError):
    status = 401
    title = "Sign-in required"


class Forbidden(CivicError):
    status = 403
    title = "Not allowed"


class TooManyAttempts(CivicError):
    status = 429
    title = "Too many attempts"
