"""``civic adreview ...``: the committee from the command line, and the member's own tools to make
a key and sign a decision (signing happens on the member's machine; the store never sees the
private key)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from core import SEOUL, Engine, authorized, db_option, echo_json, json_option, open_engine, utc_now
from plugins.ad_review import queries, rules, service, signing, sla


def _show(value: Any, as_json: bool, text: Callable[[Any], str] | None = None) -> None:
    if as_json or text is None:
        echo_json(value)
    else:
        click.echo(text(value))


@click.group("adreview")
def adreview() -> None:
    """Advertisement review committee (광고물 SNS온라인 심의위원회): applications, weekly online
    sessions, signed decisions, and the service-level report."""


# -- a member's own tools ---------------------------------------------------------------------


@adreview.command("keygen")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the private key (PEM, readable only by you).")
def keygen(out: Path) -> None:
    """Make a member's Ed25519 key pair; prints the public key to register."""
    if out.exists():
        raise click.UsageError(f"{out} exists; choose another file.")
    key = signing.generate()
    _save_private_key(key, out)
    click.echo(signing.public_key_b64(key))


def _save_private_key(key: Any, path: Path) -> None:
    """Write a member's key file, readable only by its owner; never over an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(signing.private_key_pem(key))


def _load_private_key(path: Path) -> Any:
    return signing.private_key_from_pem(path.read_bytes(), str(path))


def _signature(key: Path | None, signature: str | None, message: bytes) -> str:
    if signature:
        return signature
    if key is None:
        raise click.UsageError("Give --key (your private key file) or --signature.")
    return signing.sign(_load_private_key(key), message)


@adreview.command("sign")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--session", required=True)
@click.option("--application", required=True)
@click.option("--member", required=True)
@click.option("--decision", type=click.Choice(list(rules.DECISIONS)), help="Sign a decision.")
@click.option("--reasons", default="", help="The decision's reasons.")
@click.option("--condition", "conditions", multiple=True, help="A condition (repeat for several).")
@click.option("--recuse", "recusal", default=None, help="Sign a recusal with this reason instead.")
def sign(key: Path, session: str, application: str, member: str, decision: str | None, reasons: str,
         conditions: tuple[str, ...], recusal: str | None) -> None:
    """Sign a decision (or a recusal) offline; prints the base64 signature."""
    if recusal is not None:
        message = signing.recusal_bytes(session, application, member, recusal)
    elif decision is not None:
        message = signing.decision_bytes(session, application, member, decision, reasons, list(conditions))
    else:
        raise click.UsageError("Give --decision or --recuse.")
    click.echo(signing.sign(_load_private_key(key), message))


# -- the secretary ----------------------------------------------------------------------------


@adreview.group("member")
def member() -> None:
    """Committee members and their public keys."""


@member.command("add")
@authorized("ad_review.secretary")
@click.argument("member_id")
@click.option("--name", required=True)
@click.option("--public-key", required=True, help="From 'civic adreview keygen'.")
def member_add(engine: Engine, actor: Any, member_id: str, name: str, public_key: str) -> None:
    """Register a member and their public key."""
    service.add_member(engine, actor.id, member_id, name, public_key)
    click.echo(f"{member_id} joined the committee")


@member.command("remove")
@authorized("ad_review.secretary")
@click.argument("member_id")
@click.option("--reason", required=True)
def member_remove(engine: Engine, actor: Any, member_id: str, reason: str) -> None:
    """A member leaves the committee."""
    service.remove_member(engine, actor.id, member_id, reason)
    click.echo(f"{member_id} left the committee")


@adreview.command("committee")
@db_option
@json_option
def committee_cmd(db: str, as_json: bool) -> None:
    """Members, routing rules, quorum rule and schedule."""
    with open_engine(db) as engine:
        info = service.describe_committee(engine)
        _show(info, as_json, lambda i: "\n".join(
            [f"{m['member_id']:<16} {m['name']}" for m in i["members"]]
            + [f"rule {r['id']:<9} → {r['committee']:<5} {r['description']}" for r in i["routing"]]
            + [f"quorum: {i['quorum']}", f"schedule: {i['schedule']}"]))


@adreview.command("routing")
@authorized("ad_review.secretary")
@click.argument("rules_file", type=click.File("r", encoding="utf-8"))
def routing_cmd(engine: Engine, actor: Any, rules_file: Any) -> None:
    """Replace the routing rules with those of a JSON file (a list of rules)."""
    try:
        raw = json.load(rules_file)
    except ValueError as exc:
        raise click.UsageError(f"{rules_file.name} is not JSON: {exc}") from None
    service.set_routing(engine, actor.id, raw)
    click.echo(f"{len(raw)} routing rules in force")


@adreview.command("quorum")
@authorized("ad_review.secretary")
@click.option("--participation", default="1/2", show_default=True, help="More than this share must take part.")
@click.option("--inclusive", is_flag=True, help="'At least' instead of 'more than' for participation.")
@click.option("--decision", default="1/2", show_default=True, help="More than this share of those taking part.")
@click.option("--recused-count", is_flag=True, help="Count recused members in the quorum base.")
def quorum_cmd(engine: Engine, actor: Any, participation: str, inclusive: bool, decision: str,
               recused_count: bool) -> None:
    """Set the quorum rule (applies to sessions opened from now on)."""
    service.set_quorum(engine, actor.id, {
        "participation": participation, "participation_inclusive": inclusive, "decision": decision,
        "recused_count_in_quorum": recused_count})
    click.echo("quorum rule set")


@adreview.command("schedule")
@authorized("ad_review.secretary")
@click.option("--open", "opening", default="0 09:00", show_default=True, help="Weekday (0 = Monday) and time.")
@click.option("--intake-until", default="2 18:00", show_default=True, help="End of intake: weekday and time.")
@click.option("--close", "closing", default="4 18:00", show_default=True, help="Deadline: weekday and time.")
def schedule_cmd(engine: Engine, actor: Any, opening: str, intake_until: str, closing: str) -> None:
    """Set the weekly schedule, in Seoul time (applies to sessions opened from now on)."""
    try:
        (ow, ot), (iw, it), (cw, ct) = (value.split() for value in (opening, intake_until, closing))
        raw = {"open_weekday": int(ow), "open_time": ot, "intake_weekday": int(iw), "intake_time": it,
               "close_weekday": int(cw), "close_time": ct}
    except ValueError:
        raise click.UsageError("Give each as 'WEEKDAY HH:MM', e.g. '0 09:00'.") from None
    service.set_schedule(engine, actor.id, raw)
    click.echo("schedule set")


@adreview.group("session")
def session() -> None:
    """Weekly online sessions."""


@session.command("open")
@authorized("ad_review.secretary")
@click.option("--week", default=None, help="ISO week, e.g. 2016-W10 (default: this week).")
def session_open(engine: Engine, actor: Any, week: str | None) -> None:
    """Open a weekly session now, with the applications waiting for it."""
    s = service.open_session(engine, actor.id, week)
    click.echo(f"session {s.week} opened: {s.id} ({len(s.items)} applications)")


@session.command("close")
@authorized("ad_review.secretary")
@click.argument("session_id", type=click.UUID)
def session_close(engine: Engine, actor: Any, session_id: UUID) -> None:
    """Close a session now (harmless when already closed)."""
    results = service.close_session(engine, actor.id, session_id)
    for application, result in results.items():
        click.echo(f"{application}  {result['outcome']}")


@session.command("list")
@db_option
@json_option
def session_list(db: str, as_json: bool) -> None:
    with open_engine(db) as engine:
        rows = [{"id": s["id"], "week": s["week"], "status": s["status"], "items": len(s["items"])}
                for s in queries.list_sessions(engine)]
        _show(rows, as_json, lambda rs: "\n".join(f"{r['week']}  {r['status']:<6} {r['items']:>3}  {r['id']}"
                                                  for r in rs) or "no sessions")


@adreview.command("full-decision")
@authorized("ad_review.secretary")
@click.argument("application_id", type=click.UUID)
@click.option("--decision", type=click.Choice(["approve", "approve_with_conditions", "reject"]), required=True)
@click.option("--reasons", required=True)
@click.option("--condition", "conditions", multiple=True)
@click.option("--meeting", required=True, help="The full committee meeting (date or minutes reference).")
def full_decision(engine: Engine, actor: Any, application_id: UUID, decision: str, reasons: str,
                  conditions: tuple[str, ...], meeting: str) -> None:
    """Record the full committee's decision on an application referred to it."""
    service.record_full_committee_decision(engine, actor.id, application_id, decision, reasons, list(conditions),
                                           meeting)
    click.echo(f"{application_id}: {decision}")


