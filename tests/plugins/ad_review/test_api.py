"""The HTTP face: applicants, members' signed acts, the public report, and problem+json refusals."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import argon2
import pytest
from litestar.testing import TestClient

from core.http import create_app
from core.actors import Role, local_operator
from core.passwords import use_password_hasher
from plugins.ad_review import signing
from plugins.ad_review.domain import session_id
from tests.plugins.ad_review.helpers import JPEG, PNG, join, member_key

MEMBERS = ("kim", "lee", "park", "choi", "jung")


PASSWORD = "correct horse battery"


class SignIn:
    """Authorization headers of a committee member or the secretary, signed in at the clock's
    current time (tests move the clock by days; tokens last hours)."""

    def __init__(self, engine):
        self.identity = engine.identity
        self.identity.add_staff(local_operator(), "secretary.kim", "도시디자인과 김주무관", PASSWORD,
                                [Role.PROCESS_ADMIN])
        self.identity.add_staff(local_operator(), "member.lee", "이위원", PASSWORD, [Role.COMMITTEE_MEMBER])

    def __getitem__(self, who):
        name = {"secretary": "secretary.kim", "member": "member.lee"}[who]
        return {"Authorization": f"Bearer {self.identity.sign_in(name, PASSWORD).token}"}


@pytest.fixture
def tokens(sqlite_engine):
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    try:
        yield SignIn(sqlite_engine)
    finally:
        use_password_hasher(previous)


@pytest.fixture
def client(sqlite_engine, sunday):
    join(sqlite_engine, *MEMBERS)
    with TestClient(create_app(sqlite_engine)) as c:
        yield c


def form(sha256: str, **overrides):
    data = {
        "applicant": {"name": "김영희", "phone": "010-9876-5432", "business": "명동 안경원"},
        "sign_type": "projecting",
        "location": {"address": "서울 중구 명동길 14", "dong": "명동"},
        "size": {"width_m": 0.8, "height_m": 3.2},
        "illumination": "internal",
        "attachments": [{"sha256": sha256}],
    }
    return data | overrides


def upload(client, data=PNG, content_type="image/png"):
    return client.post("/api/ad_review/attachments", content=data, headers={"content-type": content_type})


def test_upload_submit_decide_and_report(client, tokens, sqlite_engine, sunday):
    stored = upload(client)
    assert stored.status_code == 201 and stored.json()["media_type"] == "image/png"
    assert client.get(f"/api/ad_review/attachments/{stored.json()['sha256']}").content == PNG
    created = client.post("/api/ad_review/applications", json=form(stored.json()["sha256"]))
    assert created.status_code == 201, created.text
    app = created.json()
    assert (app["status"], app["committee"], app["rule_id"]) == ("queued", "small", "R4")

    sunday.advance(hours=21)
    sqlite_engine.tick()
    sid = str(session_id("2016-W10"))
    assert [q["application"] for q in client.get("/api/ad_review/members/kim/queue").json()] == [app["id"]]

    for m in ("kim", "lee", "park"):
        body = {"member": m, "decision": "approve", "reasons": "규격 적정"}
        message = signing.decision_bytes(sid, app["id"], m, "approve", "규격 적정", [])
        body["signature"] = signing.sign(member_key(m), message)
        r = client.post(f"/api/ad_review/sessions/{sid}/applications/{app['id']}/decisions", json=body,
                        headers=tokens["member"])
        assert r.status_code == 201, r.text
    assert client.get("/api/ad_review/members/kim/queue").json() == []
    unknown = client.get("/api/ad_review/members/kimm/queue")  # a mistyped id is not "nothing to do"
    assert unknown.status_code == 404 and "'kimm'" in unknown.json()["detail"]

    sunday.advance(days=4, hours=9)
    sqlite_engine.tick()
    listed = client.get("/api/ad_review/applications", params={"status": "decided"}).json()
    assert [a["id"] for a in listed] == [app["id"]] and "010-9876-5432" not in str(listed)
    assert client.get("/api/ad_review/applications", params={"status": "lost"}).status_code == 400
    status = client.get(f"/api/ad_review/applications/{app['id']}").json()
    assert status["outcome"] == "approve" and status["notice_sent"]
    public = client.get("/api/ad_review/decisions", params={"from": "2016-03-01", "to": "2016-03-31"}).json()
    assert [d["application"] for d in public] == [app["id"]]
    assert "010-9876-5432" not in str(public) and "김영희" not in str(public)

    report = client.get("/api/ad_review/report", params={"from": "2016-03-01", "to": "2016-03-31"}).json()
    # submitted Sunday 12:00, noticed Friday 18:00 (Seoul): 5.25 days, just over the target
    assert report["small_committee"]["decided"] == 1 and report["small_committee"]["median_days"] == 5.25
    assert report["small_committee"]["within_target"] == 0
    svg = client.get("/api/ad_review/report.svg", params={"from": "2016-03-01", "to": "2016-03-31"})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.text)
    assert root.tag.endswith("svg") and "2016-W10" in svg.text


def test_refusals_are_problem_json_and_name_the_fields(client, sqlite_engine):
    r = client.post("/api/ad_review/applications", json={"sign_type": "wall", "size": {"width_m": "wide"}})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert {"applicant", "location", "size.width_m", "size.height_m", "illumination"} <= set(r.json()["fields"])
    assert upload(client, b"MZ\x90\x00 not an image", "image/png").status_code == 422
    assert upload(client, JPEG, "image/png").status_code == 422
    assert client.get("/api/ad_review/attachments/" + "0" * 64).status_code == 404


def test_a_bad_signature_is_refused_on_receipt(client, tokens, sqlite_engine, sunday):
    sha = upload(client).json()["sha256"]
    app = client.post("/api/ad_review/applications", json=form(sha)).json()
    sunday.advance(hours=21)
    sqlite_engine.tick()
    sid = str(session_id("2016-W10"))
    before = sqlite_engine.position
    body = {"member": "kim", "decision": "approve", "reasons": "좋음",
            "signature": signing.sign(member_key("lee"), signing.decision_bytes(sid, app["id"], "kim", "approve",
                                                                                 "좋음", []))}
    url = f"/api/ad_review/sessions/{sid}/applications/{app['id']}/decisions"
    r = client.post(url, json=body, headers=tokens["member"])
    assert r.status_code == 403 and "signature" in r.json()["detail"]
    r = client.post(url, json=body | {"decision": "maybe"}, headers=tokens["member"])
    assert r.status_code == 400
    good = body | {"signature": signing.sign(member_key("kim"), signing.decision_bytes(
        sid, app["id"], "kim", "approve", "좋음", []))}
    assert client.post(url, json=good).status_code == 401  # a signature alone is not a sign-in
    assert sqlite_engine.position == before


def test_secretary_routes_need_a_signed_in_secretary(client, sqlite_engine):
    before = sqlite_engine.position
    r = client.post("/api/ad_review/members", json={"member_id": "new", "name": "새 위원",
                                                    "public_key": signing.public_key_b64(signing.generate())})
    assert r.status_code == 401
    assert client.put("/api/ad_review/quorum", json={"participation": "0"}).status_code == 401
    assert sqlite_engine.position == before
    committee = client.get("/api/ad_review/committee").json()
    assert [m["member_id"] for m in committee["members"]] == sorted(MEMBERS)


def test_openapi_lists_the_routes(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/api/ad_review/sessions/{session_id}/applications/{application_id}/decisions" in paths
    assert "/api/ad_review/report" in paths and "/api/ad_review/applications" in paths


def test_a_signed_in_secretary_manages_the_committee(client, tokens, sqlite_engine):
    secretary, member = tokens["secretary"], tokens["member"]
    new_key = signing.public_key_b64(signing.generate())
    body = {"member_id": "yoon", "name": "윤위원", "public_key": new_key}
    assert client.post("/api/ad_review/members", json=body, headers=member).status_code == 403
    r = client.post("/api/ad_review/members", json=body, headers=secretary)
    assert r.status_code == 201 and "yoon" in [m["member_id"] for m in r.json()["members"]]
    r = client.put("/api/ad_review/quorum", json={"participation": "2/3", "participation_inclusive": True},
                   headers=secretary)
    assert r.status_code == 200 and r.json()["quorum"]["participation"] == "2/3"
    r = client.put("/api/ad_review/routing", json=[{"id": "ALL", "committee": "sideways"}], headers=secretary)
    assert r.status_code == 422 and "rules[0]" in r.json()["fields"]
    joined = [r for r in sqlite_engine.records() if r.event_name == "Committee.MemberJoined"]
    assert joined[-1].payload["by"] == str(sqlite_engine.identity.account_id("secretary.kim"))


def test_bad_quorum_settings_are_refused_and_change_nothing(client, tokens, sqlite_engine):
    secretary = tokens["secretary"]
    before = sqlite_engine.position
    for body in ({"participation": "1e-99999999"},  # would make Fraction build a huge number
                 {"participation_inclusive": "false"},  # a string is not a boolean
                 {"quorum": -1},  # unknown setting, not a silent reset to the defaults
                 {"decision": "abc"}):
        r = client.put("/api/ad_review/quorum", json=body, headers=secretary)
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith("application/problem+json")
    assert sqlite_engine.position == before


def test_bad_schedules_are_refused_in_words_and_change_nothing(client, tokens, sqlite_engine):
    before = sqlite_engine.position
    for body, words in (({"open_weekday": "x"}, "weekdays"), ({"weekday": 99}, "Unknown schedule setting"),
                        ({"close_time": "6pm"}, "HH:MM")):
        r = client.put("/api/ad_review/schedule", json=body, headers=tokens["secretary"])
        assert r.status_code == 422 and words in r.json()["detail"], r.json()
    assert sqlite_engine.position == before
