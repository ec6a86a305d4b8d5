"""Personal data: envelopes, per-subject keys, lookups, and erasure that reaches every copy."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from uuid import uuid4

import argon2
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from core import cli as cli_module
from core import cli_helpers
from core.engine import Engine
from core.errors import RuleViolation, Unauthorized
from core.http import create_app
from core.actors import local_operator
from core.passwords import use_password_hasher
from core.plugins import make_plugin_manager
from core.privacy import ERASED, PersonalDataUnavailable, is_envelope, normalise
from tests.support import reports

OPERATOR = local_operator()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(autouse=True)
def cheap_hashes():
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    yield
    use_password_hasher(previous)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one key store serves all examples
@given(value=json_values, subject=st.text(min_size=1, max_size=20), field=st.text(max_size=10))
def test_a_sealed_value_opens_to_itself_and_shows_no_plaintext(sqlite_engine, value, subject, field):
    where = uuid4()
    envelope = sqlite_engine.privacy.seal(subject, field, value, where=where)
    assert is_envelope(envelope)
    assert json.loads(json.dumps(envelope)) == envelope  # fits in an event payload as it is
    assert sqlite_engine.privacy.open(envelope, where=where) == value
    if isinstance(value, str) and len(value.encode()) >= 4:
        assert value.encode() not in base64.b64decode(envelope["ct"])


def test_an_envelope_opens_only_where_it_was_sealed(sqlite_engine):
    privacy = sqlite_engine.privacy
    where = uuid4()
    env = privacy.seal("s1", "phone", "010-1111-2222", where=where)
    with pytest.raises(ValueError, match="another record"):
        privacy.open(env, where=uuid4())
    for change in ({"where": str(uuid4())}, {"field": "name"}, {"subject": "s2"}):
        moved = {**env, **change}
        if "subject" in change:
            privacy.seal("s2", "x", 0, where=where)  # s2 has a key, but not this one
        with pytest.raises(ValueError):
            privacy.open(moved)
    ct = bytearray(env["ct"].encode())
    ct[20] = ord("A") if ct[20] != ord("A") else ord("B")
    with pytest.raises(ValueError, match="altered"):
        privacy.open({**env, "ct": ct.decode()})


def test_lookups_normalise_and_use_a_keyed_hash(sqlite_engine):
    privacy = sqlite_engine.privacy
    assert normalise("phone", "+82 10-2345-6789") == normalise("phone", "010 2345 6789") == "01023456789"
    assert normalise("email", " Kim@Example.ORG ") == "kim@example.org"
    privacy.remember("s1", "phone", "010-2345-6789")
    privacy.remember("s2", "phone", "01023456789")
    assert privacy.subjects("phone", "+82-10-2345-6789") == ["s1", "s2"]
    assert privacy.subjects("email", "010-2345-6789") == []  # kinds do not mix
    digest = privacy.keyed_hash("phone", "01023456789")
    assert len(digest) == 64 and "23456789" not in digest
    other = Engine(str(Path(sqlite_engine.db).with_name("other.db")))  # another instance, another key
    try:
        assert other.privacy.keyed_hash("phone", "01023456789") != digest
    finally:
        other.close()


def test_forget_erases_a_subject_and_only_that_subject(sqlite_engine):
    privacy = sqlite_engine.privacy
    where = uuid4()
    hong = {"name": privacy.seal("hong", "name", "Hong Gildong", where=where),
            "phone": privacy.seal("hong", "phone", "010-2345-6789", where=where)}
    kim = privacy.seal("kim", "name", "Kim Minji", where=where)
    privacy.remember("hong", "phone", "010-2345-6789")
    assert privacy.reveal({"r": [hong], "k": kim}) == {"r": [{"name": "Hong Gildong", "phone": "010-2345-6789"}],
                                                       "k": "Kim Minji"}
    assert privacy.forget("hong", actor=OPERATOR) is True
    revealed = privacy.reveal({"r": [hong], "k": kim})
    assert revealed == {"r": [{"name": "[erased]", "phone": "[erased]"}], "k": "Kim Minji"}
    assert revealed["r"][0]["phone"] is ERASED
    assert privacy.subjects("phone", "010-2345-6789") == []
    with pytest.raises(RuleViolation):
        privacy.seal("hong", "name", "Hong again", where=where)
    with pytest.raises(RuleViolation):
        privacy.remember("hong", "phone", "010-2345-6789")
    assert privacy.forget("hong", actor=OPERATOR) is False  # again: harmless, recorded once
    records = [r for r in sqlite_engine.records() if r.event_name == "SubjectForgotten.Forgotten"]
    assert len(records) == 1
    assert {k: v for k, v in records[0].payload.items() if k in ("subject", "by")} == {
        "subject": "hong", "by": OPERATOR.id}


def test_keys_live_outside_the_database_wrapped_under_the_instance_secret(sqlite_engine):
    privacy = sqlite_engine.privacy
    privacy.seal("hong", "name", "Hong Gildong", where=uuid4())
    raw_key = privacy.keys.key("hong", create=False)
    assert isinstance(raw_key, bytes) and len(raw_key) == 32
    keys_file = Path(sqlite_engine.db + ".keys.db")
    assert keys_file.exists() and keys_file.stat().st_mode & 0o077 == 0
    assert raw_key not in keys_file.read_bytes()
    with sqlite3.connect(sqlite_engine.db) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not {"subject_keys", "lookup", "forgotten"} & tables


def test_a_lost_key_store_is_reported_not_shown_as_erased(sqlite_engine, tmp_path):
    env = sqlite_engine.privacy.seal("hong", "name", "Hong Gildong", where=uuid4())
    sqlite_engine.close()
    Path(sqlite_engine.db + ".keys.db").unlink()
    reopened = Engine(sqlite_engine.db, outbox=tmp_path / "o.jsonl")
    try:
        with pytest.raises(PersonalDataUnavailable):
            reopened.privacy.open(env)
    finally:
        reopened.close()


# -- the acceptance test: erasure reaches the API, read models, exports and the raw files -----
HONG_PHONE, HONG_NAME = "010-2345-6789", "Hong Gildong"
KIM_PHONE, KIM_NAME = "010-9876-5432", "Kim Minji"


def spellings(phone: str) -> list[bytes]:
    digits = phone.replace("-", "")
    forms = [phone, digits, digits[1:], " ".join(phone.split("-"))]
    return [f.encode(enc) for f in forms for enc in ("utf-8", "utf-16-le")]


@pytest.fixture
def report_engine(db_url, manual_clock, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager(extra=[reports]))
    monkeypatch.delenv("CIVIC_TOKEN", raising=False)
    engine = Engine(db_url, plugins=cli_helpers._plugin_manager, outbox=tmp_path / "outbox.jsonl")
    yield engine
    engine.close()


def store_files(engine: Engine) -> list[Path]:
    keys = engine.privacy.keys.path
    found = sorted(keys.parent.glob(keys.name.split(".keys.db")[0] + "*"))
    if not engine.is_postgres:
        found += sorted(Path(engine.db).parent.glob(Path(engine.db).name + "*"))
    return sorted(set(found))


def postgres_files(request: pytest.FixtureRequest, engine: Engine) -> list[Path]:
    """Every file of the test PostgreSQL server's data directory, after a checkpoint."""
    with engine.side.transaction() as cur:
        cur.execute("CHECKPOINT")
    server = request.getfixturevalue("pg_server")
    return [p for p in Path(server.data).rglob("*") if p.is_file()]


