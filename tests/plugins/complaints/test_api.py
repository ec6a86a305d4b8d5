"""The HTTP API under /api/complaints, with staff sign-in."""

from __future__ import annotations

import base64
import hashlib
import json

import argon2
import pytest
from litestar.testing import TestClient

from core.http import create_app
from core.actors import Role, local_operator
from core.passwords import use_password_hasher
from plugins.complaints import service

PASSWORD = "correct horse battery"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40


@pytest.fixture
def staff(sqlite_engine):
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    tokens = {}
    for name, role in (("agent", Role.CALL_CENTRE_AGENT), ("officer", Role.FIELD_OFFICER),
                       ("admin", Role.PROCESS_ADMIN), ("resident", Role.RESIDENT)):
        sqlite_engine.identity.add_staff(local_operator(), f"{name}.one", name, PASSWORD, [role])
        token = sqlite_engine.identity.sign_in(f"{name}.one", PASSWORD).token
        tokens[name] = {"Authorization": f"Bearer {token}"}
    yield tokens
    use_password_hasher(previous)


def test_intake_handle_and_read_over_http(sqlite_engine, manual_clock, staff):
    with TestClient(create_app(sqlite_engine)) as client:
        body = {"channel": "call_centre", "item": "illegal_dumping", "dong": "중림동", "description": "무단투기",
                "reporter_name": "최주민", "reporter_phone": "010-3333-4444",
                "photos": [base64.b64encode(PNG).decode()]}
        assert client.post("/api/complaints", json=body).status_code == 401
        assert client.post("/api/complaints", json=body, headers=staff["resident"]).status_code == 403
        made = client.post("/api/complaints", json=body, headers=staff["agent"])
        assert made.status_code == 201, made.text
        complaint = made.json()
        cid = complaint["id"]
        assert complaint["officer"] == "sanitation.west" and complaint["status"] == "transferred"
        assert "최주민" not in made.text and "reporter" not in complaint
        digest = hashlib.sha256(PNG).hexdigest()
        assert complaint["photos"][0]["sha256"] == digest
        photo = client.get(f"/api/complaints/media/{digest}")
        assert photo.content == PNG and photo.headers["content-type"] == "image/png"
        # personal data only for the roles that handle it
        assert client.get(f"/api/complaints/{cid}/reporter").status_code == 401
        shown = client.get(f"/api/complaints/{cid}/reporter", headers=staff["officer"]).json()
        assert shown == {"name": "최주민", "phone": "01033334444", "erased": False}
        # the officer handles it; the agent may not
        assert client.post(f"/api/complaints/{cid}/actions/accept", json={},
                           headers=staff["agent"]).status_code == 403
        accepted = client.post(f"/api/complaints/{cid}/actions/accept", json={"note": "출동"}, headers=staff["officer"])
        assert accepted.status_code == 201 and accepted.json()["status"] == "accepted"
        officer_id = sqlite_engine.identity.find("officer.one").id
        assert accepted.json()["history"][-1]["by"] == str(officer_id)
        started = client.post(f"/api/complaints/{cid}/actions/start", json={}, headers=staff["officer"])
        assert started.status_code == 201
        again = client.post(f"/api/complaints/{cid}/actions/accept", json={}, headers=staff["officer"])
        assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
        assert again.json()["current_status"] == "in_progress" and "in_progress" in again.json()["detail"]
        assert client.post(f"/api/complaints/{cid}/actions/fly", json={}, headers=staff["officer"]).status_code == 400
        done = client.post(f"/api/complaints/{cid}/actions/resolve", json={"note": "수거 완료"},
                           headers=staff["officer"])
        assert done.json()["status"] == "resolved"
        listed = client.get("/api/complaints", params={"status": "resolved"}).json()
        assert [c["id"] for c in listed] == [cid] and "reporter" not in listed[0]
        assert client.get("/api/complaints", params={"dong": "명동"}).json() == []
        assert client.get(f"/api/complaints/{cid}").json()["closed_at"] == manual_clock.now().isoformat()
        bad = client.post("/api/complaints", json={**body, "dong": "역삼동"}, headers=staff["agent"])
        assert bad.status_code == 422 and "dong" in bad.json()["detail"]


def test_taxonomy_changes_need_the_configure_permission(sqlite_engine, manual_clock, staff):
    with TestClient(create_app(sqlite_engine)) as client:
        change = {"change": "ItemChanged", "data": {"code": "pothole", "changes": {"sla_hours": 8}}}
        assert client.post("/api/complaints/taxonomy/changes", json=change,
                           headers=staff["officer"]).status_code == 403
        ok = client.post("/api/complaints/taxonomy/changes", json=change, headers=staff["admin"])
        assert ok.status_code == 201 and ok.json()["items"]["pothole"]["sla_hours"] == 8
        assert client.get("/api/complaints/taxonomy").json()["items"]["pothole"]["sla_hours"] == 8
        wrong = client.post("/api/complaints/taxonomy/changes", headers=staff["admin"],
                            json={"change": "RouteSet", "data": {"scope": "item:pothole", "dong": "역삼동",
                                                                 "officer": "x"}})
        assert wrong.status_code == 422
    assert service.taxonomy(sqlite_engine)["items"]["pothole"]["sla_hours"] == 8


def test_index_survives_restart_and_rebuild(sqlite_engine, manual_clock):
    for dong in ("명동", "필동", "신당동"):
        service.intake(sqlite_engine, channel="portal", item="street_light", dong=dong, description="가로등")
    live = service.index(sqlite_engine)
    rebuilt = sqlite_engine.read_models.rebuild(["complaints.index"])
    assert json.loads(rebuilt["complaints.index"]) == live


def test_routes_are_in_the_openapi_document(sqlite_engine):
    with TestClient(create_app(sqlite_engine)) as client:
        paths = client.get("/schema/openapi.json").json()["paths"]
    for path in ("/api/complaints", "/api/complaints/{complaint_id}/actions/{action}", "/api/complaints/reports/yearly",
                 "/api/complaints/reports/monthly", "/api/complaints/reports/yearly.svg", "/open311/v2/services.json",
                 "/open311/v2/requests.json", "/open311/v2/requests.xml", "/open311/v2/tokens/{name}"):
        assert path in paths, path


def test_list_command(sqlite_engine, manual_clock):
    from click.testing import CliRunner

    from plugins.complaints.cli import complaints

    late = service.intake(sqlite_engine, channel="call_centre", item="idling", dong="광희동", description="공회전")
    service.intake(sqlite_engine, channel="call_centre", item="street_tree", dong="광희동", description="가지")
    manual_clock.advance(hours=5)
    out = CliRunner().invoke(complaints, ["list", "--db", sqlite_engine.db, "--overdue", "--json"])
    assert out.exit_code == 0, out.output
    assert [e["id"] for e in json.loads(out.output)] == [str(late.id)]
    text = CliRunner().invoke(complaints, ["list", "--db", sqlite_engine.db])
    assert text.output.count("광희동") == 2 and text.output.count("OVERDUE") == 1
