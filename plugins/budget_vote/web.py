"""The residents' pages of the participatory budget: from the text message's link to the
receipt, one thing per page (sign in, choose, review, confirm, receipt), every form a plain
post that works without JavaScript. The pages call the same service functions as the JSON API;
the server checks every choice again, whatever the page showed."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import segno
from litestar import Controller, Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from core import (Engine, EngineDep, HomeCard, InvalidInput, NotFound, RuleViolation, TooManyAttempts, Unauthorized,
                  browser_id, client_address, form_values, requires, save_visit_state, sign_in_rate_limit,
                  visit_state, won)
from core import gettext as _
from plugins.budget_vote import service
from plugins.budget_vote.domain import Cycle
from plugins.budget_vote.views import ballot_projects, cycle_summaries, public_result

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SESSION_KEY = "budget"


# -- the resident's session: which cycles they signed in to, their choice, their receipt ---------
def voter_state(request: Request, cycle_id: UUID) -> dict[str, Any]:
    return visit_state(request, SESSION_KEY, cycle_id)


def save_voter_state(request: Request, cycle_id: UUID, state: dict[str, Any]) -> None:
    save_visit_state(request, SESSION_KEY, cycle_id, state)


# -- what the pages show -----------------------------------------------------------------------
def projects_in_order(cycle: Cycle, seed: str) -> list[dict[str, Any]]:
    """The projects on the ballot in an order random for each resident but stable for them, so
    that no project gains from always coming first."""
    projects = ballot_projects(cycle)
    random.Random(hashlib.sha256(f"{seed}/{cycle.id}".encode()).digest()).shuffle(projects)
    return projects


def money(cycle: Cycle) -> Callable[[int], str]:
    """How the cycle's whole-number amounts read: won for civic's own cycles; for a cycle imported
    from a file, the file's exact amount in its currency (10253336 at 2 decimals: 102,533.36 PLN)."""
    if cycle.currency == "KRW" and cycle.amount_decimals == 0:
        return won

    def in_file_currency(minor: int) -> str:
        text = format(Decimal(f"{minor}E-{cycle.amount_decimals}"), ",f")  # built from text: exact
        return f"{text} {cycle.currency}" if cycle.currency else text

    return in_file_currency


def support_heading(kind: str) -> str:
    """What the results' count of each project is, for a column heading."""
    if kind in ("cumulative", "scoring"):
        return _("Points")
    if kind == "ordinal":
        return _("Borda score")
    return _("Votes")


def greedy_in_words(kind: str) -> str:
    """The greedy rule as the results page says it, by what the ballots count."""
    if kind in ("cumulative", "scoring"):
        return _("Most points first, as long as the budget allows")
    if kind == "ordinal":
        return _("Highest Borda score first, as long as the budget allows")
    return _("Most votes first, as long as the budget allows")


def ballots_in_words(kind: str) -> str | None:
    """How the ballots of an imported cycle were filled in (None for civic's choosing ballots)."""
    return {"cumulative": _("Each voter shared out points between projects."),
            "scoring": _("Each voter gave projects a score."),
            "ordinal": _("Each voter ranked projects; a project scores one point for each project ranked below it "
                         "(Borda count)."),
            }.get(kind)


def rules_in_words(cycle: Cycle) -> str:
    style = cycle.style
    parts = []
    if style.max_projects is not None and style.min_projects == style.max_projects:
        parts.append(_("Choose exactly %(n)s projects.") % {"n": style.min_projects})
    else:
        if style.min_projects > 1:
            parts.append(_("Choose at least %(n)s projects.") % {"n": style.min_projects})
        if style.max_projects is not None:
            parts.append(_("Choose up to %(n)s projects.") % {"n": style.max_projects})
        elif style.min_projects <= 1:
            parts.append(_("Choose one or more projects."))
    if style.kind == "knapsack":
        limit = style.cost_limit if style.cost_limit is not None else cycle.budget
        parts.append(_("Their total cost may be at most %(amount)s.") % {"amount": won(limit)})
    return " ".join(parts)