# -- applicants -------------------------------------------------------------------------------


@adreview.command("submit")
@authorized("ad_review.apply")
@json_option
@click.option("--applicant", required=True, help="The applicant's name.")
@click.option("--phone", required=True, help="Where the decision notice goes (SMS).")
@click.option("--business", default=None)
@click.option("--sign-type", type=click.Choice(list(rules.SIGN_TYPES)), required=True)
@click.option("--address", required=True)
@click.option("--dong", required=True)
@click.option("--width", type=float, required=True, help="metres")
@click.option("--height", type=float, required=True, help="metres")
@click.option("--illumination", type=click.Choice(list(rules.ILLUMINATION)), required=True)
@click.option("--attach", "attachments", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A photo or drawing (JPEG, PNG, PDF); repeat for several.")
def submit(engine: Engine, actor: Any, as_json: bool, applicant: str, phone: str, business: str | None,
           sign_type: str, address: str, dong: str, width: float, height: float, illumination: str,
           attachments: tuple[Path, ...]) -> None:
    """Submit an application (an official may do so on the applicant's behalf)."""
    stored = [service.store_attachment(engine, p.read_bytes()) for p in attachments]
    data = {"applicant": {"name": applicant, "phone": phone, **({"business": business} if business else {})},
            "sign_type": sign_type, "location": {"address": address, "dong": dong},
            "size": {"width_m": width, "height_m": height}, "illumination": illumination,
            "attachments": [{"sha256": s["sha256"]} for s in stored]}
    app = service.submit(engine, actor.id, data)
    view = queries.application_view(engine, app.id)
    _show(view, as_json, lambda v: f"{v['id']}  {v['status']}  routed by {v['rule_id']} to the "
                                   f"{v['committee']} committee")


@adreview.command("applications")
@db_option
@json_option
@click.option("--status", type=click.Choice(list(queries.STATUSES)), default=None)
def applications(db: str, as_json: bool, status: str | None) -> None:
    """Applications, oldest first (e.g. --status referred: waiting for the full committee)."""
    with open_engine(db) as engine:
        rows = queries.list_applications(engine, status)
        _show(rows, as_json, lambda rs: "\n".join(
            f"{r['submitted_at'][:10]}  {r['id']}  {r['status']:<10} {r['committee']:<5} {r['rule_id']:<8} "
            f"{r['sign_type']:<16} {r['area_m2']:>6} m²  {r['dong']}" for r in rs) or "no applications")


@adreview.command("status")
@db_option
@json_option
@click.argument("application_id", type=click.UUID)
def status(db: str, as_json: bool, application_id: UUID) -> None:
    """An application's status, route and decision."""
    with open_engine(db) as engine:
        view = queries.application_view(engine, application_id)
        _show(view, as_json, lambda v: f"{v['id']}  {v['status']}  {v['committee']} committee ({v['rule_id']})"
                                       + (f"  → {v['outcome']} {v['conditions'] or ''}" if v["outcome"] else ""))


# -- members ----------------------------------------------------------------------------------


@adreview.command("queue")
@db_option
@json_option
@click.argument("member_id")
def queue(db: str, as_json: bool, member_id: str) -> None:
    """What a member still has to decide in open sessions."""
    with open_engine(db) as engine:
        items = queries.member_queue(engine, member_id)
        _show(items, as_json, lambda xs: "\n".join(
            f"{x['week']}  session {x['session']}  application {x['application']}  {x['sign_type']} "
            f"{x['area_m2']} m² {x['dong']}" for x in xs) or "nothing to decide")


@adreview.command("thread")
@db_option
@json_option
@click.option("--session", "session_id", type=click.UUID, required=True)
@click.option("--application", "application_id", type=click.UUID, required=True)
def thread(db: str, as_json: bool, session_id: UUID, application_id: UUID) -> None:
    """An application's thread in a session: comments, recusals, who decided (votes once closed)."""
    with open_engine(db) as engine:
        t = queries.thread(engine, session_id, application_id)
        _show(t, as_json, lambda t: "\n".join(
            [f"{c['member']}: {c['text']}" for c in t["comments"]]
            + [f"recused: {', '.join(t['recused']) or '-'}", f"decided: {', '.join(t['decided']) or '-'}"]
            + ([f"result: {t['result']['outcome']}"] if t.get("result") else [])))


def _member_act(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--session", "session_id", type=click.UUID, required=True),
        click.option("--application", "application_id", type=click.UUID, required=True),
        click.option("--member", "member_id", required=True),
        click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     help="Your private key: the command signs for you."),
        click.option("--signature", default=None, help="A signature made elsewhere ('civic adreview sign')."),
    ]):
        f = option(f)
    return f


