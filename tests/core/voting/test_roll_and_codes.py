"""Voter roll import, one-time codes, rate limits, and secrecy of codes."""

from __future__ import annotations

import json
import logging

import pytest

from core.errors import InvalidInput, RuleViolation, TooManyAttempts, Unauthorized
from core.voting import VotingKit, parse_roll_csv
from tests.core.voting.support import contact_of, latest_codes, make_engine, roll_csv

P = "apt-2016-chair"


@pytest.fixture
def kit(db_url, manual_clock, tmp_path):
    engine = make_engine(db_url, tmp_path)
    yield VotingKit(engine)
    engine.close()


def test_roll_import_adds_every_entry_with_its_group(kit):
    kit.create(P)
    result = kit.import_roll(P, "\ufeffEntry_ID,Contact,Group,Name,Channel\n"
                                "101-1203,010-1234-5678,101동,Kim,sms\n"
                                "\n"
                                "101-1204,lee@example.kr,101동,Lee,\n"
                                "102-0301,+82 10 9876 5432,102동,,\n")
    assert (result.added, result.total, result.groups) == (3, 3, {"101동": 2, "102동": 1})
    entry = kit.entry(P, "101-1204")
    assert (entry.channel, kit.contact(P, entry.entry_id), entry.group) == ("email", "lee@example.kr", "101동")
    assert kit.contact(P, "101-1203") == "01012345678"
    assert kit.contact(P, "102-0301") == "+821098765432"
    # contacts are personal data: sealed in the log, never in clear
    logged = "".join(str(r.payload) for r in kit.engine.records())
    assert "lee@example.kr" not in logged and "01012345678" not in logged
    # a second file adds entries; repeating one is refused
    assert kit.import_roll(P, "entry_id,contact\n103-1,01011112222\n").total == 4
    with pytest.raises(InvalidInput, match="already on the roll"):
        kit.import_roll(P, "entry_id,contact\n103-1,01011112222\n")


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(kit):
    kit.create(P)
    before = kit.engine.position
    data = ("entry_id,contact,group\n"
            "101-1,01012345678,101\n"       # line 2 good
            ",01012345679,101\n"            # line 3 no id
            "101-2,not-a-phone,101\n"       # line 4 bad contact
            "101-1,01012340000,101\n"       # line 5 repeats line 2
            "101-3,01012345678\n"           # line 6 too few fields
            "101-4,x@y.kr,101\n")           # line 7 good
    with pytest.raises(InvalidInput) as caught:
        kit.import_roll(P, data)
    lines = [e["line"] for e in caught.value.extra["errors"]]
    assert lines == [3, 4, 5, 6]
    assert "repeats line 2" in caught.value.extra["errors"][2]["message"]
    assert "nothing imported" in caught.value.detail
    assert kit.engine.position == before
    assert kit.roll(P).entries == {}