def choice_problem(cycle: Cycle, choice: list[str]) -> str | None:
    """Why the server refuses this choice, in the resident's words; None when it is accepted."""
    try:
        cycle.check_ballot(choice)
    except InvalidInput as exc:
        style = cycle.style
        rule = exc.extra.get("rule")
        if rule == "min-projects":
            return _("Choose at least %(n)s projects.") % {"n": max(style.min_projects, 1)}
        if rule == "max-projects":
            return _("Choose no more than %(n)s projects.") % {"n": style.max_projects}
        if rule == "knapsack-limit":
            limit = style.cost_limit if style.cost_limit is not None else cycle.budget
            return _("The projects you chose cost more than %(amount)s. Remove one.") % {"amount": won(limit)}
        return _("Choose projects from the list.")
    return None


def sign_in_problem(exc: Exception) -> tuple[str, str]:
    """(field, message) for a refused sign-in; never says whether the number is on the roll."""
    detail = str(getattr(exc, "detail", exc))
    if isinstance(exc, TooManyAttempts) and "locked" in detail:
        return "code", _("This code was entered wrongly 5 times and is now locked. Ask your dong community "
                         "centre or the district office for a new code.")
    if isinstance(exc, TooManyAttempts):
        return "code", _("Too many wrong codes from this phone. Try again in an hour.")
    if isinstance(exc, RuleViolation) and "already issued" in detail:
        return "code", _("This code was already used to start voting, on another phone or browser. "
                         "Continue there, or ask the district office for help.")
    if isinstance(exc, RuleViolation):
        return "code", _("Voting is not open.")
    return "code", _("The phone number or the code is not right. Check the text message and try again.")