@adreview.command("decide")
@authorized("ad_review.member_act")
@_member_act
@click.option("--decision", type=click.Choice(list(rules.DECISIONS)), required=True)
@click.option("--reasons", required=True)
@click.option("--condition", "conditions", multiple=True)
def decide(engine: Engine, actor: Any, session_id: UUID, application_id: UUID, member_id: str, key: Path | None, signature: str | None,
           decision: str, reasons: str, conditions: tuple[str, ...]) -> None:
    """Record your decision, signed with your key."""
    message = signing.decision_bytes(str(session_id), str(application_id), member_id, decision, reasons,
                                     list(conditions))
    service.decide(engine, session_id, application_id, member_id, decision, reasons, list(conditions),
                   _signature(key, signature, message))
    click.echo(f"{member_id}: {decision} recorded")


@adreview.command("recuse")
@authorized("ad_review.member_act")
@_member_act
@click.option("--reason", required=True)
def recuse(engine: Engine, actor: Any, session_id: UUID, application_id: UUID, member_id: str, key: Path | None, signature: str | None,
           reason: str) -> None:
    """Recuse yourself from an application (a conflict of interest)."""
    message = signing.recusal_bytes(str(session_id), str(application_id), member_id, reason)
    service.recuse(engine, session_id, application_id, member_id, reason, _signature(key, signature, message))
    click.echo(f"{member_id}: recused")