def test_forget_erases_a_reporter_everywhere(report_engine, request):
    engine = report_engine
    engine.identity.add_staff(OPERATOR, "agent", "Agent Park", "agent's long password", ["call_centre_agent"])
    with TestClient(create_app(engine)) as client:
        token = client.post("/api/auth/token", json={"username": "agent", "password": "agent's long password"})
        agent = {"Authorization": f"Bearer {token.json()['token']}"}
        filed = [client.post("/api/reports", json={"what": what, "name": name, "phone": phone}).json()
                 for what, name, phone in [("pothole", HONG_NAME, HONG_PHONE), ("noise", KIM_NAME, KIM_PHONE),
                                           ("streetlight", HONG_NAME, "01023456789")]]
        hong, kim, hong_again = filed
        assert hong["reporter"] == hong_again["reporter"] != kim["reporter"]  # found again by phone
        assert client.get(f"/api/reports/{hong['id']}", headers=agent).json()["phone"] == HONG_PHONE
        engine.read_models.flush()  # the read model's state is in the database too

        # what the key store holds for Hong before: it must all be gone after
        wrapped = engine.privacy.keys._conn.execute(
            "SELECT wrapped FROM subject_keys WHERE subject = ?", (hong["reporter"],)).fetchone()[0]
        digest = engine.privacy.keyed_hash("phone", HONG_PHONE).encode()
        kim_wrapped = engine.privacy.keys._conn.execute(
            "SELECT wrapped FROM subject_keys WHERE subject = ?", (kim["reporter"],)).fetchone()[0]
        keys_bytes = engine.privacy.keys.path.read_bytes()
        assert wrapped in keys_bytes and digest in keys_bytes  # so their absence below means something

        runner = CliRunner()
        found = runner.invoke(cli_module.cli, ["privacy", "find", "phone", "+82 10 2345 6789", "--db", engine.db])
        assert found.output.split() == [hong["reporter"]]
        r = runner.invoke(cli_module.cli, ["privacy", "forget", hong["reporter"], "--yes", "--db", engine.db])
        assert r.exit_code == 0, r.output

        # the API
        for report in (hong, hong_again):
            shown = client.get(f"/api/reports/{report['id']}", headers=agent).json()
            assert (shown["name"], shown["phone"], shown["what"]) == ("[erased]", "[erased]",
                                                                      "pothole" if report is hong else "streetlight")
        assert client.get(f"/api/reports/{kim['id']}", headers=agent).json()["phone"] == KIM_PHONE

    # read models, rebuilt from the log
    rebuilt = json.loads(engine.read_models.rebuild(["reports.all"])["reports.all"])
    assert engine.privacy.reveal(rebuilt[hong["id"]])["phone"] is ERASED
    assert engine.privacy.reveal(rebuilt[kim["id"]])["name"] == KIM_NAME
    engine.read_models.flush()

    # a fresh export of the log: only ciphertext, and it opens as erased
    export = json.dumps([r.payload for r in engine.records()], ensure_ascii=False)
    for needle in [*spellings(HONG_PHONE), HONG_NAME.encode()]:
        assert needle not in export.encode()
    opened = engine.privacy.reveal([r.payload for r in engine.records()])
    assert HONG_PHONE not in json.dumps(opened) and KIM_PHONE in json.dumps(opened)
    assert any(p.get("subject") == hong["reporter"] for p in opened)  # the erasure itself is recorded

    # the raw bytes of every file of the store (database, -wal, -shm, key store, journal; for
    # PostgreSQL the server's data directory), while open and after closing: no phone, no name,
    # no wrapped key, no lookup digest
    forbidden = [*spellings(HONG_PHONE), HONG_NAME.encode(), HONG_NAME.encode("utf-16-le"), wrapped, digest]

    def scan(files: list[Path]) -> bytes:
        seen = b""
        for path in files:
            data = path.read_bytes()
            for needle in forbidden:
                assert needle not in data, (path.name, needle)
            seen += b"T" if b"streetlight" in data else b""
            seen += b"K" if kim_wrapped in data else b""
        return seen

    open_files = store_files(engine) + (postgres_files(request, engine) if engine.is_postgres else [])
    assert any(f.name.endswith(".keys.db") for f in open_files)
    if not engine.is_postgres:
        assert any(f.name.endswith(".db-wal") for f in open_files)
    seen = scan(open_files)
    engine.close()
    seen += scan(store_files(engine))
    # controls: the scan looked where the data is (the events' public text, Kim's key)
    assert b"T" in seen and b"K" in seen


