"""The command line (a member's key and signature made offline, the report) and the demo:
eight weeks of sessions whose every decision the audit re-derives."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from core.cli import cli
from core.clock import SEOUL
from plugins.ad_review import demo, queries, sla
from plugins.ad_review.audit import retally, sla_rows_from_records
from plugins.ad_review.cli import adreview
from plugins.ad_review.domain import session_id
from tests.plugins.ad_review.helpers import ad_engine

if "adreview" not in cli.commands:
    cli.add_command(adreview)


def run(*args, ok=True):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def test_member_makes_a_key_signs_offline_and_decides(tmp_path, sunday, monkeypatch):
    db = str(tmp_path / "civic.db")
    monkeypatch.setenv("CIVIC_SECRETS", str(tmp_path / "secrets"))
    keys = {}
    for m in ("kim", "lee", "park"):
        keys[m] = tmp_path / f"{m}.pem"
        public = run("adreview", "keygen", "--out", str(keys[m])).strip()
        run("adreview", "member", "add", m, "--db", db, "--name", f"위원 {m}", "--public-key", public)
    assert oct(keys["kim"].stat().st_mode & 0o777) == "0o600"
    run("adreview", "schedule", "--db", db, "--open", "0 09:00", "--intake-until", "2 18:00", "--close", "4 18:00")
    assert "schedule set" not in CliRunner().invoke(
        cli, ["adreview", "schedule", "--db", db, "--open", "3 09:00", "--intake-until", "2 18:00"]).output
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    out = json.loads(run("adreview", "submit", "--db", db, "--json", "--applicant", "홍길동", "--phone", "010-2222-3333",
                         "--sign-type", "wall", "--address", "서울 중구 퇴계로 10", "--dong", "필동", "--width", "3",
                         "--height", "1", "--illumination", "none", "--attach", str(photo)))
    app = out["id"]
    assert out["committee"] == "small" and out["attachments"][0]["media_type"] == "image/jpeg"
    sunday.advance(hours=21)
    run("tick", "--db", db)
    sid = str(session_id("2016-W10"))
    assert app in run("adreview", "queue", "kim", "--db", db)

    signature = run("adreview", "sign", "--key", str(keys["kim"]), "--session", sid, "--application", app,
                    "--member", "kim", "--decision", "approve", "--reasons", "적합").strip()
    run("adreview", "decide", "--db", db, "--session", sid, "--application", app, "--member", "kim",
        "--decision", "approve", "--reasons", "적합", "--signature", signature)
    run("adreview", "decide", "--db", db, "--session", sid, "--application", app, "--member", "lee",
        "--decision", "approve", "--reasons", "적합", "--key", str(keys["lee"]))
    # park signs with lee's key: refused, exit 1
    refused = CliRunner().invoke(cli, ["adreview", "decide", "--db", db, "--session", sid, "--application", app,
                                       "--member", "park", "--decision", "reject", "--reasons", "x",
                                       "--key", str(keys["lee"])])
    assert refused.exit_code == 1 and "signature" in refused.output
    run("adreview", "recuse", "--db", db, "--session", sid, "--application", app, "--member", "park",
        "--reason", "가족 업소", "--key", str(keys["park"]))
    run("adreview", "comment", "--db", db, "--session", sid, "--application", app, "--member", "kim",
        "--key", str(keys["kim"]), "야간 조명 확인 바랍니다")
    shown = run("adreview", "thread", "--db", db, "--session", sid, "--application", app)
    assert "kim: 야간 조명 확인 바랍니다" in shown and "recused: park" in shown and "decided: kim, lee" in shown
    sunday.advance(days=4, hours=9)
    assert "2016-W10 closed: 1 decided" in run("tick", "--db", db)
    assert "approve" in run("adreview", "status", app, "--db", db)
    assert app in run("adreview", "applications", "--db", db, "--status", "decided")
    assert run("adreview", "applications", "--db", db, "--status", "referred").strip() == "no applications"

    report = json.loads(run("adreview", "report", "--db", db, "--from", "2016-03-01", "--to", "2016-03-31", "--json",
                            "--svg", str(tmp_path / "weekly.svg")))
    assert report["small_committee"]["decided"] == 1
    assert (tmp_path / "weekly.svg").read_text().startswith("<svg")
    text = run("adreview", "report", "--db", db, "--from", "2016-03-01", "--to", "2016-03-31")
    assert "within 5 days" in text and "2016-W10" in text


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo")
    import os

    old = os.environ.get("CIVIC_ADREVIEW_ATTACHMENTS")
    os.environ["CIVIC_ADREVIEW_ATTACHMENTS"] = str(path / "attachments")
    engine = ad_engine(str(path / "civic.db"), outbox=path / "outbox.jsonl")
    demo.load_demo(engine, lambda step: None)
    try:
        yield engine
    finally:
        engine.close()
        if old is None:
            os.environ.pop("CIVIC_ADREVIEW_ATTACHMENTS", None)
        else:
            os.environ["CIVIC_ADREVIEW_ATTACHMENTS"] = old


def test_demo_holds_eight_weeks_and_the_audit_re_derives_every_decision(demo_store):
    engine = demo_store
    sessions = engine.read_models.get("ad_review.sessions").state
    assert sorted(s["week"] for s in sessions.values()) == [f"2016-W{w}" for w in range(10, 18)]
    assert all(s["status"] == "closed" for s in sessions.values())
    records = list(engine.records())
    report = retally(records)
    assert report.ok, report.discrepancies[:3]
    results = sum(len(s["results"]) for s in sessions.values())
    signed = sum(1 for r in records if r.event_name in ("Deliberation.DecisionCast", "Deliberation.Recused",
                                                         "Deliberation.Commented"))
    assert results > 100 and signed > 400
    assert report.checked >= results + signed

    r = queries.report(engine, date(2016, 3, 1), date(2016, 4, 30))
    small = r["small_committee"]
    assert small["decided"] >= 80 and 0 < small["share_within_target"] < 1
    assert small["median_days"] < r["baseline_days"] < r["full_committee"]["p90_days"] + 28
    assert len(r["weekly"]) == 8
    assert r == sla.sla_report(sla_rows_from_records(records), date(2016, 3, 1), date(2016, 4, 30), SEOUL)
    noticed = {m["key"].split(":")[1] for m in engine.outbox.sent()}
    decided = {a for a, v in engine.read_models.get("ad_review.applications").state.items() if v["noticed_at"]}
    assert decided <= noticed


def test_demo_state_rebuilds_identically(demo_store):
    engine = demo_store
    engine.read_models.flush()
    before = {n: engine.read_models.stored_state(n) for n in ("ad_review.applications", "ad_review.sessions")}
    assert engine.read_models.rebuild(list(before)) == before


def test_export_verifies_and_its_records_give_the_same_report(demo_store, tmp_path):
    from core.ledger.checkpoint import CHECKPOINT_TOPIC
    from core.ledger.leaves import log_record

    engine = demo_store
    engine.read_models.flush()
    db = engine.db
    out = tmp_path / "audit.jsonl"
    run("audit", "export", "--db", db, "--out", str(out))
    verified = run("audit", "verify", "--log", str(out))
    assert "OK" in verified and "re-tally ad_review:" in verified and ", 0 differ" in verified
    records = [log_record(json.loads(line)["record"]) for line in out.read_text(encoding="utf-8").splitlines()
               if json.loads(line).get("type") == "record"]
    start, end = date(2016, 3, 1), date(2016, 4, 30)
    exported = sla.sla_report(sla_rows_from_records(records), start, end, SEOUL)
    assert exported == queries.report(engine, start, end)
    closed = [r for r in records if r.event_name == "Session.Closed"]
    checkpoints = [r for r in records if r.topic == CHECKPOINT_TOPIC]
    assert len(closed) == 8 and len(checkpoints) >= 8  # every session's results rest on a checkpoint


def test_verify_fails_on_a_tampered_export(demo_store, tmp_path):
    engine = demo_store
    out = tmp_path / "audit.jsonl"
    run("audit", "export", "--db", engine.db, "--out", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        obj = json.loads(line)
        if obj.get("type") == "record" and obj["record"]["topic"].endswith("Session.Closed"):
            results = obj["record"]["payload"]["results"]
            first = next(iter(results))
            results[first]["outcome"] = "reject" if results[first]["outcome"] != "reject" else "approve"
            lines[i] = json.dumps(obj, ensure_ascii=False)
            break
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    failed = CliRunner().invoke(cli, ["audit", "verify", "--log", str(out)])
    assert failed.exit_code == 1 and "FAILED" in failed.output
