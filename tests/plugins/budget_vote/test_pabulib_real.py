"""Real Pabulib files (``tests/data/pabulib``, origins in its README) of every vote type read,
tallied, imported as cycles and exported, each compared with pabutools (an independent
implementation) on the same file; and bad files refused by the CLI with exit code 2."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st
from pabutools.election import (Additive_Borda_Sat, Additive_Cardinal_Sat, AdditiveSatisfaction, ApprovalBallot,
                                ApprovalProfile, Cardinality_Sat, Cost_Sat, Instance as PbInstance, Project,
                                parse_pabulib)
from pabutools.election.satisfaction.positionalsatisfaction import PositionalSatisfaction, borda_sat_func
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import completion_by_rule_combination, greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule

from core import cli_helpers
from core.errors import InvalidInput, RuleViolation
from core.plugins import make_plugin_manager
from plugins.budget_vote import civic_audit_retally, pabulib, pabulib_exchange, rules, service
from plugins.budget_vote.cli import budget
from plugins.budget_vote.views import open_data_csv, public_result

DATA = Path(__file__).parents[2] / "data" / "pabulib"
FILES = sorted(DATA.glob("*.pb"))
WARSZAWA = DATA / "Poland_Warszawa_2017_Przyczolek_Grochowski.pb"
# files whose ballots give points, scores or rankings
GRADED = {"cumulative": "Poland_Gdansk_2020_Rudniki.pb", "scoring": "France_Toulouse_2019_scoring_excerpt.pb",
          "ordinal": "US_Stanford_Dataset_PB_Chicago_35th_Ward_2021_vote_rankings.pb"}


def ids(paths):
    return [p.name[:40] for p in paths]


def read(path):
    return pabulib.read(path.read_bytes())


# -- pabutools' satisfaction for each vote type and civic satisfaction --------------------------
class PointsCostSat(AdditiveSatisfaction):
    """Cumulative and scoring ballots with cost satisfaction: points x cost."""

    def __init__(self, instance, profile, ballot):
        super().__init__(instance, profile, ballot, lambda i, p, b, proj, pre: b.get(proj, 0) * proj.cost)


class BordaCostSat(PositionalSatisfaction):
    """Ordinal ballots with cost satisfaction: Borda score x cost."""

    def __init__(self, instance, profile, ballot):
        super().__init__(instance, profile, ballot, lambda b, proj: borda_sat_func(b, proj) * proj.cost, sum)


SAT_CLASSES = {
    "approval": {"cost": Cost_Sat, "cardinality": Cardinality_Sat},
    "choose-1": {"cost": Cost_Sat, "cardinality": Cardinality_Sat},
    "cumulative": {"cost": PointsCostSat, "cardinality": Additive_Cardinal_Sat},
    "scoring": {"cost": PointsCostSat, "cardinality": Additive_Cardinal_Sat},
    "ordinal": {"cost": BordaCostSat, "cardinality": Additive_Borda_Sat},
}


def names(allocation):
    return sorted(p.name for p in allocation)


def pabutools_winners(path, rule: rules.WinnerRule, tie_order=None):
    """pabutools on the file, with its default (lexicographic) tie-breaking, as civic's rule says
    for a file tallied directly; or with ``tie_order``, the lottery's order a cycle recorded."""
    instance, profile = parse_pabulib(str(path))
    sat = SAT_CLASSES[instance.meta["vote_type"]]
    ties = {} if tie_order is None else {
        "tie_breaking": TieBreakingRule(lambda inst, prof, proj: tie_order.index(proj.name))}
    if rule.name == "greedy":
        return names(greedy_utilitarian_welfare(instance, profile, sat_class=sat[rule.satisfaction], **ties))
    mes = {"sat_class": sat[rule.satisfaction], **ties}
    if rule.completion in ("add1", "add1-greedy"):
        mes["voter_budget_increment"] = instance.budget_limit / len(profile) * Fraction(rule.increment_percent, 100)
    if rule.completion in ("none", "add1"):
        return names(method_of_equal_shares(instance, profile, **mes))
    return names(completion_by_rule_combination(instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
                                                [mes, {"sat_class": sat["cost"], **ties}]))


