"""The households' pages of apartment elections: from the text message's link to the receipt,
then the results and their certificates. Elections are not listed anywhere: a household reaches
its election through the link in its text message (``/a/<code>``).

One thing per page (the election, sign in, the ballot with every item of the household's
building, review, done, receipt); every form is a plain post that works without JavaScript. The
pages call the same service functions as the JSON API, and the server checks every answer again,
whatever the page showed."""

from __future__ import annotations

import io
import re
from fractions import Fraction
from typing import Annotated, Any
from uuid import UUID

import segno
from litestar import Controller, Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from markupsafe import Markup, escape

from core import (EngineDep, InvalidInput, NotFound, RuleViolation, TooManyAttempts, Unauthorized, browser_id,
                  client_address, form_values, requires, save_visit_state, sign_in_rate_limit, utc_now, visit_state)
from core import gettext as _
from plugins.apartment_vote import certificate as certificates
from plugins.apartment_vote import rules, service
from plugins.apartment_vote.domain import CLOSED, OPEN, Election, parse_time
from plugins.apartment_vote.permissions import VOTE

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SESSION_KEY = "apartment"
YES, NO, ABSTAIN = "yes", "no", "abstain"


def N_(message: str) -> str:  # noqa: N802 - the gettext marker's usual name
    """A text translated where it is shown (an error page), marked here for extraction."""
    return message


HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")


def korean_page() -> bool:
    """Whether the page being answered is in Korean. Core gives plugins the request's language on
    ``request.state`` only; helpers deep in a page ask the catalogue instead."""
    return _(N_("In favour")) != "In favour"


def said(text: Any) -> Markup:
    """Text as the election committee wrote it (titles, names, statements): on a page that is not
    in Korean, Korean text is marked ``lang="ko"`` so that screen readers read it in Korean."""
    text = str(text)
    if HANGUL.search(text) and not korean_page():
        return Markup('<span lang="ko">%s</span>') % text
    return escape(text)


def says(message: str, **values: Any) -> Markup:
    """A translated sentence with the committee's text in it, each part marked as ``said``."""
    return escape(message) % {k: v if isinstance(v, Markup) or not isinstance(v, str) else said(v)
                              for k, v in values.items()}


def page(template: str, context: dict[str, Any], status: int = 200) -> Template:
    return Template(template_name=f"apartment_vote/{template}", status_code=status, context={**context, "said": said})


NO_ELECTION = N_("There is no election at this address. Check the link in your text message, or ask your "
                 "management office.")


# -- the household's session: the credential, its answers, its receipt ---------------------------
def voter_state(request: Request, election_id: UUID) -> dict[str, Any]:
    return visit_state(request, SESSION_KEY, election_id)


def save_voter_state(request: Request, election_id: UUID, state: dict[str, Any]) -> None:
    save_visit_state(request, SESSION_KEY, election_id, state)


def one(value: Any) -> str:
    values = form_values(value)
    return values[-1] if values else ""


def household_number(typed: str) -> str:
    """What a resident typed as the roll's ``building-unit`` form: ``101동 1203호``, ``101 1203``
    and ``101–1203`` all mean ``101-1203``; anything else is kept as typed (the roll decides)."""
    text = typed.strip().replace("\u2013", "-").replace("\u2212", "-").replace("\uff0d", "-")
    found = re.fullmatch(r"([0-9A-Za-z]+)\s*(?:동)?\s*[-\s]?\s*([0-9A-Za-z]+)\s*(?:호)?", text)
    if found and ("동" in text or "-" in text or " " in text):
        return f"{found.group(1)}-{found.group(2)}"
    return text


def find_election(engine: Any, election_id: UUID) -> Election:
    try:
        return service.get_election(engine, election_id)
    except NotFound:
        raise NotFound(NO_ELECTION) from None


def complex_name(engine: Any, election: Election) -> str:
    try:
        return service.get_complex(engine, election.complex_code).name
    except NotFound:
        return election.complex_code


def voting_now(election: Election) -> bool:
    now = utc_now()
    return election.status == OPEN and parse_time(election.opens_at) <= now < parse_time(election.closes_at)


