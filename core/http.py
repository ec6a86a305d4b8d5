"""The HTTP face: a Litestar app assembled from the route handlers that core's internal plugin and
every plugin register (``civic_register_routes``).

Every error leaves as ``application/problem+json`` (RFC 9457) with a title and a detail. Domain
commands raise before they save, so a rejected request changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from core.engine import Engine
from core.errors import CivicError
from core.guards import provide_actor, required_permissions
from core.web.i18n import gettext
from core.api_docs import document_media_types, document_problems
from core.web.console import SignInFirst, sign_in_redirect
from core.web.setup import STATIC_PATH, WebLayer, is_page, swagger_ui_router

PROBLEM = "application/problem+json"


def N_(message: str) -> str:
    """Marks a page error text for translation (``make messages`` extracts it); translated when shown."""
    return message


# Titles of the errors that reach residents' pages, translated where they are shown.
ERROR_TITLES = (N_("Bad request"), N_("Invalid input"), N_("Refused by the rules of the process"),
                N_("Not found"), N_("Sign-in required"), N_("Not allowed"), N_("Too many attempts"),
                N_("The result is embargoed until an official validates it."))
log = logging.getLogger("civic.http")


def problem_response(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM)


def _page_error(request: Request, status: int, title: str, detail: str) -> Response[Any] | None:
    """An HTML error page for a browser (it asks for HTML) on a page; None on the JSON faces and
    for every other client, which get problem+json."""
    if not is_page(request.url.path) or "text/html" not in request.headers.get("accept", ""):
        return None
    layer = request.app.state["web"]
    layer.choose_language(request)  # the error may come before the language was chosen
    return layer.error_page(request, status, gettext(title), gettext(detail))


def _civic_error(request: Request, exc: CivicError) -> Response[Any]:
    page = _page_error(request, exc.status, exc.title, exc.detail)
    if page is not None:
        return page
    response = problem_response(exc.status, exc.title, exc.detail, **exc.extra)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="civic"'
    return response


def _validation_error(request: Request, exc: ValidationException) -> Response[Any]:
    page = _page_error(request, 400, N_("Invalid request"), N_("The form could not be read; go back and try again."))
    if page is not None:
        return page
    errors = [_as_sent(request, e) for e in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(e, dict)]
    fields = ", ".join(str(e.get("key") or e.get("source") or "") for e in errors)
    detail = f"The request does not fit the form expected: {fields}." if fields else str(exc.detail)
    return problem_response(400, "Invalid request", detail, errors=errors)


MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def _as_sent(request: Request, error: dict[str, Any]) -> dict[str, Any]:
    """A validation error named as the caller knows it: the query parameter ``from``, not the
    handler's argument ``start``; the missing body field ``password``, not ``data``."""
    key, source = error.get("key"), error.get("source")
    if source == "body" and key == "data":
        missing = MISSING_FIELD.search(str(error.get("message", "")))
        return {**error, "key": missing.group(1)} if missing else {**error, "key": "body"}
    handler = request.scope.get("route_handler")
    try:
        declared = handler.parsed_fn_signature.parameters[key].kwarg_definition  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError):
        return error
    alias = None
    if source in ("query", "header", "cookie"):
        # Parameter(query="from") keeps the name under its source; QueryParameter(name="from") in ``name``
        alias = getattr(declared, source, None) or getattr(declared, "name", None)
    return {**error, "key": alias} if alias else error


def _http_error(request: Request, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if status == 404:
        page = _page_error(request, 404, N_("Page not found"), N_("If you typed the web address, check it is correct."))
    elif status == 429:
        page = _page_error(request, 429, N_("Too many attempts"), N_("Wait a minute and try again."))
    elif status == 403:  # a form sent without its CSRF token (an old page, or from another site)
        page = _page_error(request, 403, N_("This form has expired"), N_("Go back, reload the page and try again."))
    else:
        page = _page_error(request, status, title, str(exc.detail or title))
    if page is not None:
        return page
    extra = {"errors": exc.extra} if exc.extra else {}
    return problem_response(status, title, str(exc.detail or title), **extra)


def _unexpected(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error", exc_info=exc)
    page = _page_error(request, 500, N_("Sorry, there is a problem with the service"),
                       N_("Nothing was changed. Try again later."))
    if page is not None:
        return page
    return problem_response(500, "Internal error", "The server failed to handle this request; nothing was changed.")


# Threads for the handlers that block (``sync_to_thread=True``). A cast holds its thread until the
# group commit that carries its ballot is durable, so the threads bound how many casts one commit
# can carry; asyncio's default pool (cores + 4: six here) made casts queue for a thread while the
# database waited for the next group. Waiting threads cost no CPU.
REQUEST_THREADS = 64


def use_request_threads() -> None:
    """On start-up (in the server's event loop): the loop's executor, which Litestar runs
    blocking handlers in, gets ``REQUEST_THREADS`` threads."""
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=REQUEST_THREADS, thread_name_prefix="civic-request"))


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
    web = WebLayer(engine)
    handlers: list[Any] = [web.static_router(), swagger_ui_router()]
    # core's internal plugin registered first, so its routes come first
    for group in reversed(engine.pm.hook.civic_register_routes(engine=engine)):
        handlers.extend(group or ())
    app = Litestar(
        route_handlers=handlers,
        state=State({"engine": engine, "web": web}),
        template_config=web.template_config(),
        csrf_config=web.csrf,
        middleware=[web.session.middleware],
        on_startup=[use_request_threads],
        before_request=web.before_request,
        after_request=web.after_request,
        dependencies={
            "engine": Provide(lambda: engine, use_cache=True, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        exception_handlers={
            SignInFirst: sign_in_redirect,
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
            # served by civic itself: the page works on a network without internet
            render_plugins=[SwaggerRenderPlugin(
                path=["/", "/swagger"], js_url=f"{STATIC_PATH}/swagger-ui/swagger-ui-bundle.js",
                css_url=f"{STATIC_PATH}/swagger-ui/swagger-ui.css",
                standalone_preset_js_url=f"{STATIC_PATH}/swagger-ui/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' href='{STATIC_PATH}/favicon.svg' type='image/svg+xml'>"),
                YamlRenderPlugin()],
        ),
        debug=debug,
    )
    check_permissions(app, engine)
    document_problems(app, engine.permissions)
    document_media_types(app.openapi_schema)  # built once here, served as corrected
    _ = engine.privacy  # opened before requests arrive, not by two of them at once
    return app