# -- reading ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_real_files_read_as_pabutools_reads_them(path):
    ours = read(path)
    instance, profile = parse_pabulib(str(path))
    assert Fraction(ours.budget) == instance.budget_limit
    assert {p: Fraction(c) for p, c in ours.costs.items()} == {p.name: p.cost for p in instance}
    if ours.vote_type in ("approval", "choose-1"):
        mine = Counter(frozenset(v.points) for v in ours.votes)
        theirs = Counter(frozenset(p.name for p in b) for b in profile)
    elif ours.vote_type == "ordinal":
        mine = Counter(tuple(v.points) for v in ours.votes)
        theirs = Counter(tuple(p.name for p in b) for b in profile)
    else:
        mine = Counter(frozenset(v.points.items()) for v in ours.votes)
        theirs = Counter(frozenset((p.name, int(w)) for p, w in b.items()) for b in profile)
    assert mine == theirs
    assert ours.currency == instance.meta.get("currency")


def test_decimal_amounts_are_exact_in_the_files_smallest_unit():
    """The issue: ``budget '102533.36' must be a whole, non-negative amount``."""
    election = read(WARSZAWA)
    assert election.budget == Decimal("102533.36") and election.currency == "PLN"
    minor = election.minor_units()
    assert (minor.decimals, minor.budget, minor.meta["max_sum_cost"]) == (2, 10_253_336, 10_253_336)
    assert minor.costs == {"1772": 800_000, "1774": 9_350_000, "504": 9_000_000, "2388": 1_200_000}
    # 400000.0 needs no decimal place: amounts stay whole euros
    toulouse = read(DATA / "France_Toulouse_2022_17_-_Mirail-Universite_Reynerie_Bellefontaine.pb")
    assert toulouse.minor_units().decimals == 0 and toulouse.minor_units().budget == 400_000


def test_optional_meta_fields_are_read_and_checked():
    election = read(DATA / "Poland_Warszawa_2018_Przyczolek_Grochowski.pb")
    assert election.meta["min_project_score_threshold"] == "10" and election.meta_count("min_length") == 1
    assert election.meta_amount("max_sum_cost") == Decimal("106165.64")
    text = WARSZAWA.read_text(encoding="utf-8")
    for bad, message in (("max_sum_cost;102533.36", "max_sum_cost;lots"), ("min_length;1", "min_length;1.5")):
        with pytest.raises(InvalidInput, match=message.split(";")[0]):
            pabulib.parse(text.replace(bad, message))


# -- winners against pabutools ------------------------------------------------------------------
@pytest.mark.parametrize("satisfaction", rules.SATISFACTIONS)
@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_greedy_winners_equal_pabutools_on_real_files(path, satisfaction):
    rule = rules.WinnerRule("greedy", satisfaction)
    result = pabulib_exchange.tally_election(read(path), rule)
    assert sorted(result["winners"]) == pabutools_winners(path, rule)


@pytest.mark.parametrize("completion", rules.COMPLETIONS)
@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_equal_shares_winners_equal_pabutools_on_real_files(path, completion):
    rule = rules.WinnerRule("equal-shares", "cost", completion)  # civic's default 1% increment
    result = pabulib_exchange.tally_election(read(path), rule)
    assert sorted(result["winners"]) == pabutools_winners(path, rule)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_decimal_amounts_pick_the_winners_pabutools_picks(data):
    """Counting in the file's smallest unit picks what pabutools picks on the exact fractions."""
    n = data.draw(st.integers(1, 5))
    costs = {f"p{i}": Decimal(data.draw(st.integers(1, 10**7))).scaleb(-data.draw(st.integers(0, 3))) for i in range(n)}
    budget = Decimal(data.draw(st.integers(0, 3 * 10**7))).scaleb(-2)
    ballots = data.draw(st.lists(st.sets(st.sampled_from(sorted(costs)), min_size=1), min_size=1, max_size=12))
    rule = rules.WinnerRule(data.draw(st.sampled_from(rules.RULE_NAMES)), data.draw(st.sampled_from(rules.SATISFACTIONS)),
                            "none")
    election = pabulib.PbElection({"budget": str(budget), "vote_type": "approval"},
                                  [pabulib.PbProject(p, c) for p, c in costs.items()],
                                  [pabulib.PbVote(str(i), dict.fromkeys(b, 1)) for i, b in enumerate(ballots)])
    ours = pabulib_exchange.tally_election(election, rule)
    projects = {p: Project(p, Fraction(c)) for p, c in costs.items()}
    instance = PbInstance(projects.values(), budget_limit=Fraction(budget))
    profile = ApprovalProfile([ApprovalBallot(projects[p] for p in b) for b in ballots])
    sat = SAT_CLASSES["approval"][rule.satisfaction]
    theirs = (greedy_utilitarian_welfare(instance, profile, sat_class=sat) if rule.name == "greedy"
              else method_of_equal_shares(instance, profile, sat_class=sat))
    assert sorted(ours["winners"]) == names(theirs)
    assert Fraction(Decimal(str(ours["funded_total"]))) == sum(Fraction(costs[p]) for p in ours["winners"]) <= budget


