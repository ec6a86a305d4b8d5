"""Pabulib files: our reader and writer against pabutools' parser, import/export round trip,
and ``civic budget tally --pb`` against pabutools' rules."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st
from pabutools.election import Cost_Sat
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import completion_by_rule_combination, greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule

import argon2

from core import cli as cli_module
from core import cli_helpers
from core.engine import Engine
from core.actors import Role, local_operator
from core.passwords import use_password_hasher
from core.errors import InvalidInput
from core.plugins import make_plugin_manager
from plugins.budget_vote import pabulib, pabulib_exchange, rules, service
from plugins.budget_vote.cli import budget
from tests.plugins.budget_vote.test_pabulib_real import SAT_CLASSES

SAMPLE = """META
key;value
description;Jung-gu 2016 district projects (sample)
country;South Korea
unit;Jung-gu
instance;2016
num_projects;4
num_votes;6
budget;100000000
vote_type;approval
rule;greedy
min_length;1
max_length;3
PROJECTS
project_id;cost;name;category
1;60000000;"LED 보안등; 교체";safety
2;50000000;놀이터 안전시설;welfare
3;30000000;경로당 냉난방기;welfare
4;20000000;공부방;education
VOTES
voter_id;vote;voting_method
a;1,3;internet
b;1,3;internet
c;2;paper
d;2,4;internet
e;3;internet
f;1;internet
"""


def profile_multiset(profile):
    return Counter(tuple(sorted(str(p) if not hasattr(b, "get") else f"{p}:{int(b[p])}" for p in b))
                   for b in profile)


def mine_multiset(election, cumulative):
    return Counter(tuple(sorted(f"{p}:{w}" if cumulative else p for p, w in v.points.items())) for v in election.votes)


def test_our_reader_agrees_with_pabutools_on_a_sample():
    ours = pabulib.parse(SAMPLE)
    instance, profile = parse_pabulib_from_string(SAMPLE)
    assert ours.budget == 100_000_000 and Fraction(ours.budget) == instance.budget_limit
    assert ours.costs == {p.name: int(p.cost) for p in instance}
    assert ours.projects[0].fields["name"] == "LED 보안등; 교체"
    assert mine_multiset(ours, False) == profile_multiset(profile)
    assert ours.votes[2].fields == {"voting_method": "paper"}


@st.composite
def elections(draw):
    vote_type = draw(st.sampled_from(pabulib.VOTE_TYPES))
    ids = [str(i) for i in range(1, draw(st.integers(1, 6)) + 1)]
    # amounts with up to two decimals, as Warszawa writes them
    amounts = st.builds(lambda n, k: Decimal(n).scaleb(-k), st.integers(1, 10**9), st.integers(0, 2))
    projects = [pabulib.PbProject(p, draw(amounts), {"name": draw(st.text("가나다 ab;\"", max_size=8))})
                for p in ids]
    votes = []
    for i in range(draw(st.integers(0, 10))):
        chosen = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
        if vote_type in pabulib.POINTS_TYPES:
            points = {p: draw(st.integers(1, 9)) for p in chosen}
        elif vote_type == "ordinal":
            points = {p: len(chosen) - n - 1 for n, p in enumerate(chosen)}  # Borda, in ranked order
        else:
            points = dict.fromkeys(chosen, 1)
        votes.append(pabulib.PbVote(str(i), points))
    meta = {"description": "d", "country": "KR", "unit": "u", "instance": "i", "currency": "KRW",
            "budget": pabulib.format_amount(draw(amounts)), "vote_type": vote_type}
    return pabulib.PbElection(meta, projects, votes)


def pabutools_ballot(ballot, vote_type):
    if vote_type in pabulib.POINTS_TYPES:
        return tuple(sorted((p.name, int(w)) for p, w in ballot.items()))
    if vote_type == "ordinal":
        return tuple(p.name for p in ballot)
    return tuple(sorted(p.name for p in ballot))


def our_ballot(vote, vote_type):
    if vote_type in pabulib.POINTS_TYPES:
        return tuple(sorted(vote.points.items()))
    if vote_type == "ordinal":
        return tuple(vote.points)
    return tuple(sorted(vote.points))


@given(elections())
def test_written_files_read_back_the_same_here_and_in_pabutools(election):
    text = pabulib.render(election)
    again = pabulib.parse(text)
    assert again.costs == election.costs and again.budget == election.budget
    assert [list(v.points.items()) for v in again.votes] == [list(v.points.items()) for v in election.votes]
    instance, profile = parse_pabulib_from_string(text)
    assert {p.name: p.cost for p in instance} == {p: Fraction(c) for p, c in election.costs.items()}
    assert instance.budget_limit == Fraction(election.budget)
    vote_type = election.vote_type
    assert Counter(pabutools_ballot(b, vote_type) for b in profile) == Counter(our_ballot(v, vote_type)
                                                                                for v in election.votes)


@pytest.mark.parametrize(("text", "message"), [
    ("META\nkey;value\nbudget;10\nvote_type;plurality\n", "not supported"),
    ("META\nkey;value\nvote_type;approval\n", "needs a budget"),
    ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;-2.5\n", "negative"),
    ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;2\nVOTES\nvoter_id;vote\nv;1,9\n", "unknown project"),
    ("1;2\n", "before a META"),
])
def test_malformed_files_are_refused_clearly(text, message):
    with pytest.raises(InvalidInput, match=message):
        pabulib.parse(text)


def test_import_then_export_round_trips(sqlite_engine):
    cycle = pabulib_exchange.import_pb(sqlite_engine, SAMPLE, by="test:operator")
    assert cycle.phase == "tallying" and cycle.result is not None
    assert cycle.ballot_style == {"kind": "approval", "min_projects": 1, "max_projects": 3, "cost_limit": None}
    exported = pabulib_exchange.export_pb(sqlite_engine, cycle.id)
    original_i, original_p = parse_pabulib_from_string(SAMPLE)
    again_i, again_p = parse_pabulib_from_string(exported)
    assert {p.name: p.cost for p in again_i} == {p.name: p.cost for p in original_i}
    assert again_i.budget_limit == original_i.budget_limit
    assert profile_multiset(again_p) == profile_multiset(original_p)
    ours = pabulib.parse(exported)
    assert [v.fields["voting_method"] for v in ours.votes].count("paper") == 1
    assert {p.project_id: p.fields["votes"] for p in ours.projects} == {"1": "3", "2": "2", "3": "3", "4": "1"}


@st.composite
def importable_elections(draw):
    """Files of every vote type that can become cycles: each cost within the budget, votes."""
    election = draw(elections())
    budget = max(election.budget, *election.costs.values())
    votes = election.votes or [pabulib.PbVote("0", {election.projects[0].project_id: 1})]
    if election.vote_type == "choose-1":  # one project a voter
        votes = [pabulib.PbVote(v.voter_id, dict([next(iter(v.points.items()))])) for v in votes]
    return pabulib.PbElection({**election.meta, "budget": pabulib.format_amount(budget)}, election.projects, votes)


@settings(max_examples=25, deadline=None)
@given(importable_elections(), st.sampled_from([rules.WinnerRule("greedy", "cost"),
                                                rules.WinnerRule("equal-shares", "cardinality", "none"),
                                                rules.WinnerRule("equal-shares", "cost", "greedy")]))
def test_files_of_every_vote_type_import_and_export_as_pabutools_reads_them(election, rule):
    text = pabulib.render(election)
    vote_type = election.vote_type
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(f"{tmp}/c.db", outbox=f"{tmp}/outbox.jsonl")
        try:
            cycle = pabulib_exchange.import_pb(engine, text, by="test:operator", rule=rule.as_dict())
            exported = pabulib_exchange.export_pb(engine, cycle.id)
        finally:
            engine.close()
    instance, profile = parse_pabulib_from_string(text)
    again_i, again_p = parse_pabulib_from_string(exported)
    assert again_i.meta["vote_type"] == vote_type and again_i.budget_limit == instance.budget_limit
    assert Counter(pabutools_ballot(b, vote_type) for b in again_p) == Counter(pabutools_ballot(b, vote_type)
                                                                               for b in profile)
    # the cycle's winners are pabutools' on the file, given the cycle's tie order
    order = cycle.result["inputs"]["tie_order"]
    ties = TieBreakingRule(lambda inst, prof, proj: order.index(proj.name))
    sat = SAT_CLASSES[vote_type]
    if rule.name == "greedy":
        expected = greedy_utilitarian_welfare(instance, profile, sat_class=sat["cost"], tie_breaking=ties)
    elif rule.completion == "none":
        expected = method_of_equal_shares(instance, profile, sat_class=sat[rule.satisfaction], tie_breaking=ties)
    else:
        expected = completion_by_rule_combination(
            instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": sat[rule.satisfaction], "tie_breaking": ties}, {"sat_class": sat["cost"], "tie_breaking": ties}])
    assert sorted(cycle.result["winners"]) == sorted(p.name for p in expected)


CUMULATIVE = (SAMPLE.replace("vote_type;approval", "vote_type;cumulative\nmax_points;3\nmax_sum_points;4")
              .replace("voter_id;vote;voting_method", "voter_id;vote;points;voting_method")
              .replace("a;1,3;", "a;1,3;1,3;").replace("b;1,3;", "b;1,3;2,2;").replace("c;2;", "c;2;3;")
              .replace("d;2,4;", "d;2,4;1,1;").replace("e;3;", "e;3;4;").replace("f;1;", "f;1;2;"))


def test_import_refuses_a_ballot_over_the_files_point_limits_and_stores_nothing(sqlite_engine):
    # voter e gives 4 points to one project; the file allows at most 3 per project
    with pytest.raises(InvalidInput, match=r"voter e: Give each project at most 3 point\(s\); 3 has 4"):
        pabulib_exchange.import_pb(sqlite_engine, CUMULATIVE, by="test")
    assert sqlite_engine.position == 0
    cycle = pabulib_exchange.import_pb(sqlite_engine, CUMULATIVE.replace("e;3;4;", "e;3;3;"), by="test")
    assert cycle.ballot_style["max_points"] == 3 and cycle.ballot_style["max_sum_points"] == 4
    # points, not voters: 1 gets 1+2+2, 2 gets 3+1, 3 gets 3+2+3, 4 gets 1
    assert cycle.result["votes"] == {"1": 5, "2": 4, "3": 8, "4": 1}


def run(*args):
    return CliRunner().invoke(budget, list(args), catch_exceptions=False)


def test_cli_tally_of_a_file_matches_pabutools(tmp_path):
    path = tmp_path / "sample.pb"
    path.write_text(SAMPLE, encoding="utf-8")
    result = run("tally", "--pb", str(path), "--rule", "greedy", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    instance, profile = parse_pabulib_from_string(SAMPLE)
    # pabutools with its defaults (lexicographic tie-breaking) on the same file
    expected = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    assert sorted(data["winners"]) == sorted(p.name for p in expected) == ["1", "3"]
    assert data["votes"] == {"1": 3, "2": 2, "3": 3, "4": 1}
    es = json.loads(run("tally", "--pb", str(path), "--rule", "equal-shares", "--completion", "none", "--json").output)
    expected = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    assert sorted(es["winners"]) == sorted(p.name for p in expected)
    assert es["funded_total"] <= 100_000_000 and es["rule"]["name"] == "equal-shares"


def test_cli_import_export_and_results(tmp_path, monkeypatch, manual_clock):
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager(allow={"budget_vote"}))
    db = str(tmp_path / "c.db")
    path = tmp_path / "sample.pb"
    path.write_text(SAMPLE, encoding="utf-8")
    imported = json.loads(run("import-pb", "--db", db, str(path), "--name", "sample", "--json").output)
    assert imported["phase"] == "tallying"
    refused = CliRunner().invoke(budget, ["results", "--db", db, "sample"])
    assert refused.exit_code == 1 and "embargoed" in refused.output
    # validating is a process administrator's decision, not the operator's
    assert "Not allowed" in CliRunner().invoke(budget, ["validate", "--db", db, "sample"]).output
    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    try:
        engine = Engine(db, plugins=make_plugin_manager(allow={"budget_vote"}))
        engine.identity.add_staff(local_operator(), "park.admin", "Park", "correct horse battery", [Role.PROCESS_ADMIN])
        token = engine.identity.sign_in("park.admin", "correct horse battery").token
        engine.close()
    finally:
        use_password_hasher(previous)
    assert "published" in run("validate", "--db", db, "--token", token, "sample").output
    csv_out = run("results", "--db", db, "sample", "--format", "csv").output
    assert csv_out.splitlines()[0] == "project_id,title,dong,category,cost,feasible,votes,funded"
    assert len(csv_out.splitlines()) == 5
    out = tmp_path / "out.pb"
    assert run("export-pb", "--db", db, "sample", "-o", str(out)).exit_code == 0
    assert pabulib.parse(out.read_text(encoding="utf-8")).budget == 100_000_000


def test_cli_roll_and_codes(tmp_path, monkeypatch, manual_clock):
    from tests.plugins.budget_vote.support import ADMIN, roll_csv

    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager(allow={"budget_vote"}))
    db = str(tmp_path / "c.db")
    engine = Engine(db, plugins=make_plugin_manager(allow={"budget_vote"}), outbox=tmp_path / "o.jsonl")
    cycle = service.open_cycle(engine, name="roll", budget=100, by=ADMIN)
    engine.close()
    path = tmp_path / "roll.csv"
    path.write_text(roll_csv(["a", "b"]), encoding="utf-8")
    assert "2 on the roll" in run("roll", "--db", db, "roll", str(path)).output
    bad = CliRunner().invoke(budget, ["roll", "--db", db, "roll", str(path)])
    assert bad.exit_code == 1 and "already on the roll" in bad.output
    monkeypatch.setenv("CIVIC_OUTBOX", str(tmp_path / "cli-outbox.jsonl"))
    assert "2 voting code(s) sent" in run("codes", "--db", db, str(cycle.id)).output
