"""``civic budget ...`` commands. Each imports the services (the store, the voting kit) when it
runs: ``tally --pb``, which needs none of them, starts fast."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core import CivicError, authorized, db_option, echo_json, json_option, open_engine
from plugins.budget_vote import pabulib, rules


class BadFile(click.ClickException):
    """A file that is not a readable Pabulib file: bad input, exit code 2 (as for `civic audit verify`)."""

    exit_code = 2


@click.group("budget")
def budget() -> None:
    """Participatory budget (주민참여예산): cycles, ballots, winners, Pabulib files."""


@budget.command("list")
@db_option
@json_option
def list_cycles(db: str, as_json: bool) -> None:
    """List budget cycles."""
    from plugins.budget_vote import pabulib_exchange
    from plugins.budget_vote.views import cycle_summaries
    with open_engine(db) as engine:
        cycles = cycle_summaries(engine)
        if as_json:
            echo_json(cycles)
            return
        for cid, c in cycles.items():
            budget = pabulib_exchange.json_amount(pabulib_exchange.amount_of(c["budget"], c["amount_decimals"]))
            click.echo(f"{cid}  {c['phase']:<10} {_amount(budget, c['currency'] or ''):>19}  {c['on_ballot']:>3} on the ballot "
                       f"of {c['proposals']:>3} proposals  {c['name']}")


def read_pb_file(file: Path) -> pabulib.PbElection:
    """A Pabulib file read and checked; a bad one (empty, binary, not UTF-8, cut short,
    malformed) is a usage error: its message and exit code 2, never a traceback."""
    try:
        return pabulib.read(file.read_bytes())
    except CivicError as exc:
        raise BadFile(f"{file}: {exc.detail}") from None
    except OSError as exc:
        raise BadFile(f"cannot read {file}: {exc.strerror}") from None


def _amount(value: int | str, currency: str | None) -> str:
    text = f"{value:,}" if isinstance(value, int) else str(value)
    unit = "won" if currency == "KRW" else currency  # civic's own cycles speak of won
    return f"{text} {unit}" if unit else text


@budget.command("import-pb")
@authorized("budget.manage")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Cycle name (default: the file's instance name).")
@click.option("--rule", type=click.Choice(rules.RULE_NAMES), help="Winner rule (default: the file's rule).")
@json_option
def import_pb(engine, actor, file: Path, name: str | None, rule: str | None, as_json: bool) -> None:
    """Import a Pabulib FILE (approval, choose-1, cumulative, scoring or ordinal) as a closed
    cycle with its result computed (embargoed). Its ballots are counted as pabutools counts them."""
    from plugins.budget_vote import pabulib_exchange
    from plugins.budget_vote.views import result_view
    election = read_pb_file(file)
    try:
        pabulib_exchange.import_settings(election)  # a file that cannot become a cycle is a bad FILE
    except CivicError as exc:
        raise BadFile(f"{file}: {exc.detail}") from None
    cycle = pabulib_exchange.import_election(engine, election, name=name, by=actor.id,
                                             rule={"name": rule} if rule else None)
    view = result_view(cycle)
    if as_json:
        echo_json(view)
    else:
        funded = pabulib_exchange.amount_of(view["funded_total"], cycle.amount_decimals)
        click.echo(f"imported {cycle.name} as {cycle.id}: {view['inputs']['ballots_counted']} ballots, "
                   f"winners {', '.join(view['winners'])} "
                   f"({_amount(pabulib_exchange.json_amount(funded), cycle.currency)}); awaiting validation")


@budget.command("export-pb")
@authorized("budget.view_embargoed")
@click.argument("cycle")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
def export_pb(engine, actor, cycle: str, output: Path | None) -> None:
    """Export the counted ballots of CYCLE (id or name) as a Pabulib file (once voting has closed)."""
    from plugins.budget_vote import pabulib_exchange, service
    text = pabulib_exchange.export_pb(engine, service.find_cycle(engine, cycle).id)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@budget.command("tally")
@click.option("--pb", "pb_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A Pabulib file (approval, choose-1, cumulative, scoring or ordinal).")
@click.option("--rule", type=click.Choice(rules.RULE_NAMES), default="greedy", show_default=True)
@click.option("--satisfaction", type=click.Choice(rules.SATISFACTIONS), default="cost", show_default=True)
@click.option("--completion", type=click.Choice(rules.COMPLETIONS), default="add1-greedy", show_default=True,
              help="Completion after equal shares.")
@json_option
def tally_pb(pb_file: Path, rule: str, satisfaction: str, completion: str, as_json: bool) -> None:
    """Compute the winners of a Pabulib file directly (nothing is stored)."""
    from plugins.budget_vote import pabulib_exchange
    election = read_pb_file(pb_file)
    try:
        result = pabulib_exchange.tally_election(election, rules.WinnerRule(rule, satisfaction, completion))
    except CivicError as exc:
        raise click.ClickException(f"{exc.title}: {exc.detail}") from None
    if as_json:
        echo_json(result)
        return
    click.echo(f"{result['instance']}: {result['voters']} voters ({result['vote_type']}), "
               f"budget {_amount(result['budget'], result['currency'])}")
    click.echo(f"winners ({rule}): {', '.join(result['winners'])}; "
               f"funded {_amount(result['funded_total'], result['currency'])}")
    if result.get("below_threshold"):
        click.echo(f"below the file's min_project_score_threshold ({result['min_project_score_threshold']}): "
                   f"{', '.join(result['below_threshold'])}")


@budget.command("results")
@db_option
@click.argument("cycle")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def results(db: str, cycle: str, fmt: str) -> None:
    """Open data: the published result of CYCLE as JSON or CSV."""
    from plugins.budget_vote import service
    from plugins.budget_vote.views import open_data_csv, public_result
    with open_engine(db) as engine:
        c = service.find_cycle(engine, cycle)
        if fmt == "csv":
            click.echo(open_data_csv(c), nl=False)
        else:
            click.echo(json.dumps(public_result(c), ensure_ascii=False, indent=2))


@budget.command("withdraw")
@authorized("budget.manage")
@click.argument("cycle")
@click.argument("project")
@click.option("--reason", required=True, help="Why it is withdrawn (kept in the log).")
def withdraw(engine, actor, cycle: str, project: str, reason: str) -> None:
    """Withdraw PROJECT's proposal from CYCLE before voting."""
    from plugins.budget_vote import service
    c = service.withdraw_proposal(engine, service.find_cycle(engine, cycle).id, project, reason=reason, by=actor.id)
    click.echo(f"{c.name}: proposal {project} withdrawn; {len(c.ballot_costs)} project(s) on the ballot so far")


