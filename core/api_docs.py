"""The OpenAPI document says what the JSON faces really answer when they refuse: every error is
``application/problem+json`` (RFC 9457), with the statuses a route can give: 400 unreadable
request, 401/403 when its permission is not open to anyone, 404 when it names something by path,
409 refused by the rules and 422 invalid input for commands, 429 for sign-ins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIType, Schema

from core.actors import ANYONE
from core.guards import required_permissions

PROBLEM = "application/problem+json"
DOCUMENTED_PREFIXES = ("/api", "/ledger", "/open311", "/healthz")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

STATUS_TEXT = {
    "400": "The request could not be read: a field or parameter is missing or of the wrong type "
           "(`errors` names each, as sent).",
    "401": "Sign in first: send `Authorization: Bearer <token>` (POST /api/auth/token); for a sign-in, "
           "the name, password or code was wrong.",
    "403": "The signed-in account's roles do not hold this permission.",
    "404": "Nothing with this id (in the path, or named in the body).",
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
    errors: list[dict[str, Any]] | None = None  # each unreadable parameter, field or line: key, source, message


INJECTED = {"engine", "actor", "request", "data", "state", "scope", "headers", "cookies"}


def takes_query(handler: Any) -> bool:
    """Whether the handler reads query parameters (each may be refused as invalid input)."""
    path_params = set(re.findall(r"\{(\w+)", handler.paths and next(iter(handler.paths)) or ""))
    return any(name not in INJECTED and name not in path_params for name in handler.parsed_fn_signature.parameters)


def statuses_for(method: str, path: str, permissions: list[str], registry: Any, *, query: bool = False,
                 may_be_missing: bool = False) -> list[str]:
    codes = ["400"]
    sign_in = "auth.sign_in" in permissions or re.search(r"/(token|credential|sign-in)$", path)
    if any(ANYONE not in registry.get(p).audience for p in permissions):
        codes += ["401", "403"]
    if sign_in:
        codes.append("401")
    # a command may name, in its body, something that is not there; a read of one thing (say the
    # committee) may find it not yet made: such a handler says so with opt={"may_be_missing": True}
    if "{" in path or method in WRITES or may_be_missing:
        codes.append("404")
    if method in WRITES:
        codes += ["409", "422"]
    elif query or "{" in path:  # a path parameter's value may be refused too
        codes.append("422")
    if sign_in:
        codes.append("429")
    return sorted(set(codes))


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
                                          query=takes_query(handler),
                                          may_be_missing=bool(handler.opt.get("may_be_missing"))))
            declared = dict(handler.responses or {})
            for code in sorted(codes):
                declared.setdefault(int(code), ResponseSpec(data_container=Problem, description=STATUS_TEXT[code],
                                                            media_type=PROBLEM, generate_examples=False))
            handler.responses = declared


# What a route sends when it is not JSON: named by the path's extension, or chosen by its `format`
# query parameter (Litestar documents every handler's success as JSON).
MEDIA_BY_SUFFIX = {".xml": "text/xml", ".svg": "image/svg+xml", ".csv": "text/csv", ".html": "text/html"}
MEDIA_BY_FORMAT = {"json": "application/json", "xml": "text/xml", "svg": "image/svg+xml", "csv": "text/csv",
                   "note": "text/plain", "html": "text/html"}
GEOREPORT_PREFIX = "/open311"
GEOREPORT_ERRORS = Schema(type=OpenAPIType.ARRAY, items=Schema(
    type=OpenAPIType.OBJECT, required=["code", "description"],
    properties={"code": Schema(type=OpenAPIType.INTEGER), "description": Schema(type=OpenAPIType.STRING)}))
TEXT = Schema(type=OpenAPIType.STRING)


def _operations(openapi: OpenAPI) -> Any:
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is not None and operation.responses:
                yield path, operation


def _formats(operation: Any) -> list[str]:
    for parameter in operation.parameters or ():
        if getattr(parameter, "name", None) == "format" and getattr(parameter, "param_in", None) == "query":
            return list(getattr(parameter.schema, "enum", None) or [])
    return []


def document_media_types(openapi: OpenAPI) -> None:
    """Correct the built document where a route answers other than JSON: successes named by the
    path's extension or a ``format`` parameter, and the Open311 (GeoReport v2) face's refusals,
    which are a list of ``{code, description}`` in the request's format (its guards and parameter
    checks still answer problem+json)."""
    for path, operation in _operations(openapi):
        suffix_media = MEDIA_BY_SUFFIX.get(PurePosixPath(path).suffix)
        for code, response in operation.responses.items():
            content = dict(getattr(response, "content", None) or {})
            if code.startswith("2") and content:
                if suffix_media is not None:
                    content = {suffix_media: OpenAPIMediaType(schema=TEXT)}
                for name in _formats(operation):
                    media = MEDIA_BY_FORMAT.get(name)
                    if media is not None and media not in content:
                        content[media] = OpenAPIMediaType(schema=TEXT)
            elif code.startswith("4") and path.startswith(GEOREPORT_PREFIX):
                content[suffix_media or "application/json"] = OpenAPIMediaType(
                    schema=TEXT if suffix_media else GEOREPORT_ERRORS)
            else:
                continue
            response.content = content
