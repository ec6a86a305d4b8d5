"""A state machine that interleaves roll imports, code issues, ballots, revotes, wrong codes,
out-of-window ballots and the close, through the engine and the voting kit, against a model:
the last ballot of each household counts once; turnout is households that voted / roll size;
every result equals the reference model of Art. 11; the audit's recount equals the live one."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from core import clock
from core.clock import ManualClock
from core.engine import Engine
from core.errors import CivicError, RuleViolation, TooManyAttempts, Unauthorized
from plugins.apartment_vote import rules, service
from plugins.apartment_vote.audit import retally
from plugins.apartment_vote.demo import CodeCatcher
from tests.plugins.apartment_vote.support import CLOSES, OPENS, T0
from tests.plugins.apartment_vote.test_rules import reference

BUILDINGS = ("101", "102")


class ApartmentElection(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="apt-state-"))
        self.clock = ManualClock(T0)
        self.previous = clock.use_clock(self.clock)
        self.engine = Engine(str(self.dir / "civic.db"), outbox=self.dir / "outbox.jsonl")
        self.catcher = CodeCatcher()
        self.engine.pm.register(self.catcher, name="test-codes")
        service.register_complex(self.engine, "C", "Model Court")
        service.import_roll(self.engine, "C", "household,building,contact\n101-a,101,01010000001\n"
                                              "101-b,101,01010000003\n102-a,102,01010000002\n")
        self.complex_roll: dict[str, str] = {"101-a": "101", "101-b": "101", "102-a": "102"}
        self.frozen: dict[str, str] | None = None
        self.election = service.schedule_election(self.engine, "C", "e", OPENS, CLOSES, OPENS)["id"]
        self.contests = {
            "rep": service.add_contest(self.engine, self.election, "building_representative", "rep", "101"),
            "chair": service.add_contest(self.engine, self.election, "chair", "chair"),
            "agenda": service.add_contest(self.engine, self.election, "agenda", "agenda"),
        }
        self.imported = 0
        self.opened = self.closed = False
        self.credentials: dict[str, str] = {}
        self.ballots: dict[str, dict[str, list[str]]] = {}  # household -> its latest ballot
        self.results = None
        self.revotes = 0
        self.steps_open = 0

    def teardown(self) -> None:
        try:
            if self.opened and not self.closed:  # every run that opened ends with a checked result
                self.close()
        finally:
            self._dispose()

    def _dispose(self) -> None:
        self.engine.close()
        clock.use_clock(self.previous)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- before voting -------------------------------------------------------------------
    @precondition(lambda self: not self.opened)
    @rule(building=st.sampled_from(BUILDINGS), size=st.integers(1, 4))
    def import_roll(self, building, size):
        rows = [f"{building}-{self.imported + i},{building},0101000{self.imported + i:04d}" for i in range(size)]
        service.import_roll(self.engine, "C", "household,building,contact\n" + "\n".join(rows) + "\n")
        for row in rows:
            household, b, _ = row.split(",")
            self.complex_roll[household] = b
        self.imported += size

    @precondition(lambda self: not self.opened)
    @rule(contest=st.sampled_from(["rep", "chair"]), name=st.sampled_from(["Kim", "Lee", "Park"]))
    def register_candidate(self, contest, name):
        cid = self.contests[contest]["contest_id"]
        try:
            candidate = service.register_candidate(self.engine, self.election, cid, name)
        except RuleViolation:
            return  # a name registers once
        self.contests[contest].setdefault("candidates_model", []).append(candidate["candidate_id"])

    @precondition(lambda self: not self.opened)
    @rule()
    def ballot_before_opening_is_refused(self):
        before = self.engine.position
        with pytest.raises(CivicError):
            service.cast(self.engine, self.election, "no-credential", {"c3": ["yes"]})
        assert self.engine.position == before

    @precondition(lambda self: not self.opened)
    @rule()
    def open(self):
        self.clock.set(OPENS)
        service.open_election(self.engine, self.election)
        self.opened = True
        self.frozen = dict(self.complex_roll)

    # -- voting --------------------------------------------------------------------------
    @precondition(lambda self: self.opened and not self.closed)
    @rule(data=st.data())
    def issue_codes(self, data):
        pending = sorted(h for h in self.frozen if h not in self.credentials)
        if not pending:
            return
        chosen = data.draw(st.lists(st.sampled_from(pending), unique=True, min_size=1, max_size=3))
        service.issue_codes(self.engine, self.election, chosen)

    @precondition(lambda self: self.opened and not self.closed)
    @rule(data=st.data())
    def vote(self, data):
        household = data.draw(st.sampled_from(sorted(self.frozen)))
        if household not in self.catcher.codes:
            service.issue_codes(self.engine, self.election, [household])
        if household not in self.credentials:
            try:
                session = service.authenticate(self.engine, self.election, household,
                                               self.catcher.codes[household], client=household)
            except TooManyAttempts:  # wrong codes locked it: the office sends a new one
                service.issue_codes(self.engine, self.election, [household], reissue=True)
                session = service.authenticate(self.engine, self.election, household,
                                               self.catcher.codes[household], client=household)
            self.credentials[household] = session["credential"]
        building = self.frozen[household]
        described = service.describe(service.get_election(self.engine, self.election))["contests"]
        open_to_me = [c for c in described.values()
                      if c["building"] in (None, building) and c["ballot"]["form"] != "none"]
        chosen = data.draw(st.lists(st.sampled_from(open_to_me), min_size=1, unique_by=lambda c: c["contest_id"]))
        ballot = {}
        for contest in chosen:
            form = contest["ballot"]
            ballot[contest["contest_id"]] = data.draw(st.lists(st.sampled_from(form["options"]), unique=True,
                                                               max_size=form["max_choices"]))
        service.cast(self.engine, self.election, self.credentials[household], ballot)
        self.revotes += household in self.ballots
        self.ballots[household] = ballot  # a revote replaces the whole earlier ballot

    @precondition(lambda self: self.opened and not self.closed and self.frozen)
    @rule(data=st.data())
    def wrong_code_changes_no_ballot(self, data):
        household = data.draw(st.sampled_from(sorted(self.frozen)))
        with pytest.raises((Unauthorized, RuleViolation, CivicError)):
            service.authenticate(self.engine, self.election, household, "22222", client="mallory")

    # close once a few households voted (or voting dragged on), so that most runs reach a result
    @precondition(lambda self: self.opened and not self.closed and (len(self.ballots) >= 3 or self.steps_open > 15))
    @rule()
    def close(self):
        self.clock.set(CLOSES)
        self.results = service.close_election(self.engine, self.election)["results"]
        self.closed = True
        voted = len(self.ballots)
        event(f"closed with {'0' if not voted else '1-2' if voted < 3 else '3-5' if voted < 6 else '6+'} households voted")
        event(f"closed after {'some' if self.revotes else 'no'} revotes")
        self.check_results()

    @precondition(lambda self: self.closed and self.credentials)
    @rule(data=st.data())
    def ballot_after_close_is_refused(self, data):
        household = data.draw(st.sampled_from(sorted(self.credentials)))
        before = self.engine.position
        with pytest.raises(RuleViolation):
            service.cast(self.engine, self.election, self.credentials[household],
                         {self.contests["agenda"]["contest_id"]: ["yes"]})
        assert self.engine.position == before

    @precondition(lambda self: self.closed)
    @rule()
    def closing_again_changes_nothing(self):
        before = self.engine.position
        assert service.close_election(self.engine, self.election)["results"] == self.results
        assert self.engine.position == before

    # -- checks --------------------------------------------------------------------------
    def check_results(self):
        election = service.get_election(self.engine, self.election)
        for contest_id, result in self.results.items():
            spec = election.contest_spec(contest_id)
            eligible = {h: b for h, b in self.frozen.items() if spec.building in (None, b)}
            households = {}
            for b in eligible.values():
                households[b] = households.get(b, 0) + 1
            ballots = [(self.frozen[h], choices[contest_id]) for h, choices in self.ballots.items()
                       if contest_id in choices]
            # no household counts twice; turnout = households that voted / roll size
            assert result["voted"] == len(ballots) <= len(eligible)
            assert result["households"] == len(eligible)
            assert result["turnout"] == rules.percent(len(ballots), len(eligible))
            status, winners, quorum, _ = reference(spec, households, ballots)
            assert result["status"] == status and result["quorum_met"] == quorum
            if result["tie"] is None:
                assert set(result["elected"]) == winners
            else:
                assert len(result["elected"]) == len(winners)
        report = retally(list(self.engine.records()))
        assert report.ok, report.discrepancies
        assert report.checked == len(self.results)

    @invariant()
    def log_and_model_agree_on_status(self):
        self.steps_open += self.opened
        status = service.get_election(self.engine, self.election).status
        assert status == ("closed" if self.closed else "open" if self.opened else "draft")


ApartmentElection.TestCase.settings = settings(
    max_examples=30, stateful_step_count=35, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestApartmentElection = ApartmentElection.TestCase