@adreview.command("comment")
@authorized("ad_review.member_act")
@_member_act
@click.argument("text")
def comment(engine: Engine, actor: Any, session_id: UUID, application_id: UUID, member_id: str, key: Path | None,
            signature: str | None, text: str) -> None:
    """Post a comment in an application's thread."""
    message = signing.comment_bytes(str(session_id), str(application_id), member_id, text)
    service.comment(engine, session_id, application_id, member_id, text, _signature(key, signature, message))
    click.echo("comment posted")


# -- the public -------------------------------------------------------------------------------


def _dates(start: datetime | None, end: datetime | None) -> tuple[date, date]:
    end_day = end.date() if end else utc_now().astimezone(SEOUL).date()
    start_day = start.date() if start else date(end_day.year, 1, 1)
    return start_day, end_day


@adreview.command("decisions")
@db_option
@json_option
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None)
def decisions(db: str, as_json: bool, start: datetime | None, end: datetime | None) -> None:
    """Decisions noticed in a period (public; no personal data)."""
    with open_engine(db) as engine:
        rows = queries.public_decisions(engine, *_dates(start, end))
        _show(rows, as_json, lambda rs: "\n".join(
            f"{r['noticed_at'][:10]}  {r['outcome']:<24} {r['days']:>6.2f} d  {r['sign_type']:<16} {r['dong']}"
            for r in rs) or "no decisions")


def format_report(r: dict[str, Any]) -> str:
    def line(name: str, s: dict[str, Any]) -> str:
        share = "—" if s["share_within_target"] is None else f"{s['share_within_target']:.1%}"
        return (f"{name:<16} decided {s['decided']:>4}   median {s['median_days']} d   p90 {s['p90_days']} d   "
                f"within {r['target_days']} days: {s['within_target']} ({share})")

    b = r["baseline_comparison"]
    out = [
        f"Advertisement review: days from submission to decision notice, {r['from']} to {r['to']}",
        line("small committee", r["small_committee"]),
        line("full committee", r["full_committee"]),
        line("all", r["all"]),
        f"pending (not yet decided): {r['pending']}",
        f"baseline {b['baseline_days']} days: small-committee median {b['median_days']} d "
        f"({b['days_saved_at_median']} days sooner; {b['share_within_baseline']:.0%} decided within the baseline)"
        if b["median_days"] is not None else f"baseline {b['baseline_days']} days: nothing decided yet",
        "",
        f"{'week':<10}{'decided':>8}{'median':>8}  " + "".join(f"{sla.band_label(*b):>10}" for b in sla.BANDS)
        + f"  within {r['target_days']} d",
    ]
    for w in r["weekly"]:
        out.append(f"{w['week']:<10}{w['count']:>8}{w['median_days']:>8}  "
                   + "".join(f"{v:>10}" for v in w["bands"].values()) + f"  {w['within_target']:>6}")
    return "\n".join(out)


@adreview.command("report")
@db_option
@json_option
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (Seoul).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (Seoul).")
@click.option("--svg", "svg", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the weekly distribution chart here.")
def report(db: str, as_json: bool, start: datetime | None, end: datetime | None, svg: Path | None) -> None:
    """Service level: median, 90th percentile, share within 5 days, against the 28-day baseline."""
    with open_engine(db) as engine:
        r = queries.report(engine, *_dates(start, end))
    if svg is not None:
        svg.write_text(sla.weekly_chart_svg(r), encoding="utf-8")
    _show(r, as_json, format_report)