# -- import and export --------------------------------------------------------------------------
def test_warszawa_file_becomes_a_cycle_and_exports_back(sqlite_engine):
    cycle = pabulib_exchange.import_pb(sqlite_engine, WARSZAWA.read_text(encoding="utf-8"), by="test:operator")
    assert (cycle.currency, cycle.amount_decimals, cycle.budget) == ("PLN", 2, 10_253_336)
    assert cycle.ballot_style == {"kind": "knapsack", "min_projects": 1, "max_projects": None,
                                  "cost_limit": 10_253_336}
    assert cycle.source["meta"]["unit"] == "Warszawa"
    assert cycle.name == "Local PB in Warszawa, Praga-Południe | Przyczółek Grochowski"  # not just "2017"
    assert sorted(cycle.result["winners"]) == pabutools_winners(WARSZAWA, rules.WinnerRule("greedy"))
    exported = pabulib_exchange.export_pb(sqlite_engine, cycle.id)
    original_i, original_p = parse_pabulib(str(WARSZAWA))
    again_i, again_p = parse_pabulib_from_string(exported)
    assert again_i.budget_limit == original_i.budget_limit == Fraction("102533.36")
    assert {p.name: p.cost for p in again_i} == {p.name: p.cost for p in original_i}
    assert Counter(frozenset(p.name for p in b) for b in again_p) == Counter(frozenset(p.name for p in b) for b in original_p)
    for key in ("currency", "unit", "district", "subunit", "country", "max_sum_cost", "budget"):
        assert again_i.meta[key] == original_i.meta[key], key


def test_choose_one_file_becomes_a_one_project_ballot(sqlite_engine):
    path = DATA / "Poland_Zabrze_2020_Konczyce.pb"
    cycle = pabulib_exchange.import_pb(sqlite_engine, path.read_text(encoding="utf-8"), by="test:operator")
    assert cycle.ballot_style["max_projects"] == 1 and cycle.currency == "PLN" and cycle.amount_decimals == 0
    assert sorted(cycle.result["winners"]) == pabutools_winners(path, rules.WinnerRule("greedy"))
    assert "vote_type;choose-1" in pabulib_exchange.export_pb(sqlite_engine, cycle.id)


GRADED_RULES = [rules.WinnerRule("greedy", "cost"), rules.WinnerRule("greedy", "cardinality"),
                rules.WinnerRule("equal-shares", "cost", "add1-greedy"),
                rules.WinnerRule("equal-shares", "cardinality", "none")]


def pabutools_support(path):
    """Each project's points (Borda scores for rankings) as pabutools counts them on the file."""
    instance, profile = parse_pabulib(str(path))
    sat = SAT_CLASSES[instance.meta["vote_type"]]["cardinality"]
    return {p.name: int(sum(sat(instance, profile, b).sat_project(p) for b in profile)) for p in instance}


def file_votes(election):
    """A file's votes as a multiset: a ranking in its order, points as (project, points) pairs."""
    if election.vote_type == "ordinal":
        return Counter(tuple(v.points) for v in election.votes)
    return Counter(frozenset(v.points.items()) for v in election.votes)


