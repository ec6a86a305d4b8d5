"""The HTTP API: a whole cycle through the endpoints, errors as problem+json, OpenAPI."""

from __future__ import annotations

import csv
import io

import argon2
import pytest
from litestar.testing import TestClient

from core.engine import Engine
from core.http import create_app
from core.actors import Role, local_operator
from core.passwords import use_password_hasher
from core.plugins import make_plugin_manager

PASSWORD = "correct horse battery"
OFFICIAL: dict[str, str] = {}
RESIDENT: dict[str, str] = {}


@pytest.fixture
def client(manual_clock, tmp_path):
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    engine = Engine(str(tmp_path / "c.db"), plugins=make_plugin_manager(allow={"budget_vote"}),
                    outbox=tmp_path / "o.jsonl")
    for username, role, headers in (("kim.official", Role.PROCESS_ADMIN, OFFICIAL), ("lee.resident", Role.RESIDENT, RESIDENT)):
        account = engine.identity.add_staff(local_operator(), username, username, PASSWORD, [role])
        headers.clear()
        headers["authorization"] = f"Bearer {engine.identity.sign_in(username, PASSWORD).token}"
        headers["x-account"] = str(getattr(account, "id", account))
    with TestClient(create_app(engine)) as c:
        c.engine = engine
        yield c
    engine.close()
    use_password_hasher(previous)


def ok(response, status=201):
    assert response.status_code == status, response.text
    return response.json()


