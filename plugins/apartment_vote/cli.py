"""``civic apartment ...``: apartment elections from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from core import authorized, db_option, echo_json, json_option, open_engine
from plugins.apartment_vote import certificate as certificates
from plugins.apartment_vote import service, views
from plugins.apartment_vote.permissions import ADMIN, VOTE


def _out(value: Any, as_json: bool, text: str | None = None) -> None:
    if as_json or text is None:
        echo_json(value)
    else:
        click.echo(text)


@click.group("apartment")
def apartment() -> None:
    """Apartment elections and decisions (K-voting, Enforcement Decree Art. 11)."""


@apartment.command("complex-add")
@authorized(ADMIN)
@json_option
@click.argument("code")
@click.argument("name")
def complex_add(engine: Any, actor: Any, as_json: bool, code: str, name: str) -> None:
    """Register a complex by its CODE."""
    summary = service.register_complex(engine, code, name)
    _out(summary, as_json, f"complex {summary['code']} registered: {summary['name']}")


@apartment.command("roll-import")
@authorized(ADMIN)
@json_option
@click.argument("code")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace the whole roll instead of adding to it.")
def roll_import(engine: Any, actor: Any, as_json: bool, code: str, csv_file: Path, replace: bool) -> None:
    """Import households from CSV_FILE (columns household,building,contact)."""
    summary = service.import_roll(engine, code, csv_file.read_bytes(), replace=replace)
    _out(summary, as_json, f"{summary['imported']} households imported; the roll holds {summary['households']} "
                           f"households in {len(summary['buildings'])} buildings")


@apartment.command("complex-show")
@db_option
@click.argument("code")
def complex_show(db: str, code: str) -> None:
    """Show a complex's buildings and roll size."""
    with open_engine(db) as engine:
        echo_json(service.complex_summary(service.get_complex(engine, code)))


@apartment.command("election-add")
@authorized(ADMIN)
@json_option
@click.argument("code")
@click.option("--title", required=True)
@click.option("--opens", "opens_at", required=True, help="ISO time with zone, e.g. 2016-06-01T09:00+09:00")
@click.option("--closes", "closes_at", required=True)
@click.option("--registration-deadline", required=True)
def election_add(engine: Any, actor: Any, as_json: bool, code: str, title: str, opens_at: str, closes_at: str,
                 registration_deadline: str) -> None:
    """Schedule an election for complex CODE."""
    election = service.schedule_election(engine, code, title, opens_at, closes_at, registration_deadline)
    _out(election, as_json, election["id"])


@apartment.command("contest-add")
@authorized(ADMIN)
@json_option
@click.argument("election_id")
@click.argument("kind", type=click.Choice(["building_representative", "chair", "auditor", "agenda"]))
@click.argument("title")
@click.option("--building", default=None, help="The constituency of a building representative.")
@click.option("--seats", type=int, default=None, help="Auditor seats (default 2).")
def contest_add(engine: Any, actor: Any, as_json: bool, election_id: str, kind: str, title: str, building: str | None,
                seats: int | None) -> None:
    """Add a contest to an election (Art. 11 rules by default)."""
    contest = service.add_contest(engine, election_id, kind, title, building, seats)
    _out(contest, as_json, contest["contest_id"])


def _setting(value: str) -> tuple[str, Any]:
    name, sep, raw = value.partition("=")
    if not sep:
        raise click.BadParameter(f"{value!r}: use name=value, e.g. turnout_num=1")
    try:
        return name.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return name.strip(), raw


@apartment.command("rules-set")
@authorized(ADMIN)
@json_option
@click.argument("election_id")
@click.argument("contest_id")
@click.argument("settings", nargs=-1, required=True)
@click.option("--note", required=True, help="Why (e.g. the bylaw article).")
def rules_set(engine: Any, actor: Any, as_json: bool, election_id: str, contest_id: str, settings: tuple[str, ...], note: str) -> None:
    """Change a contest's rules before voting opens: SETTINGS as name=value
    (turnout_num, turnout_den, turnout_strict, approval_num, approval_den, approval_basis, seats)."""
    changes = dict(_setting(s) for s in settings)
    _out(service.change_rules(engine, election_id, contest_id, changes, note, by=actor.id), as_json)


@apartment.command("candidate-add")
@authorized(ADMIN)
@json_option
@click.argument("election_id")
@click.argument("contest_id")
@click.argument("name")
@click.option("--statement", default="")
@click.option("--household", default=None, help="The candidate's household, as on the complex's roll (checked).")
def candidate_add(engine: Any, actor: Any, as_json: bool, election_id: str, contest_id: str, name: str, statement: str,
                  household: str | None) -> None:
    """Register a candidate in a contest (until the registration deadline)."""
    candidate = service.register_candidate(engine, election_id, contest_id, name, statement, household)
    _out(candidate, as_json, candidate["candidate_id"])