def test_ledger_still_verifies_after_forget(report_engine, tmp_path):
    """Needs the audit ledger (``civic audit verify``); skipped until it is part of core."""
    if "audit" not in cli_module.cli.commands:
        pytest.skip("the audit ledger is not on this branch")
    engine = report_engine
    report = reports.file_report(engine, OPERATOR, "pothole", HONG_NAME, HONG_PHONE)
    runner = CliRunner()
    assert runner.invoke(cli_module.cli, ["privacy", "forget", report.reporter, "--yes", "--db", engine.db]).exit_code == 0
    r = runner.invoke(cli_module.cli, ["audit", "verify", "--db", engine.db])
    assert r.exit_code == 0, r.output
    exported = tmp_path / "after-forget.export"
    r = runner.invoke(cli_module.cli, ["audit", "export", "--db", engine.db, "--out", str(exported)])
    assert r.exit_code == 0, r.output
    data = exported.read_bytes()
    assert not [s for s in spellings(HONG_PHONE) if s in data]


def test_forgetting_a_staff_member_erases_their_names_and_ends_their_access(sqlite_engine):
    ident = sqlite_engine.identity
    account = ident.add_staff(OPERATOR, "lee.agent", "Lee Seoyeon", "lee's long password", ["call_centre_agent"])
    token = ident.sign_in("lee.agent", "lee's long password").token
    sqlite_engine.privacy.forget(str(account.id), actor=OPERATOR)
    with pytest.raises(Unauthorized):
        ident.authenticate(token)
    with pytest.raises(Unauthorized):
        ident.sign_in("lee.agent", "lee's long password")
    row = ident.describe(ident.get(account.id))
    assert (row["username"], row["name"], row["roles"]) == ("[erased]", "[erased]", ["call_centre_agent"])


def test_a_key_store_of_other_secrets_is_reported(sqlite_engine, tmp_path):
    env = sqlite_engine.privacy.seal("hong", "name", "Hong Gildong", where=uuid4())
    sqlite_engine.close()
    secrets = Path(sqlite_engine.db + ".secrets")
    secrets.unlink()  # a new instance secret: the wrapped keys no longer open
    reopened = Engine(sqlite_engine.db, outbox=tmp_path / "o.jsonl")
    try:
        with pytest.raises(PersonalDataUnavailable, match="does not belong"):
            reopened.privacy.open(env)
    finally:
        reopened.close()


def test_a_batch_of_seals_commits_its_keys_together(sqlite_engine):
    privacy = sqlite_engine.privacy
    with privacy.batch():
        sealed = [privacy.seal(f"s{i}", "phone", f"0101234{i:04d}", where="r") for i in range(50)]
    assert [privacy.open(e) for e in sealed] == [f"0101234{i:04d}" for i in range(50)]

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted), privacy.batch():
        privacy.seal("lost", "phone", "01099998888", where="r")
        raise Interrupted  # a failed batch leaves no key behind: its events were never saved
    assert privacy.keys.key("lost", create=False) is None