def test_a_cycle_through_the_api(client):
    cycle = ok(client.post("/api/budget/cycles", headers=OFFICIAL, json={
        "name": "2016 district", "budget": 100_000_000,
        "ballot_style": {"kind": "approval", "min_projects": 1, "max_projects": 2}}))
    cid = cycle["id"]
    for title, dong in (("보안등", "소공동"), ("놀이터", "장충동"), ("경로당", "다산동")):
        ok(client.post(f"/api/budget/cycles/{cid}/proposals", headers=RESIDENT,
                       json={"title": title, "dong": dong, "category": "복지", "proposer": "주민"}))
    ok(client.post(f"/api/budget/cycles/{cid}/phase", headers=OFFICIAL, json={"to": "screening"}))
    for pid, cost in (("1", 60_000_000), ("2", 50_000_000), ("3", 30_000_000)):
        ok(client.post(f"/api/budget/cycles/{cid}/proposals/{pid}/screening", headers=OFFICIAL,
                       json={"feasible": True, "cost": cost, "reason": "checked by the department"}))
    roll = "entry_id,contact,group\n" + "".join(f"r{i},0101234567{i},필동\n" for i in range(5)) + "booth-7,booth7@example.org,명동\n"
    assert ok(client.post(f"/api/budget/cycles/{cid}/roll", headers=OFFICIAL, json={"csv": roll}))["total"] == 6
    ok(client.post(f"/api/budget/cycles/{cid}/phase", headers=OFFICIAL, json={"to": "voting"}))
    residents = [f"r{i}" for i in range(5)]
    assert ok(client.post(f"/api/budget/cycles/{cid}/codes", headers=OFFICIAL, json={"entry_ids": residents}))["sent"] == 5
    codes = {m["key"].split("/")[2]: m["text"].rsplit(" ", 1)[-1] for m in client.engine.outbox.sent()}
    wrong = client.post(f"/api/budget/cycles/{cid}/credential", json={"entry_id": "r0", "code": "WRONG1"})
    assert wrong.status_code == 401
    credentials = {r: ok(client.post(f"/api/budget/cycles/{cid}/credential",
                                     json={"entry_id": r, "code": codes[r]}))["credential"] for r in residents}
    projects = ok(client.get(f"/api/budget/cycles/{cid}/projects"), 200)
    assert [p["cost"] for p in projects] == [60_000_000, 50_000_000, 30_000_000]

    refused = client.post(f"/api/budget/cycles/{cid}/ballot", json={"credential": credentials["r1"], "choice": ["1", "2", "3"]})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["rule"] == "max-projects" and "at most 2" in refused.json()["detail"]

    receipts = [ok(client.post(f"/api/budget/cycles/{cid}/ballot", json={"credential": credentials[f"r{i}"], "choice": c}))
                for i, c in enumerate([["1", "3"], ["1"], ["2"], ["2", "3"]])]
    ok(client.post(f"/api/budget/cycles/{cid}/ballot", json={"credential": credentials["r1"], "choice": ["3"]}))
    forged = client.post(f"/api/budget/cycles/{cid}/ballot", json={"credential": "nope", "choice": ["3"]})
    assert forged.status_code == 401
    paper = ok(client.post(f"/api/budget/cycles/{cid}/paper-ballots", headers=OFFICIAL,
                           json={"entry_id": "booth-7", "choice": ["3"]}))
    assert paper["channel"] == "paper"

    assert client.get(f"/api/budget/cycles/{cid}/results").status_code == 409
    ok(client.post(f"/api/budget/cycles/{cid}/phase", headers=OFFICIAL, json={"to": "tallying"}))
    computed = ok(client.post(f"/api/budget/cycles/{cid}/tally", headers=OFFICIAL))
    # votes after r1 replaced its ballot: 3 has 4, 2 has 2, 1 has 1; 1 (60M) no longer fits after 80M
    assert computed["computed_winners"] == ["3", "2"] and computed["inputs"]["ballots_counted"] == 5
    embargoed = client.get(f"/api/budget/cycles/{cid}/results")
    assert embargoed.status_code == 409 and "embargoed" in embargoed.json()["detail"]
    assert client.get(f"/api/budget/cycles/{cid}/results.csv").status_code == 409
    bad = client.post(f"/api/budget/cycles/{cid}/overrides", headers=OFFICIAL,
                      json={"action": "unfund", "project_id": "1", "reason": "x"})
    assert bad.status_code == 422
    published = ok(client.post(f"/api/budget/cycles/{cid}/validation", headers=OFFICIAL))
    assert published["validated_by"] == OFFICIAL["x-account"]
    public = ok(client.get(f"/api/budget/cycles/{cid}/results"), 200)
    assert public["winners"] == published["winners"] and public["funded_total"] <= 100_000_000
    csv_answer = client.get(f"/api/budget/cycles/{cid}/results.csv")
    assert csv_answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_answer.content.startswith("\ufeffproject_id,title,dong".encode())  # the BOM: Excel reads Korean
    rows = list(csv.DictReader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
    assert {r["funded"] for r in rows} <= {"true", "false"} and {r["feasible"] for r in rows} <= {"true", "false"}

    first = ok(client.get(f"/api/budget/cycles/{cid}/receipts/{receipts[1]['tracking_code']}"), 200)
    assert first["state"] == "replaced"
    counted = ok(client.get(f"/api/budget/cycles/{cid}/receipts/{receipts[0]['tracking_code'].lower()}"), 200)
    assert counted["state"] == "counted" and counted["content"] == {"choice": ["1", "3"], "channel": "mobile"}
    assert client.get(f"/api/budget/cycles/{cid}/receipts/AAAA-BBBB").status_code == 404
    box = ok(client.get(f"/api/budget/cycles/{cid}/box"), 200)
    assert box["status"] == "closed" and box["seed"]
    cycles = ok(client.get("/api/budget/cycles"), 200)
    assert cycles[cid]["phase"] == "published" and cycles[cid]["on_ballot"] == 3


def test_out_of_order_phase_is_a_409(client):
    cid = ok(client.post("/api/budget/cycles", headers=OFFICIAL, json={"name": "c", "budget": 10}))["id"]
    response = client.post(f"/api/budget/cycles/{cid}/phase", headers=OFFICIAL, json={"to": "voting"})
    assert response.status_code == 409 and "next phase is screening" in response.json()["detail"]
    assert client.post(f"/api/budget/cycles/{cid}/phase", headers=OFFICIAL, json={"to": "published"}).status_code == 400


def test_officials_commands_need_the_role(client):
    cid = ok(client.post("/api/budget/cycles", headers=OFFICIAL, json={"name": "c", "budget": 10}))["id"]
    assert client.post("/api/budget/cycles", json={"name": "d", "budget": 10}).status_code == 401
    assert client.post("/api/budget/cycles", headers=RESIDENT, json={"name": "d", "budget": 10}).status_code == 403
    assert client.post(f"/api/budget/cycles/{cid}/phase", headers=RESIDENT, json={"to": "screening"}).status_code == 403
    assert client.get(f"/api/budget/cycles/{cid}/result", headers=RESIDENT).status_code == 403
    assert client.get("/api/budget/cycles").json()[cid]["phase"] == "proposal"
    assert client.get("/api/budget/cycles/00000000-0000-0000-0000-000000000000").status_code == 404


def test_every_budget_route_is_in_openapi(client):
    spec = client.get("/schema/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith("/api/budget")}
    assert {"/api/budget/cycles", "/api/budget/cycles/{cycle_id}/ballot", "/api/budget/cycles/{cycle_id}/results",
            "/api/budget/cycles/{cycle_id}/results.csv", "/api/budget/cycles/{cycle_id}/tally",
            "/api/budget/cycles/{cycle_id}/overrides", "/api/budget/cycles/{cycle_id}/validation",
            "/api/budget/cycles/{cycle_id}/paper-ballots", "/api/budget/cycles/{cycle_id}/receipts/{code}",
            "/api/budget/cycles/{cycle_id}/credential", "/api/budget/cycles/{cycle_id}/roll",
            "/api/budget/cycles/{cycle_id}/proposals/{project_id}/screening"} <= paths
    style = spec["components"]["schemas"]
    assert any("knapsack" in str(s) for s in style.values())


def test_an_absurd_budget_is_refused(client):
    before = client.get("/api/budget/cycles").json()
    response = client.post("/api/budget/cycles", headers=OFFICIAL, json={"name": "huge", "budget": 10**40})
    assert response.status_code == 422 and "at most" in response.json()["detail"]
    assert client.get("/api/budget/cycles").json() == before