@pytest.mark.parametrize("rule", GRADED_RULES, ids=lambda r: f"{r.name}-{r.satisfaction}-{r.completion}")
@pytest.mark.parametrize("vote_type", sorted(GRADED))
def test_points_and_rankings_become_cycles_that_pabutools_agrees_with(sqlite_engine, vote_type, rule):
    path = DATA / GRADED[vote_type]
    cycle = pabulib_exchange.import_pb(sqlite_engine, path.read_text(encoding="utf-8"), by="test:operator",
                                       rule=rule.as_dict())
    assert cycle.ballot_style["kind"] == vote_type and cycle.phase == "tallying"
    # the cycle's own tie order (its lottery) given to pabutools: the same winners
    order = cycle.result["inputs"]["tie_order"]
    assert sorted(cycle.result["winners"]) == pabutools_winners(path, rule, order)
    assert cycle.result["votes"] == pabutools_support(path)
    assert cycle.result["inputs"]["ballots_counted"] == len(read(path).votes)
    # the auditor's recount from the log agrees
    report = civic_audit_retally(list(sqlite_engine.records()))
    assert report.ok and report.checked == 1, report.discrepancies


@pytest.mark.parametrize("vote_type", sorted(GRADED))
def test_points_and_rankings_export_back_as_the_same_votes(sqlite_engine, vote_type):
    path = DATA / GRADED[vote_type]
    original = read(path)
    cycle = pabulib_exchange.import_pb(sqlite_engine, path.read_text(encoding="utf-8"), by="test:operator")
    exported = pabulib_exchange.export_pb(sqlite_engine, cycle.id)
    again = pabulib.parse(exported)
    assert again.vote_type == vote_type
    assert file_votes(again) == file_votes(original)
    assert again.costs == original.costs and again.budget == original.budget
    for key, value in original.meta.items():
        if key not in ("num_votes", "num_projects"):
            assert again.meta[key] == value, key
    # pabutools reads the export as it reads the file
    again_i, again_p = parse_pabulib_from_string(exported)
    original_i, original_p = parse_pabulib(str(path))
    if vote_type == "ordinal":
        assert Counter(tuple(p.name for p in b) for b in again_p) == Counter(tuple(p.name for p in b) for b in original_p)
    else:
        assert (Counter(frozenset((p.name, int(w)) for p, w in b.items()) for b in again_p)
                == Counter(frozenset((p.name, int(w)) for p, w in b.items()) for b in original_p))
    if vote_type != "ordinal":  # Pabulib's score column: the points each project got
        assert {p.project_id: int(p.fields["score"]) for p in again.projects} == pabutools_support(path)


def test_cumulative_meta_bounds_are_the_cycles_ballot_rules(sqlite_engine):
    path = DATA / "Poland_Czestochowa_2020_Grabowka.pb"
    cycle = pabulib_exchange.import_pb(sqlite_engine, path.read_text(encoding="utf-8"), by="test:operator")
    assert cycle.ballot_style == {"kind": "cumulative", "min_projects": 0, "max_projects": None, "cost_limit": None,
                                  "min_sum_points": 1, "max_sum_points": 10}
    assert cycle.currency == "PLN" and cycle.source["meta"]["vote_type"] == "cumulative"
    exported = pabulib.parse(pabulib_exchange.export_pb(sqlite_engine, cycle.id))
    assert (exported.meta["min_sum_points"], exported.meta["max_sum_points"]) == ("1", "10")


