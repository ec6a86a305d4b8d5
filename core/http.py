"""The HTTP face: a Litestar app assembled from the route handlers that core's internal plugin and
every plugin register (``civic_register_routes``).

Every error leaves as ``application/problem+json`` (RFC 9457) with a title and a detail. Domain
commands raise before they save, so a rejected request changes nothing.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from core.engine import Engine
from core.errors import CivicError
from core.guards import provide_actor, required_permissions

PROBLEM = "application/problem+json"
log = logging.getLogger("civic.http")


def problem_response(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM)


def _civic_error(_: Request, exc: CivicError) -> Response[dict[str, Any]]:
    response = problem_response(exc.status, exc.title, exc.detail, **exc.extra)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="civic"'
    return response


def _validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    fields = ", ".join(str(e.get("key") or e.get("source") or "") for e in errors if isinstance(e, dict))
    detail = f"The request does not fit the form expected: {fields}." if fields else str(exc.detail)
    return problem_response(400, "Invalid request", detail, errors=errors)


def _http_error(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    extra = {"errors": exc.extra} if exc.extra else {}
    return problem_response(status, title, str(exc.detail or title), **extra)


def _unexpected(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, "Internal error", "The server failed to handle this request; nothing was changed.")


def check_permissions(app: Litestar, engine: Engine) -> None:
    """Refuse to start when a route's guard names a permission nobody registered."""
    registry = engine.permissions
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for name in required_permissions(handler):
                if name not in registry:
                    raise RuntimeError(f"route {route.path} requires unregistered permission {name!r}; "
                                       "declare it in civic_register_permissions()")


def create_app(engine: Engine, *, debug: bool = False) -> Litestar:
    handlers: list[Any] = []
    # core's internal plugin registered first, so its routes come first
    for group in reversed(engine.pm.hook.civic_register_routes(engine=engine)):
        handlers.extend(group or ())
    app = Litestar(
        route_handlers=handlers,
        state=State({"engine": engine}),
        dependencies={
            "engine": Provide(lambda: engine, use_cache=True, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        exception_handlers={
            CivicError: _civic_error,
            ValidationException: _validation_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        openapi_config=OpenAPIConfig(
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer",
                                         description="A token from POST /api/auth/token")}),
            security=[{"bearer": []}, {}],  # which routes need it depends on their permission
            title="civic",
            version="0.1.0",
            description="Participation engine: participatory budget, apartment elections, "
            "advertisement review committee, field complaints; with an auditable ledger.",
        ),
        debug=debug,
    )
    check_permissions(app, engine)
    _ = engine.privacy  # opened before requests arrive, not by two of them at once
    return app
