"""``civic adreview ...``: the committee from the command line, and the member's own tools to make
a key and sign a decision (signing happens on the member's machine; the store never sees the
private key)."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from core import SEOUL, Engine, authorized, db_option, echo_json, json_option, open_engine, utc_now
from plugins.ad_review import queries, remote, rules, service, signing, sla


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


def _text(value: str | None, file: Any, option: str) -> str:
    """A text given inline or in a file (``-``: standard input), not both, not neither."""
    if (value is None) == (file is None):
        raise click.UsageError(f"Give {option} TEXT or {option}-file FILE (one of them).")
    return value if file is None else file.read()


TEXT_FILE = click.File("r", encoding="utf-8-sig")  # a byte-order mark (Notepad) is not part of the text


@adreview.command("sign")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--session", required=True)
@click.option("--application", required=True)
@click.option("--member", required=True)
@click.option("--decision", type=click.Choice(list(rules.DECISIONS)), help="Sign a decision.")
@click.option("--reasons", default=None, help="The decision's reasons.")
@click.option("--reasons-file", type=TEXT_FILE, default=None, help="The decision's reasons, from a file ('-': stdin).")
@click.option("--condition", "conditions", multiple=True, help="A condition (repeat for several).")
@click.option("--recuse", "recusal", default=None, help="Sign a recusal with this reason instead.")
@click.option("--comment", "comment_text", default=None, help="Sign a comment with this text instead.")
def sign(key: Path, session: str, application: str, member: str, decision: str | None, reasons: str | None,
         reasons_file: Any, conditions: tuple[str, ...], recusal: str | None, comment_text: str | None) -> None:
    """Sign a decision, a recusal or a comment offline; prints the base64 signature.

    Texts are signed in their normal form (Unicode NFC, no trailing spaces, LF line ends), the
    form the server stores, so the text may be sent as typed."""
    if sum(x is not None for x in (decision, recusal, comment_text)) != 1:
        raise click.UsageError("Give one of --decision, --recuse or --comment.")
    if recusal is not None:
        message = signing.recusal_bytes(session, application, member, signing.normalise_text(recusal))
    elif comment_text is not None:
        message = signing.comment_bytes(session, application, member, signing.normalise_text(comment_text))
    else:
        message = signing.decision_bytes(session, application, member, str(decision),
                                         signing.normalise_text(_text(reasons, reasons_file, "--reasons")),
                                         signing.normalise_texts(conditions))
    click.echo(signing.sign(_load_private_key(key), message))


# -- where the committee is: the store (--db) or a server's API (--server) --------------------


class _Store:
    """The committee in the store the command opened; the same calls as ``remote.Remote``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def committee(self) -> dict[str, Any]:
        return service.describe_committee(self.engine)

    def sessions(self) -> list[dict[str, Any]]:
        return queries.list_sessions(self.engine)

    def queue(self, member: str) -> list[dict[str, Any]]:
        return queries.member_queue(self.engine, member)

    def thread(self, session: UUID, application: UUID) -> dict[str, Any]:
        return queries.thread(self.engine, session, application)

    def comment(self, session: UUID, application: UUID, member: str, text: str, signature: str) -> dict[str, Any]:
        service.comment(self.engine, session, application, member, text, signature)
        return self.thread(session, application)

    def recuse(self, session: UUID, application: UUID, member: str, reason: str, signature: str) -> dict[str, Any]:
        service.recuse(self.engine, session, application, member, reason, signature)
        return self.thread(session, application)

    def decide(self, session: UUID, application: UUID, member: str, decision: str, reasons: str,
               conditions: list[str], signature: str) -> dict[str, Any]:
        service.decide(self.engine, session, application, member, decision, reasons, conditions, signature)
        return self.thread(session, application)


def _where(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--server", envvar="CIVIC_SERVER", default=None,
                     help="A civic server's address, e.g. https://civic.example.org (env CIVIC_SERVER): "
                          "work through its API instead of opening --db."),
        click.option("--token", envvar="CIVIC_TOKEN", default=None,
                     help="Bearer token of your staff account (env CIVIC_TOKEN; get one with 'civic staff signin')."),
        click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     help="A file holding your token (kept out of the shell history and the process list)."),
    ]):
        f = option(f)
    return db_option(f)