def test_optional_meta_of_scoring_and_ordinal_files_becomes_their_ballot_rules():
    scoring = (DATA / GRADED["scoring"]).read_text(encoding="utf-8")
    bounded = pabulib.parse(scoring.replace("vote_type;scoring", "vote_type;scoring\nmin_points;1\nmax_points;3"
                                                                 "\nmax_length;7"))
    style = pabulib_exchange.import_settings(bounded)["ballot_style"]
    assert (style["kind"], style["min_points"], style["max_points"], style["max_projects"]) == ("scoring", 1, 3, 7)
    # voter 0 gives 2 points to three projects: over a maximum of 1
    with pytest.raises(InvalidInput, match=r"voter 0: Give each project at most 1 point"):
        pabulib_exchange.import_settings(pabulib.parse(scoring.replace("vote_type;scoring",
                                                                       "vote_type;scoring\nmax_points;1")))
    ranked = (DATA / GRADED["ordinal"]).read_text(encoding="utf-8")
    limited = pabulib.parse(ranked.replace("vote_type;ordinal", "vote_type;ordinal\nmax_sum_cost;2600000"))
    style = pabulib_exchange.import_settings(limited)["ballot_style"]
    assert (style["kind"], style["cost_limit"]) == ("ordinal", 2_600_000)
    # a ranking of all four projects costs 2,600,000: a lower limit refuses a voter who ranked them all
    with pytest.raises(InvalidInput, match="more than the per-voter limit"):
        pabulib_exchange.import_settings(pabulib.parse(ranked.replace("vote_type;ordinal",
                                                                      "vote_type;ordinal\nmax_sum_cost;2599999")))


def test_a_vote_breaking_the_files_own_bounds_is_refused_and_nothing_stored(sqlite_engine, tmp_path, monkeypatch,
                                                                           manual_clock):
    text = (DATA / "Poland_Gdansk_2020_Rudniki.pb").read_text(encoding="utf-8")
    over = text.replace("max_sum_points;5", "max_sum_points;4")  # some voters gave 5 points
    with pytest.raises(InvalidInput, match=r"Pabulib: voter \S+: Give at most 4 point\(s\) in all; this ballot gives 5"):
        pabulib_exchange.import_pb(sqlite_engine, over, by="test")
    assert sqlite_engine.position == 0
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager(allow={"budget_vote"}))
    path = tmp_path / "over.pb"
    path.write_text(over, encoding="utf-8")
    out = CliRunner().invoke(budget, ["import-pb", "--db", str(tmp_path / "c.db"), str(path)])
    assert out.exit_code == 2 and "Give at most 4 point(s) in all" in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1


@pytest.mark.parametrize("vote_type", sorted(GRADED))
def test_an_imported_graded_cycle_is_never_voted_on_in_civic(sqlite_engine, vote_type):
    path = DATA / GRADED[vote_type]
    cycle = pabulib_exchange.import_pb(sqlite_engine, path.read_text(encoding="utf-8"), by="test:operator")
    with pytest.raises(RuleViolation, match="imported from a Pabulib file, not cast in civic"):
        service.issue_codes(sqlite_engine, cycle.id)
    with pytest.raises(RuleViolation, match="imported from a Pabulib file, not cast in civic"):
        service.cast_ballot(sqlite_engine, cycle.id, credential="x", choice=["1"])
    with pytest.raises(RuleViolation, match="imported from a Pabulib file, not cast in civic"):
        service.enter_paper_ballot(sqlite_engine, cycle.id, entry_id="pb-1", choice=["1"], by="test")


def test_a_cycle_of_civic_cannot_open_voting_with_graded_ballots(sqlite_engine):
    cycle = service.open_cycle(sqlite_engine, name="ranked", budget=100, ballot_style={"kind": "ordinal"},
                               by="test:admin")
    service.submit_proposal(sqlite_engine, cycle.id, title="Park", dong="명동", category="park", proposer="Kim")
    service.advance(sqlite_engine, cycle.id, "screening", by="test:admin")
    service.screen(sqlite_engine, cycle.id, "1", feasible=True, cost=50, reason="ok", by="test:admin")
    before = sqlite_engine.position
    with pytest.raises(RuleViolation, match="come only from an imported Pabulib file"):
        service.advance(sqlite_engine, cycle.id, "voting", by="test:admin")
    assert sqlite_engine.position == before and service.get_cycle(sqlite_engine, cycle.id).phase == "screening"
    with pytest.raises(InvalidInput, match="come only from an imported Pabulib file"):
        service.configure(sqlite_engine, cycle.id, ballot_style={"kind": "cumulative", "max_sum_points": 5},
                          by="test:admin")


