"""Staff accounts, passwords, tokens, sign-in limits, and the one authorisation function."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import argon2
import pytest
from click.testing import CliRunner
from litestar import post
from litestar.testing import TestClient

from core import cli as cli_module
from core import cli_helpers
from core.engine import Engine
from core.errors import Forbidden, InvalidInput, RuleViolation, TooManyAttempts, Unauthorized
from core.http import create_app
from core.actors import ANONYMOUS, Actor, Role, local_operator
from core.guards import requires
from core.passwords import LOCK_FOR, MAX_FAILURES, use_password_hasher
from core.permissions import PermissionRegistry, UnknownPermission, authorize
from core.plugins import make_plugin_manager

PASSWORD = "correct horse battery"
OPERATOR = local_operator()


@pytest.fixture(autouse=True)
def cheap_hashes():
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    yield
    use_password_hasher(previous)


def add(engine: Engine, username: str, *roles: str, password: str = PASSWORD):
    return engine.identity.add_staff(OPERATOR, username, f"Name of {username}", password, roles)


# -- the permission registry ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ({"x.do": ["mayor"]}, "unknown role"),
        ({"nodot": ["auditor"]}, "must look like"),
        ({"x.do": "auditor"}, "list of roles"),
        ({"x.do": []}, "granted to nobody"),
        ({"staff.manage": ["auditor"]}, "already registered by core"),
    ],
)
def test_registry_refuses_bad_declarations(declaration, message):
    with pytest.raises(ValueError, match=message):
        PermissionRegistry([("core", {"staff.manage": ["system_admin"]}), ("plugin_x", declaration)])


def test_unknown_permission_is_a_loud_error_not_a_403(sqlite_engine):
    with pytest.raises(UnknownPermission):
        authorize(sqlite_engine, OPERATOR, "complaints.intak")


def test_an_app_with_a_guard_naming_an_unregistered_permission_does_not_start(sqlite_engine):
    @post("/api/x", guards=[requires("nobody.registered_this")], sync_to_thread=False)
    def handler() -> None: ...

    class Plugin:
        from core.hookspecs import hookimpl

        @hookimpl
        def civic_register_routes(self, engine):
            return [handler]

    engine = Engine(sqlite_engine.db, plugins=make_plugin_manager(extra=[Plugin()]))
    try:
        with pytest.raises(RuntimeError, match="nobody.registered_this"):
            create_app(engine)
    finally:
        engine.close()


def test_authorize_tells_anonymous_from_forbidden(sqlite_engine):
    assert authorize(sqlite_engine, ANONYMOUS, "auth.sign_in") is ANONYMOUS
    with pytest.raises(Unauthorized):
        authorize(sqlite_engine, ANONYMOUS, "auth.self")
    agent = Actor("a", "agent", {Role.CALL_CENTRE_AGENT})
    assert authorize(sqlite_engine, agent, "auth.self") is agent
    with pytest.raises(Forbidden):
        authorize(sqlite_engine, agent, "staff.manage")
    with pytest.raises(InvalidInput):
        Actor("b", "b", {"mayor"})


# -- accounts, tokens -----------------------------------------------------------------------
def test_staff_account_life_cycle_and_token_revocation(engine, manual_clock):
    admin = add(engine, "admin", "system_admin")
    agent = add(engine, "Agent.Lee", "call_centre_agent")
    ident = engine.identity
    assert ident.find("agent.lee").id == agent.id  # user names are case-insensitive

    token = ident.sign_in("agent.lee", PASSWORD)
    actor = ident.authenticate(token.token)
    assert (actor.id, actor.name, actor.roles) == (str(agent.id), "Name of Agent.Lee", {Role.CALL_CENTRE_AGENT})

    admin_actor = ident.authenticate(ident.sign_in("admin", PASSWORD).token)
    # roles are read from the account on every request: a grant or revoke counts at once
    ident.grant(admin_actor, agent.id, "field_officer")
    assert ident.authenticate(token.token).roles == {Role.CALL_CENTRE_AGENT, Role.FIELD_OFFICER}
    ident.revoke(admin_actor, agent.id, "call_centre_agent")
    assert ident.authenticate(token.token).roles == {Role.FIELD_OFFICER}
    with pytest.raises(RuleViolation):
        ident.revoke(admin_actor, agent.id, "call_centre_agent")
    with pytest.raises(Forbidden):  # an agent cannot manage staff
        ident.grant(ident.authenticate(token.token), agent.id, "system_admin")

    # a password change ends every earlier token
    ident.set_password(admin_actor, agent.id, "a new long password")
    with pytest.raises(Unauthorized):
        ident.authenticate(token.token)
    with pytest.raises(Unauthorized):
        ident.sign_in("agent.lee", PASSWORD)
    token = ident.sign_in("agent.lee", "a new long password")

    # disabling ends them too, and an enabled account needs a fresh sign-in
    ident.disable(admin_actor, agent.id)
    with pytest.raises(Unauthorized):
        ident.authenticate(token.token)
    with pytest.raises(Unauthorized, match="Wrong user name or password"):
        ident.sign_in("agent.lee", "a new long password")
    ident.enable(admin_actor, agent.id)
    token = ident.sign_in("agent.lee", "a new long password", lifetime=timedelta(hours=1))

    # expiry follows the core clock
    manual_clock.advance(minutes=59)
    ident.authenticate(token.token)
    manual_clock.advance(minutes=1)
    with pytest.raises(Unauthorized):
        ident.authenticate(token.token)

    with pytest.raises(RuleViolation):
        ident.disable(admin_actor, admin.id)  # not oneself
    with pytest.raises(RuleViolation):
        add(engine, "ADMIN", "auditor")  # the same user name
    names = [r["username"] for r in ident.list_staff(admin_actor)]
    assert names == ["admin", "agent.lee"]


def test_forged_or_damaged_tokens_are_refused(sqlite_engine):
    add(sqlite_engine, "kim", "auditor")
    good = sqlite_engine.identity.sign_in("kim", PASSWORD).token
    prefix, body, mac = good.split(".")
    other = add(sqlite_engine, "lee", "system_admin")
    # claim another account with the same signature
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["a"] = str(other.id)
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (f"{prefix}.{forged_body}.{mac}", good[:-2] + "AA", "civic1.x.y", "garbage", "a.b.c.d"):
        with pytest.raises(Unauthorized):
            sqlite_engine.identity.authenticate(bad)
    assert sqlite_engine.identity.authenticate(None) is ANONYMOUS


def test_bad_new_accounts_are_refused_and_change_nothing(sqlite_engine):
    for username, name, password, roles in [
        ("ab", "Name", PASSWORD, ["auditor"]),
        ("kim", "", PASSWORD, ["auditor"]),
        ("kim", "Kim", "short", ["auditor"]),
        ("kimkimkimkim", "Kim", "KimKimKimKim", ["auditor"]),
        ("kim", "Kim", PASSWORD, ["mayor"]),
    ]:
        with pytest.raises(InvalidInput):
            sqlite_engine.identity.add_staff(OPERATOR, username, name, password, roles)
    assert sqlite_engine.position == 0


# -- sign-in limits -------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_for_a_while(engine, manual_clock):
    add(engine, "admin", "system_admin")
    add(engine, "kim", "field_officer")
    ident = engine.identity
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(Unauthorized):
            ident.sign_in("kim", "wrong password!")
    with pytest.raises(TooManyAttempts):
        ident.sign_in("kim", "wrong password!")
    # locked: even the right password is refused, without being checked
    with pytest.raises(TooManyAttempts):
        ident.sign_in("kim", PASSWORD)
    manual_clock.advance(LOCK_FOR - timedelta(seconds=1))
    with pytest.raises(TooManyAttempts):
        ident.sign_in("kim", PASSWORD)
    manual_clock.advance(seconds=1)
    ident.sign_in("kim", PASSWORD)
    # a success resets the count: four more failures do not lock
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(Unauthorized):
            ident.sign_in("kim", "wrong password!")
    ident.sign_in("kim", PASSWORD)
    # an administrator's new password lifts a lock
    for _ in range(MAX_FAILURES):
        with pytest.raises((Unauthorized, TooManyAttempts)):
            ident.sign_in("kim", "wrong password!")
    admin = ident.authenticate(ident.sign_in("admin", PASSWORD).token)
    ident.set_password(admin, ident.find("kim").id, "fresh long password")
    ident.sign_in("kim", "fresh long password")


def test_one_client_guessing_many_accounts_is_slowed(sqlite_engine):
    ident = sqlite_engine.identity
    add(sqlite_engine, "kim", "auditor")
    for i in range(ident.throttle.limit):
        with pytest.raises(Unauthorized):
            ident.sign_in(f"user{i}", "some password", client="10.0.0.9")
    with pytest.raises(TooManyAttempts):
        ident.sign_in("kim", PASSWORD, client="10.0.0.9")
    ident.sign_in("kim", PASSWORD, client="10.0.0.10")  # other clients are unaffected


def test_no_password_or_password_hash_in_the_log_or_database_files(tmp_path, manual_clock):
    db = str(tmp_path / "civic.db")
    engine = Engine(db, outbox=tmp_path / "o.jsonl")
    try:
        add(engine, "kim.admin", "system_admin", password="Sup3r-secret-passphrase")
        admin = engine.identity.authenticate(engine.identity.sign_in("kim.admin", "Sup3r-secret-passphrase").token)
        engine.identity.set_password(admin, admin.id, "An0ther-secret-passphrase")
        with pytest.raises(Unauthorized):
            engine.identity.sign_in("kim.admin", "Wr0ng-secret-passphrase")
        exported = repr([r.payload for r in engine.records()])
    finally:
        engine.close()
    for needle in ("Sup3r-secret", "An0ther-secret", "Wr0ng-secret", "$argon2", "kim.admin", "Name of kim"):
        assert needle not in exported
        for path in tmp_path.iterdir():
            assert needle.encode() not in path.read_bytes(), (needle, path.name)


# -- HTTP -----------------------------------------------------------------------------------
@pytest.fixture
def client(sqlite_engine):
    with TestClient(create_app(sqlite_engine)) as c:
        yield c


def bearer(client, username, password=PASSWORD) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_http_sign_in_me_and_staff_administration(client, sqlite_engine):
    add(sqlite_engine, "admin", "system_admin")
    admin = bearer(client, "admin")
    me = client.get("/api/auth/me", headers=admin).json()
    assert me["roles"] == ["system_admin"] and me["name"] == "Name of admin"

    r = client.post("/api/staff", headers=admin, json={"username": "lee", "name": "Lee Officer",
                                                       "password": PASSWORD, "roles": ["field_officer"]})
    assert r.status_code == 201, r.text
    lee_id = r.json()["id"]
    lee = bearer(client, "lee")
    assert client.post(f"/api/staff/{lee_id}/roles", headers=admin, json={"role": "auditor"}).json()["roles"] == [
        "auditor", "field_officer"]
    assert client.get("/api/staff", headers=lee).status_code == 200  # auditors read the staff list
    assert client.delete(f"/api/staff/{lee_id}/roles/auditor", headers=admin).json()["roles"] == ["field_officer"]
    assert client.get("/api/staff", headers=lee).status_code == 403

    r = client.post("/api/auth/password", headers=lee,
                    json={"current_password": PASSWORD, "new_password": "lee's new password"})
    assert r.status_code == 200
    assert client.get("/api/auth/me", headers=lee).status_code == 401  # the old token is gone
    lee = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/auth/me", headers=lee).status_code == 200
    assert client.post(f"/api/staff/{lee_id}/disable", headers=admin).json()["disabled"] is True
    assert client.get("/api/auth/me", headers=lee).status_code == 401


def test_http_refusals_are_problem_json_and_change_nothing(client, sqlite_engine):
    add(sqlite_engine, "kim", "auditor")
    kim = bearer(client, "kim")
    before = sqlite_engine.position
    new = {"username": "x123", "name": "X", "password": PASSWORD, "roles": ["system_admin"]}
    r = client.post("/api/staff", json=new)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = client.post("/api/staff", json=new, headers=kim)
    assert (r.status_code, r.json()["title"], r.json()["permission"]) == (403, "Not allowed", "staff.manage")
    r = client.post("/api/staff", json=new, headers={"Authorization": "Bearer civic1.forged.token"})
    assert r.status_code == 401
    r = client.post("/api/staff", json=new, headers={"Authorization": "Basic a2ltOnB3"})
    assert r.status_code == 401
    assert sqlite_engine.position == before


def test_wrong_passwords_never_reach_answers_or_logs(client, sqlite_engine, caplog):
    add(sqlite_engine, "kim", "auditor")
    caplog.set_level(logging.DEBUG)
    secret = "Tr0ub4dor&3-guess"
    answers = [client.post("/api/auth/token", json={"username": "kim", "password": secret}).text,
               client.post("/api/auth/token", json={"username": "nobody", "password": secret}).text,
               client.post("/api/auth/token", json={"username": "kim", "password": [secret]}).text,
               client.post("/api/staff", json={"username": "kim", "password": secret}).text]
    assert all(secret not in a for a in answers)
    # the same answer whether or not the user name exists
    assert answers[0] == answers[1]
    assert secret not in caplog.text


# -- CLI ------------------------------------------------------------------------------------
@pytest.fixture
def run(tmp_path, monkeypatch, manual_clock):
    db = str(tmp_path / "civic.db")
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager())
    monkeypatch.delenv("CIVIC_TOKEN", raising=False)
    monkeypatch.delenv("CIVIC_REQUIRE_TOKEN", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(cli_module.cli, [*args, "--db", db], input=input, env=env, catch_exceptions=False)

    invoke.db = db  # type: ignore[attr-defined]
    return invoke


def test_cli_bootstrap_by_the_local_operator_then_tokens(run):
    r = run("staff", "add", "admin", "--name", "Kim Admin", "--role", "system_admin", "--password-stdin",
            input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = run("staff", "signin", "admin", "--password-stdin", input=PASSWORD + "\n")
    token = r.output.strip()
    assert token.startswith("civic1.")
    r = run("staff", "whoami", "--json", env={"CIVIC_TOKEN": token})
    assert '"name": "Kim Admin"' in r.output
    r = run("staff", "add", "lee", "--name", "Lee", "--role", "auditor", "--password-stdin",
            input=PASSWORD + "\n", env={"CIVIC_TOKEN": token})
    assert r.exit_code == 0, r.output
    lee = run("staff", "signin", "lee", "--password-stdin", input=PASSWORD + "\n").output.strip()
    r = run("staff", "list", "--token", lee)
    assert r.exit_code == 0 and "admin" in r.output and "lee" in r.output
    r = run("staff", "grant", "lee", "system_admin", "--token", lee)
    assert r.exit_code == 1 and "Not allowed" in r.output
    r = run("staff", "signin", "lee", "--password-stdin", input="wrong password\n")
    assert r.exit_code == 1 and "Wrong user name or password" in r.output and "wrong password" not in r.output


def test_cli_without_token_needs_to_be_the_operator(run, tmp_path):
    r = run("staff", "whoami", env={"CIVIC_REQUIRE_TOKEN": "1"})
    assert r.exit_code == 1 and "Sign-in required" in r.output
    assert "system_admin" in run("staff", "whoami").output
    secrets = Path(run.db + ".secrets")
    secrets.chmod(0o644)  # a secrets file others could read is refused, and so is the operator
    r = run("staff", "whoami")
    assert r.exit_code == 1 and "Not the operator" in r.output


def test_cli_prints_the_assembled_permission_table(monkeypatch):
    from tests.support import petition

    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager(extra=[petition]))
    r = CliRunner().invoke(cli_module.cli, ["permissions", "--json"])
    table = json.loads(r.output)
    assert table["petition.close"] == ["process_admin"]
    assert table["staff.manage"] == ["system_admin"]
    assert table["auth.sign_in"] == ["anyone"]
