"""Property tests: the quorum rule against a reference written here, refusals that change
nothing, and the service-level report recomputed from the log records."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import clock
from core.clock import SEOUL, ManualClock
from core.engine import Engine
from core.errors import CivicError
from core.plugins import make_plugin_manager
from plugins.ad_review import queries, quorum, service, signing, sla
from plugins.ad_review.audit import retally, sla_rows_from_records
from plugins.ad_review.domain import Application, Session, session_id
from tests.plugins.ad_review.helpers import application, decide, join, member_key, recuse

OPTIONS = ["approve", "approve_with_conditions", "re_review", "reject"]
PM = make_plugin_manager(allow={"ad_review"})
# engine-backed properties build a store per example: fewer examples than the pure ones
FEWER = settings(max_examples=max(12, settings().max_examples // 5), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def reference_outcome(members, recused, votes, p=(1, 2), inclusive=False, d=(1, 2), recused_count=False):
    """The quorum rule as the committee's bylaws read, in integers: a member who recused is
    out of the count (unless counted), and so is their vote."""
    present = [m for m in members if m in votes and m not in recused]
    base = len(members) if recused_count else len([m for m in members if m not in recused])
    if not present:
        return "no_quorum"
    enough = len(present) * p[1] >= base * p[0] if inclusive else len(present) * p[1] > base * p[0]
    if not enough:
        return "no_quorum"
    for option in OPTIONS:
        if sum(votes[m] == option for m in present) * d[1] > len(present) * d[0]:
            return option
    return "no_majority"


@st.composite
def committees(draw):
    size = draw(st.integers(1, 9))
    members = [f"m{i}" for i in range(size)]
    recused = draw(st.sets(st.sampled_from(members)))
    voters = draw(st.sets(st.sampled_from(members)))
    votes = {m: draw(st.sampled_from(OPTIONS)) for m in sorted(voters)}
    return members, recused, votes


@given(committees(), st.integers(0, 5), st.integers(1, 6), st.booleans(), st.integers(0, 5), st.integers(1, 6),
       st.booleans())
def test_decide_equals_the_reference_rule(committee, pn, pd, inclusive, dn, dd, recused_count):
    members, recused, votes = committee
    if pn >= pd or dn >= dd:
        pn, dn = pn % pd, dn % dd
    rule = quorum.QuorumRule(Fraction(pn, pd), inclusive, Fraction(dn, dd), recused_count)
    got = quorum.decide(members, recused, votes, rule)
    assert got["outcome"] == reference_outcome(members, recused, votes, (pn, pd), inclusive, (dn, dd),
                                               recused_count)
    assert got["participants"] == len([m for m in votes if m not in recused])


@given(committees())
def test_default_rule_is_majority_of_members_and_of_those_taking_part(committee):
    members, recused, votes = committee
    assert quorum.decide(members, recused, votes)["outcome"] == reference_outcome(members, recused, votes)


@contextmanager
def fresh_engine(start: datetime):
    previous = clock.use_clock(ManualClock(start))
    with tempfile.TemporaryDirectory() as tmp:
        import os

        old = os.environ.get("CIVIC_ADREVIEW_ATTACHMENTS")
        os.environ["CIVIC_ADREVIEW_ATTACHMENTS"] = str(Path(tmp) / "attachments")
        engine = Engine(str(Path(tmp) / "civic.db"), plugins=PM, outbox=Path(tmp) / "outbox.jsonl")
        try:
            yield engine, clock.current()
        finally:
            engine.close()
            clock.use_clock(previous)
            if old is None:
                os.environ.pop("CIVIC_ADREVIEW_ATTACHMENTS", None)
            else:
                os.environ["CIVIC_ADREVIEW_ATTACHMENTS"] = old


SUNDAY = datetime(2016, 3, 6, 12, 0, tzinfo=SEOUL)
ACTS = st.sampled_from(["absent", "recuse", *OPTIONS])
BAD = st.sampled_from(["non_member", "recused_decides", "second_decision", "bad_signature", "wrong_key"])


@st.composite
def sessions(draw):
    size = draw(st.integers(2, 7))
    members = [f"m{i}" for i in range(size)]
    items = draw(st.integers(1, 3))
    acts = [{m: draw(ACTS) for m in members} for _ in range(items)]
    bad = draw(st.lists(st.tuples(BAD, st.integers(0, items - 1), st.sampled_from(members)), max_size=4))
    return members, acts, bad


@FEWER
@given(sessions())
def test_engine_decides_like_the_reference_and_refusals_change_nothing(session):
    members, acts, bad = session
    with fresh_engine(SUNDAY) as (engine, manual):
        join(engine, *members)
        apps = [service.submit(engine, "clerk", application(engine, salt=bytes([i]))).id for i in range(len(acts))]
        manual.advance(hours=21)
        engine.tick()
        sid = session_id("2016-W10")
        for app, plan in zip(apps, acts, strict=True):
            for m, act in plan.items():
                if act == "recuse":
                    recuse(engine, m, sid, app)
                elif act != "absent":
                    decide(engine, m, sid, app, act)
        for kind, index, m in bad:
            app, plan = apps[index], acts[index]
            if kind == "non_member":
                key = signing.from_seed(b"\x07" * 32)
                attempt = lambda: service.decide(  # noqa: E731
                    engine, sid, app, "outsider", "approve", "r", [],
                    signing.sign(key, signing.decision_bytes(str(sid), str(app), "outsider", "approve", "r", [])))
            elif kind == "recused_decides" and plan[m] == "recuse":
                attempt = lambda: decide(engine, m, sid, app, "approve")  # noqa: E731
            elif kind == "second_decision" and plan[m] in OPTIONS:
                attempt = lambda: decide(engine, m, sid, app, "reject", reasons="다시")  # noqa: E731
            elif kind == "wrong_key":
                other = members[(members.index(m) + 1) % len(members)]
                message = signing.decision_bytes(str(sid), str(app), m, "approve", "r", [])
                attempt = lambda: service.decide(  # noqa: E731
                    engine, sid, app, m, "approve", "r", [], signing.sign(member_key(other), message))
            else:  # a signature over different words
                message = signing.decision_bytes(str(sid), str(app), m, "reject", "r", [])
                attempt = lambda: service.decide(  # noqa: E731
                    engine, sid, app, m, "approve", "r", [], signing.sign(member_key(m), message))
            before, votes_before = engine.position, queries.deliberation(engine, sid, app).votes
            try:
                attempt()
            except CivicError:
                pass
            else:
                raise AssertionError(f"{kind} by {m} was accepted")
            assert engine.position == before and queries.deliberation(engine, sid, app).votes == votes_before
        manual.advance(days=5)
        engine.tick()
        for app, plan in zip(apps, acts, strict=True):
            recused = {m for m, a in plan.items() if a == "recuse"}
            votes = {m: a for m, a in plan.items() if a in OPTIONS}
            expected = reference_outcome(members, recused, votes)
            assert engine.get(sid, Session).results[str(app)]["outcome"] == expected
            a = engine.get(app, Application)
            assert (a.status == "decided") == (expected in ("approve", "approve_with_conditions", "reject"))
        assert retally(list(engine.records())).ok


@st.composite
def weeks_of_work(draw):
    """Submissions at random hours over three weeks and random votes, with ticks in between."""
    steps = draw(st.lists(st.tuples(st.integers(1, 40), st.booleans(), st.sampled_from(OPTIONS)),
                          min_size=1, max_size=12))
    return steps


@FEWER
@given(weeks_of_work())
def test_sla_report_from_records_equals_the_live_one(steps):
    members = ["ma", "mb", "mc"]
    with fresh_engine(SUNDAY) as (engine, manual):
        join(engine, *members)
        for n, (hours, small, vote) in enumerate(steps):
            manual.advance(hours=hours)
            engine.tick()
            kind = "wall" if small else "rooftop"
            service.submit(engine, "clerk", application(engine, salt=bytes([n]), sign_type=kind))
            current = service.session_taking_in(engine)
            if current is not None:
                for item in engine.get(current, Session).items:
                    for m in members:
                        try:
                            decide(engine, m, current, item, vote)
                        except CivicError:
                            pass  # already decided
            referred = [a for a, v in engine.read_models.get("ad_review.applications").state.items()
                        if v["status"] == "referred"]
            if referred and n % 3 == 2:
                from uuid import UUID

                service.record_full_committee_decision(engine, "s", UUID(referred[0]), "approve", "ok", [], "m")
        manual.advance(days=7)
        engine.tick()
        start, end = date(2016, 3, 1), (manual.now() + timedelta(days=1)).date()
        live = queries.report(engine, start, end)
        replayed = sla.sla_report(sla_rows_from_records(engine.records()), start, end, SEOUL)
        assert live == replayed
        decided = [v for v in engine.read_models.get("ad_review.applications").state.values() if v["noticed_at"]]
        assert live["all"]["decided"] == len(decided)