def test_graded_results_are_shown_in_points_and_borda_scores(sqlite_engine):
    cumulative = pabulib_exchange.import_pb(sqlite_engine, (DATA / GRADED["cumulative"]).read_text(encoding="utf-8"),
                                            by="test:operator")
    ordinal = pabulib_exchange.import_pb(sqlite_engine, (DATA / GRADED["ordinal"]).read_text(encoding="utf-8"),
                                         by="test:operator")
    for cycle, column in ((cumulative, "points"), (ordinal, "borda_score")):
        service.validate(sqlite_engine, cycle.id, by="test:admin")
        published = service.get_cycle(sqlite_engine, cycle.id)
        rows = list(csv.DictReader(io.StringIO(open_data_csv(published))))
        assert list(rows[0]) == ["project_id", "title", "dong", "category", "cost", "feasible", column, "funded"]
        assert {r["project_id"]: int(r[column]) for r in rows} == published.result["votes"]
        assert public_result(published)["ballot_kind"] == cycle.ballot_style["kind"]


def test_cli_imports_a_decimal_file_and_lists_it_in_its_currency(tmp_path, monkeypatch, manual_clock):
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager(allow={"budget_vote"}))
    db = str(tmp_path / "c.db")
    out = CliRunner().invoke(budget, ["import-pb", "--db", db, str(WARSZAWA)], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "PLN" in out.output
    listed = CliRunner().invoke(budget, ["list", "--db", db], catch_exceptions=False).output
    assert "102,533.36 PLN" in listed or "102533.36 PLN" in listed
    ranked = CliRunner().invoke(budget, ["import-pb", "--db", db, str(DATA / GRADED["ordinal"])])
    assert ranked.exit_code == 0 and "USD" in ranked.output


def test_cli_tally_prints_exact_decimal_amounts(tmp_path):
    out = CliRunner().invoke(budget, ["tally", "--pb", str(WARSZAWA), "--json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["budget"] == "102533.36" and data["currency"] == "PLN"
    assert data["funded_total"] == 101500  # 8000 + 93500
    threshold = CliRunner().invoke(budget, ["tally", "--pb", str(DATA / "Poland_Warszawa_2018_Przyczolek_Grochowski.pb"),
                                            "--json"], catch_exceptions=False)
    assert json.loads(threshold.output)["below_threshold"] == []


# -- bad files ----------------------------------------------------------------------------------
KOREAN = "META\nkey;value\ndescription;중구 주민참여예산\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;10\nVOTES\nvoter_id;vote\n1;1\n"
WARSZAWA_BYTES = WARSZAWA.read_bytes()
BAD_FILES = {
    "empty": (b"", "empty"),
    "blank": (b"\r\n \n", "empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary"),
    "cp949": (KOREAN.encode("cp949"), "not UTF-8"),
    "utf-16": (KOREAN.encode("utf-16"), "UTF-16"),
    "utf-16-le without bom": (KOREAN.encode("utf-16-le"), "UTF-16"),
    "cut between rows": (WARSZAWA_BYTES[:WARSZAWA_BYTES.index(b"\n", 3000) + 1], "cut short"),
    "cut within a row": (WARSZAWA_BYTES[:WARSZAWA_BYTES.index(b"\n", 3000) + 4], "cut short"),
    "cut before the votes": (WARSZAWA_BYTES[:WARSZAWA_BYTES.index(b"VOTES")], "no VOTES section"),
    "cut in a quoted name": (KOREAN.replace("1;10", '1;10;"a\n').replace("project_id;cost", "project_id;cost;name")
                             .encode()[:-20], "cut short"),
}


@pytest.mark.parametrize("command", ["tally", "import-pb"])
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_cli_refuses_bad_files_with_exit_code_2(tmp_path, monkeypatch, manual_clock, case, command):
    monkeypatch.setattr(cli_helpers, "_plugin_manager", make_plugin_manager(allow={"budget_vote"}))
    data, message = BAD_FILES[case]
    path = tmp_path / "bad.pb"
    path.write_bytes(data)
    args = ["tally", "--pb", str(path)] if command == "tally" else ["import-pb", "--db", str(tmp_path / "c.db"), str(path)]
    out = CliRunner().invoke(budget, args)
    assert out.exit_code == 2, out.output
    assert isinstance(out.exception, SystemExit)  # a message, not a traceback
    assert message in out.output and "Traceback" not in out.output