def _read_token(token: str | None, token_file: Path | None) -> str | None:
    if token_file is None:
        return token or None
    try:
        text = token_file.read_text(encoding="utf-8-sig").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"Cannot read the token file {token_file} ({exc.__class__.__name__}).") from None
    if not text or len(text.split()) != 1:
        raise click.UsageError(f"{token_file} does not hold a token (the token alone, on one line).")
    return text


def _server_url(server: str) -> str:
    try:
        return remote.check_server_url(server)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--server") from None


@contextmanager
def _server(server: str, token: str | None, acting: bool, secret: str = "token") -> Iterator[remote.Remote]:
    """The committee's API on ``server``; a refusal or a failure to reach it ends the command with
    its one-line message and exit code 1."""
    url = _server_url(server)
    if acting and not token:
        raise click.UsageError("Acting through a server needs your token: give --token-file FILE (made by "
                               "'civic adreview signin') or --token, or set CIVIC_TOKEN.")
    if (token or secret != "token") and remote.sends_token_in_clear(url):
        click.echo(f"Warning: {url} is plain http: your {secret} crosses the network unencrypted. Use https://.",
                   err=True)
    with remote.Remote(url, token) as api:
        try:
            yield api
        except remote.RemoteError as exc:
            raise click.ClickException(str(exc)) from None


@adreview.command("signin")
@click.argument("username")
@click.option("--server", envvar="CIVIC_SERVER", required=True,
              help="The civic server's address, e.g. https://civic.example.org (env CIVIC_SERVER).")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to keep the token, readable only by you (replaced if it exists).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def signin(username: str, server: str, token_file: Path, password_stdin: bool) -> None:
    """Sign in to a civic server with your staff account and keep the token in a file, for
    --token-file (the token is never printed)."""
    _server_url(server)  # before asking for the password
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt("Password", hide_input=True)
    with _server(server, None, acting=False, secret="password") as api:
        answer = api.sign_in(username, password)
    _save_token(str(answer["token"]), token_file)
    until = datetime.fromisoformat(answer["expires_at"]).astimezone(SEOUL) if answer.get("expires_at") else None
    click.echo(f"Signed in as {username}; token kept in {token_file}"
               + (f" until {until:%Y-%m-%d %H:%M} (Seoul)." if until else "."))


def _save_token(token: str, path: Path) -> None:
    """Write a token file readable only by its owner, replacing an old one in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    os.replace(fresh, path)


def _reads(f: Callable[..., Any]) -> Callable[..., Any]:
    """A read command: from the store (``--db``) or from a server (``--server``)."""

    @functools.wraps(f)
    def run(db: str, server: str | None, token: str | None, token_file: Path | None, **kwargs: Any) -> Any:
        token = _read_token(token, token_file)
        if server:
            with _server(server, token, acting=False) as api:
                return f(committee=api, **kwargs)
        with open_engine(db) as engine:
            return f(committee=_Store(engine), **kwargs)

    return _where(run)


def _acts(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A member's act: in the store, as the account of ``--token`` or the local operator, once
    ``permission`` is checked; or through a server's API, which checks it there."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @authorized(permission)
        def in_store(engine: Engine, actor: Any, **kwargs: Any) -> Any:
            return f(committee=_Store(engine), **kwargs)

        @functools.wraps(f)
        def run(db: str, server: str | None, token: str | None, token_file: Path | None, **kwargs: Any) -> Any:
            token = _read_token(token, token_file)
            if server:
                with _server(server, token, acting=True) as api:
                    return f(committee=api, **kwargs)
            return in_store(db=db, token=token, **kwargs)

        run.civic_permission = permission  # type: ignore[attr-defined]
        return _where(run)

    return decorate


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
@_reads
@json_option
def committee_cmd(committee: Any, as_json: bool) -> None:
    """Members, routing rules, quorum rule and schedule."""
    _show(committee.committee(), as_json, lambda i: "\n".join(
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
@_reads
@json_option
def session_list(committee: Any, as_json: bool) -> None:
    """Weekly sessions: week, status, number of applications, id."""
    rows = [{"id": s["id"], "week": s["week"], "status": s["status"], "items": len(s["items"])}
            for s in committee.sessions()]
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
@_reads
@json_option
@click.argument("member_id")
def queue(committee: Any, as_json: bool, member_id: str) -> None:
    """What a member still has to decide in open sessions."""
    _show(committee.queue(member_id), as_json, lambda xs: "\n".join(
        f"{x['week']}  session {x['session']}  application {x['application']}  {x['sign_type']} "
        f"{x['area_m2']} m² {x['dong']}" for x in xs) or "nothing to decide")


def _format_thread(t: dict[str, Any]) -> str:
    return "\n".join(
        [f"{c['member']}: {c['text']}" for c in t["comments"]]
        + [f"recused: {', '.join(t['recused']) or '-'}", f"decided: {', '.join(t['decided']) or '-'}"]
        + ([f"result: {t['result']['outcome']}"] if t.get("result") else []))


@adreview.command("thread")
@_reads
@json_option
@click.option("--session", "session_id", type=click.UUID, required=True)
@click.option("--application", "application_id", type=click.UUID, required=True)
def thread(committee: Any, as_json: bool, session_id: UUID, application_id: UUID) -> None:
    """An application's thread in a session: comments, recusals, who decided (votes once closed)."""
    _show(committee.thread(session_id, application_id), as_json, _format_thread)


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


