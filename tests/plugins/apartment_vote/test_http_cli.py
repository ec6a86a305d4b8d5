"""The HTTP API and the CLI: administrators need the process_admin role; households vote with
their code; results and certificates are public; refusals are problem+json and change nothing."""

from __future__ import annotations

import json

import argon2
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from core import cli as cli_module
from core import cli_helpers
from core.http import create_app
from core.actors import local_operator
from core.passwords import use_password_hasher
from core.plugins import make_plugin_manager
from plugins.apartment_vote import certificate as certificates
from tests.plugins.apartment_vote.support import CLOSES, OPENS, REGISTRATION, T0, roll_text

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes():
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    yield
    use_password_hasher(previous)


@pytest.fixture
def client(sqlite_engine):
    with TestClient(create_app(sqlite_engine)) as c:
        yield c


def bearer(client, engine, username, *roles):
    """Sign in (creating the account first when roles are given): tokens last hours, the
    election days, so the office signs in again after the clock moves."""
    if roles:
        engine.identity.add_staff(local_operator(), username, f"Name of {username}", PASSWORD, roles)
    r = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def codes_from(engine):
    return {m["key"].split("/")[2]: m["text"].rsplit(" ", 1)[-1]
            for m in engine.outbox.sent()}


def test_http_election_from_setup_to_certificate(client, sqlite_engine, manual_clock):
    manual_clock.set(T0)
    admin = bearer(client, sqlite_engine, "office", "process_admin")
    resident = bearer(client, sqlite_engine, "resident", "resident")
    api = "/api/apartment"

    r = client.post(f"{api}/complexes", json={"code": "JG-2", "name": "Hill"}, headers=resident)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post(f"{api}/complexes", json={"code": "JG-2", "name": "Hill"})
    assert r.status_code == 401
    assert client.post(f"{api}/complexes", json={"code": "JG-2", "name": "Hill"}, headers=admin).status_code == 201
    r = client.post(f"{api}/complexes/JG-2/roll", json={"csv": "household,building\n1,2\n"}, headers=admin)
    assert r.status_code == 422
    r = client.post(f"{api}/complexes/JG-2/roll", json={"csv": roll_text({"101": 3})}, headers=admin)
    assert r.status_code == 200 and r.json()["households"] == 3
    assert client.get(f"{api}/complexes/JG-2").json()["buildings"] == {"101": 3}
    missing = client.get(f"{api}/complexes/JG-22")  # named by the code the caller sent, not an internal id
    assert missing.status_code == 404 and missing.json()["detail"] == "No complex with the code 'JG-22'."
    assert client.post(f"{api}/complexes/JG-22/roll", json={"csv": roll_text({"101": 1})},
                       headers=admin).json()["detail"] == "No complex with the code 'JG-22'."

    r = client.post(f"{api}/elections", headers=admin, json={
        "complex": "JG-2", "title": "2016 vote", "opens_at": OPENS.isoformat(), "closes_at": CLOSES.isoformat(),
        "registration_deadline": REGISTRATION.isoformat()})
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    r = client.post(f"{api}/elections/{eid}/contests", headers=admin,
                    json={"kind": "building_representative", "title": "101 rep", "building": "101"})
    rep = r.json()["contest_id"]
    r = client.post(f"{api}/elections/{eid}/contests", headers=admin, json={"kind": "mayor", "title": "x"})
    assert r.status_code == 400  # not one of the kinds in the schema
    agenda = client.post(f"{api}/elections/{eid}/contests", headers=admin,
                         json={"kind": "agenda", "title": "Bylaw"}).json()["contest_id"]
    r = client.post(f"{api}/elections/{eid}/contests/{agenda}/rules", headers=admin,
                    json={"changes": {"approval_basis": "voters"}, "note": "bylaw art. 40"})
    assert r.status_code == 200 and r.json()["approval_basis"] == "voters"
    changed = [e for _, e in sqlite_engine.log_events() if type(e).__name__ == "RulesChanged"]
    assert [(e.note, e.by) for e in changed] == [("bylaw art. 40", str(sqlite_engine.identity.find("office").id))]
    kim = client.post(f"{api}/elections/{eid}/contests/{rep}/candidates", headers=admin,
                      json={"name": "Kim Minsu"}).json()["candidate_id"]
    assert client.get(f"{api}/elections/{eid}").json()["contests"][rep]["ballot"]["form"] == "approve"

    manual_clock.set(OPENS)
    admin = bearer(client, sqlite_engine, "office")
    assert client.post(f"{api}/elections/{eid}/open", headers=admin).json()["status"] == "open"
    assert client.post(f"{api}/elections/{eid}/codes", headers=admin, json={}).json()["codes_sent"] == 3
    codes = codes_from(sqlite_engine)
    r = client.post(f"{api}/elections/{eid}/authenticate", json={"household": "101-0001", "code": "AAAAAA"})
    assert r.status_code == 401
    receipts = []
    for household, choice in (("101-0001", [kim]), ("101-0002", [])):
        r = client.post(f"{api}/elections/{eid}/authenticate", json={"household": household, "code": codes[household]})
        assert r.status_code == 200, r.text
        credential = r.json()["credential"]
        r = client.post(f"{api}/elections/{eid}/ballot",
                        json={"credential": credential, "choices": {rep: choice, agenda: ["yes"]}})
        assert r.status_code == 200, r.text
        receipts.append(r.json()["tracking_code"])
    r = client.post(f"{api}/elections/{eid}/ballot", json={"credential": "forged", "choices": {rep: []}})
    assert r.status_code == 401
    assert client.get(f"{api}/elections/{eid}/results").json()["results"] is None

    manual_clock.set(CLOSES)
    admin = bearer(client, sqlite_engine, "office")
    results = client.post(f"{api}/elections/{eid}/close", headers=admin).json()["results"]
    # 2 of 3 voted; Kim approved by 1 of 2 voters: not more than half
    assert results[rep]["status"] == "not_elected" and "50.0% yes (1 of 2 voters)" in results[rep]["reason"]
    assert results[agenda]["status"] == "adopted"
    assert client.get(f"{api}/elections/{eid}/receipts/{receipts[0]}").json()["state"] == "counted"
    listing = client.get(f"{api}/elections").json()
    assert listing[eid]["contests"][rep]["result"]["status"] == "not_elected"

    signed = client.get(f"{api}/elections/{eid}/contests/{rep}/certificate").json()
    assert certificates.verify(signed)
    key = client.get(f"{api}/certificate-key").json()
    assert certificates.verify(signed, key.get("verifier_key") or key.get("public_key"))
    page = client.get(f"{api}/elections/{eid}/contests/{rep}/certificate.html")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Kim Minsu" in page.text and "not elected" in page.text
    schema = client.get("/schema/openapi.json").json()
    assert f"{api}/elections/{{election_id}}/contests/{{contest_id}}/certificate" in schema["paths"]


