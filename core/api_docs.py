"""The OpenAPI document says what the JSON faces really answer when they refuse: every error is
``application/problem+json`` (RFC 9457), with the statuses a route can give: 400 unreadable
request, 401/403 when its permission is not open to anyone, 404 when it names something by path,
409 refused by the rules and 422 invalid input for commands, 429 for sign-ins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar.openapi import ResponseSpec

from core.actors import ANYONE
from core.guards import required_permissions

PROBLEM = "application/problem+json"
DOCUMENTED_PREFIXES = ("/api", "/ledger", "/open311", "/healthz")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

STATUS_TEXT = {
    "400": "The request could not be read: a field or parameter is missing or of the wrong type "
           "(`errors` names each, as sent).",
    "401": "Sign in first: send `Authorization: Bearer <token>` (POST /api/auth/token).",
    "403": "The signed-in account's roles do not hold this permission.",
    "404": "Nothing with this id.",
    "409": "Refused by the rules of the process (e.g. voting is closed); nothing changed.",
    "422": "A value is not acceptable (the `field` names which); nothing changed.",
    "429": "Too many attempts; wait and try again.",
}

@dataclass
class Problem:
    """RFC 9457 problem details, as every refusal is answered. A refused request changed nothing."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None  # the input concerned, when one is
    errors: list[dict[str, str]] | None = None  # each unreadable parameter or field: key, source, message


INJECTED = {"engine", "actor", "request", "data", "state", "scope", "headers", "cookies"}


def takes_query(handler: Any) -> bool:
    """Whether the handler reads query parameters (each may be refused as invalid input)."""
    path_params = set(re.findall(r"\{(\w+)", handler.paths and next(iter(handler.paths)) or ""))
    return any(name not in INJECTED and name not in path_params for name in handler.parsed_fn_signature.parameters)


def statuses_for(method: str, path: str, permissions: list[str], registry: Any, *, query: bool = False) -> list[str]:
    codes = ["400"]
    if any(ANYONE not in registry.get(p).audience for p in permissions):
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    if method in WRITES:
        codes += ["409", "422"]
    elif query:
        codes.append("422")
    if "auth.sign_in" in permissions or re.search(r"/(token|credential|sign-in)$", path):
        codes.append("429")
    return codes


def document_problems(app: Any, registry: Any) -> None:
    """Declare each JSON route's refusals on its handler, where Litestar's OpenAPI builder reads
    them (they replace its generic 400)."""
    for route in app.routes:
        path = getattr(route, "path_format", route.path)
        if not path.startswith(DOCUMENTED_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", ()):
            codes: set[str] = set()
            for method in handler.http_methods:
                codes.update(statuses_for(method, path, required_permissions(handler), registry,
                                          query=takes_query(handler)))
            declared = dict(handler.responses or {})
            for code in sorted(codes):
                declared.setdefault(int(code), ResponseSpec(data_container=Problem, description=STATUS_TEXT[code],
                                                            media_type=PROBLEM, generate_examples=False))
            handler.responses = declared