@pytest.mark.parametrize("data, fragment", [
    ("", "empty"),
    ("entry_id,phone\n1,01012345678\n", "unknown column"),
    ("contact\n01012345678\n", "missing column"),
    ("entry_id,contact\n", "no entries"),
    ("entry_id,contact,channel\n1,01012345678,fax\n", "channel"),
    ("entry_id,contact,channel\n1,01012345678,email\n", "not an e-mail"),
])
def test_malformed_roll_files_are_refused(data, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        parse_roll_csv(data)


def test_roll_is_frozen_once_voting_opens(kit):
    kit.create(P)
    with pytest.raises(RuleViolation, match="Import the voter roll"):
        kit.open(P)
    kit.import_roll(P, roll_csv([("a", ""), ("b", "")]))
    kit.open(P)
    with pytest.raises(RuleViolation, match="frozen"):
        kit.import_roll(P, roll_csv([("c", "")]))


def test_codes_go_through_the_notification_hook_once_per_entry(kit):
    kit.create(P)
    kit.import_roll(P, roll_csv([("a", "1"), ("b", "1"), ("c", "2")]))
    assert kit.issue_codes(P, "Your code: {code}") == 3
    assert kit.issue_codes(P, "Your code: {code}") == 0  # everyone already has a usable code
    sent = kit.engine.outbox.sent()
    assert sorted(m["to"] for m in sent) == sorted(contact_of(kit, P, e) for e in "abc")
    assert all(m["channel"] == "sms" and len(m["text"].rsplit(" ", 1)[-1]) == 6 for m in sent)
    with pytest.raises(InvalidInput, match="{code}"):
        kit.issue_codes(P, "no placeholder")
    kit.reissue_code(P, "a", "New code: {code}")
    assert len(kit.engine.outbox.sent()) == 4


def test_wrong_codes_lock_the_code_after_five_and_a_new_code_works(kit):
    kit.create(P)
    kit.import_roll(P, roll_csv([("a", ""), ("b", "")]))
    kit.open(P)
    kit.issue_codes(P, "Code {code}")
    right = latest_codes(kit.engine)[contact_of(kit, P, "a")]
    wrong = "ZZZZZZ" if right != "ZZZZZZ" else "YYYYYY"
    for attempt in range(4):
        with pytest.raises(Unauthorized):
            kit.authenticate(P, "a", wrong, client=f"198.51.100.{attempt}")
    with pytest.raises(TooManyAttempts, match="locked"):
        kit.authenticate(P, "a", wrong, client="198.51.100.4")
    before = kit.engine.position
    with pytest.raises(TooManyAttempts, match="locked"):  # even the right code: it must be re-issued
        kit.authenticate(P, "a", right, client="198.51.100.5")
    assert kit.engine.position == before
    assert kit.entry(P, "a").credential_issued is False
    kit.reissue_code(P, "a", "Code {code}")
    new = latest_codes(kit.engine)[contact_of(kit, P, "a")]
    with pytest.raises(Unauthorized):
        kit.authenticate(P, "a", right, client="198.51.100.6")  # the old code no longer works
    credential = kit.authenticate(P, "a", new.lower(), client="198.51.100.6")  # typed in lower case
    assert credential.group == "" and credential.token
    with pytest.raises(RuleViolation, match="already issued"):
        kit.authenticate(P, "a", new, client="198.51.100.6")


def test_a_client_with_five_failures_is_refused_for_an_hour(kit, manual_clock):
    kit.create(P)
    kit.import_roll(P, roll_csv([(f"e{i}", "") for i in range(7)]))
    kit.open(P)
    kit.issue_codes(P, "Code {code}")
    client = "192.0.2.77"
    # failures against different entries, and against entries that do not exist, all count
    for entry_id in ("e0", "e1", "nobody", "e2"):
        with pytest.raises(Unauthorized) as caught:
            kit.authenticate(P, entry_id, "AAAAAA", client)
        assert caught.value.detail == "The voting code is not valid for this roll entry."
    with pytest.raises(TooManyAttempts, match="client"):
        kit.authenticate(P, "e3", "AAAAAA", client)
    right = latest_codes(kit.engine)[contact_of(kit, P, "e5")]
    with pytest.raises(TooManyAttempts, match="client"):
        kit.authenticate(P, "e5", right, client)
    assert kit.authenticate(P, "e5", right, "192.0.2.78")  # another client is not affected
    manual_clock.advance(minutes=61)
    right = latest_codes(kit.engine)[contact_of(kit, P, "e6")]
    assert kit.authenticate(P, "e6", right, client)
    # single failures per entry did not lock their codes
    assert not kit.entry(P, "e0").locked and kit.entry(P, "e0").failures == 1


def test_authentication_only_while_voting_is_open(kit):
    kit.create(P)
    kit.import_roll(P, roll_csv([("a", "")]))
    kit.issue_codes(P, "Code {code}")  # codes may go out before voting opens
    code = latest_codes(kit.engine)[contact_of(kit, P, "a")]
    with pytest.raises(RuleViolation, match="not open"):
        kit.authenticate(P, "a", code, "c")
    kit.open(P)
    kit.close(P)
    with pytest.raises(RuleViolation, match="not open"):
        kit.authenticate(P, "a", code, "c")
    with pytest.raises(RuleViolation, match="no more codes"):
        kit.issue_codes(P, "Code {code}")


def test_no_code_appears_in_the_log_errors_or_logs(kit, caplog):
    caplog.set_level(logging.DEBUG)
    kit.create(P)
    kit.import_roll(P, roll_csv([("a", ""), ("b", ""), ("c", "")]))
    kit.open(P)
    kit.issue_codes(P, "Code {code}")
    kit.reissue_code(P, "c", "Code {code}")
    codes = [m["text"].rsplit(" ", 1)[-1] for m in kit.engine.outbox.sent()]
    messages = []
    for entry_id, attempt in [("a", codes[1]), ("a", codes[2]), ("b", codes[0].lower()), ("c", codes[2])]:
        try:
            kit.authenticate(P, entry_id, attempt, "client")
        except Exception as exc:  # noqa: BLE001 - collect every error text
            messages.append(f"{exc!r} {getattr(exc, 'problem', lambda: '')()}")
    sign_ins = [kit.authenticate(P, e, c, "client2") for e, c in (("a", codes[0]), ("b", codes[1]))]
    assert sign_ins and messages
    log_text = "\n".join(json.dumps(r.payload) for r in kit.engine.records())
    for code in codes:
        for variant in (code, code.lower()):
            assert variant not in log_text
            assert all(variant not in m for m in messages)
            assert variant not in caplog.text
    # the credential is never in the log either
    for credential in sign_ins:
        assert credential.token not in log_text and credential.token.split(".")[0] not in log_text
        assert "secret" in repr(credential)


def test_codes_are_recorded_with_their_hashes_and_left_nowhere_in_the_store_once_delivered(kit):
    from core.actors import local_operator

    kit.create(P)
    kit.import_roll(P, roll_csv([("a", "1"), ("b", "1")]))
    assert kit.issue_codes(P, "Your code: {code}") == 2
    keys = {m["key"] for m in kit.engine.outbox.sent()}
    assert {kit.engine.messages.status(k)["status"] for k in keys} == {"delivered"}
    with kit.engine.side.transaction(commit=False) as cur:
        leftovers = cur.execute("SELECT key FROM civic_messages WHERE sealed IS NOT NULL").fetchall()
    assert leftovers == []  # neither the code nor the phone number stays in the store
    # forgetting a voter erases their code texts from what is left, the development file included
    subject = kit.entry(P, "a").subject
    kit.engine.privacy.forget(subject, actor=local_operator())
    assert [m["to"] for m in kit.engine.outbox.sent()] == [contact_of(kit, P, "b")]
