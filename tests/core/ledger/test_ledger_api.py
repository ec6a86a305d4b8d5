"""``/ledger/...`` over HTTP, and the ledger job of ``civic serve``."""

from __future__ import annotations

import base64

import pytest
from litestar.testing import TestClient

from core.engine import Engine
from core.http import create_app
from core.ledger.checkpoint import VerifierKey
from core.ledger.merkle import verify_consistency, verify_inclusion
from core.ledger.verify import check_receipt
from core.plugins import make_plugin_manager
from core.service import BackgroundJobs
from tests.core.ledger.conftest import add_petition
from tests.support import petition


def unb64(s: str) -> bytes:
    return base64.b64decode(s)


@pytest.fixture
def engine(manual_clock, tmp_path):
    eng = Engine(str(tmp_path / "civic.db"), plugins=make_plugin_manager(extra=[petition]), outbox=tmp_path / "o")
    yield eng
    eng.close()


@pytest.fixture
def client(engine):
    with TestClient(app=create_app(engine)) as c:
        yield c


def test_key_and_checkpoint(client, engine):
    add_petition(engine, "a", 4)
    key = client.get("/ledger/key").json()
    verifier = VerifierKey.parse(key["verifier_key"])
    assert unb64(key["public_key"]) == verifier.public_key and key["key_id"] == verifier.key_id.hex()
    body = client.get("/ledger/checkpoint").json()
    assert body["size"] == 5
    assert verifier.open_checkpoint(body["note"]).root_hash == unb64(body["root_hash"])
    note = client.get("/ledger/checkpoint", params={"format": "note"})
    assert note.headers["content-type"] == "text/plain; charset=utf-8" and note.text == body["note"]
    # nothing new: the same checkpoint, no new record
    assert client.get("/ledger/checkpoint").json() == body
    assert engine.position == 6


def test_proofs_verify_against_the_signed_roots(client, engine):
    add_petition(engine, "a", 6)
    first = client.get("/ledger/checkpoint").json()
    add_petition(engine, "b", 3)
    second = client.get("/ledger/checkpoint").json()
    inc = client.get("/ledger/proof/inclusion", params={"index": 2, "size": second["size"]}).json()
    assert inc["root_hash"] == second["root_hash"] and inc["position"] == 3
    assert verify_inclusion(unb64(inc["leaf_hash"]), 2, second["size"], [unb64(p) for p in inc["proof"]],
                            unb64(second["root_hash"]))
    con = client.get("/ledger/proof/consistency", params={"from": first["size"], "to": second["size"]}).json()
    assert (con["from_root"], con["to_root"]) == (first["root_hash"], second["root_hash"])
    assert verify_consistency(first["size"], second["size"], unb64(first["root_hash"]),
                              unb64(second["root_hash"]), [unb64(p) for p in con["proof"]])


def test_receipts_and_refusals(client, engine):
    add_petition(engine, "a", 2)
    receipt = client.get("/ledger/receipt/2").json()
    assert check_receipt(receipt, engine.ledger.verifier_key) is None
    missing = client.get("/ledger/receipt/999")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert client.get("/ledger/proof/inclusion", params={"index": 5, "size": 3}).status_code == 422
    assert client.get("/ledger/proof/inclusion", params={"index": 0, "size": 999}).status_code == 422
    assert client.get("/ledger/proof/inclusion", params={"index": -1, "size": 2}).status_code == 400
    assert client.get("/ledger/proof/consistency", params={"from": 3, "to": 2}).status_code == 422


def test_healthz_shows_the_ledger(client, engine):
    add_petition(engine, "a", 1)
    client.get("/ledger/checkpoint")
    ledger = client.get("/healthz").json()["ledger"]
    assert ledger["status"] == "ok" and ledger["tree_size"] == 3 and ledger["checkpoint"]["size"] == 2


def test_healthz_does_not_read_the_log_and_says_where_the_follower_stands(client, engine, monkeypatch):
    add_petition(engine, "a", 1)
    client.get("/ledger/checkpoint")
    add_petition(engine, "b", 2)  # the background job has not followed these yet
    from core import plugins

    calls = []
    monkeypatch.setattr(plugins, "discover", lambda: calls.append(1) or [])
    first = client.get("/healthz").json()
    second = client.get("/healthz").json()
    assert first["ledger"]["status"] == "following" and first["ledger"]["store_position"] == engine.position
    assert first["ledger"]["last_position"] < engine.position and second == first
    assert len(calls) <= 1  # package metadata is read once, not on every call
    engine.ledger.tick()  # what serve's background job does
    assert client.get("/healthz").json()["ledger"]["status"] == "ok"


def test_the_serve_job_checkpoints_new_events(engine):
    jobs = BackgroundJobs(engine, tick_seconds=3600)
    assert "ledger" in [name for name, every, _ in jobs.jobs if every <= 1.0]
    add_petition(engine, "a", 1)
    jobs.run_once()
    assert engine.ledger.latest_checkpoint().size == 2
    jobs.run_once()
    assert engine.position == 3  # nothing new, nothing signed
    add_petition(engine, "b", 0)
    jobs.stop()  # a last checkpoint on the way out
    assert engine.ledger.latest_checkpoint().size == 4


def test_the_ledger_routes_are_in_the_openapi_schema(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert {"/ledger/key", "/ledger/checkpoint", "/ledger/proof/inclusion", "/ledger/proof/consistency",
            "/ledger/receipt/{position}"} <= set(paths)
    names = [p["name"] for p in paths["/ledger/proof/consistency"]["get"]["parameters"]]
    assert names == ["from", "to"]