def phase(election: Election) -> str:
    """draft (voting not open yet), open, counting (closed, results not recorded) or results."""
    if election.results:
        return "results"
    if voting_now(election):
        return "open"
    if election.status == CLOSED or utc_now() >= parse_time(election.closes_at):
        return "counting"
    return "draft"


# -- numbers and rules in words ----------------------------------------------------------------
def _rounded(share: Fraction, digits: int) -> int:
    """The share in hundredths of a percent to ``digits`` decimals, half up (shares are never
    negative)."""
    return int(share * 100 * 10 ** digits + Fraction(1, 2))


def _fixed(share: Fraction, digits: int) -> str:
    whole, decimals = divmod(_rounded(share, digits), 10 ** digits)
    return f"{whole}.{decimals:0{digits}d}%" if digits else f"{whole}%"


def pct(share: Fraction, against: Fraction | None = None) -> str:
    """A share as a percentage: whole when exact (``50%``), else one decimal (``41.3%``), with
    more decimals when one decimal would make it look equal to the threshold it is compared
    with (``49.96%`` against ``50%``)."""
    if (share * 100).denominator == 1:
        return f"{share * 100}%"
    digits = 1
    while (against is not None and share != against and digits < 6
           and Fraction(_rounded(share, digits), 100 * 10 ** digits) == against):
        digits += 1
    return _fixed(share, digits)


