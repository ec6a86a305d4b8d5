"""``civic complaints ...`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core import authorized, db_option, echo_json, json_option, open_engine, utc_now
from plugins.complaints import reports, rules, service


@click.group("complaints")
def complaints() -> None:
    """Field complaints (응답소 현장민원): intake, handling, reports."""


@complaints.command("taxonomy")
@db_option
@json_option
def show_taxonomy(db: str, as_json: bool) -> None:
    """Fields, item types with their department and deadline, and routes."""
    with open_engine(db) as engine:
        tax = service.taxonomy(engine)
        if as_json:
            echo_json(tax)
            return
        for code, item in tax["items"].items():
            state = "" if item["active"] else " (retired)"
            click.echo(f"{item['field']:<14} {code:<20} {item['name_ko']:<16} {item['department']:<14} "
                       f"{item['sla_hours']:>4} h{state}")


@complaints.command("change-taxonomy")
@authorized("complaints.configure")
@click.argument("change", type=click.Choice(["FieldDefined", "DepartmentDefined", "ItemDefined", "ItemChanged",
                                             "ItemRetired", "ItemRestored", "RouteSet", "RouteCleared"]))
@click.argument("data")
def change_taxonomy(engine, actor, change: str, data: str) -> None:
    """Record a taxonomy change, e.g. ItemChanged '{"code": "pothole", "changes": {"sla_hours": 12}}'."""
    try:
        values = json.loads(data)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"DATA is not JSON: {exc}") from None
    if not isinstance(values, dict):
        raise click.BadParameter("DATA is a JSON object.")
    service.change_taxonomy(engine, change, by=actor.id, **values)
    click.echo(f"complaints: taxonomy {change} recorded")


@complaints.command("intake")
@authorized("complaints.intake")
@click.option("--channel", type=click.Choice(rules.CHANNELS), default="call_centre", show_default=True)
@click.option("--item", required=True, help="Item type code (see `civic complaints taxonomy`).")
@click.option("--dong", required=True)
@click.option("--description", required=True)
@click.option("--address")
@click.option("--lat", type=float)
@click.option("--long", "long_", type=float)
@click.option("--name", "reporter_name", help="Reporter's name (sealed as personal data).")
@click.option("--phone", "reporter_phone", help="Reporter's phone, for the result text.")
@click.option("--photo", "photos", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def intake(engine, actor, channel, item, dong, description, address, lat, long_, reporter_name, reporter_phone,
           photos, as_json) -> None:
    """Take in a complaint; it is routed to its field officer at once."""
    complaint = service.intake(
        engine, channel=channel, item=item, dong=dong, description=description, address=address, lat=lat,
        long=long_, reporter_name=reporter_name, reporter_phone=reporter_phone,
        photo_bytes=[p.read_bytes() for p in photos], by=actor.id,
    )
    if as_json:
        echo_json(service.describe(engine, complaint))
    else:
        click.echo(f"{complaint.id} {complaint.status} → {complaint.officer} (deadline {complaint.deadline})")


@complaints.command("act")
@authorized("complaints.handle")
@click.argument("complaint_id")
@click.argument("action", type=click.Choice(["accept", "reassign", "start", "resolve", "reject", "duplicate"]))
@click.option("--note")
@click.option("--officer")
@click.option("--department")
@click.option("--original", help="For duplicate: the complaint this one repeats.")
@json_option
def act(engine, actor, complaint_id, action, note, officer, department, original, as_json) -> None:
    """Accept, reassign, start, resolve, reject or mark a complaint as a duplicate."""
    complaint = service.act(engine, complaint_id, action, officer=officer, department=department, note=note,
                            original=original, by=actor.id)
    if as_json:
        echo_json(service.describe(engine, complaint))
    else:
        click.echo(f"{complaint.id} {complaint.status}")


@complaints.command("show")
@db_option
@click.argument("complaint_id")
def show(db, complaint_id) -> None:
    """One complaint with its history (JSON)."""
    with open_engine(db) as engine:
        echo_json(service.describe(engine, service.get_complaint(engine, complaint_id)))


@complaints.command("reporter")
@authorized("complaints.personal_data")
@click.argument("complaint_id")
def reporter(engine, actor, complaint_id) -> None:
    """The reporter's name and phone (personal data)."""
    echo_json(service.describe(engine, service.get_complaint(engine, complaint_id), reveal=True)["reporter"])