@budget.command("advance")
@authorized("budget.manage")
@click.argument("cycle")
@click.argument("to", type=click.Choice(["screening", "voting", "tallying"]))
def advance(engine, actor, cycle: str, to: str) -> None:
    """Move CYCLE to its next phase."""
    from plugins.budget_vote import service
    c = service.advance(engine, service.find_cycle(engine, cycle).id, to, by=actor.id)
    click.echo(f"{c.name}: {c.phase}")


@budget.command("compute")
@authorized("budget.tally")
@click.argument("cycle")
@json_option
def compute(engine, actor, cycle: str, as_json: bool) -> None:
    """Compute and record the result of a closed CYCLE (embargoed until validated)."""
    from plugins.budget_vote import service
    from plugins.budget_vote.views import result_view
    c = service.find_cycle(engine, cycle)
    service.tally(engine, c.id, by=actor.id)
    view = result_view(service.get_cycle(engine, c.id))
    if as_json:
        echo_json(view)
    else:
        click.echo(f"{view['name']}: winners {', '.join(view['winners'])} ({view['funded_total']:,} won); "
                   "embargoed until validated")


@budget.command("validate")
@authorized("budget.validate")
@click.argument("cycle")
def validate(engine, actor, cycle: str) -> None:
    """Validate the computed result of CYCLE: it is published."""
    from plugins.budget_vote import service
    c = service.validate(engine, service.find_cycle(engine, cycle).id, by=actor.id)
    click.echo(f"{c.name}: published; winners {', '.join(c.winners)}")


@budget.command("roll")
@authorized("budget.manage")
@click.argument("cycle")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_roll(engine, actor, cycle: str, file: Path) -> None:
    """Add residents from a CSV FILE (entry_id, contact, optional group) to CYCLE's voter roll."""
    from plugins.budget_vote import service
    result = service.import_roll(engine, service.find_cycle(engine, cycle).id, file.read_bytes())
    click.echo(f"{result['added']} added; {result['total']} on the roll")


@budget.command("codes")
@authorized("budget.manage")
@click.argument("cycle")
def send_codes(engine, actor, cycle: str) -> None:
    """Send a voting code by text message to every resident of CYCLE's roll who has none."""
    from plugins.budget_vote import service
    sent = service.issue_codes(engine, service.find_cycle(engine, cycle).id)
    click.echo(f"{sent} voting code(s) sent")