def test_cli_runs_an_election(tmp_path, monkeypatch, manual_clock):
    db = str(tmp_path / "civic.db")
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager())
    monkeypatch.delenv("CIVIC_TOKEN", raising=False)
    monkeypatch.delenv("CIVIC_REQUIRE_TOKEN", raising=False)
    monkeypatch.setenv("CIVIC_OUTBOX", str(tmp_path / "outbox.jsonl"))
    cli_helpers._plugin_manager.hook.civic_register_commands(cli=cli_module.cli)
    runner = CliRunner()

    def run(*args, group="apartment", input=None):
        return runner.invoke(cli_module.cli, [group, *args, "--db", db], input=input, catch_exceptions=False)

    manual_clock.set(T0)
    # the local operator (system_admin) may administer elections, as in every process; here it
    # makes the election office's account, and the office signs in
    assert run("complex-add", "JG-9", "Operator's test complex").exit_code == 0
    r = run("add", "office", "--name", "Election office", "--role", "process_admin", "--password-stdin",
            group="staff", input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output

    def sign_in():
        monkeypatch.delenv("CIVIC_TOKEN", raising=False)
        token = run("signin", "office", "--password-stdin", group="staff", input=PASSWORD + "\n").output.strip()
        monkeypatch.setenv("CIVIC_TOKEN", token)

    sign_in()
    roll = tmp_path / "roll.csv"
    roll.write_text(roll_text({"101": 2, "102": 2}))
    assert run("complex-add", "JG-3", "Namsan").exit_code == 0
    assert "4 households imported" in run("roll-import", "JG-3", str(roll)).output
    eid = run("election-add", "JG-3", "--title", "t", "--opens", OPENS.isoformat(), "--closes",
              CLOSES.isoformat(), "--registration-deadline", REGISTRATION.isoformat()).output.strip()
    chair = run("contest-add", eid, "chair", "Chair").output.strip()
    r = run("rules-set", eid, chair, "turnout_num=1", "turnout_den=2", "--note", "bylaw 9")
    assert r.exit_code == 0 and json.loads(r.output)["turnout_den"] == 2
    a = run("candidate-add", eid, chair, "Kim").output.strip()
    b = run("candidate-add", eid, chair, "Lee").output.strip()
    manual_clock.set(OPENS)
    sign_in()
    assert "4 households" in run("open", eid).output
    assert "4 code(s) sent" in run("codes", eid).output
    sent = {json.loads(line)["key"].split("/")[2]: json.loads(line)["text"].rsplit(" ", 1)[-1]
            for line in (tmp_path / "outbox.jsonl").read_text().splitlines()}
    r = run("vote", eid, "--household", "101-0001", "--code", sent["101-0001"], "--choice", f"{chair}=nobody")
    assert r.exit_code == 1 and "Not an option" in r.output
    r = run("vote", eid, "--household", "101-0001", "--code", sent["101-0001"], "--choice", f"{chair}={a}", "--json")
    first = json.loads(r.output)
    # the code was not spent by the refused ballot; the credential votes again
    r = run("vote", eid, "--credential", first["credential"], "--choice", f"{chair}={b}")
    assert r.exit_code == 0, r.output
    run("vote", eid, "--household", "102-0001", "--code", sent["102-0001"], "--choice", f"{chair}={b}")
    r = run("close", eid)
    assert r.exit_code == 1 and "not before" in r.output
    manual_clock.set(CLOSES)
    sign_in()
    r = run("close", eid)
    assert r.exit_code == 0 and "elected: Lee (2 votes)" in r.output
    r = run("certificate", eid, chair, "--html", str(tmp_path / "c.html"))
    assert certificates.verify(json.loads(r.output)) and "Lee" in (tmp_path / "c.html").read_text()
    assert "closed" in run("list").output