@complaints.command("list")
@db_option
@click.option("--status", type=click.Choice(rules.STATUSES))
@click.option("--department")
@click.option("--dong")
@click.option("--overdue", is_flag=True, help="Only open complaints past their deadline.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
def list_complaints(db, status, department, dong, overdue, limit, as_json) -> None:
    """Complaints, newest first (what a field officer or the inspection looks at)."""
    with open_engine(db) as engine:
        now = utc_now()
        found = [e for e in service.index(engine)["complaints"].values()
                 if (not status or e["status"] == status) and (not department or e["department"] == department)
                 and (not dong or e["dong"] == dong) and (not overdue or rules.is_overdue(e, now))]
        found.sort(key=lambda e: e["received_at"], reverse=True)
        found = [{k: v for k, v in e.items() if k != "reporter"} for e in found[:limit]]
        if as_json:
            echo_json(found)
            return
        for e in found:
            late = " OVERDUE" if rules.is_overdue(e, now) else ""
            click.echo(f"{e['id']}  {e['received_at'][:16]}  {e['status']:<11} {e['item']:<18} {e['dong']:<5} "
                       f"{e['officer'] or '-'}{late}")


@complaints.command("send-texts")
@db_option
def send_texts(db) -> None:
    """Send the result texts not yet sent (also done by `civic tick`)."""
    with open_engine(db) as engine:
        sent = service.send_pending_texts(engine)
        click.echo(f"complaints: {len(sent)} result text(s) sent")


@complaints.command("erase-reporter")
@authorized("complaints.erase")
@click.argument("complaint_id")
def erase_reporter(engine, actor, complaint_id) -> None:
    """Erase the reporter's name and phone for good (the complaint and the reports stay)."""
    done = service.erase_reporter(engine, complaint_id, actor)
    click.echo("complaints: reporter erased" if done else "complaints: nothing to erase")


@complaints.command("inspect")
@authorized("complaints.inspect")
@click.option("--month", help="Publish the monthly inspection of YYYY-MM.")
@click.option("--year", help="Publish the figures by field of YYYY.")
@json_option
def inspect(engine, actor, month, year, as_json) -> None:
    """Publish (record) a finished month's inspection or a finished year's figures; the auditor's
    re-tally recomputes it from the log."""
    if bool(month) == bool(year):
        raise click.UsageError("Give --month or --year.")
    kind, period = ("monthly", month) if month else ("yearly", year)
    inspection = service.publish_inspection(engine, kind, period, by=actor.id)
    if as_json:
        echo_json(inspection.rows)
    else:
        click.echo(f"complaints: {kind} inspection {inspection.period} published ({len(inspection.rows)} rows)")


@complaints.group("report")
def report() -> None:
    """Yearly and monthly reports."""


def _output(rows, as_json: bool, as_csv: bool, korean: bool = False) -> None:
    if as_json and as_csv:
        raise click.UsageError("Choose --json or --csv, not both.")
    if as_json:
        echo_json(rows)
    elif as_csv:
        click.echo(reports.to_csv(rows, korean_headers=korean), nl=False)
    else:
        click.echo(reports.to_text(rows))


@report.command("yearly")
@db_option
@click.option("--year", "years", type=int, multiple=True, help="Only these years (repeatable).")
@click.option("--korean", is_flag=True, help="The document's Korean column names (CSV).")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
def yearly(db, years, korean, as_json, as_csv) -> None:
    """Complaints per year by field, in the shape of the plan's table (년도, 전체, 교통, ...)."""
    with open_engine(db) as engine:
        _output(service.yearly_report(engine, years or None), as_json, as_csv, korean)


@report.command("monthly")
@db_option
@click.option("--month", required=True, help="YYYY-MM")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
def monthly(db, month, as_json, as_csv) -> None:
    """The monthly inspection per department: received, resolved, open, overdue, median handling time."""
    with open_engine(db) as engine:
        year, month_number = service.parse_month(month)
        _output(service.monthly_report(engine, year, month_number), as_json, as_csv)


@report.command("chart")
@db_option
@click.option("--year", "years", type=int, multiple=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="SVG file to write.")
def chart(db, years, out: Path) -> None:
    """Write the yearly report as an SVG bar chart."""
    with open_engine(db) as engine:
        out.write_text(reports.yearly_chart_svg(service.yearly_report(engine, years or None)), encoding="utf-8")
        click.echo(f"complaints: chart written to {out}")