def _signed(key: Path | None, signature: str | None, texts: tuple[Any, ...],
            message: Callable[..., bytes]) -> tuple[tuple[Any, ...], str]:
    """The texts to send (each a text or a list of texts) and their signature: signed here with
    ``key``, the texts in their normal form (the form the server stores); with a ``signature`` made
    elsewhere, the texts exactly as given (the server accepts a signature over their normal form
    or over them as sent)."""
    if signature:
        return texts, signature
    normal = tuple(signing.normalise_texts(t) if isinstance(t, list) else signing.normalise_text(t) for t in texts)
    return normal, _signature(key, None, message(*normal))


@adreview.command("decide")
@_acts("ad_review.member_act")
@_member_act
@click.option("--decision", type=click.Choice(list(rules.DECISIONS)), required=True)
@click.option("--reasons", default=None, help="Your reasons (or --reasons-file).")
@click.option("--reasons-file", type=TEXT_FILE, default=None, help="Your reasons, from a file ('-': stdin).")
@click.option("--condition", "conditions", multiple=True)
def decide(committee: Any, session_id: UUID, application_id: UUID, member_id: str, key: Path | None,
           signature: str | None, decision: str, reasons: str | None, reasons_file: Any,
           conditions: tuple[str, ...]) -> None:
    """Record your decision, signed with your key."""
    (reasons, conditions), signature = _signed(
        key, signature, (_text(reasons, reasons_file, "--reasons"), list(conditions)),
        lambda r, c: signing.decision_bytes(str(session_id), str(application_id), member_id, decision, r, c))
    committee.decide(session_id, application_id, member_id, decision, reasons, list(conditions), signature)
    click.echo(f"{member_id}: {decision} recorded")


@adreview.command("recuse")
@_acts("ad_review.member_act")
@_member_act
@click.option("--reason", default=None, help="Why you step aside (or --reason-file).")
@click.option("--reason-file", type=TEXT_FILE, default=None, help="Why you step aside, from a file ('-': stdin).")
def recuse(committee: Any, session_id: UUID, application_id: UUID, member_id: str, key: Path | None,
           signature: str | None, reason: str | None, reason_file: Any) -> None:
    """Recuse yourself from an application (a conflict of interest)."""
    (reason,), signature = _signed(key, signature, (_text(reason, reason_file, "--reason"),),
                                   lambda r: signing.recusal_bytes(str(session_id), str(application_id), member_id, r))
    committee.recuse(session_id, application_id, member_id, reason, signature)
    click.echo(f"{member_id}: recused")


@adreview.command("comment")
@_acts("ad_review.member_act")
@_member_act
@click.option("--text-file", type=TEXT_FILE, default=None, help="The comment, from a file ('-': stdin).")
@click.argument("text", required=False)
def comment(committee: Any, session_id: UUID, application_id: UUID, member_id: str, key: Path | None,
            signature: str | None, text_file: Any, text: str | None) -> None:
    """Post a comment in an application's thread, signed with your key."""
    if (text is None) == (text_file is None):
        raise click.UsageError("Give the comment as TEXT or with --text-file FILE (one of them).")
    (text,), signature = _signed(key, signature, (text if text_file is None else text_file.read(),),
                                 lambda t: signing.comment_bytes(str(session_id), str(application_id), member_id, t))
    committee.comment(session_id, application_id, member_id, text, signature)
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
