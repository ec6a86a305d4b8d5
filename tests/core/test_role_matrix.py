"""The full matrix of roles × commands.

Every route guarded by ``requires(...)`` and every CLI command made with ``authorized(...)`` is
found by walking the assembled app and command tree, so a plugin's commands join the matrix as
soon as the plugin is installed. Each is called as every role (one account per role), as an
anonymous caller and (CLI) as the local operator; it must be refused by ``authorize`` exactly when
the permission's declared roles exclude the caller, and a refused call must change nothing.

Core's and the sample plugin's permissions are also compared with a table written out here, so a
change of who may do what is a visible change to this file.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import argon2
import click
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from core import cli as cli_module
from core import cli_helpers
from core.engine import Engine
from core.http import create_app
from core.actors import ANYONE, Role, SIGNED_IN, local_operator
from core.guards import required_permissions
from core.web.console import staff_page
from core.passwords import use_password_hasher
from core.plugins import make_plugin_manager
from tests.support import petition, reports

PASSWORD = "correct horse battery"
CALLERS = ["anonymous", *(r.value for r in Role)]

# Who may do what, written out by hand (an independent statement of the policy).
EXPECTED = {
    "auth.sign_in": set(CALLERS),
    "auth.self": {r.value for r in Role},
    "staff.read": {"system_admin", "auditor"},
    "staff.manage": {"system_admin"},
    "privacy.find": {"system_admin"},
    "privacy.forget": {"system_admin"},
    "audit.verify": {"system_admin", "auditor"},
    "petition.open": set(CALLERS),
    "petition.sign": set(CALLERS),
    "petition.close": {"process_admin"},
    "reports.file": set(CALLERS),
    "reports.read": {"call_centre_agent", "field_officer"},
}


def allowed_callers(audience: frozenset[str]) -> set[str]:
    if ANYONE in audience:
        return set(CALLERS)
    if SIGNED_IN in audience:
        return {r.value for r in Role}
    return set(audience)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One store with an account per role, shared by the whole matrix (the refused calls change
    nothing, which the tests check; the allowed ones get harmless bad input)."""
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    tmp = tmp_path_factory.mktemp("matrix")
    db = str(tmp / "civic.db")
    pm = make_plugin_manager(extra=[petition, reports])
    engine = Engine(db, plugins=pm, outbox=tmp / "outbox.jsonl")
    tokens: dict[str, str | None] = {"anonymous": None}
    for role in Role:
        engine.identity.add_staff(local_operator(), f"as.{role.value}", role.value, PASSWORD, [role])
        tokens[role.value] = engine.identity.sign_in(f"as.{role.value}", PASSWORD).token
    try:
        yield {"engine": engine, "pm": pm, "tokens": tokens, "db": db}
    finally:
        engine.close()
        use_password_hasher(previous)


def test_declared_permissions_match_the_written_policy(world):
    registry = world["engine"].identity.permissions
    declared = {name: allowed_callers(registry.get(name).audience) for name in registry}
    core_and_samples = {name: callers for name, callers in declared.items() if name in EXPECTED}
    assert core_and_samples == EXPECTED
    assert set(EXPECTED) <= set(declared)


# -- HTTP -------------------------------------------------------------------------------------
def sample_value(name: str, kind: Any) -> str:
    """A value that gets past routing for a path parameter of this type."""
    if kind is uuid.UUID:
        return str(uuid.uuid4())
    if kind in (int, float, decimal.Decimal):
        return "1"
    if kind is datetime.date:
        return "2016-03-02"
    if kind is datetime.datetime:
        return "2016-03-02T00:00:00Z"
    return "resident" if name == "role" else "x"


def guarded_routes(app) -> list[tuple[str, str, str]]:
    """Routes behind a bearer-token guard; console pages (session sign-in, ``staff_page``) have
    their own matrix in tests/web/test_staff_role_matrix.py."""
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if any(isinstance(g, staff_page) for g in handler.resolve_guards()):
                continue
            for permission in required_permissions(handler):
                path = route.path
                for param in route.path_parameters.values():
                    value = sample_value(param.name, param.type)
                    path = path.replace("{" + param.full + "}", value)
                for method in sorted(handler.http_methods):
                    out.append((method, path, permission))
    return sorted(set(out))