class BudgetPages(Controller):
    path = "/budget"
    include_in_schema = False

    @get("/{cycle_id:uuid}", sync_to_thread=True)
    def cycle_page(self, cycle_id: FromPath[UUID], engine: EngineDep) -> Template:
        cycle = service.get_cycle(engine, cycle_id)
        projects = ballot_projects(cycle) if cycle.phase in ("voting", "tallying", "published") else []
        return Template(template_name="budget_vote/cycle.html", context={
            "title": cycle.name, "cycle": cycle, "projects": projects, "rules": rules_in_words(cycle)})

    # -- sign in ----------------------------------------------------------------------------------
    @get("/{cycle_id:uuid}/vote", sync_to_thread=True)
    def sign_in_page(self, cycle_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        if cycle.phase == "voting" and voter_state(request, cycle.id).get("credential"):
            return Redirect(path=f"/budget/{cycle.id}/ballot", status_code=303)
        return self._sign_in(cycle, {}, {})

    def _sign_in(self, cycle: Cycle, form: dict[str, Any], errors: dict[str, str], status: int = 200) -> Template:
        return Template(template_name="budget_vote/sign_in.html", status_code=status, context={
            "title": _("Sign in to vote"), "cycle": cycle, "form": form, "errors": errors})

    @post("/{cycle_id:uuid}/vote", guards=[requires("budget.vote")], middleware=[sign_in_rate_limit()],
          sync_to_thread=True)
    def sign_in(self, cycle_id: FromPath[UUID], data: Form, request: Request, engine: EngineDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        phone, code = str(data.get("phone", "")).strip(), str(data.get("code", "")).strip()
        form = {"phone": phone}  # the code is never shown back
        errors = {}
        if not phone:
            errors["phone"] = _("Enter the mobile phone number the text message came to.")
        if not code:
            errors["code"] = _("Enter the voting code from the text message.")
        if errors:
            return self._sign_in(cycle, form, errors, 400)
        client = f"{client_address(request)}/{browser_id(request)}"
        try:
            credential = service.sign_in_by_phone(engine, cycle.id, phone, code, client)
        except (Unauthorized, TooManyAttempts, RuleViolation) as exc:
            field, message = sign_in_problem(exc)
            return self._sign_in(cycle, form, {field: message}, 400)
        save_voter_state(request, cycle.id, {"credential": credential})
        return Redirect(path=f"/budget/{cycle.id}/ballot", status_code=303)

    # -- choose, review, confirm ------------------------------------------------------------------
    def _voter(self, request: Request, engine: Engine, cycle_id: UUID) -> tuple[Cycle, dict[str, Any]] | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        state = voter_state(request, cycle.id)
        if cycle.phase != "voting" or not state.get("credential"):
            return Redirect(path=f"/budget/{cycle.id}/vote", status_code=303)
        return cycle, state

    @get("/{cycle_id:uuid}/ballot", sync_to_thread=True)
    def ballot_page(self, cycle_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, cycle_id)
        if isinstance(found, Redirect):
            return found
        cycle, state = found
        return self._ballot(request, cycle, state, state.get("choice", []), {})

    def _ballot(self, request: Request, cycle: Cycle, state: dict[str, Any], chosen: list[str],
                errors: dict[str, str], status: int = 200) -> Template:
        style = cycle.style
        limit = (style.cost_limit or cycle.budget) if style.kind == "knapsack" else 0
        return Template(template_name="budget_vote/ballot.html", status_code=status, context={
            "title": _("Choose projects"), "cycle": cycle, "rules": rules_in_words(cycle), "errors": errors,
            "projects": projects_in_order(cycle, browser_id(request)), "chosen": set(chosen),
            "cost_limit": limit, "max_count": style.max_projects or 0, "revoting": bool(state.get("receipt"))})

    @post("/{cycle_id:uuid}/ballot", guards=[requires("budget.vote")], sync_to_thread=True)
    def choose(self, cycle_id: FromPath[UUID], data: Form, request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, cycle_id)
        if isinstance(found, Redirect):
            return found
        cycle, state = found
        choice = form_values(data.get("project"))
        problem = choice_problem(cycle, choice)
        if problem is not None:
            return self._ballot(request, cycle, state, choice, {"projects": problem}, 400)
        save_voter_state(request, cycle.id, {**state, "choice": sorted(set(choice))})
        return Redirect(path=f"/budget/{cycle.id}/review", status_code=303)

    @get("/{cycle_id:uuid}/review", sync_to_thread=True)
    def review(self, cycle_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, cycle_id)
        if isinstance(found, Redirect):
            return found
        cycle, state = found
        if not state.get("choice"):
            return Redirect(path=f"/budget/{cycle.id}/ballot", status_code=303)
        chosen = [p for p in ballot_projects(cycle) if p["project_id"] in set(state["choice"])]
        return Template(template_name="budget_vote/review.html", context={
            "title": _("Check your choice"), "cycle": cycle, "chosen": chosen,
            "total": sum(p["cost"] for p in chosen), "revoting": bool(state.get("receipt"))})

    @post("/{cycle_id:uuid}/cast", guards=[requires("budget.vote")], sync_to_thread=True)
    def cast(self, cycle_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, cycle_id)
        if isinstance(found, Redirect):
            return found
        cycle, state = found
        choice = state.get("choice") or []
        problem = choice_problem(cycle, choice)
        if problem is not None:
            return self._ballot(request, cycle, state, choice, {"projects": problem}, 400)
        try:
            receipt = service.cast_ballot(engine, cycle.id, credential=state["credential"], choice=choice)
        except RuleViolation:
            # cast once where the cycle does not let a later ballot count, or voting just closed
            return Template(template_name="error.html", status_code=409, context={
                "title": _("Your ballot was not recorded"),
                "detail": _("Voting has closed, or this cycle counts only your first ballot and it was already "
                            "cast. Your earlier ballot, if any, is safe.")})
        save_voter_state(request, cycle.id, {**state, "receipt": receipt["tracking_code"]})
        return Redirect(path=f"/budget/{cycle.id}/done", status_code=303)

    @get("/{cycle_id:uuid}/done", sync_to_thread=True)
    def done(self, cycle_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        cycle = service.get_cycle(engine, cycle_id)
        state = voter_state(request, cycle.id)
        if not state.get("receipt"):
            return Redirect(path=f"/budget/{cycle.id}/vote", status_code=303)
        return Template(template_name="budget_vote/done.html", context={
            "title": _("Your vote is recorded"), "cycle": cycle, "code": state["receipt"],
            "receipt_url": receipt_url(engine, cycle.id, state["receipt"]),
            "can_change": cycle.last_vote_counts and cycle.phase == "voting"})

    # -- after voting: receipts and results -------------------------------------------------------
    @get("/{cycle_id:uuid}/receipt", sync_to_thread=True)
    def receipt(self, cycle_id: FromPath[UUID], engine: EngineDep, code: FromQuery[str | None] = None) -> Template:
        cycle = service.get_cycle(engine, cycle_id)
        found, missing = None, False
        if code:
            try:
                found = service.track(engine, cycle.id, code)
            except NotFound:
                missing = True
        return Template(template_name="budget_vote/receipt.html", context={
            "title": _("Check your ballot"), "cycle": cycle, "code": code or "", "found": found, "missing": missing,
            "projects": {p["project_id"]: p for p in ballot_projects(cycle)}})

    @get("/{cycle_id:uuid}/receipt.svg", sync_to_thread=True)
    def receipt_qr(self, cycle_id: FromPath[UUID], code: FromQuery[str], engine: EngineDep) -> Response[bytes]:
        """The receipt page's address as a QR code, to check the ballot from another device."""
        cycle = service.get_cycle(engine, cycle_id)
        qr = segno.make(receipt_url(engine, cycle.id, code), error="m")
        out = io.BytesIO()
        qr.save(out, kind="svg", scale=5, dark="#0b0c0c", light="#ffffff", border=2, xmldecl=False)
        return Response(out.getvalue(), media_type="image/svg+xml")

    @get("/{cycle_id:uuid}/results", sync_to_thread=True)
    def results(self, cycle_id: FromPath[UUID], engine: EngineDep) -> Template:
        cycle = service.get_cycle(engine, cycle_id)
        result = public_result(cycle)  # refused (409 page) while embargoed
        rows = sorted(result["projects"], key=lambda r: (-(r["votes"] or 0), r["project_id"]))
        return Template(template_name="budget_vote/results.html", context={
            "title": _("Results: %(name)s") % {"name": cycle.name}, "cycle": cycle, "result": result,
            "rows": [r for r in rows if r["feasible"]], "support_heading": support_heading(result["ballot_kind"]),
            "ballots_in_words": ballots_in_words(result["ballot_kind"]),
            "greedy_in_words": greedy_in_words(result["ballot_kind"]), "money": money(cycle)})


def receipt_url(engine: Engine, cycle_id: UUID, code: str) -> str:
    return f"{engine.public_url}/budget/{cycle_id}/receipt?code={code}"


@get("/b/{short_code:str}", sync_to_thread=True, include_in_schema=False)
def short_link(short_code: FromPath[str], engine: EngineDep) -> Redirect:
    """The link in the text message: straight to signing in (the code after '#' stays in the
    browser and fills the form)."""
    cycle = service.find_by_short_code(engine, short_code)
    return Redirect(path=f"/budget/{cycle.id}/vote", status_code=303)


short_links = Router(path="/", route_handlers=[short_link], include_in_schema=False)


def home_cards(engine: Engine) -> list[HomeCard]:
    cards = []
    for cycle_id, summary in cycle_summaries(engine).items():
        if summary["phase"] == "voting":
            cards.append(HomeCard(section="open", title=summary["name"], tag=_("Participatory budget"),
                                  text=_("Choose the projects the district should fund from a budget of %(amount)s.")
                                  % {"amount": won(summary["budget"])},
                                  href=f"/budget/{cycle_id}", link_text=_("Vote now")))
        elif summary["phase"] == "published":
            cards.append(HomeCard(section="results", title=summary["name"], tag=_("Participatory budget"),
                                  text=_("The projects chosen by residents and funded."),
                                  href=f"/budget/{cycle_id}/results", link_text=_("See the results")))
    return cards
