"""Core's pages: the home page, the language switch and the public audit page."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from litestar import Router, get
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Template

from core.ledger.checkpoint import b64
from core.ledger.export import write_export
from core.voting import VotingKit
from core.web import i18n
from core.web.cards import HomeCard
from core.web.setup import language_cookie, local_path, secure_cookies
from core.web_deps import EngineDep

SECTIONS = ("open", "results", "services")


@get("/", sync_to_thread=True, name="home")
def home(engine: EngineDep) -> Template:
    cards: dict[str, list[HomeCard]] = {s: [] for s in SECTIONS}
    for group in reversed(engine.pm.hook.civic_home_cards(engine=engine)):
        for card in group or ():
            cards[card.section].append(card)
    return Template(template_name="home.html", context={"title": i18n.gettext("Take part in Jung-gu"),
                                                        "cards": cards})


@get("/lang/{code:str}", sync_to_thread=False, name="language")
def switch_language(code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:  # noqa: A002 - the query parameter
    response = Redirect(path=local_path(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(language_cookie(code, secure_cookies()))
    return response


@get("/audit", sync_to_thread=True, name="audit")
def audit_page(engine: EngineDep, code: FromQuery[str | None] = None) -> Template:
    ledger = engine.ledger
    latest = ledger.latest_checkpoint()
    key = ledger.existing_verifier_key()
    found = None
    if code is not None:
        found = VotingKit(engine).locate(code)
    return Template(template_name="audit.html", context={
        "title": i18n.gettext("Check the records"),
        "checkpoint": latest, "root": b64(latest.root_hash) if latest else None,
        "key": str(key) if key else None, "position": engine.position,
        "code": code, "found": found, "searched": code is not None,
    })


@get("/audit/export", sync_to_thread=True, name="audit-export")
def audit_export(engine: EngineDep) -> File:
    """The whole public log with its checkpoints and key, as one file an auditor verifies."""
    folder = Path(tempfile.mkdtemp(prefix="civic-export-"))
    target = folder / "civic-audit-export.jsonl"
    write_export(engine, target, sign=False)
    return File(path=target, filename=target.name, media_type="application/jsonl",
                content_disposition_type="attachment",
                background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


pages_router = Router(path="/", route_handlers=[home, switch_language, audit_page, audit_export],
                      include_in_schema=False)

__all__ = ["pages_router"]

