from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar import get
from litestar.testing import TestClient

from core.engine import Engine
from core.hookspecs import hookimpl
from core.http import REQUEST_THREADS, create_app
from core.plugins import make_plugin_manager
from tests.support import petition


@pytest.fixture
def client(db_url, manual_clock, tmp_path):
    engine = Engine(db_url, plugins=make_plugin_manager(extra=[petition]), outbox=tmp_path / "o.jsonl")
    with TestClient(create_app(engine)) as c:
        c.engine = engine
        yield c
    engine.close()


def test_healthz_reports_the_store(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["store"]["kind"] in ("sqlite", "postgresql")
    assert body["store"]["position"] == 0
    assert "ledger" in body


def test_openapi_lists_core_and_plugin_routes(client):
    spec = client.get("/schema/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/healthz", "/api/petition", "/api/petition/{petition_id}/sign"} <= set(spec["paths"])


def test_commands_through_http(client):
    created = client.post("/api/petition", json={"title": "Trees on Toegye-ro"})
    assert created.status_code == 201
    pid = created.json()["id"]
    assert client.post(f"/api/petition/{pid}/sign", json={"name": "kim"}).json() == {"signatures": 1}
    assert client.get(f"/api/petition/{pid}").json()["signatures"] == 1


def test_refused_requests_are_problem_json_and_change_nothing(client):
    pid = client.post("/api/petition", json={"title": "Bus shelter"}).json()["id"]
    client.post(f"/api/petition/{pid}/sign", json={"name": "kim"})
    before = client.engine.position

    again = client.post(f"/api/petition/{pid}/sign", json={"name": "kim"})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["detail"] == "kim has already signed."

    bad = client.post("/api/petition", json={"title": "   "})
    assert bad.status_code == 422 and bad.json()["field"] == "title"

    malformed = client.post(f"/api/petition/{pid}/sign", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")

    missing = client.post("/api/petition/00000000-0000-0000-0000-000000000000/sign", json={"name": "x"})
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"

    unknown = client.get("/api/nothing-here")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    assert client.engine.position == before


def test_unexpected_errors_say_nothing_changed(sqlite_engine):
    from litestar import get

    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret detail 1234")

    class Boom:
        from core.hookspecs import hookimpl

        @hookimpl
        def civic_register_routes(self, engine):
            return [boom]

    sqlite_engine.pm.register(Boom())
    with TestClient(create_app(sqlite_engine)) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert "secret detail" not in r.text and r.json()["title"] == "Internal error"


def test_invalid_requests_name_the_parameter_and_field_as_sent(client):
    wrong_query = client.get("/ledger/proof/consistency", params={"from": "x", "to": "3"})
    assert wrong_query.status_code == 400
    assert wrong_query.json()["errors"][0]["key"] == "from" and "expected: from." in wrong_query.json()["detail"]
    missing = client.post("/api/auth/token", json={"username": "kim"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["key"] == "password" and "expected: password." in missing.json()["detail"]
    assert client.engine.position == 0


def test_openapi_documents_the_problem_json_each_route_answers(client):
    spec = client.get("/schema/openapi.json").json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert set(spec["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}
    sign_in = spec["paths"]["/api/auth/token"]["post"]["responses"]
    # a wrong name or password is answered 401
    assert {"400", "401", "409", "422", "429"} <= set(sign_in) and "403" not in sign_in
    assert all(sign_in[code]["content"] == problem for code in ("400", "401", "422", "429"))
    staff = spec["paths"]["/api/staff/{account_id}/roles"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(staff)
    assert staff["403"]["content"] == problem
    health = spec["paths"]["/healthz"]["get"]["responses"]
    assert "401" not in health and "404" not in health and "422" not in health
    # what is documented is what is sent
    refused = client.post("/api/staff/00000000-0000-0000-0000-000000000000/roles", json={"roles": []})
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert set(refused.json()) >= {"type", "title", "status", "detail"}


class _Rendezvous:
    """A plugin with one blocking route: each request waits until ``parties`` requests are in."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=20)

        @get("/api/rendezvous", sync_to_thread=True)
        def rendezvous() -> dict[str, int]:
            return {"arrived": self.barrier.wait()}

        self.route = rendezvous

    @hookimpl
    def civic_register_routes(self, engine):
        return [self.route]


def test_more_blocking_requests_run_at_once_than_asyncio_gives_threads(tmp_path):
    # a cast holds its thread until its group commit is durable: with asyncio's default pool
    # (cores + 4 threads) the 20 requests below could never all be in at once
    parties = 20
    assert parties > min(32, (os.cpu_count() or 1) + 4) and parties <= REQUEST_THREADS
    plugin = _Rendezvous(parties)
    engine = Engine(str(tmp_path / "civic.db"), plugins=make_plugin_manager(allow=set(), extra=[plugin]),
                    outbox=tmp_path / "o.jsonl")
    try:
        with TestClient(create_app(engine)) as client, ThreadPoolExecutor(parties) as callers:
            answers = list(callers.map(lambda _: client.get("/api/rendezvous"), range(parties)))
    finally:
        engine.close()
    assert [a.status_code for a in answers] == [200] * parties
    assert sorted(a.json()["arrived"] for a in answers) == list(range(parties))


def test_security_headers_on_pages_and_json_faces(client):
    for path in ("/healthz", "/api/plugins", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in client.get("/").headers["Content-Security-Policy"]
    assert "Content-Security-Policy" not in client.get("/healthz").headers