def fraction(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole > 0 else Fraction(0)


def threshold_words(num: int, den: int, strict: bool) -> str:
    share = pct(Fraction(num, den))
    return (_("more than %(share)s") if strict else _("at least %(share)s")) % {"share": share}


def kind_name(kind: str) -> str:
    return {"building_representative": _("Building representative"), "chair": _("Chair"),
            "auditor": _("Auditors"), "agenda": _("Decision")}.get(kind, kind)


def constituency_words(building: str | None) -> str:
    if building:
        return _("Households of building %(building)s") % {"building": building}
    return _("All households of the complex")


def rules_in_words(contest: dict[str, Any]) -> list[str]:
    """How a contest is decided, in short sentences (from its rule set and ballot form)."""
    rule, form = contest["rules"], contest["ballot"]
    who = _("the households of building %(building)s") % {"building": contest["building"]} if contest["building"] \
        else _("all households of the complex")
    turnout = _("The vote counts only if %(share)s of %(who)s vote.") % {
        "share": threshold_words(rule["turnout_num"], rule["turnout_den"], rule["turnout_strict"]), "who": who}
    basis = _("the households that vote") if rule["approval_basis"] == "voters" else _("all households")
    approval = threshold_words(rule["approval_num"], rule["approval_den"], True)
    if form["form"] == "yes_no":
        return [_("Adopted if %(share)s of %(basis)s vote in favour.") % {"share": approval, "basis": basis}, turnout]
    if form["form"] == "none":
        return [_("No candidate registered, so there is nothing to vote on.")]
    if form["form"] == "choose":
        if form["max_choices"] == 1:
            first = _("Choose 1 candidate. The candidate with the most votes is elected.")
        else:
            first = _("Choose up to %(n)s candidates. The %(n)s with the most votes are elected.") % {
                "n": form["max_choices"]}
        return [first, turnout]
    if len(form["options"]) == 1:
        first = _("One candidate: vote in favour or against. Elected with %(share)s of %(basis)s in favour.") % {
            "share": approval, "basis": basis}
    else:
        first = _("As many candidates as seats: vote in favour or against each. Each is elected with "
                  "%(share)s of %(basis)s in favour.") % {"share": approval, "basis": basis}
    return [first, turnout]


# -- the ballot: one question per contest of the household's building --------------------------
def questions(election: Election, building: str) -> list[dict[str, Any]]:
    forms = service.describe(election)["contests"]
    found = []
    for contest_id in election.contests_for(building):
        contest = forms[contest_id]
        form = contest["ballot"]
        names = {c["candidate_id"]: c for c in contest["candidates"]}
        question = {"contest_id": contest_id, "id": f"contest-{contest_id}", "title": contest["title"],
                    "kind": kind_name(contest["kind"]), "form": form["form"], "rules": rules_in_words(contest),
                    "building": contest["building"], "candidates": [names[k] for k in form["options"] if k in names],
                    "seats": form["max_choices"], "input": "radio"}
        if form["form"] == "choose" and form["max_choices"] > 1:
            question["input"] = "checkbox"
        found.append(question)
    return found


def read_answers(asked: list[dict[str, Any]], data: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The household's answers as the ballot's ``{contest_id: [choices]}``, and what to fix.

    Every item of the ballot is answered: a candidate, yes or no, or "abstain", which is a blank
    ballot for that item (it counts towards turnout, for no option). A single-candidate item is
    yes or no (a blank there would count as no)."""
    choices: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    for q in asked:
        cid = q["contest_id"]
        field = f"c-{cid}"
        candidates = [c["candidate_id"] for c in q["candidates"]]
        if q["form"] == "none":
            continue
        if q["form"] == "approve":
            answers = {k: one(data.get(f"{field}-{k}")) for k in candidates}
            if any(a not in (YES, NO) for a in answers.values()):
                errors[q["id"]] = says(_("Choose in favour or against in: %(title)s.") if len(candidates) == 1 else
                                       _("Choose in favour or against for every candidate in: %(title)s."), title=q["title"])
                continue
            choices[cid] = [k for k in candidates if answers[k] == YES]
            continue
        if q["input"] == "checkbox":
            picked = form_values(data.get(field))
            if any(p not in candidates for p in picked) or len(set(picked)) != len(picked):
                errors[q["id"]] = says(_("Choose candidates from the list in: %(title)s."), title=q["title"])
            elif len(picked) > q["seats"]:
                errors[q["id"]] = says(_("Choose no more than %(n)s candidates in: %(title)s."), n=q["seats"],
                                       title=q["title"])
            else:
                choices[cid] = [k for k in candidates if k in picked]  # in ballot order
            continue
        answer = one(data.get(field))
        allowed = [YES, NO] if q["form"] == "yes_no" else candidates
        if answer == ABSTAIN:
            choices[cid] = []
        elif answer in allowed:
            choices[cid] = [answer]
        elif q["form"] == "yes_no":
            errors[q["id"]] = says(_("Choose in favour, against or abstain in: %(title)s."), title=q["title"])
        else:
            errors[q["id"]] = says(_("Choose a candidate or abstain in: %(title)s."), title=q["title"])
    return choices, errors


def checked_from_choice(asked: list[dict[str, Any]], choice: dict[str, list[str]]) -> dict[str, Any]:
    """What the ballot form shows ticked for answers already given (a revote starts from them):
    ``{contest_id: [values]}``, or ``{contest_id: {candidate_id: "yes"|"no"}}`` for yes/no per
    candidate."""
    checked: dict[str, Any] = {}
    for q in asked:
        cid = q["contest_id"]
        if cid not in choice:
            continue
        if q["form"] == "approve":
            checked[cid] = {c["candidate_id"]: YES if c["candidate_id"] in choice[cid] else NO for c in q["candidates"]}
        elif q["input"] == "radio":
            checked[cid] = list(choice[cid]) or [ABSTAIN]
        else:
            checked[cid] = list(choice[cid])
    return checked


def checked_from_form(asked: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """What was ticked in a form sent back with errors, to show it again as it was."""
    checked: dict[str, Any] = {}
    for q in asked:
        field = f"c-{q['contest_id']}"
        if q["form"] == "approve":
            checked[q["contest_id"]] = {c["candidate_id"]: one(data.get(f"{field}-{c['candidate_id']}"))
                                        for c in q["candidates"]}
        else:
            checked[q["contest_id"]] = form_values(data.get(field))
    return checked


def answer_words(q: dict[str, Any], chosen: list[str] | None) -> list[str | Markup]:
    """What a household chose in one item, in words (for the review and the receipt)."""
    if chosen is None:
        return [_("Not voted")]
    names = {c["candidate_id"]: c["name"] for c in q["candidates"]}
    if q["form"] == "yes_no":
        return [_("In favour") if chosen == [YES] else _("Against") if chosen == [NO] else _("Abstain")]
    if q["form"] == "approve":
        return [says(_("%(name)s: in favour") if k in chosen else _("%(name)s: against"), name=names.get(k, k)) for k in names]
    if not chosen:
        return [_("Abstain")]
    return [said(names.get(k, k)) for k in chosen]


# -- results in words --------------------------------------------------------------------------
STATUS_WORDS = {"elected": N_("Elected"), "not_elected": N_("Not elected"), "no_candidate": N_("Not elected"),
                "adopted": N_("Adopted"), "not_adopted": N_("Not adopted")}


def comparison(label: str, part: int, whole: int, num: int, den: int, strict: bool) -> tuple[str, bool]:
    """``turnout 41% < 50%`` and whether the threshold is reached (exactly as ``rules.reaches``)."""
    share, needed = fraction(part, whole), Fraction(num, den)
    reached = rules.reaches(part, whole, num, den, strict)
    value, limit = pct(share, needed), pct(needed)
    if reached:
        sign = ">" if share > needed else "≥"
        return f"{label} {value} {sign} {limit}", True
    if share < needed:
        return f"{label} {value} < {limit}", False
    return _("%(label)s %(value)s, but more than %(limit)s is needed") % {"label": label, "value": value,
                                                                           "limit": limit}, False


def outcome(result: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A recorded result (``rules.Result``) in words: a headline such as ``Not elected: turnout
    41% < 50%`` and the lines behind it."""
    rule, status = result["rule"], result["status"]
    voted, households = result["voted"], result["households"]
    word = _(STATUS_WORDS.get(status, status))
    turnout, quorum = comparison(_("turnout"), voted, households, rule["turnout_num"], rule["turnout_den"],
                                 rule["turnout_strict"])
    lines = [_("%(voted)s of %(households)s households voted: turnout %(turnout)s, %(needed)s needed.") % {
        "voted": f"{voted:,}", "households": f"{households:,}", "turnout": pct(fraction(voted, households)),
        "needed": threshold_words(rule["turnout_num"], rule["turnout_den"], rule["turnout_strict"])}]
    whole = voted if rule["approval_basis"] == "voters" else households
    basis = _("of the households that voted") if rule["approval_basis"] == "voters" else _("of all households")
    elected = Markup(", ").join(said(names.get(c, c)) for c in result["elected"])
    headed = Markup("{}: {}").format
    counts = result["counts"]
    if status == "no_candidate":
        reason = _("no candidate registered")
        return {"status": status, "headline": headed(word, reason), "lines": []}
    if not result["quorum_met"]:
        return {"status": status, "headline": headed(word, turnout), "lines": lines}
    if result["kind"] == "agenda":
        yes, _reached = comparison(_("in favour"), counts["yes"], whole, rule["approval_num"], rule["approval_den"], True)
        lines.append(_("%(comparison)s %(basis)s: %(yes)s in favour, %(no)s against, %(blank)s abstained.") % {
            "comparison": yes, "basis": basis, "yes": f"{counts['yes']:,}", "no": f"{counts['no']:,}",
            "blank": f"{result['blank']:,}"})
        return {"status": status, "headline": headed(word, yes), "lines": lines}
    seats = rule["seats"]
    candidates = list(counts)
    if len(candidates) > seats:  # most votes win
        for c in candidates:
            lines.append(says(_("%(name)s: %(votes)s votes"), name=names.get(c, c), votes=f"{counts[c]:,}"))
        if result.get("tie"):
            lines.append(_("A tie at %(votes)s votes was broken by the public lottery.") % {
                "votes": result["tie"]["votes"]})
        if status != "elected":
            reason = _("no candidate received a vote")
            return {"status": status, "headline": headed(word, reason), "lines": lines}
        headline = Markup("{}: {} ({})").format(word, elected, _("most votes"))
    else:  # each candidate approved or not
        shares = []
        for c in candidates:
            text, _reached = comparison(_("in favour"), counts[c], whole, rule["approval_num"], rule["approval_den"], True)
            shares.append(text)
            lines.append(says(_("%(name)s: %(comparison)s %(basis)s (%(votes)s in favour)"), name=names.get(c, c),
                              comparison=text, basis=basis, votes=f"{counts[c]:,}"))
        if status != "elected":
            headline = headed(word, shares[0]) if len(candidates) == 1 else escape(word)
        else:
            headline = Markup("{}: {} ({})").format(word, elected, shares[0]) if len(candidates) == 1 \
                else headed(word, elected)
    vacant = seats - len(result["elected"])
    if status == "elected" and vacant:
        lines.append(_("Seats left vacant: %(n)s") % {"n": vacant})
    return {"status": status, "headline": headline, "lines": lines}


def contest_names(election: Election) -> dict[str, str]:
    return {k: v["name"] for c in election.contests.values() for k, v in c["candidates"].items()}


def vote_rows(result: dict[str, Any], names: dict[str, str]) -> list[tuple[str | Markup, int]]:
    """The votes of a recorded result as (what, how many) rows: yes, no and abstained for a
    decision; each candidate and abstained where the most votes win; each candidate's yes and no
    where candidates are approved one by one (a ballot that does not choose one is a no)."""
    counts = result["counts"]
    if result["kind"] == "agenda":
        return [(_("In favour"), counts[YES]), (_("Against"), counts[NO]), (_("Abstained"), result["blank"])]
    if len(counts) > result["rule"]["seats"]:
        return [(said(names.get(c, c)), n) for c, n in counts.items()] + [(_("Abstained"), result["blank"])]
    rows = []
    for c, n in counts.items():
        rows += [(says(_("%(name)s: in favour"), name=names.get(c, c)), n),
                 (says(_("%(name)s: against"), name=names.get(c, c)), result["voted"] - n)]
    return rows


# the rule sources of the Art. 11 defaults (``rules.default_rules``), shown in the reader's language
RULE_SOURCES = (N_("Multi-Family Housing Management Act Enforcement Decree Art. 11(1): building representative"),
                N_("Multi-Family Housing Management Act Enforcement Decree Art. 11(2): chair elected directly"),
                N_("Multi-Family Housing Management Act Enforcement Decree Art. 11(2): auditors elected directly"),
                N_("agenda decision: majority of all households"))


def rule_source(source: str) -> str:
    """A rule's source in the reader's language when it is one of the defaults; as the election
    committee wrote it otherwise."""
    return _(source) if source in RULE_SOURCES else source


def sign_in_problem(exc: Exception) -> str:
    """Why a sign-in was refused, in the resident's words; never says whether the household is on
    the roll."""
    detail = str(getattr(exc, "detail", exc))
    if isinstance(exc, TooManyAttempts) and "locked" in detail:
        return _("This code was entered wrongly 5 times and is now locked. Ask your management office for a "
                 "new code.")
    if isinstance(exc, TooManyAttempts):
        return _("Too many wrong codes from this phone. Try again in an hour.")
    if isinstance(exc, RuleViolation) and "already issued" in detail:
        return _("This household's code was already used to start voting, on another phone or browser. "
                 "Continue there, or ask your management office for help.")
    if isinstance(exc, RuleViolation):
        return _("Voting is not open.")
    return _("The household or the code is not right. Check the text message and try again.")


class ApartmentPages(Controller):
    path = "/apartment"
    include_in_schema = False

    # -- the election ----------------------------------------------------------------------------
    @get("/{election_id:uuid}", sync_to_thread=True)
    def election_page(self, election_id: FromPath[UUID], engine: EngineDep) -> Template:
        election = find_election(engine, election_id)
        contests = []
        for contest in service.describe(election)["contests"].values():
            contests.append({**contest, "kind_name": kind_name(contest["kind"]), "rules_words": rules_in_words(contest),
                             "who": constituency_words(contest["building"])})
        return page("election.html", context={
            "title": election.title, "election": election, "complex_name": complex_name(engine, election),
            "phase": phase(election), "contests": contests})

    # -- sign in ---------------------------------------------------------------------------------
    @get("/{election_id:uuid}/vote", sync_to_thread=True)
    def sign_in_page(self, election_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        election = find_election(engine, election_id)
        state = voter_state(request, election.id)
        if voting_now(election) and state.get("credential"):
            return self._signed_in(engine, election, state)
        return self._sign_in(engine, election, {}, {})

    def _signed_in(self, engine: Any, election: Election, state: dict[str, Any], status: int = 200) -> Template:
        """A household is signed in on this browser already: it goes on, or, once it has voted,
        another household may sign in here (before it has voted, its code is spent and its
        credential lives only here, so nothing may replace it)."""
        return page("signed_in.html", status=status, context={
            "title": _("Household %(household)s is signed in") % {"household": state.get("household", "")},
            "election": election, "complex_name": complex_name(engine, election),
            "household": state.get("household", ""), "voted": bool(state.get("receipt"))})

    def _sign_in(self, engine: Any, election: Election, form: dict[str, Any], errors: dict[str, str],
                 status: int = 200) -> Template:
        return page("sign_in.html", status=status, context={
            "title": _("Confirm your household"), "election": election, "complex_name": complex_name(engine, election),
            "phase": phase(election), "form": form, "errors": errors})

    @post("/{election_id:uuid}/vote", guards=[requires(VOTE)], middleware=[sign_in_rate_limit()], sync_to_thread=True)
    def sign_in(self, election_id: FromPath[UUID], data: Form, request: Request, engine: EngineDep) -> Template | Redirect:
        election = find_election(engine, election_id)
        state = voter_state(request, election.id)
        if state.get("credential") and not state.get("receipt") and voting_now(election):
            return self._signed_in(engine, election, state, 409)  # an unvoted credential is never dropped
        typed, code = str(data.get("household", "")).strip(), str(data.get("code", "")).strip()
        form = {"household": typed}  # the code is never shown back
        errors = {}
        if not typed:
            errors["household"] = _("Enter your household: building and unit, for example 101-1203.")
        if not code:
            errors["code"] = _("Enter the voting code from the text message.")
        if errors:
            return self._sign_in(engine, election, form, errors, 400)
        household = household_number(typed)
        client = f"{client_address(request)}/{browser_id(request)}"
        try:
            session = service.authenticate(engine, election.id, household, code, client)
        except (Unauthorized, TooManyAttempts, RuleViolation) as exc:
            return self._sign_in(engine, election, form, {"code": sign_in_problem(exc)}, 400)
        save_voter_state(request, election.id, {"credential": session["credential"], "building": session["building"],
                                                "household": household})
        return Redirect(path=f"/apartment/{election.id}/ballot", status_code=303)

    @post("/{election_id:uuid}/sign-out", guards=[requires(VOTE)], sync_to_thread=True)
    def sign_out(self, election_id: FromPath[UUID], request: Request, engine: EngineDep) -> Redirect:
        """Let another household sign in on this browser, once this one has voted (its ballot is
        safe; it can no longer change it here). Before it has voted nothing is forgotten."""
        election = find_election(engine, election_id)
        state = voter_state(request, election.id)
        if state.get("receipt") or not voting_now(election):
            save_voter_state(request, election.id, {})
        return Redirect(path=f"/apartment/{election.id}/vote", status_code=303)

    # -- the ballot, review, cast ----------------------------------------------------------------
    def _voter(self, request: Request, engine: Any, election_id: UUID) -> tuple[Election, dict[str, Any]] | Redirect:
        election = find_election(engine, election_id)
        state = voter_state(request, election.id)
        if not voting_now(election) or not state.get("credential"):
            return Redirect(path=f"/apartment/{election.id}/vote", status_code=303)
        return election, state

    @get("/{election_id:uuid}/ballot", sync_to_thread=True)
    def ballot_page(self, election_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, election_id)
        if isinstance(found, Redirect):
            return found
        election, state = found
        asked = questions(election, state["building"])
        return self._ballot(engine, election, state, checked_from_choice(asked, state.get("choice", {})), {})

    def _ballot(self, engine: Any, election: Election, state: dict[str, Any], checked: dict[str, Any],
                errors: dict[str, str], status: int = 200) -> Template:
        return page("ballot.html", status=status, context={
            "title": _("Your ballot"), "election": election, "complex_name": complex_name(engine, election),
            "household": state.get("household", ""), "questions": questions(election, state["building"]),
            "checked": checked, "errors": errors, "revoting": bool(state.get("receipt")),
            "YES": YES, "NO": NO, "ABSTAIN": ABSTAIN})

    @post("/{election_id:uuid}/ballot", guards=[requires(VOTE)], sync_to_thread=True)
    def answer(self, election_id: FromPath[UUID], data: Form, request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, election_id)
        if isinstance(found, Redirect):
            return found
        election, state = found
        asked = questions(election, state["building"])
        choices, errors = read_answers(asked, data)
        if not errors and not choices:
            errors[asked[0]["id"] if asked else "ballot"] = _("There is nothing to vote on in this election for "
                                                               "your building.")
        if not errors:
            try:
                service.ballot_validator(election)(choices, state["building"])
            except InvalidInput:
                errors[asked[0]["id"]] = _("Check your answers: one of them is not on this ballot.")
        if errors:
            return self._ballot(engine, election, state, checked_from_form(asked, data), errors, 400)
        save_voter_state(request, election.id, {**state, "choice": choices})
        return Redirect(path=f"/apartment/{election.id}/review", status_code=303)

    @get("/{election_id:uuid}/review", sync_to_thread=True)
    def review(self, election_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, election_id)
        if isinstance(found, Redirect):
            return found
        election, state = found
        if not state.get("choice"):
            return Redirect(path=f"/apartment/{election.id}/ballot", status_code=303)
        asked = questions(election, state["building"])
        rows = [{"title": q["title"], "answer": answer_words(q, state["choice"].get(q["contest_id"]))}
                for q in asked if q["form"] != "none"]
        return page("review.html", context={
            "title": _("Check your answers"), "election": election, "rows": rows,
            "household": state.get("household", ""), "revoting": bool(state.get("receipt"))})

    @post("/{election_id:uuid}/cast", guards=[requires(VOTE)], sync_to_thread=True)
    def cast(self, election_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        found = self._voter(request, engine, election_id)
        if isinstance(found, Redirect):
            return found
        election, state = found
        if not state.get("choice"):
            return Redirect(path=f"/apartment/{election.id}/ballot", status_code=303)
        try:
            receipt = service.cast(engine, election.id, state["credential"], state["choice"])
        except InvalidInput:
            asked = questions(election, state["building"])
            return self._ballot(engine, election, state, checked_from_choice(asked, state["choice"]), {
                asked[0]["id"] if asked else "ballot": _("Check your answers: one of them is not on this ballot.")}, 400)
        except RuleViolation:
            return Template(template_name="error.html", status_code=409, context={
                "title": _("Your ballot was not recorded"),
                "detail": _("Voting has closed, or this election counts only your first ballot and it was already "
                            "cast. Your earlier ballot, if any, is safe.")})
        save_voter_state(request, election.id, {**state, "receipt": receipt["tracking_code"]})
        return Redirect(path=f"/apartment/{election.id}/done", status_code=303)

    @get("/{election_id:uuid}/done", sync_to_thread=True)
    def done(self, election_id: FromPath[UUID], request: Request, engine: EngineDep) -> Template | Redirect:
        election = find_election(engine, election_id)
        state = voter_state(request, election.id)
        if not state.get("receipt"):
            return Redirect(path=f"/apartment/{election.id}/vote", status_code=303)
        revote = service.kit(engine).box(election.id).allow_revote
        return page("done.html", context={
            "title": _("Your vote is recorded"), "election": election, "code": state["receipt"],
            "household": state.get("household", ""),
            "can_change": revote and voting_now(election), "first_counts": not revote})

    # -- after voting: receipts, results, certificates -------------------------------------------
    @get("/{election_id:uuid}/receipt", sync_to_thread=True)
    def receipt(self, election_id: FromPath[UUID], engine: EngineDep, code: FromQuery[str | None] = None) -> Template:
        election = find_election(engine, election_id)
        found, missing, rows = None, False, []
        if code:
            try:
                found = service.track(engine, election.id, code)
            except NotFound:
                missing = True
        if found and found["content"]:
            for q in questions(election, found["building"]):
                if q["contest_id"] in found["content"]:
                    rows.append({"title": q["title"], "answer": answer_words(q, found["content"][q["contest_id"]])})
        return page("receipt.html", context={
            "title": _("Check your ballot with its tracking code"), "election": election, "code": code or "",
            "found": found, "missing": missing, "rows": rows})

    @get("/{election_id:uuid}/receipt.svg", sync_to_thread=True)
    def receipt_qr(self, election_id: FromPath[UUID], code: FromQuery[str], engine: EngineDep) -> Response[bytes]:
        """The receipt page's address as a QR code, to check the ballot from another device."""
        election = find_election(engine, election_id)
        qr = segno.make(receipt_url(engine, election.id, code), error="m")
        out = io.BytesIO()
        qr.save(out, kind="svg", scale=5, dark="#0b0c0c", light="#ffffff", border=2, xmldecl=False)
        return Response(out.getvalue(), media_type="image/svg+xml")

    @get("/{election_id:uuid}/results", sync_to_thread=True)
    def results(self, election_id: FromPath[UUID], engine: EngineDep) -> Template:
        election = find_election(engine, election_id)
        names = contest_names(election)
        rows = []
        for contest_id, result in election.results.items():
            rows.append({"contest_id": contest_id, "result": result, "kind_name": kind_name(result["kind"]),
                         "who": constituency_words(result["building"]), "outcome": outcome(result, names),
                         "votes": vote_rows(result, names)})
        return page("results.html", context={
            "title": _("Results: %(title)s") % {"title": election.title}, "election": election,
            "complex_name": complex_name(engine, election), "phase": phase(election), "rows": rows})

    @get("/{election_id:uuid}/contests/{contest_id:str}/certificate", sync_to_thread=True)
    def certificate(self, election_id: FromPath[UUID], contest_id: FromPath[str], engine: EngineDep) -> Template:
        election = find_election(engine, election_id)
        if contest_id not in election.contests:
            raise NotFound(N_("There is no such item in this election."))
        if contest_id not in election.results:
            raise RuleViolation(N_("The certificate is issued once voting has closed and the result is recorded."),
                                title=N_("No result yet"))
        signed = certificates.certificate(engine, str(election.id), contest_id)
        doc = signed["certificate"]
        result = doc["result"]
        names = contest_names(election)
        signature = signed["signature"]
        return page("certificate.html", context={
            "title": _("Result certificate: %(title)s") % {"title": result["title"]}, "election": election,
            "complex_name": complex_name(engine, election), "doc": doc, "result": result,
            "outcome": outcome(result, names), "kind_name": kind_name(result["kind"]), "names": names,
            "who": constituency_words(result["building"]),
            "votes": vote_rows(result, names), "rule_source": rule_source(result["rule"]["source"]),
            "buildings": [(b, r["voted"], r["households"], pct(fraction(r["voted"], r["households"])))
                          for b, r in result["by_building"].items()],
            "turnout_needed": threshold_words(result["rule"]["turnout_num"], result["rule"]["turnout_den"],
                                              result["rule"]["turnout_strict"]),
            "checkpoint": (doc.get("ledger") or {}).get("checkpoint"), "ledger": doc.get("ledger"),
            "signature_format": signature["format"],
            "signature_text": signature.get("signature") or signature.get("value"),
            "key_text": signature.get("verifier_key") or signature.get("public_key"),
            "api": f"/api/apartment/elections/{election.id}/contests/{contest_id}/certificate"})


def receipt_url(engine: Any, election_id: UUID, code: str) -> str:
    return f"{engine.public_url}/apartment/{election_id}/receipt?code={code}"


@get(f"{service.SHORT_LINK}{{short_code:str}}", sync_to_thread=True, include_in_schema=False)
def short_link(short_code: FromPath[str], engine: EngineDep) -> Redirect:
    """The link in the text message: straight to signing in (the code after '#' stays in the
    browser and fills the form)."""
    try:
        election = service.find_by_short_code(engine, short_code)
    except NotFound:
        raise NotFound(NO_ELECTION) from None
    return Redirect(path=f"/apartment/{election.id}/vote", status_code=303)


short_links = Router(path="/", route_handlers=[short_link], include_in_schema=False)
