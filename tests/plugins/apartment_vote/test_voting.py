"""Voting end to end through the engine and the core voting kit: codes through the notification
hook, credentials, ballots and revotes, the voting window, results at close, the audit re-tally
and the signed certificates. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from core.errors import InvalidInput, RuleViolation, Unauthorized
from core.ledger.checkpoint import VerifierKey
from core.ledger.leaves import record_leaf_hash
from core.ledger.merkle import verify_inclusion
from core.records import LogRecord
from plugins.apartment_vote import certificate as certificates
from plugins.apartment_vote import service
from plugins.apartment_vote.audit import retally
from tests.plugins.apartment_vote.support import CLOSES, OPENS, make_complex, make_election

BUILDINGS = {"101": 4, "102": 3}


def codes_sent(engine) -> dict[str, str]:
    """household -> its newest code, read from the outbox the fallback notifier writes."""
    found = {}
    for message in engine.outbox.sent():
        household = message["key"].split("/")[2]
        found[household] = message["text"].rsplit(" ", 1)[-1]  # the code is the text's last word
    return found


def setup_election(engine, manual_clock):
    make_complex(engine, BUILDINGS)
    eid = make_election(engine, manual_clock)
    c = {}
    c["rep101"] = service.add_contest(engine, eid, "building_representative", "101 representative", "101")["contest_id"]
    c["rep102"] = service.add_contest(engine, eid, "building_representative", "102 representative", "102")["contest_id"]
    c["chair"] = service.add_contest(engine, eid, "chair", "Chair")["contest_id"]
    c["agenda"] = service.add_contest(engine, eid, "agenda", "Allow EV chargers in the car park")["contest_id"]
    k = {}
    k["a"] = service.register_candidate(engine, eid, c["rep101"], "Kim Minsu")["candidate_id"]
    k["b"] = service.register_candidate(engine, eid, c["rep101"], "Lee Jiyoung")["candidate_id"]
    k["solo"] = service.register_candidate(engine, eid, c["rep102"], "Park Jun")["candidate_id"]
    k["x"] = service.register_candidate(engine, eid, c["chair"], "Choi Hana")["candidate_id"]
    k["y"] = service.register_candidate(engine, eid, c["chair"], "Jung Woo")["candidate_id"]
    return eid, c, k


def vote(engine, eid, household, code, choices):
    session = service.authenticate(engine, eid, household, code, client=f"test-{household}")
    return session, service.cast(engine, eid, session["credential"], choices)


def test_an_election_from_codes_to_certified_results(engine, manual_clock):
    eid, c, k = setup_election(engine, manual_clock)
    manual_clock.set(OPENS - timedelta(minutes=1))
    with pytest.raises(RuleViolation):
        service.open_election(engine, eid)
    manual_clock.set(OPENS)
    opened = service.open_election(engine, eid)
    assert opened["status"] == "open" and opened["households"] == 7
    assert service.issue_codes(engine, eid)["codes_sent"] == 7
    codes = codes_sent(engine)
    assert sorted(codes) == sorted(f"{b}-{u:04d}" for b, n in BUILDINGS.items() for u in range(1, n + 1))

    before = engine.position
    with pytest.raises(Unauthorized):
        service.authenticate(engine, eid, "101-0001", "WRONG1", client="x")
    # a wrong code is recorded against the entry (rate limit) but changes no ballot
    session = service.authenticate(engine, eid, "101-0001", codes["101-0001"], client="x")
    assert session["building"] == "101"
    assert [x["contest_id"] for x in session["contests"]] == [c["rep101"], c["chair"], c["agenda"]]
    before = engine.position
    for bad in ({c["rep102"]: [k["solo"]]},  # another building's contest
                {c["rep101"]: [k["a"], k["b"]]},  # too many choices
                {c["agenda"]: ["maybe"]}, {}, {"c99": []}):
        with pytest.raises(InvalidInput):
            service.cast(engine, eid, session["credential"], bad)
    assert engine.position == before

    # building 101: 3 of 4 vote (quorum met), Kim 2 - Lee 1 after one revote
    first = service.cast(engine, eid, session["credential"], {c["rep101"]: [k["b"]], c["chair"]: [k["x"]],
                                                              c["agenda"]: ["yes"]})
    second = service.cast(engine, eid, session["credential"], {c["rep101"]: [k["a"]], c["chair"]: [k["x"]],
                                                               c["agenda"]: ["yes"]})
    vote(engine, eid, "101-0002", codes["101-0002"], {c["rep101"]: [k["a"]], c["chair"]: [k["y"]], c["agenda"]: ["no"]})
    vote(engine, eid, "101-0003", codes["101-0003"], {c["rep101"]: [k["b"]], c["agenda"]: ["yes"]})
    # building 102: 1 of 3 votes: the single candidate's building misses its quorum
    vote(engine, eid, "102-0001", codes["102-0001"], {c["rep102"]: [k["solo"]], c["chair"]: [k["x"]],
                                                      c["agenda"]: ["yes"]})
    with pytest.raises(RuleViolation):  # one credential per household
        service.authenticate(engine, eid, "101-0001", codes["101-0001"], client="x")

    with pytest.raises(RuleViolation, match="not before"):
        service.close_election(engine, eid)
    manual_clock.set(CLOSES)
    before = engine.position
    with pytest.raises(RuleViolation, match="closed"):
        service.cast(engine, eid, session["credential"], {c["chair"]: [k["y"]]})
    assert engine.position == before

    outcome = service.close_election(engine, eid)["results"]
    rep101, rep102, chair, agenda = (outcome[c[n]] for n in ("rep101", "rep102", "chair", "agenda"))
    assert rep101["status"] == "elected" and rep101["elected"] == [k["a"]]
    assert rep101["counts"] == {k["a"]: 2, k["b"]: 1} and rep101["turnout"] == "75.0%"
    assert rep102["status"] == "not_elected"
    assert rep102["reason"] == ("not elected: turnout 33.3% (1 of 3 households) below the required more than 1/2 (50.0%)")
    assert chair["elected"] == [k["x"]] and chair["counts"] == {k["x"]: 2, k["y"]: 1}
    assert chair["voted"] == 3  # 101-0003 skipped the chair contest
    assert chair["by_building"] == {"101": {"households": 4, "voted": 2}, "102": {"households": 3, "voted": 1}}
    # agenda: 3 yes of 7 households is not a majority of all households
    assert agenda["status"] == "not_adopted" and agenda["counts"] == {"yes": 3, "no": 1}
    assert service.close_election(engine, eid)["results"] == outcome  # closing twice is harmless

    receipt = service.track(engine, eid, second["tracking_code"])
    assert receipt["state"] == "counted" and receipt["content"][c["rep101"]] == [k["a"]]
    assert service.track(engine, eid, first["tracking_code"])["state"] == "replaced"

    report = retally(list(engine.records()))
    assert report.ok and report.checked == 4

    signed = certificates.certificate(engine, eid, c["rep102"])
    assert certificates.verify(signed)
    assert signed["certificate"]["result"]["reason"].startswith("not elected: turnout 33.3%")
    assert signed["certificate"]["record"]["ballots_up_to"] < signed["certificate"]["record"]["position"]
    # the certificate carries what an auditor needs to place the result in the signed ledger
    ledger = signed["certificate"]["ledger"]
    leaf = record_leaf_hash(ledger["record"])
    assert base64.b64encode(leaf).decode() == ledger["leaf_hash"]
    assert ledger["record"]["payload"]["result"] == signed["certificate"]["result"]
    assert verify_inclusion(leaf, ledger["leaf_index"], ledger["checkpoint"]["size"],
                            [base64.b64decode(p) for p in ledger["inclusion_proof"]],
                            base64.b64decode(ledger["checkpoint"]["root_hash"]))
    assert VerifierKey.parse(ledger["verifier_key"]).verify(ledger["checkpoint"]["note"])
    forged = json.loads(json.dumps(signed))
    forged["certificate"]["result"]["status"] = "elected"
    assert not certificates.verify(forged)
    page = certificates.render_html(signed, {k["solo"]: "Park Jun"})
    assert "33.3%" in page and "Park Jun" in page and "<script" not in page


def test_a_changed_result_in_the_log_is_a_discrepancy(sqlite_engine, manual_clock):
    eid, c, k = setup_election(sqlite_engine, manual_clock)
    manual_clock.set(OPENS)
    service.open_election(sqlite_engine, eid)
    service.issue_codes(sqlite_engine, eid)
    codes = codes_sent(sqlite_engine)
    for h in ("101-0001", "101-0002", "101-0003"):
        vote(sqlite_engine, eid, h, codes[h], {c["rep101"]: [k["b"]]})
    manual_clock.set(CLOSES)
    service.close_election(sqlite_engine, eid)
    records = list(sqlite_engine.records())
    assert retally(records).ok

    def tampered(change):
        out = []
        for r in records:
            if r.event_name == "Election.ResultRecorded" and r.payload["contest_id"] == c["rep101"]:
                payload = json.loads(json.dumps(r.payload))
                change(payload)
                r = LogRecord(r.position, r.originator_id, r.originator_version, r.topic, payload)
            out.append(r)
        return out

    def swap_winner(p):
        p["result"]["elected"] = [k["a"]]

    def inflate_turnout(p):
        p["result"]["voted"] = 4

    for change in (swap_winner, inflate_turnout):
        report = retally(tampered(change))
        assert not report.ok
        assert "differs from the recount" in report.discrepancies[0].reason

    # a changed rule before the vote is replayed too: the recount follows the log's rules
    def drop_rules_change(rs):
        return [r for r in rs if r.event_name != "Election.ContestAdded" or r.payload["contest_id"] != c["chair"]]

    assert not retally(drop_rules_change(records)).ok


def test_a_tie_is_drawn_by_the_verifiable_lottery_and_the_audit_redraws_it(engine, manual_clock):
    from core.voting import draw

    make_complex(engine, {"101": 4})
    eid = make_election(engine, manual_clock)
    chair = service.add_contest(engine, eid, "chair", "Chair")["contest_id"]
    a = service.register_candidate(engine, eid, chair, "Kim")["candidate_id"]
    b = service.register_candidate(engine, eid, chair, "Lee")["candidate_id"]
    manual_clock.set(OPENS)
    service.open_election(engine, eid)
    service.issue_codes(engine, eid)
    codes = codes_sent(engine)
    vote(engine, eid, "101-0001", codes["101-0001"], {chair: [a]})
    vote(engine, eid, "101-0002", codes["101-0002"], {chair: [b]})
    manual_clock.set(CLOSES)
    result = service.close_election(engine, eid)["results"][chair]
    tie = result["tie"]
    assert tie["tied"] == sorted([a, b]) and result["elected"] == [tie["order"][0]]
    election = service.get_election(engine, eid)
    lottery = election.lottery
    assert lottery["root_source"] == "ledger" and lottery["seed"] is not None
    # anyone can redraw: the revealed seed (committed before voting), the ledger root at the close
    assert draw(bytes.fromhex(lottery["seed"]), bytes.fromhex(lottery["root"]), tie["tied"], tie["context"]) == tie["order"]
    records = list(engine.records())
    assert retally(records).ok

    def changed(change):
        out = []
        for r in records:
            if r.event_name == "Election.ResultRecorded":
                payload = json.loads(json.dumps(r.payload))
                change(payload)
                r = LogRecord(r.position, r.originator_id, r.originator_version, r.topic, payload)
            out.append(r)
        return out

    def other_winner(p):
        p["result"]["elected"] = [tie["order"][1]]

    def other_root(p):
        p["lottery"]["root"] = "00" * 32

    assert "differs from the recount" in retally(changed(other_winner)).discrepancies[0].reason
    reasons = " | ".join(d.reason for d in retally(changed(other_root)).discrepancies)
    assert "not the ledger root" in reasons


def test_the_scheduler_opens_sends_codes_and_closes_on_time(sqlite_engine, manual_clock):
    eid, c, k = setup_election(sqlite_engine, manual_clock)
    assert not [line for line in sqlite_engine.tick() if eid in line]
    manual_clock.set(OPENS)
    lines = [line for line in sqlite_engine.tick() if eid in line]
    assert lines == [f"apartment: voting opened for election {eid}; 7 codes sent"]
    assert len(codes_sent(sqlite_engine)) == 7
    assert not [line for line in sqlite_engine.tick() if eid in line]  # harmless to run again
    manual_clock.set(CLOSES)
    assert [line for line in sqlite_engine.tick() if eid in line] == [
        f"apartment: voting closed and results recorded for election {eid}"]
    assert service.results(sqlite_engine, eid)["results"][c["rep101"]]["status"] == "not_elected"
    assert not [line for line in sqlite_engine.tick() if eid in line]


def test_without_a_ledger_certificates_are_signed_with_an_instance_key(sqlite_engine, manual_clock, monkeypatch):
    eid, c, k = setup_election(sqlite_engine, manual_clock)
    manual_clock.set(OPENS)
    service.open_election(sqlite_engine, eid)
    manual_clock.set(CLOSES)
    monkeypatch.delattr(sqlite_engine, "ledger")
    service.close_election(sqlite_engine, eid)
    assert service.get_election(sqlite_engine, eid).lottery["root_source"] == "ballots"
    signed = certificates.certificate(sqlite_engine, eid, c["chair"])
    assert signed["signature"]["format"] == "ed25519" and signed["certificate"]["ledger"] is None
    key = certificates.public_key(sqlite_engine)["public_key"]
    assert certificates.verify(signed, key)
    assert not certificates.verify(signed, base64.b64encode(b"\0" * 32).decode())
    assert retally(list(sqlite_engine.records())).ok
