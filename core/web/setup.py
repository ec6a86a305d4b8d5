"""The web layer of the Litestar app: templates, translations, static files, sessions, CSRF,
security headers and HTML error pages. ``core.http.create_app`` applies it."""

from __future__ import annotations

import base64
import importlib.util
import hashlib
import ipaddress
import re
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import Cookie
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from core.web import i18n

log = logging.getLogger("civic.web")
HERE = Path(__file__).parent
STATIC_PATH = "/static"
# the JSON faces keep bearer tokens and problem+json; only pages use cookies, sessions and CSRF
NON_PAGE_PREFIXES = ("/api", "/ledger", "/open311", "/schema", "/healthz", STATIC_PATH)
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SESSION_COOKIE = "civic_session"
CSRF_COOKIE = "civic_csrf"


def is_page(path: str) -> bool:
    return not path.startswith(NON_PAGE_PREFIXES)


def plugin_dirs(pm: Any, name: str) -> list[Path]:
    """``<plugin package>/<name>`` of every registered plugin that has one (templates, locale)."""
    found = []
    for plugin in pm.get_plugins():
        origin = getattr(plugin, "__file__", None)  # plugins are modules; other objects have no folder
        if origin and (Path(origin).parent / name).is_dir():
            found.append(Path(origin).parent / name)
    return sorted(found)


INLINE = re.compile(rb"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1>", re.S | re.I)


def csp_for(body: Any) -> str:
    """The page's Content-Security-Policy: our own files only; an inline script or style (the
    API page has one) is allowed by its hash, never by 'unsafe-inline'."""
    if not isinstance(body, bytes | str):
        return CSP
    raw = body.encode() if isinstance(body, str) else body
    hashes: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for kind, content in INLINE.findall(raw):
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        hashes[kind.lower()].append(f"'sha256-{digest}'")
    policy = CSP
    if hashes[b"script"]:
        policy = policy.replace("script-src 'self'", "script-src 'self' " + " ".join(hashes[b"script"]))
    if hashes[b"style"]:
        policy = policy.replace("style-src 'self'", "style-src 'self' " + " ".join(hashes[b"style"]))
    return policy


def secure_cookies() -> bool:
    """Cookies are ``Secure`` unless civic serves plain HTTP on this machine only (development);
    ``CIVIC_SECURE_COOKIES=1`` or ``0`` decides explicitly."""
    value = os.environ.get("CIVIC_SECURE_COOKIES", "auto").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    public = os.environ.get("CIVIC_PUBLIC_URL", "")
    return public.startswith("https://")


class WebLayer:
    """What the pages need, built once per app."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.translations = i18n.load_translations([HERE / "locale", *plugin_dirs(engine.pm, "locale")])
        self.environment = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(HERE / "templates")),
                                 *(FileSystemLoader(str(d)) for d in plugin_dirs(engine.pm, "templates"))]),
            autoescape=select_autoescape(["html", "xml"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
        self.environment.globals.update(lang=i18n.current_language.get, won=i18n.won, seoul=i18n.seoul, percent=i18n.percent,
                                        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES, STATIC=STATIC_PATH)
        self.secure = secure_cookies()
        secret = engine.secrets.key("web-session")
        self.session = CookieBackendConfig(secret=secret, key=SESSION_COOKIE, secure=self.secure, httponly=True,
                                           samesite="lax", max_age=4 * 3600, exclude=list(NON_PAGE_PREFIXES))
        self.csrf = CSRFConfig(secret=engine.secrets.key("web-csrf").hex(), cookie_name=CSRF_COOKIE,
                               cookie_secure=self.secure, cookie_httponly=True, cookie_samesite="lax",
                               exclude=[f"^{p}" for p in NON_PAGE_PREFIXES])

    def template_config(self) -> TemplateConfig:
        return TemplateConfig(instance=JinjaTemplateEngine.from_environment(self.environment))

    def static_router(self) -> Any:
        return create_static_files_router(path=STATIC_PATH, directories=[HERE / "static"], include_in_schema=False)

    # -- request and response hooks ---------------------------------------------------------
    async def before_request(self, request: Request) -> None:
        # async, so that the language set here is in the context the handler's thread copies;
        # only pages speak the resident's language (the JSON faces answer in fixed English)
        if is_page(request.scope["path"]):
            self.choose_language(request)

    def choose_language(self, request: Request) -> None:
        language = i18n.choose_language(request.cookies.get(i18n.LANGUAGE_COOKIE),
                                        request.headers.get("accept-language"))
        i18n.current_language.set(language)
        i18n.current_catalogue.set(self.translations[language])
        request.state["language"] = language

    async def after_request(self, response: Response) -> Response:
        # async: Litestar runs a plain function hook in a worker thread, a hop per request
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        media_type = getattr(response, "media_type", None) or ""
        media_type = str(getattr(media_type, "value", media_type))
        if (isinstance(response, Template) or media_type.startswith("text/html")) \
                and "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = csp_for(getattr(response, "content", None))
        return response

    def error_page(self, request: Request, status: int, title: str, detail: str) -> Template:
        return Template(template_name="error.html", status_code=status,
                        context={"status": status, "title": title, "detail": detail})


# Sign-in forms: at most this many posts a minute from one address. Generous enough for the
# households behind one apartment block's connection; each roll entry also locks after 5 wrong
# codes, and each browser after 5 wrong codes an hour.
SIGN_INS_PER_MINUTE = 60


def sign_in_rate_limit() -> Any:
    """Middleware for a sign-in form's handler: the per-address limit above."""
    return RateLimitConfig(rate_limit=("minute", SIGN_INS_PER_MINUTE), identifier_for_request=client_address,
                           store="civic-sign-in-limits", set_rate_limit_headers=False).middleware


def swagger_ui_router() -> Any:
    """Swagger UI's files (version 5, which reads OpenAPI 3.1) from the ``swagger-ui-py`` package,
    for ``/schema`` on a network without internet."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing; reinstall civic")
    static = Path(next(iter(spec.submodule_search_locations))) / "static"
    return create_static_files_router(path=f"{STATIC_PATH}/swagger-ui", directories=[static],
                                      include_in_schema=False, name="swagger-ui")


def language_cookie(language: str, secure: bool) -> Cookie:
    return Cookie(key=i18n.LANGUAGE_COOKIE, value=language, max_age=365 * 24 * 3600, httponly=True,
                  secure=secure, samesite="lax")


def client_address(request: Request) -> str:
    """The caller's address as uvicorn resolved it (it honours ``X-Forwarded-For`` only from the
    proxies named in ``CIVIC_TRUSTED_PROXIES``)."""
    host = request.client.host if request.client else "unknown"
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def local_path(target: str | None) -> str:
    """Only a path on this site (never another host) is a place to go back to."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")