@apartment.command("open")
@authorized(ADMIN)
@click.argument("election_id")
def open_cmd(engine: Any, actor: Any, election_id: str) -> None:
    """Open voting (from the opening time): freezes the roll."""
    election = service.open_election(engine, election_id)
    click.echo(f"voting open for {election['title']}: {election['households']} households")


@apartment.command("codes")
@authorized(ADMIN)
@click.argument("election_id")
@click.option("--household", "households", multiple=True, help="Only these households (repeatable).")
@click.option("--reissue", is_flag=True, help="Replace a lost or locked code.")
def codes(engine: Any, actor: Any, election_id: str, households: tuple[str, ...], reissue: bool) -> None:
    """Send one-time voting codes through the notification hook."""
    sent = service.issue_codes(engine, election_id, list(households) or None, reissue)
    click.echo(f"{sent['codes_sent']} code(s) sent")


@apartment.command("vote")
@authorized(VOTE)
@json_option
@click.argument("election_id")
@click.option("--household", help="The household voting for the first time (with --code).")
@click.option("--code", help="The one-time code the household received.")
@click.option("--credential", help="The ballot credential from a first vote, to vote again.")
@click.option("--choice", "choices", multiple=True,
              help="contest=option[,option...]; an empty option list is a blank ballot (repeatable).")
def vote(engine: Any, actor: Any, as_json: bool, election_id: str, household: str | None, code: str | None,
         credential: str | None, choices: tuple[str, ...]) -> None:
    """Vote as a household: authenticate with its code (once) and cast the ballot; vote again
    with --credential (the new ballot replaces the whole earlier one)."""
    ballot: dict[str, list[str]] = {}
    for item in choices:
        contest, sep, options = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use contest=option[,option...]")
        ballot[contest.strip()] = [o.strip() for o in options.split(",") if o.strip()]
    if not ballot:
        raise click.UsageError("Give at least one --choice contest=option.")
    if credential is None:
        if not (household and code):
            raise click.UsageError("Give --household and --code, or --credential.")
        # check the ballot before the code is spent: a credential is issued once
        service.check_ballot_for(engine, election_id, household, ballot)
        credential = service.authenticate(engine, election_id, household, code, client="cli")["credential"]
    receipt = service.cast(engine, election_id, credential, ballot)
    receipt["credential"] = credential
    _out(receipt, as_json, f"ballot cast; tracking code {receipt['tracking_code']}\n"
                           f"to vote again: --credential {credential}")


@apartment.command("receipt")
@db_option
@click.argument("election_id")
@click.argument("tracking_code")
def receipt(db: str, election_id: str, tracking_code: str) -> None:
    """What became of a ballot, by its tracking code."""
    with open_engine(db) as engine:
        echo_json(service.track(engine, election_id, tracking_code))


@apartment.command("close")
@authorized(ADMIN)
@json_option
@click.argument("election_id")
def close(engine: Any, actor: Any, as_json: bool, election_id: str) -> None:
    """Close voting (from the closing time) and record the results."""
    outcome = service.close_election(engine, election_id)
    _out(outcome, as_json, _results_text(outcome))


@apartment.command("results")
@db_option
@json_option
@click.argument("election_id")
def results(db: str, as_json: bool, election_id: str) -> None:
    """Show an election's results."""
    with open_engine(db) as engine:
        outcome = service.results(engine, election_id)
        _out(outcome, as_json, _results_text(outcome))


@apartment.command("list")
@db_option
def list_cmd(db: str) -> None:
    """List elections."""
    with open_engine(db) as engine:
        for eid, e in views.election_list(engine).items():
            click.echo(f"{eid}  {e['status']:<6}  {e['complex']}  {e['title']}  ({len(e['contests'])} contests)")


@apartment.command("certificate")
@db_option
@click.argument("election_id")
@click.argument("contest_id")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the printable page here.")
def certificate(db: str, election_id: str, contest_id: str, html_file: Path | None) -> None:
    """Print the signed result certificate of a contest (JSON)."""
    with open_engine(db) as engine:
        signed = certificates.certificate(engine, election_id, contest_id)
        if html_file is not None:
            html_file.write_text(certificates.render_html(signed, certificates.candidate_names(engine, election_id)),
                                 encoding="utf-8")
        echo_json(signed)


def _results_text(outcome: dict[str, Any]) -> str:
    if not outcome.get("results"):
        return f"{outcome['title']}: {outcome['status']}; {outcome.get('note', '')}"
    lines = [f"{outcome['title']} ({outcome['complex']}): {outcome['status']}"]
    for cid, r in outcome["results"].items():
        lines.append(f"  {cid} {r['title']}: {r['reason']}")
    return "\n".join(lines)