def test_every_guarded_route_for_every_caller(world):
    engine, tokens = world["engine"], world["tokens"]
    registry = engine.identity.permissions
    app = create_app(engine)
    routes = guarded_routes(app)
    # core's and the sample plugins' routes are all in the walk
    assert {p for _, _, p in routes} >= set(EXPECTED) - {"privacy.find", "audit.verify"}
    checked = 0
    with TestClient(app) as client:
        for method, path, permission in routes:
            allowed = allowed_callers(registry.get(permission).audience)
            for caller in CALLERS:
                token = tokens[caller]
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                before = engine.position
                r = client.request(method, path, json={}, headers=headers)
                refused_by_authorize = r.status_code in (401, 403) and r.json().get("permission") == permission
                if caller in allowed:
                    assert not refused_by_authorize, (method, path, caller, r.text)
                else:
                    assert r.status_code == (401 if caller == "anonymous" else 403), (method, path, caller, r.text)
                    assert r.headers["content-type"].startswith("application/problem+json")
                    assert refused_by_authorize
                    assert engine.position == before, (method, path, caller)
                checked += 1
    assert checked == len(routes) * len(CALLERS)


def test_every_state_changing_route_declares_a_permission(world):
    """A POST/PUT/PATCH/DELETE route without ``requires(...)`` would skip authorisation."""
    app = create_app(world["engine"])
    unguarded = [
        (sorted(handler.http_methods), route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if set(getattr(handler, "http_methods", ())) - {"GET", "HEAD", "OPTIONS"} and not required_permissions(handler)
    ]
    assert not unguarded


# -- CLI --------------------------------------------------------------------------------------
def authorized_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            out.extend(authorized_commands(command, (*prefix, name)))
        elif getattr(command.callback, "civic_permission", None):
            out.append(((*prefix, name), command))
    return out


def sample_args(command: click.Command, existing_file: str) -> list[str]:
    """Values for a command's required parameters that get past click's parsing, so that the
    call reaches authorisation."""
    args: list[str] = []
    for param in command.params:
        if not param.required or param.name in ("db", "token"):
            continue
        ptype = param.type
        if isinstance(ptype, click.Choice):
            value = str(ptype.choices[0])
        elif isinstance(ptype, click.types.UUIDParameterType):
            value = str(uuid.uuid4())
        elif isinstance(ptype, (click.types.IntParamType, click.types.FloatParamType)):
            value = str(getattr(ptype, "min", None) or 1)
        elif isinstance(ptype, click.DateTime):
            value = "2016-03-02"
        elif isinstance(ptype, (click.Path, click.File)):
            value = existing_file
        else:
            value = "x"
        count = param.nargs if param.nargs > 0 else 1
        values = [value] * count
        args.extend(values if isinstance(param, click.Argument) else [param.opts[0], *values])
    return args


def test_every_authorized_cli_command_for_every_caller(world, monkeypatch, tmp_path):
    engine, tokens, pm = world["engine"], world["tokens"], world["pm"]
    registry = engine.identity.permissions
    tree = click.Group("civic", commands=dict(cli_module.cli.commands))
    pm.hook.civic_register_commands(cli=tree)
    monkeypatch.setattr(cli_helpers, "_plugin_manager", pm)
    commands = authorized_commands(tree)
    names = {" ".join(path) for path, _ in commands}
    assert {"staff add", "staff list", "privacy forget", "privacy find", "petition-close"} <= names
    runner = CliRunner()
    existing_file = tmp_path / "input.csv"
    existing_file.write_text("x\n", encoding="utf-8")
    callers = [*CALLERS, "operator"]
    checked = 0
    for path, command in commands:
        permission = command.callback.civic_permission
        allowed = allowed_callers(registry.get(permission).audience)
        if "system_admin" in allowed:
            allowed = allowed | {"operator"}
        for caller in callers:
            env = {"CIVIC_TOKEN": tokens.get(caller) or "", "CIVIC_REQUIRE_TOKEN": "1" if caller == "anonymous" else ""}
            before = engine.position
            r = runner.invoke(tree, [*path, *sample_args(command, str(existing_file)), "--db", world["db"]], env=env,
                              input="not a real password\n" * 3)
            refusal = (f"Your roles do not allow {permission}." in r.output
                       or f"Sign in to do this ({permission})." in r.output)
            if caller in allowed:
                assert not refusal, (path, caller, r.output)
            else:
                assert r.exit_code == 1 and refusal, (path, caller, r.output)
                assert engine.position == before, (path, caller)
            checked += 1
    assert checked == len(commands) * len(callers)
